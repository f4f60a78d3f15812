//! `actor-node` as a process: `serve` on 127.0.0.1 with port 0 everywhere, `call` against
//! it, the classic listeners of the served process, its goodbye on SIGTERM and SIGINT, and
//! the command-line errors.
//!
//! Every child is killed and reaped by a guard, also when a test fails; every wait on a
//! child has a deadline.

use std::io::{ErrorKind, Read};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod support;

use support::*;

#[test]
fn serve_then_call_echo_and_time() {
    let key = KeyFile::new(&format!("{KEY}\n"));
    let server = Server::start(&key, &[]);

    let echo = call(&server, &key, &["echo", "hello, actors"]);
    assert!(echo.status.success(), "{echo:?}");
    assert_eq!(stdout(&echo), "hello, actors\n");

    let time = call(&server, &key, &["time"]);
    assert!(time.status.success(), "{time:?}");
    // `2026-11-27 13:15:03 +00:00 UTC (1795785303.123456789 s since the Unix epoch)`
    let line = stdout(&time);
    let (local, epoch) = line.trim_end().split_once(" (").unwrap();
    assert!(local.ends_with(" +00:00 UTC"), "{line:?}");
    let seconds = epoch.strip_suffix(" s since the Unix epoch)").unwrap();
    let (secs, nanos) = seconds.split_once('.').unwrap();
    assert!(
        secs.parse::<u64>().unwrap().abs_diff(now_unix()) <= 5,
        "{line:?}"
    );
    assert_eq!(nanos.len(), 9);
}

#[test]
fn the_key_can_come_from_the_environment() {
    let key = KeyFile::new(KEY);
    let server = Server::start(&key, &[]);
    let by_file_var = run(actor_node()
        .args(["call", &server.node, "echo", "a"])
        .env("ACTOR_SECRET_FILE", key.path()));
    assert_eq!(stdout(&by_file_var), "a\n", "{by_file_var:?}");
    let by_value_var = run(actor_node()
        .args(["call", &server.node, "echo", "b"])
        .env("ACTOR_SECRET", KEY));
    assert_eq!(stdout(&by_value_var), "b\n", "{by_value_var:?}");
    // The file comes first: a wrong key in ACTOR_SECRET is not used.
    let both = run(actor_node()
        .args([
            "call",
            &server.node,
            "echo",
            "c",
            "--secret-file",
            key.path(),
        ])
        .env("ACTOR_SECRET", "a wrong key, long and varied: 9876543210"));
    assert_eq!(stdout(&both), "c\n", "{both:?}");
}

#[test]
fn a_client_with_a_wrong_key_is_refused() {
    let key = KeyFile::new(KEY);
    let wrong = KeyFile::new("another key of sufficient length: 9876543210");
    let server = Server::start(&key, &[]);
    let output = call(&server, &wrong, &["echo", "hello"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stdout(&output), "");
    let error = error_line(&output);
    assert!(error.contains("cannot reach the echo actor"), "{error}");
    assert!(error.contains("handshake"), "{error}");
}

/// `call --timeout 1` against a listener that accepts and never answers used to wait for the
/// node's 5-second handshake limit: the timeout bounds the handshake too.
#[test]
fn call_timeout_bounds_the_handshake_with_a_silent_server() {
    let key = KeyFile::new(KEY);
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    // Accepts the call's connection and holds it in the channel, saying nothing. The thread
    // is not joined: if the call never connected, it would wait in accept forever.
    let (held_tx, held) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = held_tx.send(silent.accept());
    });
    let started = Instant::now();
    let output = run(actor_node().args([
        "call",
        &addr,
        "echo",
        "hello",
        "--secret-file",
        key.path(),
        "--timeout",
        "1",
    ]));
    let took = started.elapsed();
    drop(held);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stdout(&output), "");
    let error = error_line(&output);
    assert!(error.contains("cannot reach the echo actor"), "{error}");
    // A hang guard, well under the 5-second handshake limit, not a speed claim.
    assert!(took < Duration::from_secs(4), "call took {took:?}");
}

