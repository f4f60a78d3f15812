//! A chat room across five processes: a room node publishes each line its members say on an
//! exchange; three client nodes and a numbered tap get every line through remote subscriptions.
//!
//! Run with `cargo run --release --example chat`. The program starts itself again, once per
//! role (`room`, `client NAME ADDR`, `tap ADDR`), with a random key in the children's
//! environment; it checks that every client got every line, each sender's in order.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use actor::net::{Node, NodeBuilder, RemoteMessage, Secret};
use actor::prelude::*;
use actor::{ErrorChain, Exchange, from_fn};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use serde::{Deserialize, Serialize};

/// The environment variable that hands the key to the children.
const KEY_VAR: &str = "ACTOR_CHAT_KEY";
const LOBBY: &str = "chat.room.lobby";
const CLIENTS: [&str; 3] = ["alice", "bob", "carol"];
const SAYINGS: [&str; 3] = ["hello, everyone", "how is it going?", "bye for now"];
/// The lines every client and the tap should get.
const EXPECTED: usize = CLIENTS.len() * SAYINGS.len();
/// How long a child waits for any one step; the parent waits twice as long for a child.
const WAIT: Duration = Duration::from_secs(10);

type ChatResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

/// A line said in the room: what crosses the wire to the subscribers.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ChatLine {
    from: String,
    text: String,
}

impl RemoteMessage for ChatLine {
    const NAME: &'static str = "example.chat.line";
}

/// What clients tell the room's actor.
#[derive(Serialize, Deserialize)]
enum RoomMsg {
    Join { name: String },
    Say { from: String, text: String },
}

impl RemoteMessage for RoomMsg {
    const NAME: &'static str = "example.chat.room";
}

/// Publishes what its members say.
struct Room {
    lobby: Exchange<ChatLine>,
    members: BTreeSet<String>,
}

impl Actor for Room {
    type Msg = RoomMsg;

