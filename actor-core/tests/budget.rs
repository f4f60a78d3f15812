//! Budgets and tickets: whatever becomes of a ticketed message, its ticket goes back once.

use std::time::Duration;

use actor_core::{
    Actor, Budget, Context, HandlerResult, Mailbox, Overflow, SendError, SendWait, System,
};
use crossbeam_channel::{Receiver, Sender};

/// Blocks in its first message until released, so that later messages stay queued.
struct Gate {
    entered: Sender<()>,
    release: Receiver<()>,
}

impl Actor for Gate {
    type Msg = u32;
    fn handle(&mut self, _: u32, _: &mut Context<u32>) -> HandlerResult {
        let _ = self.entered.send(());
        let _ = self.release.recv_timeout(Duration::from_secs(10));
        Ok(())
    }
}

const WAIT: Duration = Duration::from_secs(10);

fn gate(
    system: &System,
    mailbox: Mailbox,
) -> (actor_core::ActorRef<u32>, Receiver<()>, Sender<()>) {
    let (entered_tx, entered) = crossbeam_channel::unbounded();
    let (release, release_rx) = crossbeam_channel::unbounded();
    let actor = system
        .actor_from(Gate {
            entered: entered_tx,
            release: release_rx,
        })
        .mailbox(mailbox)
        .spawn()
        .expect("spawns");
    (actor, entered, release)
}

#[test]
fn a_ticket_is_held_while_queued_and_handled_then_given_back() {
    let system = System::new();
    let (actor, entered, release) = gate(&system, Mailbox::Unbounded);
    let budget = Budget::new(10, 1000);
    for n in 0..3 {
        let ticket = budget.try_take(100).expect("room");
        actor
            .tell_ticketed(n, ticket, SendWait::Forever)
            .expect("queued");
    }
    entered
        .recv_timeout(WAIT)
        .expect("the first message is being handled");
    assert_eq!(budget.in_use(), (3, 300), "one being handled, two queued");
    release.send(()).expect("released");
    entered.recv_timeout(WAIT).expect("the second");
    assert_eq!(budget.in_use(), (2, 200));
    release.send(()).expect("released");
    release.send(()).expect("released");
    actor.stop();
    actor.join().expect("ends");
    assert_eq!(budget.in_use(), (0, 0));
    system.shutdown();
}

#[test]
fn a_killed_actor_gives_back_the_tickets_of_what_it_discards() {
    let system = System::new();
    let (actor, entered, release) = gate(&system, Mailbox::Unbounded);
    let budget = Budget::new(10, 1000);
    for n in 0..4 {
        let ticket = budget.try_take(10).expect("room");
        actor
            .tell_ticketed(n, ticket, SendWait::Forever)
            .expect("queued");
    }
    entered
        .recv_timeout(WAIT)
        .expect("the first message is being handled");
    actor.kill();
    release.send(()).expect("released");
    actor.join().expect("ends");
    assert_eq!(budget.in_use(), (0, 0));
    system.shutdown();
}

#[test]
fn a_refused_message_gives_its_ticket_back_and_comes_back_itself() {
    let system = System::new();
    let (actor, entered, release) = gate(&system, Mailbox::bounded(1, Overflow::Fail));
    let budget = Budget::new(10, 1000);
    actor
        .tell_ticketed(1, budget.try_take(1).expect("room"), SendWait::Never)
        .expect("queued");
    entered.recv_timeout(WAIT).expect("being handled");
    actor
        .tell_ticketed(2, budget.try_take(1).expect("room"), SendWait::Never)
        .expect("fills the mailbox");
    let refused = actor.tell_ticketed(3, budget.try_take(1).expect("room"), SendWait::Never);
    assert!(matches!(refused, Err(SendError::Full(3))), "{refused:?}");
    assert_eq!(budget.in_use(), (2, 2));
    release.send(()).expect("released");
    release.send(()).expect("released");
    actor.stop();
    actor.join().expect("ends");
    let late = actor.tell_ticketed(4, budget.try_take(1).expect("room"), SendWait::Never);
    assert!(matches!(late, Err(SendError::Closed(4))), "{late:?}");
    assert_eq!(budget.in_use(), (0, 0));
    system.shutdown();
}
