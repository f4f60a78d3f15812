//! The whole framework in one command:
//!
//! ```text
//! cargo run --release --example demo
//! ```
//!
//! It starts this program again as a child process that serves a node with the echo and time
//! actors; the two processes share a random key through a private temporary file. The parent
//! then runs a client node that authenticates, calls both actors, and publishes every call
//! and answer on an exchange to which a numbered printer is attached; shows that a client
//! with a wrong key is refused; and shuts everything down.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use actor::ErrorChain;
use actor::net::services::{self, EchoMsg, Protocol, ServiceSet, TimeMsg};
use actor::net::{Node, Secret};
use actor::prelude::*;
use actor::tap::Printer;

/// Set (to the key file's path) in the environment of the child that serves.
const SERVE: &str = "ACTOR_DEMO_SERVE_WITH_KEY";
/// How long any one step may take.
const WAIT: Duration = Duration::from_secs(10);

type DemoResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// What the printer shows: the traffic between the client and the server's actors.
#[derive(Debug, Clone)]
#[expect(
    dead_code,
    reason = "the fields are read through Debug, by the printer"
)]
enum Traffic {
    Request { to: &'static str, payload: String },
    Answer { from: &'static str, payload: String },
}

fn main() -> ExitCode {
    let result = match std::env::var_os(SERVE) {
        Some(key_file) => serve(Path::new(&key_file)),
        None => demo(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("demo: {}", ErrorChain(&*error));
            ExitCode::FAILURE
        }
    }
}

/// The child: a node exporting the echo and time actors, and the daytime protocol on plain
/// TCP. Prints both addresses, then serves until its standard input closes.
fn serve(key_file: &Path) -> DemoResult {
    let system = System::new();
    let services = ServiceSet::builder()
        .listen(Protocol::DaytimeTcp, "127.0.0.1:0")
        .build(&system)?;
    let node = Node::builder(Secret::from_file(key_file)?)
        .name("demo-server")
        .listen("127.0.0.1:0")
        .build()?;
    services.export(&node)?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}",
        node.local_addr().ok_or("the node does not listen")?
    )?;
    let daytime = services.local_addr(Protocol::DaytimeTcp);
    writeln!(out, "{}", daytime.ok_or("no daytime listener")?)?;
    out.flush()?;
    drop(out);
    std::io::stdin().read_to_end(&mut Vec::new())?;
    node.shutdown();
    services.shutdown();
    system.shutdown();
    Ok(())
}

/// The parent: everything the demo shows.
fn demo() -> DemoResult {
    let started = Instant::now();
    println!("== actor demo: remote actors over authenticated TCP ==");

    let key = Secret::generate()?;
    let dir = PrivateDir::create()?;
    let key_file = dir.write_key(&key)?;
    println!("1. made a random 32-byte key, written to a file only this user can read");

    let mut server = Server::start(&key_file)?;
    let (node_addr, daytime_addr) = (server.next_line()?, server.next_line()?);
    drop(dir);
    println!("2. started a child process serving echo and time on node {node_addr}");
    println!("   (it has read the key; the key file is deleted)");

    let client = Node::builder(key).name("demo-client").build()?;
    let echo = client.lookup::<EchoMsg>(node_addr.as_str(), services::ECHO)?;
    let time = client.lookup::<TimeMsg>(node_addr.as_str(), services::TIME)?;
    println!("3. a client node proved it holds the key (mutual HMAC-SHA256 handshake)");

    let system = System::new();
    let calls = system.exchange::<Traffic>("demo.calls")?;
    let printer = Printer::debug();
    let _printing = calls.subscribe(printer.clone());
    println!(
        "4. calling echo and time; every call and answer goes to the exchange \"demo.calls\","
    );
    println!("   where a numbered printer shows it:");

    let text = "hello, actors";
    calls.publish(Traffic::Request {
        to: services::ECHO,
        payload: text.to_string(),
    });
    let echoed = echo.ask(|r| EchoMsg::Echo(text.as_bytes().to_vec(), r), WAIT)?;
    calls.publish(Traffic::Answer {
        from: services::ECHO,
        payload: String::from_utf8_lossy(&echoed).into_owned(),
    });
    calls.publish(Traffic::Request {
        to: services::TIME,
        payload: "now?".to_string(),
    });
    let now = time.ask(TimeMsg::Now, WAIT)?;
    calls.publish(Traffic::Answer {
        from: services::TIME,
        payload: format!("{} = {}.{:09} s since 1970", now.local, now.secs, now.nanos),
    });
    println!(
        "5. {} messages went through the exchange; each answer came from the child process",
        printer.printed()
    );

    let mut daytime = TcpStream::connect_timeout(&daytime_addr.parse()?, WAIT)?;
    daytime.set_read_timeout(Some(WAIT))?;
    let mut line = String::new();
    daytime.read_to_string(&mut line)?;
    println!(
        "6. the same time actor answers the daytime protocol (RFC 867) on plain TCP: {}",
        line.trim_end()
    );

    let intruder = Node::builder(Secret::generate()?)
        .name("intruder")
        .build()?;
    match intruder.lookup::<EchoMsg>(node_addr.as_str(), services::ECHO) {
        Ok(_) => return Err("a client with a wrong key was let in".into()),
        Err(error) => println!(
            "7. a client with another random key is refused: {}",
            ErrorChain(&error)
        ),
    }

    intruder.shutdown();
    client.shutdown();
    system.shutdown();
    server.stop()?;
    println!(
        "8. shut down: client nodes, actors, and the child process (exited cleanly) in {:.1?}",
        started.elapsed()
    );
    Ok(())
}

/// A fresh directory only this user can enter, removed with everything in it on drop.
struct PrivateDir(PathBuf);

impl PrivateDir {
    fn create() -> DemoResult<PrivateDir> {
        let mut suffix = [0; 8];
        getrandom::fill(&mut suffix).map_err(|e| format!("no random bytes: {e}"))?;
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let path = std::env::temp_dir().join(format!("actor-demo-{suffix}"));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(PrivateDir(path))
    }

    /// Writes `key` to a new file readable by this user only, and returns its path.
    fn write_key(&self, key: &Secret) -> DemoResult<PathBuf> {
        let path = self.0.join("secret.key");
        key.write_new_file(&path)?;
        Ok(path)
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The serving child: its standard input (closing it stops the child) and its output
/// lines. Killed and reaped on drop if it was not stopped.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: crossbeam_channel::Receiver<String>,
}

impl Server {
    fn start(key_file: &Path) -> DemoResult<Server> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(SERVE, key_file)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no pipe from the child")?;
        let (tx, lines) = crossbeam_channel::unbounded();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Server {
            child,
            stdin,
            lines,
        })
    }

    fn next_line(&mut self) -> DemoResult<String> {
        self.lines
            .recv_timeout(WAIT)
            .map_err(|_| "the child did not start".into())
    }

    /// Closes the child's input, which makes it shut down, and waits for it to exit.
    fn stop(&mut self) -> DemoResult {
        drop(self.stdin.take());
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return match status.success() {
                    true => Ok(()),
                    false => Err(format!("the child failed: {status}").into()),
                };
            }
            if Instant::now() > deadline {
                return Err("the child did not exit".into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
