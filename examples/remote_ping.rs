//! Remote actors across two processes, over authenticated TCP.
//!
//! Make a key file, then run the server, which exports a counter actor and prints the address
//! it listens on:
//!
//! ```text
//! cargo run --release -p actor-node -- keygen example.key
//! ACTOR_SECRET_FILE=example.key cargo run --release --example remote_ping -- server 127.0.0.1:0
//! ```
//!
//! then, in another terminal, the client, which looks the counter up, tells it 100,000
//! messages, asks for the count, and prints the count and the throughput:
//!
//! ```text
//! ACTOR_SECRET_FILE=example.key cargo run --release --example remote_ping -- client ADDR
//! ```
//!
//! The key comes from the file named by `ACTOR_SECRET_FILE`, or else from the value of
//! `ACTOR_SECRET` (such as `export ACTOR_SECRET=$(head -c 32 /dev/urandom | base64)`). It must
//! be random: a weak key (a password) is refused. With a wrong key, the client prints an
//! authentication error and exits non-zero.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use actor::ErrorChain;
use actor::net::{Node, RemoteMessage};
use actor::prelude::*;
use key::secret;
use serde::{Deserialize, Serialize};

#[path = "shared/key.rs"]
mod key;

#[derive(Serialize, Deserialize)]
enum CounterMsg {
    Add(u64),
    Count(Reply<(u64, u64)>),
}

/// Counts messages and sums their values.
// The name both sides compare at lookup: the client and the server may be separate builds.
impl RemoteMessage for CounterMsg {
    const NAME: &'static str = "remote-ping.counter";
}

#[derive(Default)]
struct Counter {
    count: u64,
    sum: u64,
}

impl Actor for Counter {
    type Msg = CounterMsg;

    fn handle(&mut self, msg: CounterMsg, _ctx: &mut Context<CounterMsg>) -> HandlerResult {
        match msg {
            CounterMsg::Add(n) => {
                self.count += 1;
                self.sum += n;
            }
            CounterMsg::Count(reply) => reply.send((self.count, self.sum)),
        }
        Ok(())
    }
}

fn server(listen: &str) -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let node = Node::builder(secret()?)
        .name("ping-server")
        .listen(listen)
        .build()?;
    node.export("counter", &system.spawn(Counter::default())?)?;
    let addr = node.local_addr().ok_or("the node is not listening")?;
    // The first line of output is the address, for scripts that start the client.
    println!("{addr}");
    println!("serving the counter; stop with Ctrl-C");
    loop {
        std::thread::park();
    }
}

fn client(addr: &str, messages: u64) -> Result<(), Box<dyn std::error::Error>> {
    let node = Node::builder(secret()?).name("ping-client").build()?;
    let counter = node.lookup::<CounterMsg>(addr, "counter")?;
    let (before, _) = counter.ask(CounterMsg::Count, Duration::from_secs(10))?;
    let start = Instant::now();
    for n in 0..messages {
        counter.tell(CounterMsg::Add(n))?;
    }
    let (count, sum) = counter.ask(CounterMsg::Count, Duration::from_secs(60))?;
    let elapsed = start.elapsed();
    let received = count - before;
    println!("told {messages} messages; the counter has {received} more");
    println!(
        "{:.0} messages/s ({elapsed:.2?} including the final ask)",
        messages as f64 / elapsed.as_secs_f64()
    );
    node.shutdown();
    if received != messages || (before == 0 && sum != messages * (messages - 1) / 2) {
        return Err("messages were lost".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["server", listen] => server(listen),
        ["client", addr] => client(addr, 100_000),
        ["client", addr, count] => match count.parse() {
            Ok(count) => client(addr, count),
            Err(_) => Err(format!("not a count: {count}").into()),
        },
        _ => Err("usage: remote_ping server LISTEN_ADDR | remote_ping client ADDR [COUNT]".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("remote_ping: {}", ErrorChain(&*error));
            ExitCode::FAILURE
        }
    }
}
