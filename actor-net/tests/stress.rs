//! A million tells over one connection, from eight threads: exact counts, and each sender's
//! messages in order.

use std::time::Duration;

use actor_core::{Actor, Context, HandlerResult, Reply, System};
use actor_net::{Node, RemoteMessage, Secret};
use serde::{Deserialize, Serialize};

const SENDERS: usize = 8;
const PER_SENDER: u64 = 125_000;

#[derive(Serialize, Deserialize)]
enum Msg {
    Seq(usize, u64),
    Report(Reply<(u64, bool)>),
}

impl RemoteMessage for Msg {
    const NAME: &'static str = "test.stress";
}

struct Checker {
    next: Vec<u64>,
    count: u64,
    in_order: bool,
}

impl Actor for Checker {
    type Msg = Msg;
    fn handle(&mut self, msg: Msg, _: &mut Context<Msg>) -> HandlerResult {
        match msg {
            Msg::Seq(sender, n) => {
                if self.next.get(sender) != Some(&n) {
                    self.in_order = false;
                } else {
                    self.next[sender] = n + 1;
                }
                self.count += 1;
            }
            Msg::Report(reply) => reply.send((self.count, self.in_order)),
        }
        Ok(())
    }
}

#[test]
fn a_million_tells_over_one_connection_arrive_exactly_and_in_order() {
    let key = || Secret::new(b"stress tests share this key: 0123456789".to_vec()).unwrap();
    let system = System::new();
    let server = Node::builder(key()).listen("127.0.0.1:0").build().unwrap();
    let checker = system
        .spawn(Checker {
            next: vec![0; SENDERS],
            count: 0,
            in_order: true,
        })
        .unwrap();
    server.export("checker", &checker).unwrap();
    let client = Node::builder(key()).build().unwrap();
    let remote = client
        .lookup::<Msg>(server.local_addr().unwrap(), "checker")
        .unwrap();
    let threads: Vec<_> = (0..SENDERS)
        .map(|s| {
            let remote = remote.clone();
            std::thread::spawn(move || {
                for n in 0..PER_SENDER {
                    remote.tell(Msg::Seq(s, n)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (count, in_order) = remote.ask(Msg::Report, Duration::from_secs(120)).unwrap();
    assert_eq!(count, SENDERS as u64 * PER_SENDER);
    assert!(in_order, "each sender's messages arrive in order");
    assert_eq!(
        client.connection_count(),
        1,
        "one connection carried it all"
    );
    client.shutdown();
    server.shutdown();
    system.shutdown();
}
