//! Two OS processes: this test binary starts itself again as a server node.
//!
//! A `harness = false` test: `main` runs the server when started as the child, and the tests
//! otherwise. Each test starts its own child and ends it; every wait is bounded.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use actor_core::{Actor, AskError, Context, ExitReason, HandlerResult, Reply, SendError, System};
use actor_net::{Node, RemoteMessage, Secret};
use serde::{Deserialize, Serialize};

const CHILD: &str = "ACTOR_NET_TEST_CHILD";
const WAIT: Duration = Duration::from_secs(10);
/// A send that fails must fail at least this fast: a guard against a hang, not a claim
/// about speed.
const FAST: Duration = Duration::from_secs(2);

type TestResult = Result<(), Box<dyn std::error::Error>>;
type Test = (&'static str, fn() -> TestResult);

fn secret() -> Result<Secret, actor_net::SecretError> {
    Secret::new(b"two processes share this key: 0123456789".to_vec())
}

#[derive(Serialize, Deserialize)]
enum Msg {
    Value(u64),
    Seen(Reply<u64>),
    Hold(Reply<u64>),
}

impl RemoteMessage for Msg {
    const NAME: &'static str = "test.seq";
}

/// Checks in-order arrival; holds `Hold` requests unanswered.
#[derive(Default)]
struct Sequence {
    next: u64,
    held: Vec<Reply<u64>>,
}

impl Actor for Sequence {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
        match msg {
            Msg::Value(v) if v == self.next => self.next += 1,
            Msg::Value(v) => {
                return Err(format!("out of order: expected {}, got {v}", self.next).into());
            }
            Msg::Seen(reply) => reply.send(self.next),
            Msg::Hold(reply) => self.held.push(reply),
        }
        Ok(())
    }
}

/// The child as a server: a node exporting `seq` on `listen`; prints its address, serves
/// until stdin closes.
fn serve(listen: &str) -> TestResult {
    let system = System::new();
    let node = Node::builder(secret()?)
        .name("child")
        .listen(listen)
        .build()?;
    node.export("seq", &system.spawn(Sequence::default())?)?;
    println!("{}", node.local_addr().ok_or("not listening")?);
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line)? > 0 {}
    node.shutdown();
    system.shutdown();
    Ok(())
}

/// The child as a client: tells the parent's `seq` actor without end, printing a line once
/// it has started.
fn flood(addr: &str) -> TestResult {
    let node = Node::builder(secret()?).name("flooder").build()?;
    let seq = node.lookup::<Msg>(addr, "seq")?;
    let mut n = 0;
    loop {
        seq.tell(Msg::Value(n))?;
        if n == 1_000 {
            println!("flooding");
        }
        n += 1;
    }
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Result<Server, Box<dyn std::error::Error>> {
        Server::start_as("serve 127.0.0.1:0")
    }

    /// Starts the child in `role` and reads the first line it prints.
    fn start_as(role: &str) -> Result<Server, Box<dyn std::error::Error>> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(CHILD, role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = match rx.recv_timeout(WAIT) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err("the child did not report its address".into());
            }
        };
        let addr = line
            .trim()
            .parse()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        Ok(Server { addr, child })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Closing stdin ends a child that is still serving; then reap it.
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn tell_and_ask_in_order() -> TestResult {
    let server = Server::start()?;
    let node = Node::builder(secret()?).name("parent").build()?;
    let seq = node.lookup::<Msg>(server.addr, "seq")?;
    for v in 0..50_000 {
        seq.tell(Msg::Value(v))?;
    }
    let seen = seq.ask(Msg::Seen, WAIT)?;
    if seen != 50_000 {
        return Err(format!("the child saw {seen} of 50000 messages in order").into());
    }
    node.shutdown();
    Ok(())
}

fn a_killed_peer_fails_pending_asks_within_a_second() -> TestResult {
    let mut server = Server::start()?;
    let node = Node::builder(secret()?).name("parent").build()?;
    let seq = node.lookup::<Msg>(server.addr, "seq")?;
    let mut held = seq.request(Msg::Hold)?;
    // Answered after the Hold, so the Hold is in the child's hands.
    seq.ask(Msg::Seen, WAIT)?;
    let down = seq.monitor();
    server.child.kill()?; // SIGKILL
    let killed = Instant::now();
    match held.wait_timeout(Duration::from_secs(1)) {
        Err(actor_core::ReplyError::Disconnected) => {}
        other => return Err(format!("expected a disconnection within 1 s, got {other:?}").into()),
    }
    let mut down = down;
    let notice = down.wait_timeout(WAIT)?;
    if !matches!(notice.reason, ExitReason::Failed(_)) {
        return Err(format!("expected a node-lost Down, got {:?}", notice.reason).into());
    }
    // Nothing listens on the address any more: the node is unreachable.
    let start = Instant::now();
    if !matches!(seq.ask(Msg::Seen, WAIT), Err(AskError::Unreachable)) {
        return Err("a later ask should fail as unreachable".into());
    }
    if start.elapsed() >= FAST {
        return Err(format!("a later ask took {:?} to fail", start.elapsed()).into());
    }
    println!("  pending ask failed {:?} after the kill", killed.elapsed());
    node.shutdown();
    Ok(())
}