    fn handle(&mut self, msg: RoomMsg, _ctx: &mut Context<RoomMsg>) -> HandlerResult {
        match msg {
            RoomMsg::Join { name } => {
                self.members.insert(name);
            }
            RoomMsg::Say { from, text } if self.members.contains(&from) => {
                self.lobby.publish(ChatLine { from, text });
            }
            RoomMsg::Say { from, .. } => eprintln!("room: {from} has not joined; line dropped"),
        }
        Ok(())
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args[..] {
        [] => chat(),
        ["room"] => room(),
        ["client", name, addr] => client(name, addr),
        ["tap", addr] => tap(addr),
        _ => Err("usage: chat (its children run as: room, client NAME ADDR, tap ADDR)".into()),
    };
    // A child's errors name its role: `chat bob: ...`.
    let who = match args[..] {
        [] => "chat".to_owned(),
        ["client", name, ..] => format!("chat {name}"),
        [role, ..] => format!("chat {role}"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{who}: {}", ErrorChain(&*error));
            ExitCode::FAILURE
        }
    }
}

/// The room: prints its address, then serves until its standard input closes.
fn room() -> ChatResult {
    let system = System::new();
    let node = builder("room")?
        .listen("127.0.0.1:0")
        .share::<ChatLine>()
        .system(&system)
        .build()?;
    let lobby = system.exchange::<ChatLine>(LOBBY)?;
    let members = BTreeSet::new();
    node.export("room", &system.spawn(Room { lobby, members })?)?;
    println!("{}", node.local_addr().ok_or("the room does not listen")?);
    std::io::copy(&mut std::io::stdin(), &mut std::io::sink())?;
    node.shutdown();
    system.shutdown();
    Ok(())
}

/// A client: subscribes and joins, says each line of its standard input, then prints the
/// lines it got (all of them, or those that came in time) and how many.
fn client(name: &str, addr: &str) -> ChatResult {
    let node = builder(name)?.build()?;
    let (tx, lines) = crossbeam_channel::unbounded();
    let subscription = node.subscribe::<ChatLine>(addr, "chat.>", tx)?;
    let room = node.lookup::<RoomMsg>(addr, "room")?;
    room.tell(RoomMsg::Join { name: name.into() })?;
    println!("ready");
    // Told after the join, on the same connection: handled after it.
    for text in std::io::stdin().lines() {
        let from = name.to_owned();
        room.tell(RoomMsg::Say { from, text: text? })?;
    }
    let received: Vec<ChatLine> = in_time(lines).collect();
    for line in &received {
        println!("got {}: {}", line.from, line.text);
    }
    println!("received {} of {EXPECTED}", received.len());
    drop(subscription);
    node.shutdown();
    Ok(())
}

/// The tap: prints the `Debug` text of each message on the room's `chat.>` exchanges,
/// numbered, until it has seen them all (or none came in time).
fn tap(addr: &str) -> ChatResult {
    let node = builder("tap")?.build()?;
    let (tx, texts) = crossbeam_channel::unbounded();
    let subscription = node.subscribe_text(
        addr,
        "chat.>",
        from_fn(move |exchange: &str, text: String| {
            let _ = tx.send(format!("{exchange}: {text}"));
        }),
    )?;
    println!("ready");
    for (n, text) in in_time(texts).enumerate() {
        println!("msg[{}]: {text}", n + 1);
    }
    drop(subscription);
    node.shutdown();
    Ok(())
}

/// A node builder with the key the parent gave.
fn builder(name: &str) -> ChatResult<NodeBuilder> {
    Ok(Node::builder(Secret::from_env(KEY_VAR)?).name(name))
}

/// What `rx` gets, up to [`EXPECTED`] items, in the next [`WAIT`].
fn in_time<T>(rx: Receiver<T>) -> impl Iterator<Item = T> {
    let deadline = Instant::now() + WAIT;
    std::iter::from_fn(move || rx.recv_deadline(deadline).ok()).take(EXPECTED)
}

/// The parent: starts the children, hands out the lines, and checks what arrived.
fn chat() -> ChatResult {
    let mut key = [0; 32];
    getrandom::fill(&mut key).map_err(|e| format!("no random bytes: {e}"))?;
    let key: String = key.iter().map(|b| format!("{b:02x}")).collect();

    let room = Role::start("room", &key, &["room"])?;
    let addr = room.expect_line()?;
    println!("room node listening on {addr}");
    let tap = Role::start("tap", &key, &["tap", &addr])?;
    let mut clients = Vec::new();
    for name in CLIENTS {
        clients.push(Role::start(name, &key, &["client", name, &addr])?);
    }
    for role in clients.iter().chain([&tap]) {
        if role.expect_line()? != "ready" {
            return Err(format!("{} did not get ready", role.name).into());
        }
    }
    println!(
        "{} joined; they and the tap subscribed to chat.>",
        CLIENTS.join(", ")
    );

    let mut said = BTreeSet::new();
    for client in &mut clients {
        let mut stdin = client.stdin.take().ok_or("the client's input is closed")?;
        for text in SAYINGS {
            writeln!(stdin, "{text}")?;
            said.insert((client.name.clone(), text));
        }
    }

    let mut seen = 0;
    for line in tap.finish()? {
        seen += usize::from(line.starts_with("msg["));
        println!("{line}");
    }
    let mut complete = 0;
    for client in clients {
        let name = client.name.clone();
        let output = client.finish()?;
        let summary = output.last().ok_or(format!("{name} printed nothing"))?;
        let got: Vec<&str> = output
            .iter()
            .filter_map(|l| l.strip_prefix("got "))
            .collect();
        // Every line said, each sender's in the order said, and nothing else.
        let in_order = CLIENTS.iter().all(|sender| {
            let texts = got
                .iter()
                .filter_map(|l| l.strip_prefix(sender)?.strip_prefix(": "));
            texts.eq(SAYINGS)
        });
        if in_order && got.len() == said.len() {
            complete += 1;
            println!("{name}: {summary}, each sender's lines in order");
        } else {
            println!("{name}: {summary}; lines missing, or out of order");
        }
    }
    room.finish()?;
    println!(
        "chat: {} lines delivered to {complete} clients, tap saw {seen} messages",
        said.len()
    );
    if complete < CLIENTS.len() {
        return Err("not every client received every line".into());
    }
    Ok(())
}

/// A child process in one role: its standard input (closing it tells the child to finish)
/// and its output lines. Killed and reaped on drop if it has not exited.
struct Role {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Role {
    fn start(name: &str, key: &str, args: &[&str]) -> ChatResult<Role> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(args)
            .env(KEY_VAR, key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        // Without its output (never the case), the child looks as if it exited at once.
        let (tx, lines) = crossbeam_channel::unbounded();
        if let Some(stdout) = child.stdout.take() {
            std::thread::spawn(move || {
                let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
                lines.try_for_each(|line| tx.send(line))
            });
        }
        let stdin = child.stdin.take();
        Ok(Role {
            name: name.to_owned(),
            child,
            stdin,
            lines,
        })
    }

    /// The child's next line, or `None` once it has closed its output.
    fn next_line(&self) -> ChatResult<Option<String>> {
        match self.lines.recv_timeout(2 * WAIT) {
            Ok(line) => Ok(Some(line)),
            Err(RecvTimeoutError::Disconnected) => Ok(None),
            Err(RecvTimeoutError::Timeout) => Err(format!("{} is silent", self.name).into()),
        }
    }

    fn expect_line(&self) -> ChatResult<String> {
        self.next_line()?
            .ok_or_else(|| format!("{} exited early", self.name).into())
    }

    /// Closes the child's input, returns the rest of its output, and reaps it.
    fn finish(mut self) -> ChatResult<Vec<String>> {
        drop(self.stdin.take());
        // The output closes as the child exits: the wait below is short.
        let mut output = Vec::new();
        while let Some(line) = self.next_line()? {
            output.push(line);
        }
        match self.child.wait()? {
            status if status.success() => Ok(output),
            status => Err(format!("{} failed: {status}", self.name).into()),
        }
    }
}

impl Drop for Role {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
