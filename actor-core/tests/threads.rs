//! After `System::shutdown`, no thread of the system remains.
//!
//! The only test in this binary, so no other test's threads change the count.

use actor_core::{Actor, Context, HandlerResult, Reply, System};

fn thread_count() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap()
}

struct Relay(Option<actor_core::ActorRef<Reply<()>>>);
impl Actor for Relay {
    type Msg = Reply<()>;
    fn handle(&mut self, reply: Reply<()>, _: &mut Context<Reply<()>>) -> HandlerResult {
        match &self.0 {
            Some(next) => {
                next.tell(reply)?;
            }
            None => reply.send(()),
        }
        Ok(())
    }
}

#[test]
fn shutdown_leaves_no_thread_behind() {
    let before = thread_count();
    let system = System::new();
    let mut next = None;
    for i in 0..50 {
        let relay = system
            .actor_from(Relay(next.take()))
            .name(format!("relay-{i}"))
            .spawn()
            .unwrap();
        next = Some(relay);
    }
    let head = next.unwrap();
    // The system's timer thread starts with its first timer and must be joined too.
    let ticks = actor_core::Inbox::new();
    system.send_interval(std::time::Duration::from_millis(1), ticks.actor_ref(), ());
    ticks
        .recv_timeout(std::time::Duration::from_secs(10))
        .unwrap();
    head.ask(|r| r, std::time::Duration::from_secs(10)).unwrap();
    // Some actors end before shutdown: their threads must be joined too.
    for i in (0..50).step_by(5) {
        let relay = system.lookup::<Reply<()>>(&format!("relay-{i}")).unwrap();
        relay.stop();
        relay.join().unwrap();
    }
    assert!(thread_count() >= before + 40);
    system.shutdown();
    assert_eq!(thread_count(), before);
}