/// A key holder's node name with a line ending used to start a forged line in the server's
/// log: the name is logged escaped, on the line that names it.
#[test]
fn a_peer_name_with_a_newline_cannot_forge_a_log_line() {
    let key = KeyFile::new(KEY);
    let server = Server::start(&key, &[]);
    let secret = actor_net::Secret::new(KEY.as_bytes().to_vec()).unwrap();
    let peer = actor_net::Node::builder(secret)
        .name("evil\nINFO forged \u{1b}[31m")
        .build()
        .unwrap();
    let echo = peer
        .lookup::<actor_net::services::EchoMsg>(&server.node, actor_net::services::ECHO)
        .unwrap();
    let line = server.wait_for_log(&["peer authenticated"]);
    assert!(line.contains(r"evil\nINFO forged \u{1b}[31m"), "{line:?}");
    assert!(!line.contains('\u{1b}'), "{line:?}");
    drop(echo);
    peer.shutdown();
}

/// `call` used to print a server's escape codes raw to the terminal: they are shown escaped.
#[test]
fn call_prints_escape_codes_of_an_answer_escaped() {
    let key = KeyFile::new(KEY);
    let server = Server::start(&key, &[]);
    let echo = call(&server, &key, &["echo", "red \u{1b}[31m alert\r"]);
    assert!(echo.status.success(), "{echo:?}");
    assert_eq!(stdout(&echo), "red \\u{1b}[31m alert\\r\n");
}

#[test]
fn serve_answers_the_classic_protocols_and_logs_refusals() {
    let key = KeyFile::new(KEY);
    let server = Server::start(&key, &["daytime-tcp", "time-udp", "echo-udp", "auth-echo"]);

    let mut daytime = TcpStream::connect(server.listener("daytime-tcp")).unwrap();
    daytime.set_read_timeout(Some(WAIT)).unwrap();
    let mut line = String::new();
    daytime.read_to_string(&mut line).unwrap();
    assert!(line.ends_with("\r\n") && line.len() == 26, "{line:?}");

    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0; 64];
    udp.send_to(b"", server.listener("time-udp")).unwrap();
    assert_eq!(udp.recv(&mut buf).unwrap(), 4);
    let seconds = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let now = (now_unix() + 2_208_988_800) as u32;
    assert!((now.wrapping_sub(seconds) as i32).abs() <= 5);
    udp.send_to(b"ping", server.listener("echo-udp")).unwrap();
    assert_eq!(udp.recv(&mut buf).unwrap(), 4);
    assert_eq!(&buf[..4], b"ping");

    // A client of the authenticated echo that cannot answer the challenge is refused.
    let mut auth = TcpStream::connect(server.listener("auth-echo")).unwrap();
    auth.set_read_timeout(Some(WAIT)).unwrap();
    let mut challenge = [0; 32];
    auth.read_exact(&mut challenge).unwrap();
    std::io::Write::write_all(&mut auth, &[0; 32]).unwrap();
    match auth.read(&mut buf) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("not closed: {other:?}"),
    }
    // Logged once per source a minute, with the source's address and not its port.
    let refused = server.wait_for_log(&["connection refused", "auth-echo"]);
    assert!(refused.contains("127.0.0.1 "), "{refused}");
}

fn assert_usage_error(args: &[&str]) -> String {
    let output = run(actor_node().args(args));
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    error_line(&output)
}

#[test]
fn bad_flags_are_one_line_errors() {
    let error = assert_usage_error(&["serve", "--listen", "127.0.0.1:0", "--bogus"]);
    assert!(error.contains("--bogus"), "{error}");
    let error = assert_usage_error(&["serve", "--secret-file", "x"]);
    assert!(error.contains("--listen"), "{error}");
    let error = assert_usage_error(&["call", "127.0.0.1:1", "ping"]);
    assert!(error.contains("ping"), "{error}");
    assert_usage_error(&["call", "127.0.0.1:1", "time", "--timeout", "soon"]);
    for flag in [
        "--inbound-messages",
        "--inbound-bytes",
        "--inbound-total-bytes",
        "--outbound-messages",
        "--outbound-bytes",
        "--export-mailbox",
        "--blocked-timeout",
        "--max-handshakes",
        "--max-handshakes-per-source",
        "--handshake-timeout",
    ] {
        let error = assert_usage_error(&["serve", "--listen", "127.0.0.1:0", flag, "0"]);
        assert!(error.contains(flag), "{error}");
    }
}

