//! A peer that holds the key floods a node with requests to its `echo` actor, and the node
//! pushes back: its memory stays bounded whatever the flooder does with the answers, and an
//! honest client on another connection keeps being answered.
//!
//! A `harness = false` test: this binary starts itself again as the server node (a child
//! process, so that its memory is the node's alone), then floods it in five ways — empty and
//! 1 KiB requests whose answers are never read, 1 KiB requests whose answers are read slowly,
//! empty requests whose answers are read at full speed, and 1 MiB requests never read — each
//! for a bounded time, sampling the child's resident memory.
//! The figures are printed (`docs/RELIABILITY.md` quotes them); the test asserts only what
//! must hold: the growth stays under 64 MiB and every honest request is answered.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actor_core::System;
use actor_core::codec::FrameReader;
use actor_net::services::{EchoMsg, ServiceSet};
use actor_net::session::{Opener, Sealer};
use actor_net::{Node, Secret};

const CHILD: &str = "ACTOR_NET_FLOOD_CHILD";
const KEY: &[u8] = b"the flood test shares this key: 0123456789";
const WAIT: Duration = Duration::from_secs(10);
/// How long each way of flooding goes on.
const FLOOD: Duration = Duration::from_secs(6);
/// The most the node's resident memory may grow during a flood.
const MAX_GROWTH: u64 = 64 << 20;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn secret() -> Result<Secret, actor_net::SecretError> {
    Secret::new(KEY.to_vec())
}

/// The child: a node with the default settings exporting the echo service, as `actor-node
/// serve` runs it; prints its address, serves until stdin closes.
fn serve() -> TestResult {
    let system = System::new();
    let services = ServiceSet::builder().build(&system)?;
    let node = Node::builder(secret()?)
        .name("flooded")
        .listen("127.0.0.1:0")
        .build()?;
    services.export(&node)?;
    println!("{}", node.local_addr().ok_or("not listening")?);
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line)? > 0 {}
    node.shutdown();
    services.shutdown();
    system.shutdown();
    Ok(())
}

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    fn start() -> Result<Server, Box<dyn std::error::Error>> {
        let mut child = Command::new(std::env::current_exe()?)
            .env(CHILD, "serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let Ok(line) = rx.recv_timeout(WAIT) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the child did not report its address".into());
        };
        let addr = line.trim().parse()?;
        Ok(Server { child, addr })
    }

    /// The child's resident memory, in bytes.
    fn rss(&self) -> Result<u64, Box<dyn std::error::Error>> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status
            .lines()
            .find(|line| line.starts_with("VmRSS:"))
            .ok_or("no VmRSS line")?;
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .ok_or("no VmRSS value")?
            .parse()?;
        Ok(kib * 1024)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the flooder does with the answers.
#[derive(Debug, Clone, Copy)]
enum Reading {
    Never,
    Slowly,
    FullSpeed,
}

