//! Monitors of remote actors: a `Down` with the actor's own reason when it stops, is killed
//! or fails (the node's loss is `tests/node.rs` and `tests/two_process.rs`). On 127.0.0.1.

use std::time::Duration;

use actor_core::{
    Actor, ActorRef, Context, Down, ExitReason, Failure, HandlerResult, Pending, Supervision,
    System,
};
use actor_net::{NetError, Node, RemoteMessage, Secret};
use serde::{Deserialize, Serialize};

const WAIT: Duration = Duration::from_secs(10);

fn secret() -> Secret {
    Secret::new(b"remote monitor tests share this key: 0123456789".to_vec()).unwrap()
}

#[derive(Serialize, Deserialize)]
enum Work {
    Nothing,
    Fail,
    Panic,
}

impl RemoteMessage for Work {
    const NAME: &'static str = "test.work";
}

struct Worker;

impl Actor for Worker {
    type Msg = Work;
    fn handle(&mut self, msg: Work, _: &mut Context<Work>) -> HandlerResult {
        match msg {
            Work::Nothing => Ok(()),
            Work::Fail => Err("the disk is full".into()),
            Work::Panic => panic!("out of cheese"),
        }
    }
}

/// A server exporting one worker as `worker`, and a client's ref to it.
struct Pair {
    system: System,
    server: Node,
    client: Node,
    local: ActorRef<Work>,
    remote: ActorRef<Work>,
}

impl Pair {
    fn new() -> Pair {
        let system = System::new();
        let server = Node::builder(secret())
            .name("server")
            .listen("127.0.0.1:0")
            .build()
            .unwrap();
        let local = system
            .actor_from(Worker)
            .supervision(Supervision::Stop)
            .spawn()
            .unwrap();
        server.export("worker", &local).unwrap();
        let client = Node::builder(secret()).name("client").build().unwrap();
        let remote = client
            .lookup::<Work>(server.local_addr().unwrap(), "worker")
            .unwrap();
        Pair {
            system,
            server,
            client,
            local,
            remote,
        }
    }

    /// A monitor of the remote actor. (Whether the actor ends before or after the peer has
    /// set the monitor up, the `Down` carries its reason.)
    fn monitor(&self) -> Pending<Down> {
        self.remote.monitor()
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        self.client.shutdown();
        self.server.shutdown();
        self.system.shutdown();
    }
}

fn down(pending: Pending<Down>) -> ExitReason {
    let mut pending = pending;
    pending.wait_timeout(WAIT).expect("a Down in time").reason
}

#[test]
fn a_remote_actor_that_stops_gives_down_stopped() {
    let pair = Pair::new();
    let watch = pair.monitor();
    pair.local.stop();
    assert!(matches!(down(watch), ExitReason::Stopped));
}

#[test]
fn a_remote_actor_that_is_killed_gives_down_killed() {
    let pair = Pair::new();
    let watch = pair.monitor();
    pair.local.kill();
    assert!(matches!(down(watch), ExitReason::Killed));
}

#[test]
fn a_remote_actor_that_fails_gives_down_with_its_error() {
    let pair = Pair::new();
    let watch = pair.monitor();
    pair.remote.tell(Work::Fail).unwrap();
    match down(watch) {
        ExitReason::Failed(Failure::Error(error)) => {
            let error = error.downcast_ref::<NetError>().expect("a NetError");
            assert!(
                matches!(error, NetError::RemoteFailure(text) if text.contains("the disk is full")),
                "{error:?}"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_remote_actor_that_panics_gives_down_with_the_panic_message() {
    let pair = Pair::new();
    let watch = pair.monitor();
    pair.remote.tell(Work::Panic).unwrap();
    match down(watch) {
        ExitReason::Failed(Failure::Panic(message)) => assert_eq!(message, "out of cheese"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_monitor_made_after_the_remote_actor_ended_is_told_at_once() {
    let pair = Pair::new();
    pair.local.kill();
    pair.local.join().unwrap();
    assert!(matches!(down(pair.remote.monitor()), ExitReason::Killed));
}

#[test]
fn several_monitors_of_one_remote_actor_are_all_told() {
    let pair = Pair::new();
    let watches: Vec<_> = (0..5).map(|_| pair.monitor()).collect();
    pair.local.stop();
    for watch in watches {
        assert!(matches!(down(watch), ExitReason::Stopped));
    }
}

#[test]
fn a_monitor_of_an_actor_no_longer_exported_is_told_so() {
    let pair = Pair::new();
    assert!(pair.server.unexport("worker"));
    match down(pair.monitor()) {
        ExitReason::Failed(Failure::Error(error)) => assert!(
            matches!(error.downcast_ref::<NetError>(), Some(NetError::Unexported)),
            "{error:?}"
        ),
        other => panic!("unexpected {other:?}"),
    }
}
