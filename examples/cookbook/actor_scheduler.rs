//! Recipe: many tiny actors on one scheduler thread, exchanging messages until a ring of them
//! has passed a token around.

use std::time::{Duration, Instant};

use actor::channel;
use actor::pool::Dispatcher;
use actor::prelude::*;

enum RingMsg {
    /// The next actor of the ring.
    Link(ActorRef<RingMsg>),
    /// The token, with the hops left.
    Token(u64),
}

struct Node {
    next: Option<ActorRef<RingMsg>>,
    done: channel::Sender<()>,
}

impl Actor for Node {
    type Msg = RingMsg;

    fn handle(&mut self, msg: RingMsg, _ctx: &mut Context<RingMsg>) -> HandlerResult {
        match msg {
            RingMsg::Link(next) => self.next = Some(next),
            RingMsg::Token(0) => self.done.send(())?,
            RingMsg::Token(left) => {
                let next = self.next.as_ref().ok_or("the ring is not closed")?;
                next.tell(RingMsg::Token(left - 1))?;
            }
        }
        Ok(())
    }
}

const ACTORS: u64 = 10_000;
const LAPS: u64 = 10;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let scheduler = Dispatcher::new(&system, 1)?;
    let (done, finished) = channel::bounded(1);
    let ring = (0..ACTORS)
        .map(|_| {
            scheduler.spawn(Node {
                next: None,
                done: done.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (n, node) in ring.iter().enumerate() {
        node.tell(RingMsg::Link(ring[(n + 1) % ring.len()].clone()))?;
    }

    let start = Instant::now();
    ring[0].tell(RingMsg::Token(ACTORS * LAPS))?;
    finished.recv_timeout(Duration::from_secs(30))?;
    let elapsed = start.elapsed();
    println!(
        "a ring of {ACTORS} actors on one thread passed the token {LAPS} times around \
         ({} hops) in {elapsed:.2?}",
        ACTORS * LAPS
    );
    scheduler.shutdown();
    system.shutdown();
    Ok(())
}