/// bincode 2's variable-length integer (PROTOCOL.md).
fn varint(value: u64, out: &mut Vec<u8>) {
    match value {
        0..=250 => out.push(value as u8),
        251..=0xFFFF => {
            out.push(251);
            out.extend_from_slice(&(value as u16).to_le_bytes());
        }
        0x1_0000..=0xFFFF_FFFF => {
            out.push(252);
            out.extend_from_slice(&(value as u32).to_le_bytes());
        }
        _ => {
            out.push(253);
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
}

/// One message of a batch: kind, length, payload.
fn message(kind: u8, payload: &[u8], out: &mut Vec<u8>) {
    out.push(kind);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
}

/// A TELL to `actor` of `EchoMsg::Echo(bytes, reply)` with reply id `id`, by hand as
/// PROTOCOL.md lays it out.
fn echo_request(actor: u64, id: u64, bytes: &[u8], out: &mut Vec<u8>) {
    let mut payload = actor.to_be_bytes().to_vec();
    payload.extend_from_slice(&1_u16.to_be_bytes());
    payload.extend_from_slice(&id.to_be_bytes());
    payload.push(0); // variant 0, Echo
    varint(bytes.len() as u64, &mut payload);
    payload.extend_from_slice(bytes);
    varint(id, &mut payload);
    message(4, &payload, out);
}

/// A raw session to the node, and the id of its `echo` actor, found by a LOOKUP by hand.
fn flooder_session(
    addr: SocketAddr,
) -> Result<(TcpStream, Sealer, u64), Box<dyn std::error::Error>> {
    let mut stream = TcpStream::connect(addr)?;
    let config = actor_net::handshake::HandshakeConfig::builder()
        .name("flooder")
        .build()?;
    let done = actor_net::handshake::client_handshake(&mut stream, &secret()?, &config)?;
    let frames = actor_net::frame::session_frames();
    let (mut sealer, mut opener) = (done.sealer.with_frame_config(frames), done.opener);
    let mut lookup = 1_u64.to_be_bytes().to_vec();
    for text in ["echo", "actor.echo@1"] {
        lookup.extend_from_slice(&(text.len() as u16).to_be_bytes());
        lookup.extend_from_slice(text.as_bytes());
    }
    let mut body = Vec::new();
    message(1, &lookup, &mut body);
    let mut frame = Vec::new();
    sealer.seal(&body, &mut frame)?;
    stream.write_all(&frame)?;
    stream.set_read_timeout(Some(WAIT))?;
    let actor = read_lookup_ok(stream.try_clone()?, &mut opener)?;
    Ok((stream, sealer, actor))
}

fn read_lookup_ok(
    stream: TcpStream,
    opener: &mut Opener,
) -> Result<u64, Box<dyn std::error::Error>> {
    let config = actor_net::frame::session_frames();
    let mut frames = FrameReader::with_config(stream, config);
    loop {
        let payload = frames.read_frame()?.ok_or("closed before LOOKUP_OK")?;
        let mut body = opener.open(payload)?;
        while body.len() >= 5 {
            let kind = body[0];
            let len = u32::from_be_bytes(body[1..5].try_into()?) as usize;
            let payload = body.get(5..5 + len).ok_or("truncated message")?;
            if kind == 2 {
                return Ok(u64::from_be_bytes(payload[8..16].try_into()?));
            }
            if kind == 3 {
                return Err("the node has no echo actor".into());
            }
            body = &body[5 + len..];
        }
    }
}

/// Floods the node with echo requests of `size` bytes until `until`, doing `reading` with
/// the answers; returns how many requests went out.
fn flood(
    addr: SocketAddr,
    size: usize,
    reading: Reading,
    until: Instant,
) -> Result<u64, Box<dyn std::error::Error>> {
    let (mut stream, mut sealer, echo) = flooder_session(addr)?;
    let stop = Arc::new(AtomicBool::new(false));
    let reader: Option<JoinHandle<()>> = match reading {
        Reading::Never => None,
        Reading::Slowly | Reading::FullSpeed => {
            let mut answers = stream.try_clone()?;
            answers.set_read_timeout(Some(Duration::from_millis(100)))?;
            let stop = Arc::clone(&stop);
            Some(std::thread::spawn(move || {
                let mut buf = vec![0_u8; 64 * 1024];
                let chunk = match reading {
                    Reading::Slowly => 4 * 1024,
                    _ => buf.len(),
                };
                while !stop.load(Ordering::Relaxed) {
                    match answers.read(&mut buf[..chunk]) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(e)
                            if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                        Err(_) => return,
                    }
                    if matches!(reading, Reading::Slowly) {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            }))
        }
    };
    // A write that blocks because the node stopped reading gives up at `until`.
    stream.set_write_timeout(Some(Duration::from_millis(50)))?;
    let bytes = vec![b'x'; size];
    let per_frame = (60 * 1024 / (size + 40)).max(1);
    let (mut body, mut frame) = (Vec::new(), Vec::new());
    let mut sent = 0_u64;
    'flood: while Instant::now() < until {
        body.clear();
        for _ in 0..per_frame {
            sent += 1;
            echo_request(echo, sent + 1, &bytes, &mut body);
        }
        frame.clear();
        sealer
            .seal(&body, &mut frame)
            .map_err(|e| format!("{}", actor_core::ErrorChain(&e)))?;
        let mut left = &frame[..];
        while !left.is_empty() {
            match stream.write(left) {
                Ok(0) => break 'flood,
                Ok(n) => left = &left[n..],
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    if Instant::now() >= until {
                        break 'flood;
                    }
                }
                // The node closed the connection (a flooder that does not read is cut off).
                Err(_) => break 'flood,
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = stream.shutdown(std::net::Shutdown::Both);
    if let Some(reader) = reader {
        let _ = reader.join();
    }
    Ok(sent)
}

/// An honest client on a connection of its own: asks `echo` again and again until `stop`,
/// returning each round trip (or the first failure).
fn honest(addr: SocketAddr, stop: Arc<AtomicBool>) -> JoinHandle<Result<Vec<Duration>, String>> {
    std::thread::spawn(move || {
        let node = Node::builder(secret().map_err(|e| e.to_string())?)
            .name("honest")
            .build()
            .map_err(|e| e.to_string())?;
        let echo = node
            .lookup::<EchoMsg>(addr, "echo")
            .map_err(|e| e.to_string())?;
        let mut times = Vec::new();
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let answer = echo
                .ask(|reply| EchoMsg::Echo(b"honest".to_vec(), reply), WAIT)
                .map_err(|e| format!("an honest ask failed: {e}"))?;
            if answer != b"honest" {
                return Err("a wrong answer".into());
            }
            times.push(started.elapsed());
            std::thread::sleep(Duration::from_millis(5));
        }
        node.shutdown();
        Ok(times)
    })
}

fn flood_test(size: usize, reading: Reading) -> TestResult {
    let server = Server::start()?;
    let stop = Arc::new(AtomicBool::new(false));
    let honest_client = honest(server.addr, Arc::clone(&stop));
    let before = server.rss()?;
    let until = Instant::now() + FLOOD;
    let addr = server.addr;
    let flooder =
        std::thread::spawn(move || flood(addr, size, reading, until).map_err(|e| e.to_string()));
    let mut peak = before;
    while !flooder.is_finished() {
        peak = peak.max(server.rss()?);
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = flooder.join().map_err(|_| "the flooder panicked")??;
    peak = peak.max(server.rss()?);
    stop.store(true, Ordering::Relaxed);
    let mut times = honest_client
        .join()
        .map_err(|_| "the honest client panicked")??;
    times.sort();
    let p50 = times.get(times.len() / 2).copied().unwrap_or_default();
    let max = times.last().copied().unwrap_or_default();
    let growth = peak.saturating_sub(before);
    println!(
        "flood {size} B, reading {reading:?}: {sent} requests sent; node RSS {:.1} -> {:.1} MiB \
         (growth {:.1} MiB); honest asks: {} answered, p50 {p50:?}, max {max:?}",
        before as f64 / 1048576.0,
        peak as f64 / 1048576.0,
        growth as f64 / 1048576.0,
        times.len(),
    );
    if growth >= MAX_GROWTH {
        return Err(format!("the node grew by {growth} bytes").into());
    }
    if times.is_empty() {
        return Err("no honest ask was answered".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    if std::env::var_os(CHILD).is_some() {
        return match serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("child: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let tests: [(&str, usize, Reading); 5] = [
        (
            "a_flooder_of_empty_requests_that_never_reads",
            0,
            Reading::Never,
        ),
        (
            "a_flooder_of_1_kib_requests_that_never_reads",
            1024,
            Reading::Never,
        ),
        (
            "a_flooder_of_1_kib_requests_that_reads_slowly",
            1024,
            Reading::Slowly,
        ),
        ("a_flooder_that_reads_at_full_speed", 0, Reading::FullSpeed),
        // As large as a frame allows.
        (
            "a_flooder_of_1_mib_requests_that_never_reads",
            (1 << 20) - 1024,
            Reading::Never,
        ),
    ];
    let mut failed = 0;
    for (name, size, reading) in tests {
        match flood_test(size, reading) {
            Ok(()) => println!("test {name} ... ok"),
            Err(error) => {
                println!("test {name} ... FAILED: {error}");
                failed += 1;
            }
        }
    }
    println!("flood: {} passed; {failed} failed", tests.len() - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