#[test]
fn serve_takes_the_flow_control_limits() {
    let key = KeyFile::new(KEY);
    let flags = [
        "--inbound-messages",
        "16",
        "--inbound-bytes",
        "65536",
        "--inbound-total-bytes",
        "4194304",
        "--outbound-messages",
        "16",
        "--outbound-bytes",
        "65536",
        "--export-mailbox",
        "4",
        "--blocked-timeout",
        "2",
        "--max-handshakes",
        "4",
        "--max-handshakes-per-source",
        "2",
        "--handshake-timeout",
        "3",
    ];
    let server = Server::start_with(&key, &[], &flags);
    let output = call(&server, &key, &["echo", "limited"]);
    assert!(output.status.success(), "{output:?}");
    assert_eq!(stdout(&output), "limited\n");
}

#[test]
fn a_busy_server_is_reported_as_busy() {
    let key = KeyFile::new(KEY);
    let flags = [
        "--max-handshakes-per-source",
        "1",
        "--handshake-timeout",
        "60",
    ];
    let server = Server::start_with(&key, &[], &flags);
    // Holds the one handshake slot of 127.0.0.1 by saying nothing.
    let _silent = TcpStream::connect(&server.node).unwrap();
    let output = call(&server, &key, &["echo", "hello"]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let error = error_line(&output);
    assert!(error.contains("the server is busy"), "{error}");
    server.wait_for_log(&["connection refused", "127.0.0.1", "busy"]);
}

fn assert_serve_fails(args: &[&str]) -> String {
    let output = run(actor_node().arg("serve").args(args));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stdout(&output), "");
    error_line(&output)
}

#[test]
fn a_short_or_missing_key_is_a_one_line_error() {
    let short = KeyFile::new("too short\n");
    let error = assert_serve_fails(&["--listen", "127.0.0.1:0", "--secret-file", short.path()]);
    assert!(error.contains("at least 16"), "{error}");

    let missing = Path::new(short.path()).with_extension("missing");
    let missing = missing.to_str().unwrap();
    let error = assert_serve_fails(&["--listen", "127.0.0.1:0", "--secret-file", missing]);
    assert!(error.contains(missing), "{error}");

    let error = assert_serve_fails(&["--listen", "127.0.0.1:0"]);
    assert!(error.contains("ACTOR_SECRET"), "{error}");
}

#[test]
fn an_address_in_use_is_a_one_line_error() {
    let key = KeyFile::new(KEY);
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    let error = assert_serve_fails(&["--listen", &taken, "--secret-file", key.path()]);
    assert!(
        error.contains(&taken) && error.contains("in use"),
        "{error}"
    );
    let error = assert_serve_fails(&[
        "--listen",
        "127.0.0.1:0",
        "--secret-file",
        key.path(),
        "--echo-tcp",
        &taken,
    ]);
    assert!(
        error.contains("echo-tcp") && error.contains("in use"),
        "{error}"
    );
}

#[test]
fn keygen_writes_a_private_32_byte_key_that_serve_and_call_use() {
    let key = KeyFile::unused();
    let output = run(actor_node().args(["keygen", key.path()]));
    assert!(output.status.success(), "{output:?}");
    let mode = if cfg!(unix) { " (mode 0600)" } else { "" };
    assert_eq!(
        stdout(&output),
        format!("wrote a new 32-byte key to {}{mode}\n", key.path())
    );
    assert_eq!(std::fs::read(&key.0).unwrap().len(), 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key.0).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    let server = Server::start(&key, &[]);
    let echo = call(&server, &key, &["echo", "a generated key"]);
    assert_eq!(stdout(&echo), "a generated key\n", "{echo:?}");
    let stderr = String::from_utf8(echo.stderr).unwrap();
    assert!(!stderr.contains("chmod"), "{stderr}");
}

