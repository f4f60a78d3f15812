//! `fault-proxy` as a process: the address on its first line, control lines and their
//! answers, forwarding through it, its end (standard input closed, SIGTERM), and the
//! command-line errors.
//!
//! Every child is killed and reaped by a guard, also when a test fails; every wait has a
//! deadline.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fault-proxy");
const WAIT: Duration = Duration::from_secs(10);

/// A running `fault-proxy`: its address, its standard input, and its output lines. Killed
/// and reaped on drop.
struct Proxy {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    addr: SocketAddr,
}

impl Proxy {
    fn start(args: &[&str]) -> Proxy {
        let mut child = Command::new(BIN)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let lines = lines_of(child.stdout.take().unwrap());
        let first = lines.recv_timeout(WAIT).expect("the proxy's address");
        Proxy {
            child,
            stdin,
            lines,
            addr: first.parse().expect("an address on the first line"),
        }
    }

    /// Sends a control line and returns the answer.
    fn control(&mut self, line: &str) -> String {
        let stdin = self.stdin.as_mut().expect("standard input open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        self.lines.recv_timeout(WAIT).expect("an answer")
    }

    /// Waits for the process to end, within `WAIT`.
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "fault-proxy did not end");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends each line `pipe` gives into a channel, from a thread of its own.
fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Runs `fault-proxy` with `args` to its end (it must end at once) and returns its exit code
/// and standard error.
fn run_to_end(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = lines_of(child.stderr.take().unwrap());
    let mut proxy_guard = Reaper(child);
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = proxy_guard.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "fault-proxy did not end");
        std::thread::sleep(Duration::from_millis(10));
    };
    let errors: Vec<String> = stderr.iter().collect();
    (status.code(), errors.join("\n"))
}

/// The next connection to `listener`, within `WAIT`.
fn accept(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + WAIT;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream.set_read_timeout(Some(WAIT)).unwrap();
                return stream;
            }
            Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
                assert!(
                    Instant::now() < deadline,
                    "the proxy never connected upstream"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(error) => panic!("accept: {error}"),
        }
    }
}

/// Kills and reaps a child on drop.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn control_lines_are_answered_one_line_each() {
    let upstream = UdpSocket::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap().to_string();
    let mut proxy = Proxy::start(&["--udp", "--upstream", &upstream_addr, "--seed", "3"]);
    assert_eq!(proxy.control("delay 50"), "ok delay 50");
    assert_eq!(proxy.control("delay to-client 7"), "ok delay to-client 7");
    assert_eq!(proxy.control("drop 0.25"), "ok drop 0.25");
    assert!(
        proxy
            .control("drop 2")
            .starts_with("error a drop probability must be from 0 to 1")
    );
    assert_eq!(proxy.control("blackhole on"), "ok blackhole on");
    assert_eq!(proxy.control("blackhole off"), "ok blackhole off");
    assert!(
        proxy
            .control("stats")
            .starts_with("ok stats opened=0 refused=0 evicted=0 ")
    );
    assert!(proxy.control("reboot").starts_with("error unknown command"));
    assert_eq!(proxy.control(""), "error empty line");

    // Standard input closed: the proxy stops and exits with code 0.
    drop(proxy.stdin.take());
    assert!(proxy.wait().success());
}

#[test]
fn udp_through_the_command_with_faults_changed_on_the_way() {
    let upstream = UdpSocket::bind("127.0.0.1:0").unwrap();
    upstream.set_read_timeout(Some(WAIT)).unwrap();
    let upstream_addr = upstream.local_addr().unwrap().to_string();
    let mut proxy = Proxy::start(&["--udp", "--upstream", &upstream_addr, "--drop", "1"]);
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();

    client.send_to(b"dropped", proxy.addr).unwrap();
    let deadline = Instant::now() + WAIT;
    while !proxy
        .control("stats")
        .contains(" to_upstream_dropped_datagrams=1")
    {
        assert!(Instant::now() < deadline, "the datagram was never dropped");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(proxy.control("drop 0"), "ok drop 0");
    client.send_to(b"kept", proxy.addr).unwrap();
    let mut buf = [0u8; 64];
    let (n, flow) = upstream.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"kept");
    upstream.send_to(b"answer", flow).unwrap();
    let n = client.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"answer");
}

#[test]
fn tcp_through_the_command_and_drop_refused_for_tcp() {
    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap().to_string();
    let mut proxy = Proxy::start(&["--tcp", "--upstream", &upstream_addr, "--delay-ms", "10"]);
    let mut client = TcpStream::connect(proxy.addr).unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let mut server = accept(&upstream);
    client.write_all(b"hello").unwrap();
    let mut buf = [0u8; 5];
    server.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hello");
    assert!(
        proxy
            .control("drop 0.5")
            .starts_with("error drop applies to UDP only")
    );
}

#[cfg(unix)]
#[test]
fn sigterm_stops_it_with_code_0() {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream_addr = upstream.local_addr().unwrap().to_string();
    let mut proxy = Proxy::start(&["--tcp", "--upstream", &upstream_addr]);
    // A connection open through it: stopping closes it.
    let mut client = TcpStream::connect(proxy.addr).unwrap();
    client.set_read_timeout(Some(WAIT)).unwrap();
    let _server = accept(&upstream);
    let pid = Pid::from_raw(i32::try_from(proxy.child.id()).unwrap());
    kill(pid, Signal::SIGTERM).unwrap();
    assert!(proxy.wait().success());
    let mut buf = [0u8; 8];
    assert!(matches!(client.read(&mut buf), Ok(0) | Err(_)));
}

#[test]
fn command_line_errors_exit_with_2_and_run_time_errors_with_1() {
    let (code, _) = run_to_end(&["--upstream", "127.0.0.1:9"]);
    assert_eq!(code, Some(2), "no protocol");
    let (code, _) = run_to_end(&["--tcp", "--udp", "--upstream", "127.0.0.1:9"]);
    assert_eq!(code, Some(2), "both protocols");
    let (code, _) = run_to_end(&["--tcp", "--upstream", "127.0.0.1:9", "--drop", "0.5"]);
    assert_eq!(code, Some(2), "drop with tcp");
    let (code, _) = run_to_end(&["--udp", "--upstream", "localhost"]);
    assert_eq!(code, Some(2), "not an address");

    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let (code, stderr) = run_to_end(&[
        "--tcp",
        "--listen",
        &taken_addr,
        "--upstream",
        "127.0.0.1:9",
    ]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.starts_with(&format!("fault-proxy: cannot listen on {taken_addr}: ")),
        "{stderr}"
    );
    let (code, stderr) = run_to_end(&["--udp", "--upstream", "127.0.0.1:9", "--drop", "1.5"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("a drop probability must be from 0 to 1"),
        "{stderr}"
    );
}
