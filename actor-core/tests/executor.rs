//! Actors on an `Executor`: submitted only when they have something to do, once at a time,
//! and the executor told when they end. The executor here is a queue the test drains by hand.

use std::sync::Arc;
use std::time::Duration;

use actor_core::{ActorId, ActorTask, Executor, ExitReason, Supervision, System};
use parking_lot::Mutex;

/// Keeps what it is handed, and what it is told.
#[derive(Default)]
struct Queue {
    queued: Mutex<Vec<ActorTask>>,
    added: Mutex<Vec<ActorId>>,
    ended: Mutex<Vec<ActorId>>,
    /// Refuses every submission, as an executor that has shut down.
    refusing: bool,
}

impl Queue {
    fn refusing() -> Queue {
        Queue {
            refusing: true,
            ..Queue::default()
        }
    }

    fn queued(&self) -> usize {
        self.queued.lock().len()
    }

    /// Runs what is queued now (not what these runs queue), `batch` messages each.
    fn run_queued(&self, batch: usize) {
        let queued = std::mem::take(&mut *self.queued.lock());
        for task in queued {
            task.run(batch);
        }
    }

    /// Runs until nothing is queued.
    fn drain(&self) {
        while self.queued() > 0 {
            self.run_queued(64);
        }
    }
}

impl Executor for Queue {
    fn added(&self, task: &ActorTask) {
        self.added.lock().push(task.id());
    }

    fn submit(&self, task: ActorTask) -> Result<(), ActorTask> {
        if self.refusing {
            return Err(task);
        }
        self.queued.lock().push(task);
        Ok(())
    }

    fn ended(&self, actor: ActorId) {
        self.ended.lock().push(actor);
    }
}

mod common;
use common::{Msg, Summer};

const WAIT: Duration = Duration::from_secs(5);

#[test]
fn an_actor_is_submitted_once_however_many_messages_arrive() {
    let queue = Arc::new(Queue::default());
    let system = System::new();
    let summer = system.actor(Summer::default).spawn_on(&queue).unwrap();
    assert_eq!(queue.queued(), 1, "the first run starts the actor");
    queue.run_queued(64);
    assert_eq!(queue.queued(), 0, "idle: nothing to do");

    for n in 1..=3 {
        summer.tell(Msg::Add(n)).unwrap();
    }
    assert_eq!(queue.queued(), 1, "submitted by the first message only");
    let mut sum = summer.request(Msg::Sum).unwrap();
    queue.run_queued(64);
    assert_eq!(sum.wait_timeout(WAIT), Ok(6));
    assert_eq!(queue.queued(), 0);
    assert_eq!(*queue.added.lock(), [summer.id()]);
    assert!(queue.ended.lock().is_empty());
}

#[test]
fn a_run_that_uses_up_its_batch_submits_the_actor_again() {
    let queue = Arc::new(Queue::default());
    let system = System::new();
    let summer = system.actor(Summer::default).spawn_on(&queue).unwrap();
    for n in 1..=4 {
        summer.tell(Msg::Add(n)).unwrap();
    }
    let mut sum = summer.request(Msg::Sum).unwrap();
    // The first run starts the actor and handles two messages, the next two each.
    queue.run_queued(2);
    assert_eq!(queue.queued(), 1);
    queue.run_queued(2);
    assert_eq!(queue.queued(), 1);
    queue.run_queued(2);
    assert_eq!(queue.queued(), 0, "the last message was handled: idle");
    assert_eq!(sum.wait_timeout(WAIT), Ok(10));
}

#[test]
fn the_executor_is_told_once_when_an_actor_ends() {
    let queue = Arc::new(Queue::default());
    let system = System::new();
    let summer = system.actor(Summer::default).spawn_on(&queue).unwrap();
    queue.drain();
    summer.tell(Msg::Add(1)).unwrap();
    summer.stop();
    summer.stop();
    assert_eq!(
        queue.queued(),
        1,
        "a stop of a busy actor submits nothing more"
    );
    let sum = summer.request(Msg::Sum);
    assert!(sum.is_err(), "a stopping actor takes no more messages");
    queue.drain();
    assert!(matches!(summer.join_timeout(WAIT), Ok(ExitReason::Stopped)));
    assert_eq!(*queue.ended.lock(), [summer.id()]);
    assert_eq!(system.actor_count(), 0);
}

