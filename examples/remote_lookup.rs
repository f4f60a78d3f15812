//! Two programs that share a message type through a common module, and find each other's
//! actors by its declared name.
//!
//! The message type, `CalcMsg`, lives in `examples/shared/calc.rs` with its
//! `impl RemoteMessage` (`example.calc`, version 1). Lookups compare that declared identity,
//! so the server and the client could be built from different sources: what they must agree
//! on is the name, the version and the layout.
//!
//! Make a key file, then run the server, which exports a calculator and prints the address it
//! listens on:
//!
//! ```text
//! cargo run --release -p actor-node -- keygen example.key
//! ACTOR_SECRET_FILE=example.key cargo run --release --example remote_lookup -- server 127.0.0.1:0
//! ```
//!
//! then, in another terminal, the client, which looks the calculator up, tells it numbers to
//! add, asks for a product and the total, and checks the answers:
//!
//! ```text
//! ACTOR_SECRET_FILE=example.key cargo run --release --example remote_lookup -- client ADDR
//! ```
//!
//! The key comes from the file named by `ACTOR_SECRET_FILE`, or else from the value of
//! `ACTOR_SECRET` (such as `export ACTOR_SECRET=$(head -c 32 /dev/urandom | base64)`). It must
//! be random: a weak key (a password) is refused.

#[path = "shared/calc.rs"]
mod calc;
#[path = "shared/key.rs"]
mod key;

use std::process::ExitCode;
use std::time::Duration;

use actor::ErrorChain;
use actor::net::Node;
use actor::prelude::*;
use calc::CalcMsg;
use key::secret;

/// Keeps a running total; multiplies on request.
#[derive(Default)]
struct Calculator {
    total: i64,
}

impl Actor for Calculator {
    type Msg = CalcMsg;

    fn handle(&mut self, msg: CalcMsg, _ctx: &mut Context<CalcMsg>) -> HandlerResult {
        match msg {
            CalcMsg::Add(n) => self.total = self.total.wrapping_add(n),
            CalcMsg::Mul(a, b, reply) => reply.send(a.wrapping_mul(b)),
            CalcMsg::Total(reply) => reply.send(self.total),
        }
        Ok(())
    }
}

fn server(listen: &str) -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let node = Node::builder(secret()?)
        .name("calc-server")
        .listen(listen)
        .build()?;
    node.export(calc::EXPORT, &system.spawn(Calculator::default())?)?;
    let addr = node.local_addr().ok_or("the node is not listening")?;
    // The first line of output is the address, for scripts that start the client.
    println!("{addr}");
    println!("serving the calculator; stop with Ctrl-C");
    loop {
        std::thread::park();
    }
}

fn client(addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    let wait = Duration::from_secs(10);
    let node = Node::builder(secret()?).name("calc-client").build()?;
    let calc = node.lookup::<CalcMsg>(addr, calc::EXPORT)?;
    let before = calc.ask(CalcMsg::Total, wait)?;
    for n in 1..=10 {
        calc.tell(CalcMsg::Add(n))?;
    }
    let product = calc.ask(|reply| CalcMsg::Mul(6, 7, reply), wait)?;
    // Asked after the tells from the same sender, so answered after they are added.
    let total = calc.ask(CalcMsg::Total, wait)?;
    println!("6 * 7 = {product}; the total grew by {}", total - before);
    node.shutdown();
    if product != 42 || total - before != 55 {
        return Err("the calculator answered wrongly".into());
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["server", listen] => server(listen),
        ["client", addr] => client(addr),
        _ => Err("usage: remote_lookup server LISTEN_ADDR | remote_lookup client ADDR".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("remote_lookup: {}", ErrorChain(&*error));
            ExitCode::FAILURE
        }
    }
}
