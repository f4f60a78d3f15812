//! [`System`]: owns every actor it spawned, names them, and shuts them down.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use parking_lot::Mutex;

use crate::actor::Actor;
use crate::actor_id::ActorId;
use crate::actor_ref::ActorRef;
use crate::builder::ActorBuilder;
use crate::error::SendError;
use crate::error::{ExchangeError, LookupError, SpawnError};
use crate::event::{self, Events, SystemEvent};
use crate::exchange::{Detach, Exchange, Registry, Subscriber, SubscriptionGuard, SubscriptionId};
use crate::local::AnyLocal;
use crate::runner::Source;
use crate::timer::{TimerAction, TimerHandle, Timers};

/// The home of a set of actors: spawns them, keeps the registry of names, and shuts them
/// all down.
///
/// A `System` is a cheap, clonable handle; every clone refers to the same actors. Actors
/// live until they are stopped or the system is shut down: dropping the handles does not
/// stop them, so end a program with [`shutdown`](System::shutdown).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Actor, Context, HandlerResult, Reply, System};
///
/// struct Greeter;
/// impl Actor for Greeter {
///     type Msg = (String, Reply<String>);
///     fn handle(&mut self, (who, reply): Self::Msg, _: &mut Context<Self::Msg>) -> HandlerResult {
///         reply.send(format!("Hello, {who}!"));
///         Ok(())
///     }
/// }
///
/// let system = System::new();
/// system.actor(|| Greeter).name("greeter").spawn()?;
///
/// let greeter = system.lookup::<(String, Reply<String>)>("greeter")?;
/// let greeting = greeter.ask(|reply| ("World".to_string(), reply), Duration::from_secs(1))?;
/// assert_eq!(greeting, "Hello, World!");
///
/// system.shutdown();
/// assert_eq!(system.actor_count(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct System {
    inner: Arc<Inner>,
}

struct Inner {
    actors: Mutex<Actors>,
    registry: Mutex<HashMap<Arc<str>, Registered>>,
    shutting_down: AtomicBool,
    /// The one timer thread of this system, started by its first timer.
    timers: Timers,
    exchanges: Arc<Registry>,
    events: Arc<Events>,
}

#[derive(Default)]
struct Actors {
    live: HashMap<ActorId, Arc<dyn AnyLocal>>,
    /// Threads of live thread-backed actors (actors run by an executor have none).
    threads: HashMap<ActorId, JoinHandle<()>>,
    /// Threads of ended actors, joined by the next spawn or by shutdown.
    ended: Vec<JoinHandle<()>>,
}

struct Registered {
    id: ActorId,
    actor_ref: Box<dyn Any + Send + Sync>,
    msg_type: &'static str,
}

impl System {
    /// Creates an empty system.
    ///
    /// # Examples
    ///
    /// ```
    /// let system = actor_core::System::new();
    /// assert_eq!(system.actor_count(), 0);
    /// ```
    #[must_use]
    pub fn new() -> System {
        let exchanges = Arc::new(Registry::default());
        // The system exchanges do not report about themselves (no `Events` behind them).
        let system_exchange = |name: &str| {
            exchanges
                .exchange::<SystemEvent>(name, Weak::new())
                .map(Exchange::from_shared)
                .expect("invariant: system exchange names are valid and created once")
        };
        let events = Arc::new(Events {
            lifecycle: system_exchange(event::LIFECYCLE),
            dead_letters: system_exchange(event::DEAD_LETTERS),
            dropped: system_exchange(event::DROPPED),
            subscribers: system_exchange(event::SUBSCRIBERS),
            warnings: system_exchange(event::WARNINGS),
        });
        System {
            inner: Arc::new(Inner {
                actors: Mutex::new(Actors::default()),
                registry: Mutex::new(HashMap::new()),
                shutting_down: AtomicBool::new(false),
                timers: Timers::new(),
                exchanges,
                events,
            }),
        }
    }

    pub(crate) fn events(&self) -> Weak<Events> {
        Arc::downgrade(&self.inner.events)
    }