#[test]
fn keygen_refuses_to_overwrite_a_file() {
    let existing = KeyFile::new(KEY);
    let output = run(actor_node().args(["keygen", existing.path()]));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stdout(&output), "");
    let error = error_line(&output);
    assert!(
        error.contains(existing.path()) && error.contains("exists already"),
        "{error}"
    );
    assert_eq!(std::fs::read_to_string(&existing.0).unwrap(), KEY);

    let error = assert_usage_error(&["keygen"]);
    assert!(error.contains("FILE"), "{error}");
}

/// `passwordpassword` (found offline in 36 guesses from one handshake) and
/// `aaaaaaaaaaaaaaaa` used to be accepted as keys: `serve` and `call` refuse them, and take
/// them only with `--allow-weak-key`.
#[test]
fn a_weak_key_is_refused_unless_allowed() {
    let weak = KeyFile::new("passwordpassword\n");
    let error = assert_serve_fails(&["--listen", "127.0.0.1:0", "--secret-file", weak.path()]);
    assert!(error.contains("only 7 distinct byte values"), "{error}");
    assert!(error.contains("--allow-weak-key"), "{error}");
    assert!(error.contains("actor-node keygen"), "{error}");

    let server = Server::start_with(&weak, &[], &["--allow-weak-key"]);
    let refused = call(&server, &weak, &["echo", "weak"]);
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    assert!(error_line(&refused).contains("only 7 distinct byte values"));
    let allowed = run(actor_node().args([
        "call",
        &server.node,
        "echo",
        "weak",
        "--secret-file",
        weak.path(),
        "--allow-weak-key",
    ]));
    assert_eq!(stdout(&allowed), "weak\n", "{allowed:?}");

    for (value, why) in [
        ("aaaaaaaaaaaaaaaa", "only 1 distinct byte value;"),
        ("0123456789abcdef", "text of 16 characters"),
    ] {
        let refused = run(actor_node()
            .args(["call", &server.node, "echo", "weak"])
            .env("ACTOR_SECRET", value));
        assert_eq!(refused.status.code(), Some(1), "{refused:?}");
        let error = error_line(&refused);
        assert!(error.contains(why), "{error}");
    }
}

/// A key file of mode 0644 used to be read without a word: `serve` and `call` warn, naming
/// the file and its mode, and still use it.
#[cfg(unix)]
#[test]
fn a_key_file_others_can_read_is_used_with_a_warning() {
    let exposed = KeyFile::with_mode(KEY, 0o644);
    let server = Server::start(&exposed, &[]);
    let warning = server.wait_for_log(&["WARN", "chmod 600", exposed.path()]);
    assert!(warning.contains("0644"), "{warning}");

    let echo = call(&server, &exposed, &["echo", "still served"]);
    assert_eq!(stdout(&echo), "still served\n", "{echo:?}");
    let stderr = String::from_utf8(echo.stderr).unwrap();
    assert!(
        stderr.contains("WARN") && stderr.contains("chmod 600") && stderr.contains("0644"),
        "{stderr}"
    );
    assert!(stderr.contains(exposed.path()), "{stderr}");

    let private = KeyFile::new(KEY);
    let quiet = call(&server, &private, &["echo", "quiet"]);
    assert_eq!(stdout(&quiet), "quiet\n", "{quiet:?}");
    let stderr = String::from_utf8(quiet.stderr).unwrap();
    assert!(!stderr.contains("chmod"), "{stderr}");
}

/// `--secret-file /dev/zero` used to read until memory ran out: a key file is read up to 4096
/// bytes, and a longer one is refused at once (within `run`'s deadline).
#[cfg(unix)]
#[test]
fn a_key_file_over_4096_bytes_is_refused_at_once() {
    let error = assert_serve_fails(&["--listen", "127.0.0.1:0", "--secret-file", "/dev/zero"]);
    assert!(
        error.contains("/dev/zero") && error.contains("larger than 4096 bytes"),
        "{error}"
    );
    let large = KeyFile::new(&KEY.repeat(200));
    let output =
        run(actor_node().args(["call", "127.0.0.1:1", "time", "--secret-file", large.path()]));
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert!(error_line(&output).contains("larger than 4096 bytes"));
}