#[test]
fn a_stop_submits_an_idle_actor_which_then_ends() {
    let queue = Arc::new(Queue::default());
    let system = System::new();
    let summer = system.actor(Summer::default).spawn_on(&queue).unwrap();
    queue.drain();
    summer.stop();
    assert_eq!(queue.queued(), 1, "asked to stop: it has something to do");
    queue.drain();
    assert!(!summer.is_alive());
    assert_eq!(*queue.ended.lock(), [summer.id()]);
}

#[test]
fn an_executor_that_refuses_the_actor_ends_it_as_killed() {
    let queue = Arc::new(Queue::refusing());
    let system = System::new();
    let summer = system.actor(Summer::default).spawn_on(&queue).unwrap();
    assert!(matches!(summer.join_timeout(WAIT), Ok(ExitReason::Killed)));
    assert_eq!(*queue.added.lock(), [summer.id()]);
    assert_eq!(*queue.ended.lock(), [summer.id()]);
    assert_eq!(system.actor_count(), 0);
}

#[test]
fn an_actor_whose_executor_is_gone_ends_when_it_is_next_submitted() {
    let queue = Arc::new(Queue::default());
    let system = System::new();
    let summer = system.actor(Summer::default).spawn_on(&queue).unwrap();
    queue.drain();
    drop(queue);
    assert!(summer.is_alive(), "an idle actor needs no executor");
    summer.tell(Msg::Add(1)).unwrap();
    assert!(matches!(summer.join_timeout(WAIT), Ok(ExitReason::Killed)));
    assert_eq!(system.actor_count(), 0);
}

#[test]
fn a_panicking_actor_on_an_executor_is_restarted_by_its_supervision() {
    let queue = Arc::new(Queue::default());
    let system = System::new();
    let summer = system
        .actor(Summer::default)
        .supervision(Supervision::restart(3, Duration::from_secs(60)))
        .spawn_on(&queue)
        .unwrap();
    summer.tell(Msg::Add(5)).unwrap();
    summer.tell(Msg::Panic).unwrap();
    summer.tell(Msg::Add(2)).unwrap();
    let mut sum = summer.request(Msg::Sum).unwrap();
    queue.drain();
    assert_eq!(
        sum.wait_timeout(WAIT),
        Ok(2),
        "a fresh instance after the panic"
    );
    assert!(summer.is_alive());
    assert!(queue.ended.lock().is_empty());
}

#[test]
fn an_actor_built_from_an_instance_runs_on_an_executor_and_cannot_restart() {
    let queue = Arc::new(Queue::default());
    let system = System::new();
    let summer = system.actor_from(Summer(40)).spawn_on(&queue).unwrap();
    summer.tell(Msg::Add(2)).unwrap();
    let mut sum = summer.request(Msg::Sum).unwrap();
    queue.drain();
    assert_eq!(sum.wait_timeout(WAIT), Ok(42));
    let restarting = system
        .actor_from(Summer(0))
        .supervision(Supervision::restart(1, Duration::from_secs(1)))
        .spawn_on(&queue);
    assert!(restarting.is_err(), "a restart needs a factory");
    assert_eq!(queue.queued(), 0);
}

#[test]
fn ending_a_queued_task_kills_its_actor_without_running_its_messages() {
    let queue = Arc::new(Queue::default());
    let system = System::new();
    let summer = system.actor(Summer::default).spawn_on(&queue).unwrap();
    let mut sum = summer.request(Msg::Sum).unwrap();
    for task in std::mem::take(&mut *queue.queued.lock()) {
        task.end();
    }
    assert!(matches!(summer.join_timeout(WAIT), Ok(ExitReason::Killed)));
    assert!(sum.wait_timeout(WAIT).is_err(), "its queued request fails");
    assert_eq!(*queue.ended.lock(), [summer.id()]);
}