fn a_restarted_peer_is_reached_again_through_the_old_ref() -> TestResult {
    let mut first = Server::start()?;
    let addr = first.addr;
    let node = Node::builder(secret()?).name("parent").build()?;
    let seq = node.lookup::<Msg>(addr, "seq")?;
    seq.tell(Msg::Value(0))?;
    if seq.ask(Msg::Seen, WAIT)? != 1 {
        return Err("the first child did not count".into());
    }
    first.child.kill()?;
    let lost = seq.monitor().wait_timeout(WAIT)?;
    if !matches!(lost.reason, ExitReason::Failed(_)) {
        return Err("expected the node to be reported lost".into());
    }
    let _ = first.child.wait();
    // While no process serves the address, sends fail fast as unreachable.
    for _ in 0..100 {
        let start = Instant::now();
        match seq.tell(Msg::Value(0)) {
            Err(SendError::Unreachable(_)) if start.elapsed() < FAST => {}
            other => {
                return Err(format!(
                    "expected a fast unreachable, got {other:?} after {:?}",
                    start.elapsed()
                )
                .into());
            }
        }
    }
    // A new process on the same address: the old ref connects again, looks `seq` up again
    // and resumes, once the backoff of the dials that failed above allows a dial.
    let _second = Server::start_as(&format!("serve {addr}"))?;
    let deadline = Instant::now() + WAIT;
    loop {
        match seq.tell(Msg::Value(0)) {
            Ok(()) => break,
            Err(SendError::Unreachable(_)) if Instant::now() < deadline => {
                std::thread::yield_now();
            }
            Err(other) => {
                return Err(format!("the restarted child was not reached: {other:?}").into());
            }
        }
    }
    if seq.ask(Msg::Seen, WAIT)? != 1 {
        return Err("the restarted child did not count".into());
    }
    node.shutdown();
    Ok(())
}

fn a_killed_client_does_not_disturb_the_others() -> TestResult {
    let system = System::new();
    let server = Node::builder(secret()?)
        .name("parent")
        .listen("127.0.0.1:0")
        .build()?;
    let seq = system.spawn(Sequence::default())?;
    server.export("seq", &seq)?;
    let addr = server.local_addr().ok_or("not listening")?;
    let mut flooder = Server::start_as(&format!("flood {addr}"))?;
    // Killed mid-stream, while it is telling as fast as it can.
    flooder.child.kill()?;
    let _ = flooder.child.wait();
    // The node keeps serving another peer (the in-order count restarts at its messages).
    let other = Node::builder(secret()?).name("other").build()?;
    let remote = other.lookup::<Msg>(addr, "seq")?;
    remote.ask(Msg::Seen, WAIT)?;
    let deadline = Instant::now() + WAIT;
    while server.connection_count() != 1 {
        if Instant::now() > deadline {
            return Err("the killed client's connection was not closed".into());
        }
        std::thread::yield_now();
    }
    other.shutdown();
    server.shutdown();
    system.shutdown();
    Ok(())
}

fn main() -> ExitCode {
    if let Ok(role) = std::env::var(CHILD) {
        let result = match role.split_once(' ') {
            Some(("serve", listen)) => serve(listen),
            Some(("flood", addr)) => flood(addr),
            _ => Err(format!("unknown child role {role:?}").into()),
        };
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("child: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let tests: [Test; 4] = [
        ("tell_and_ask_in_order", tell_and_ask_in_order),
        (
            "a_killed_peer_fails_pending_asks_within_a_second",
            a_killed_peer_fails_pending_asks_within_a_second,
        ),
        (
            "a_restarted_peer_is_reached_again_through_the_old_ref",
            a_restarted_peer_is_reached_again_through_the_old_ref,
        ),
        (
            "a_killed_client_does_not_disturb_the_others",
            a_killed_client_does_not_disturb_the_others,
        ),
    ];
    let mut failed = 0;
    for (name, test) in tests {
        match test() {
            Ok(()) => println!("test {name} ... ok"),
            Err(error) => {
                println!("test {name} ... FAILED: {error}");
                failed += 1;
            }
        }
    }
    println!(
        "two_process: {} passed; {failed} failed",
        tests.len() - failed
    );
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
