//! The umbrella crate: a program written against `actor::prelude` alone.

use std::time::Duration;

use actor::prelude::*;

/// Doubles numbers and forwards them to the next stage.
struct Doubler {
    next: ActorRef<Stage>,
}

enum Stage {
    Value(u64),
    Total(Reply<u64>),
}

#[derive(Default)]
struct Sink {
    total: u64,
}

impl Actor for Doubler {
    type Msg = u64;
    fn handle(&mut self, n: u64, _: &mut Context<u64>) -> HandlerResult {
        self.next.tell(Stage::Value(n * 2))?;
        Ok(())
    }
}

impl Actor for Sink {
    type Msg = Stage;
    fn handle(&mut self, msg: Stage, _: &mut Context<Stage>) -> HandlerResult {
        match msg {
            Stage::Value(v) => self.total += v,
            Stage::Total(reply) => reply.send(self.total),
        }
        Ok(())
    }
}

#[test]
fn a_pipeline_through_the_prelude() {
    let system = System::new();
    let sink = system.actor(Sink::default).name("sink").spawn().unwrap();
    let doubler = system.spawn(Doubler { next: sink.clone() }).unwrap();
    for n in 1..=100 {
        doubler.tell(n).unwrap();
    }
    // Stopping the doubler gracefully forwards everything it holds before it ends.
    doubler.stop();
    doubler.join().unwrap();
    let total = system
        .lookup::<Stage>("sink")
        .unwrap()
        .ask(Stage::Total, Duration::from_secs(10))
        .unwrap();
    assert_eq!(total, 2 * 5050);
    system.shutdown();
}