    /// The exchange named `name` carrying messages of type `M`, created on first use; the
    /// same name always gives the same exchange. Pattern subscriptions of type `M` whose
    /// pattern matches the name are attached to it when it is created.
    ///
    /// The system's own events are published on `system.lifecycle`, `system.dead_letters`,
    /// `system.dropped`, `system.subscribers` and `system.warnings`, all of type [`SystemEvent`].
    ///
    /// # Errors
    ///
    /// [`ExchangeError::InvalidName`] for a name that is not dot-separated non-empty
    /// segments; [`ExchangeError::WrongType`] when the exchange exists with another type.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{ExchangeError, System};
    ///
    /// let system = System::new();
    /// let orders = system.exchange::<String>("orders")?;
    /// assert_eq!(system.exchange::<String>("orders")?.name(), orders.name());
    /// assert!(matches!(system.exchange::<u64>("orders"), Err(ExchangeError::WrongType { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn exchange<M: Clone + Send + 'static>(
        &self,
        name: &str,
    ) -> Result<Exchange<M>, ExchangeError> {
        self.inner
            .exchanges
            .exchange(name, self.events())
            .map(Exchange::from_shared)
    }

    /// Attaches `subscriber` to every exchange of type `M` whose name matches `pattern`:
    /// those that exist now and those created later. In a pattern, `*` stands for exactly
    /// one segment and a final `>` for one or more (`orders.*` matches `orders.eu`;
    /// `orders.>` also matches `orders.eu.paris`). Exchanges of other types are skipped.
    ///
    /// # Errors
    ///
    /// [`ExchangeError::InvalidPattern`] for a malformed pattern.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{System, tap::Recorder};
    ///
    /// let system = System::new();
    /// let recorder = Recorder::new(10);
    /// let id = system.attach_pattern::<&str>("orders.*", recorder.clone())?;
    /// system.exchange::<&str>("orders.eu")?.publish("created after the pattern");
    /// system.exchange::<&str>("orders.eu.paris")?.publish("two segments: not matched");
    /// assert_eq!(recorder.messages(), ["created after the pattern"]);
    /// assert!(system.detach_pattern(id));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn attach_pattern<M: Clone + Send + 'static>(
        &self,
        pattern: &str,
        subscriber: impl Subscriber<M>,
    ) -> Result<SubscriptionId, ExchangeError> {
        self.inner
            .exchanges
            .attach_pattern(pattern, Arc::new(subscriber))
    }

    /// Detaches a pattern subscription from every exchange; returns `false` if it was not
    /// attached (any more).
    ///
    /// # Examples
    ///
    /// See [`attach_pattern`](System::attach_pattern).
    #[must_use]
    pub fn detach_pattern(&self, id: SubscriptionId) -> bool {
        self.inner.exchanges.detach(id)
    }

    /// Like [`attach_pattern`](System::attach_pattern), for as long as the returned guard
    /// lives.
    ///
    /// # Errors
    ///
    /// As [`attach_pattern`](System::attach_pattern).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{System, SystemEvent, tap::Counter};
    ///
    /// let system = System::new();
    /// let counter = Counter::new();
    /// let guard = system.subscribe_pattern::<SystemEvent>("system.>", counter.clone())?;
    /// drop(guard);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe_pattern<M: Clone + Send + 'static>(
        &self,
        pattern: &str,
        subscriber: impl Subscriber<M>,
    ) -> Result<SubscriptionGuard, ExchangeError> {
        let id = self.attach_pattern(pattern, subscriber)?;
        let registry: Arc<dyn Detach> = self.inner.exchanges.clone();
        Ok(SubscriptionGuard::new(Arc::downgrade(&registry), id))
    }

    /// Spawns `actor` on a thread of its own, unnamed, with an unbounded mailbox and the
    /// [`Stop`](crate::Supervision::Stop) policy. Use [`actor`](System::actor) for anything
    /// else.
    ///
    /// # Errors
    ///
    /// [`SpawnError::ShuttingDown`] after [`shutdown`](System::shutdown) began;
    /// [`SpawnError::Thread`] when the OS refuses a thread.
    ///
    /// # Examples
    ///
    /// See [`System`] and [`Actor`].
    pub fn spawn<A: Actor>(&self, actor: A) -> Result<ActorRef<A::Msg>, SpawnError> {
        self.actor_from(actor).spawn()
    }

    /// Starts building an actor whose instances come from `factory`: needed for the
    /// [`Restart`](crate::Supervision::Restart) policy, which replaces a failed instance
    /// with a fresh one.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_core::{Actor, Context, HandlerResult, Mailbox, Overflow, Supervision, System};
    /// use std::time::Duration;
    ///
    /// #[derive(Default)]
    /// struct Job;
    /// impl Actor for Job {
    ///     type Msg = u32;
    ///     fn handle(&mut self, _: u32, _: &mut Context<u32>) -> HandlerResult { Ok(()) }
    /// }
    ///
    /// let system = System::new();
    /// let job = system
    ///     .actor(Job::default)
    ///     .name("job")
    ///     .mailbox(Mailbox::bounded(64, Overflow::Block))
    ///     .supervision(Supervision::restart(3, Duration::from_secs(10)))
    ///     .spawn()?;
    /// job.tell(1)?;
    /// system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn actor<A, F>(&self, factory: F) -> ActorBuilder<A>
    where
        A: Actor,
        F: FnMut() -> A + Send + 'static,
    {
        ActorBuilder::new(self.clone(), Source::Factory(Box::new(factory)))
    }

    /// Starts building an actor from one instance (which cannot be restarted).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, System};
    /// struct Named(&'static str);
    /// impl Actor for Named {
    ///     type Msg = ();
    ///     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// }
    /// let system = System::new();
    /// let a = system.actor_from(Named("a")).name("a").spawn()?;
    /// assert_eq!(a.name(), Some("a"));
    /// # system.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn actor_from<A: Actor>(&self, actor: A) -> ActorBuilder<A> {
        ActorBuilder::new(self.clone(), Source::Instance(actor))
    }

    /// The live actor registered under `name`, as a ref taking messages of type `M`.
    ///
    /// # Errors
    ///
    /// [`LookupError::NotFound`] when no live actor has the name (names are freed when
    /// their actor ends); [`LookupError::WrongType`] when its messages are not `M`.
    ///
    /// # Examples
    ///
    /// See [`System`].
    pub fn lookup<M: Send + 'static>(&self, name: &str) -> Result<ActorRef<M>, LookupError> {
        let registry = self.inner.registry.lock();
        let entry = registry
            .get(name)
            .ok_or_else(|| LookupError::NotFound(name.to_string()))?;
        entry
            .actor_ref
            .downcast_ref::<ActorRef<M>>()
            .cloned()
            .ok_or_else(|| LookupError::WrongType {
                name: name.to_string(),
                requested: std::any::type_name::<M>(),
                actual: entry.msg_type,
            })
    }

    /// The number of actors that have been spawned and have not ended.
    ///
    /// # Examples
    ///
    /// See [`System`].
    #[must_use]
    pub fn actor_count(&self) -> usize {
        self.inner.actors.lock().live.len()
    }

    /// Stops every actor gracefully (each handles what is already queued and takes nothing
    /// new), waits for all of them to end and joins their threads. New spawns fail from the
    /// moment it begins.
    ///
    /// Called from inside an actor, it asks every actor to stop and returns without
    /// waiting (an actor cannot wait for its own end).
    ///
    /// # Examples
    ///
    /// See [`System`].
    pub fn shutdown(&self) {
        self.shut_down(|actor| actor.stop());
    }

    /// Shuts the system down now: like [`shutdown`](System::shutdown), but kills every actor
    /// (see [`ActorRef::kill`](crate::ActorRef::kill)): queued messages are
    /// discarded and pending requests fail at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor_core::{Actor, Context, HandlerResult, System};
    /// # struct Nop;
    /// # impl Actor for Nop {
    /// #     type Msg = ();
    /// #     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
    /// # }
    /// let system = System::new();
    /// system.spawn(Nop)?;
    /// system.kill();
    /// assert_eq!(system.actor_count(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn kill(&self) {
        self.shut_down(|actor| actor.kill());
    }

    fn shut_down(&self, end: fn(&dyn AnyLocal)) {
        self.inner.shutting_down.store(true, Ordering::SeqCst);
        // No tick should reach an actor that is stopping; joins the timer thread.
        self.inner.timers.shutdown();
        let actors: Vec<Arc<dyn AnyLocal>> = {
            let actors = self.inner.actors.lock();
            actors.live.values().cloned().collect()
        };
        for actor in &actors {
            end(actor.as_ref());
        }
        if ActorId::current().is_some() {
            return;
        }
        for actor in &actors {
            // Completes when the actor has ended; its monitor cannot be dropped unanswered.
            let _ = actor.cell().monitor().wait();
        }
        let threads: Vec<JoinHandle<()>> = {
            let mut actors = self.inner.actors.lock();
            let mut threads = std::mem::take(&mut actors.ended);
            threads.extend(std::mem::take(&mut actors.threads).into_values());
            threads
        };
        for thread in threads {
            let _ = thread.join();
        }
    }

    /// Sends `msg` to `target` once `delay` has passed. Cancel it through the returned
    /// handle.
    ///
    /// All timers of a system share one thread. The message is delivered with
    /// [`try_tell`](ActorRef::try_tell) so that a full mailbox cannot hold up the other
    /// timers: if the target's bounded mailbox is full when the timer fires, the message is
    /// dropped (and logged at debug level). After [`shutdown`](System::shutdown) began, the
    /// returned handle is already inactive and nothing is sent.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{Inbox, System};
    ///
    /// let system = System::new();
    /// let inbox = Inbox::new();
    /// let later = system.send_after(Duration::from_millis(10), inbox.actor_ref(), "later");
    /// let never = system.send_after(Duration::from_millis(10), inbox.actor_ref(), "never");
    /// never.cancel();
    /// assert!(!never.is_active());
    /// assert_eq!(inbox.recv_timeout(Duration::from_secs(5)), Ok("later"));
    /// assert!(!later.is_active(), "a one-shot timer is done once it fired");
    /// system.shutdown();
    /// ```
    pub fn send_after<M: Send + 'static>(
        &self,
        delay: Duration,
        target: &ActorRef<M>,
        msg: M,
    ) -> TimerHandle {
        let target = target.clone();
        let mut msg = Some(msg);
        self.inner.timers.schedule(
            delay,
            None,
            Box::new(move || {
                if let Some(msg) = msg.take() {
                    deliver(&target, msg);
                }
                TimerAction::Cancel
            }),
        )
    }

    /// Sends a clone of `msg` to `target` every `period` (the first after one period), until
    /// the handle is cancelled or the target has ended; periods under a millisecond are
    /// raised to one.
    ///
    /// Ticks keep to their schedule rather than drifting; when the timer thread falls behind
    /// by a whole period, the missed ticks are skipped rather than sent in a burst. A tick
    /// that finds the target's bounded mailbox full is dropped, as with
    /// [`send_after`](System::send_after).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use actor_core::{Inbox, System};
    ///
    /// let system = System::new();
    /// let inbox = Inbox::new();
    /// let ticker = system.send_interval(Duration::from_millis(5), inbox.actor_ref(), "tick");
    /// for _ in 0..3 {
    ///     assert_eq!(inbox.recv_timeout(Duration::from_secs(5)), Ok("tick"));
    /// }
    /// ticker.cancel();
    /// assert!(!ticker.is_active());
    /// system.shutdown();
    /// ```
    pub fn send_interval<M: Clone + Send + 'static>(
        &self,
        period: Duration,
        target: &ActorRef<M>,
        msg: M,
    ) -> TimerHandle {
        let target = target.clone();
        self.inner.timers.schedule(
            period,
            Some(period),
            Box::new(move || deliver(&target, msg.clone())),
        )
    }

    /// Records a new actor (and its name): called before its runner first runs.
    pub(crate) fn register<M: Send + 'static>(
        &self,
        actor_ref: &ActorRef<M>,
        actor: &Arc<dyn AnyLocal>,
    ) -> Result<(), SpawnError> {
        let cell = actor.cell();
        let mut actors = self.inner.actors.lock();
        // Checked under the lock shutdown takes its snapshot under, so no actor slips past.
        if self.inner.shutting_down.load(Ordering::SeqCst) {
            return Err(SpawnError::ShuttingDown);
        }
        if let Some(name) = &cell.name {
            let mut registry = self.inner.registry.lock();
            if registry.contains_key(name) {
                return Err(SpawnError::NameTaken(name.to_string()));
            }
            registry.insert(
                Arc::clone(name),
                Registered {
                    id: cell.id,
                    actor_ref: Box::new(actor_ref.clone()),
                    msg_type: std::any::type_name::<M>(),
                },
            );
        }
        // Threads of ended actors have returned or are about to: join them so they do not
        // pile up in a long-running system.
        let (done, running): (Vec<_>, Vec<_>) = std::mem::take(&mut actors.ended)
            .into_iter()
            .partition(JoinHandle::is_finished);
        actors.ended = running;
        for thread in done {
            let _ = thread.join();
        }
        actors.live.insert(cell.id, Arc::clone(actor));
        Ok(())
    }

    /// Hands the system the thread running actor `id`, to be joined at shutdown.
    pub(crate) fn attach_thread(&self, id: ActorId, thread: JoinHandle<()>) {
        let mut actors = self.inner.actors.lock();
        if actors.live.contains_key(&id) {
            actors.threads.insert(id, thread);
        } else {
            // The actor already ended.
            actors.ended.push(thread);
        }
    }

    /// Forgets an ended actor and frees its name. Called by its runner.
    pub(crate) fn deregister(&self, id: ActorId) {
        let actor = {
            let mut actors = self.inner.actors.lock();
            if let Some(thread) = actors.threads.remove(&id) {
                actors.ended.push(thread);
            }
            actors.live.remove(&id)
        };
        let Some(actor) = actor else { return };
        if let Some(name) = &actor.cell().name {
            let mut registry = self.inner.registry.lock();
            if registry.get(name).is_some_and(|r| r.id == id) {
                registry.remove(name);
            }
        }
    }
}

/// A timer's delivery: quick (never blocks the shared timer thread), and the timer ends with
/// its target.
fn deliver<M>(target: &ActorRef<M>, msg: M) -> TimerAction {
    match target.try_tell(msg) {
        Ok(()) => TimerAction::Continue,
        Err(SendError::Closed(_)) => TimerAction::Cancel,
        Err(_) => {
            tracing::debug!(actor = %target.id(), "timer message dropped: mailbox full");
            TimerAction::Continue
        }
    }
}

impl Default for System {
    fn default() -> System {
        System::new()
    }
}

impl fmt::Debug for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("System")
            .field("actors", &self.actor_count())
            .field(
                "shutting_down",
                &self.inner.shutting_down.load(Ordering::Relaxed),
            )
            .finish()
    }
}
