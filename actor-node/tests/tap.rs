//! `actor-node tap` against a running `actor-node serve`.

mod support;

use std::process::{Child, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use support::{KEY, KeyFile, Server, WAIT, actor_node, call, lines_of};

/// A running `actor-node tap`; killed and reaped on drop.
struct Tap {
    child: Child,
    lines: Receiver<String>,
    logs: Receiver<String>,
}

impl Tap {
    /// Starts `tap` on the server's node with `args` after the address, and waits until it
    /// is subscribed.
    fn start(server: &Server, key: &KeyFile, args: &[&str]) -> Tap {
        let mut child = actor_node()
            .args(["tap", &server.node])
            .args(args)
            .args(["--secret-file", key.path()])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = lines_of(child.stdout.take().unwrap());
        let logs = lines_of(child.stderr.take().unwrap());
        let tap = Tap { child, lines, logs };
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = tap.logs.recv_timeout(left).expect("the tap subscribes");
            if line.contains("tapping") {
                return tap;
            }
        }
    }

    fn line(&self) -> String {
        self.lines.recv_timeout(WAIT).expect("a line from the tap")
    }

    /// Waits for the tap to exit by itself; returns its exit code.
    fn exit_code(&mut self) -> Option<i32> {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(Instant::now() < deadline, "the tap did not exit in time");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Everything the tap wrote to standard error, once it has exited.
    fn logs(&self) -> String {
        self.logs.try_iter().collect::<Vec<_>>().join("\n")
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn tap_prints_the_system_net_events_of_a_call_and_count_ends_it() {
    let key = KeyFile::new(KEY);
    let server = Server::start(&key, &[]);
    let mut tap = Tap::start(&server, &key, &["system.>", "--count", "3"]);
    let output = call(&server, &key, &["echo", "hello"]);
    assert!(output.status.success(), "{output:?}");

    let connected = tap.line();
    assert!(
        connected.starts_with("msg[1]: system.net: Connected { peer: 127.0.0.1:"),
        "{connected}"
    );
    let authenticated = tap.line();
    assert!(
        authenticated.starts_with("msg[2]: system.net: Authenticated {"),
        "{authenticated}"
    );
    assert!(
        authenticated.contains("name: \"actor-node-client-"),
        "{authenticated}"
    );
    let disconnected = tap.line();
    assert!(
        disconnected.starts_with("msg[3]: system.net: Disconnected {"),
        "{disconnected}"
    );
    assert_eq!(tap.exit_code(), Some(0), "{}", tap.logs());
    assert!(
        tap.lines.recv_timeout(WAIT).is_err(),
        "nothing after --count"
    );
}

#[test]
fn tap_json_prints_one_object_per_line() {
    let key = KeyFile::new(KEY);
    let server = Server::start(&key, &[]);
    let mut tap = Tap::start(&server, &key, &["system.net", "--json", "--count", "2"]);
    let output = call(&server, &key, &["time"]);
    assert!(output.status.success(), "{output:?}");
    for seq in 1..=2 {
        let line = tap.line();
        let object: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(object["seq"], seq, "{line}");
        assert_eq!(object["exchange"], "system.net", "{line}");
        let message = object["message"].as_str().unwrap();
        let expected = if seq == 1 {
            "Connected"
        } else {
            "Authenticated"
        };
        assert!(message.starts_with(expected), "{line}");
    }
    assert_eq!(tap.exit_code(), Some(0), "{}", tap.logs());
}

#[test]
fn tap_exits_1_when_the_node_goes_away() {
    let key = KeyFile::new(KEY);
    let mut server = Server::start(&key, &[]);
    let mut tap = Tap::start(&server, &key, &["system.>"]);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert_eq!(tap.exit_code(), Some(1));
    let logs = tap.logs();
    assert!(
        logs.contains(&format!(
            "actor-node: the connection to {} was lost",
            server.node
        )),
        "{logs}"
    );
}

#[test]
fn a_bad_pattern_is_a_one_line_error() {
    let key = KeyFile::new(KEY);
    let server = Server::start(&key, &[]);
    let output = support::run(actor_node().args([
        "tap",
        &server.node,
        "system..net",
        "--secret-file",
        key.path(),
    ]));
    assert_eq!(output.status.code(), Some(1));
    let error = support::error_line(&output);
    assert!(
        error.contains("cannot subscribe to \"system..net\""),
        "{error}"
    );
}

/// A subscriber process killed without a word: the node detaches its subscription and says
/// so on `system.subscribers`, which a second tap sees.
#[cfg(unix)]
#[test]
fn a_killed_tap_is_detached_and_reported() {
    let key = KeyFile::new(KEY);
    let server = Server::start(&key, &[]);
    let watcher = Tap::start(&server, &key, &["system.subscribers"]);
    let mut doomed = Tap::start(&server, &key, &["system.>"]);
    doomed.child.kill().unwrap();
    doomed.child.wait().unwrap();
    let report = watcher.line();
    assert!(
        report.starts_with("msg[1]: system.subscribers: SubscriberGone { exchange: \"system.>\""),
        "{report}"
    );
    assert!(report.contains("remote subscription"), "{report}");
    server.wait_for_log(&["remote subscriber lost"]);
}