#[test]
fn every_subcommand_has_help() {
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["call", "--help"],
        &["call", "127.0.0.1:1", "echo", "--help"],
        &["call", "127.0.0.1:1", "time", "--help"],
        &["keygen", "--help"],
        &["tap", "--help"],
        &["members", "--help"],
        &["help", "serve"],
    ] {
        let output = run(actor_node().args(args));
        assert!(output.status.success(), "{args:?}: {output:?}");
        let help = stdout(&output);
        assert!(help.contains("Usage:"), "{args:?}: {help}");
        assert!(help.contains("ACTOR_SECRET"), "{args:?}: {help}");
    }
}

/// `serve`'s goodbye on the signals that ask it to stop, which only Unix has.
#[cfg(unix)]
mod signals {
    use std::process::ExitStatus;

    use actor_core::ExitReason;
    use actor_net::services::EchoMsg;
    use actor_net::{Node, Secret};
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    use super::*;

    /// Waits for the child to exit, within `WAIT` (else fails; the guard kills it).
    fn exit_status(server: &mut Server) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "actor-node did not exit within {WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Starts `serve`, has a client node watch its `echo` actor, sends `signal` to the served
    /// process, and checks that the client is told goodbye (the actor stopped, not a lost
    /// connection) and that the process exits with code 0.
    fn serve_says_goodbye_on(signal: Signal, name: &str) {
        let key = KeyFile::new(KEY);
        let mut server = Server::start(&key, &[]);
        let client = Node::builder(Secret::new(KEY.as_bytes().to_vec()).unwrap())
            .name("watcher")
            .build()
            .unwrap();
        let echo = client
            .lookup::<EchoMsg>(server.node.as_str(), "echo")
            .unwrap();
        let answer = echo
            .ask(|reply| EchoMsg::Echo(b"before".to_vec(), reply), WAIT)
            .unwrap();
        assert_eq!(answer, b"before");
        let mut down = echo.monitor();

        let pid = Pid::from_raw(i32::try_from(server.child.id()).unwrap());
        kill(pid, signal).unwrap();

        let notice = down.wait_timeout(WAIT).expect("a Down within WAIT");
        assert!(
            matches!(notice.reason, ExitReason::Stopped),
            "a goodbye, not a lost connection: {:?}",
            notice.reason
        );
        let status = exit_status(&mut server);
        assert_eq!(status.code(), Some(0), "{status:?}");
        server.wait_for_log(&["saying goodbye", name]);
        client.shutdown();
    }

    #[test]
    fn serve_says_goodbye_and_exits_0_on_sigterm() {
        serve_says_goodbye_on(Signal::SIGTERM, "SIGTERM");
    }

    #[test]
    fn serve_says_goodbye_and_exits_0_on_sigint() {
        serve_says_goodbye_on(Signal::SIGINT, "SIGINT");
    }
}

#[test]
fn encryption_settings_that_do_not_meet_are_a_one_line_error_both_ways() {
    let key = KeyFile::new(KEY);
    // `call echo hi` with `call_setting` against `serve` with `serve_setting`.
    let call = |serve_setting: &str, call_setting: &str| {
        let server = Server::start_with(&key, &[], &["--encrypt", serve_setting]);
        let client = [
            "echo",
            "hi",
            "--secret-file",
            key.path(),
            "--encrypt",
            call_setting,
        ];
        run(actor_node().args(["call", &server.node]).args(client))
    };
    for (serve_setting, call_setting) in [("required", "off"), ("off", "required")] {
        let output = call(serve_setting, call_setting);
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let error = error_line(&output);
        assert!(
            error.contains(&format!(
                "encryption settings do not meet: this side's is {call_setting}, the peer's {serve_setting}"
            )),
            "{error}"
        );
    }
    // Settings that meet: the call goes through, encrypted or not.
    for (serve_setting, call_setting) in [("required", "preferred"), ("off", "preferred")] {
        let output = call(serve_setting, call_setting);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(stdout(&output), "hi\n");
    }
    let error = assert_usage_error(&["call", "127.0.0.1:1", "time", "--encrypt", "always"]);
    assert!(error.contains("off, preferred, required"), "{error}");
}
