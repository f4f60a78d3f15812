//! The events a system publishes about itself, on its `system.*` exchanges.

use std::fmt;
use std::sync::Arc;

use crate::actor_id::ActorId;
// System events are carried by exchanges, and exchanges report their own events (a
// subscriber gone) as system events: the two import each other by design.
use crate::exchange::{Exchange, SubscriptionId};
use crate::supervision::{ExitReason, Failure};

/// Exchange of actor lifecycle events: [`SystemEvent::Started`], `Failed`, `Restarted`,
/// `Stopped`.
pub const LIFECYCLE: &str = "system.lifecycle";
/// Exchange of [`SystemEvent::DeadLetter`]: messages that reached no handler.
pub const DEAD_LETTERS: &str = "system.dead_letters";
/// Exchange of [`SystemEvent::Dropped`]: messages discarded by a full mailbox or by a
/// subscriber that could not keep up.
pub const DROPPED: &str = "system.dropped";
/// Exchange of [`SystemEvent::SubscriberGone`]: subscribers detached because they were gone.
pub const SUBSCRIBERS: &str = "system.subscribers";
/// Exchange of [`SystemEvent::AskCycle`]: warnings about conversations that cannot end well.
pub const WARNINGS: &str = "system.warnings";

/// Something that happened in a system, published on one of its `system.*` exchanges.
///
/// All system exchanges carry this type, so one subscriber attached to the pattern
/// `system.>` sees everything.
///
/// # Examples
///
/// ```
/// use actor_core::{Actor, Context, HandlerResult, System, SystemEvent, tap::Recorder};
///
/// struct Nop;
/// impl Actor for Nop {
///     type Msg = ();
///     fn handle(&mut self, _: (), _: &mut Context<()>) -> HandlerResult { Ok(()) }
/// }
///
/// let system = System::new();
/// let recorder = Recorder::new(100);
/// system.attach_pattern::<SystemEvent>("system.>", recorder.clone())?;
/// let nop = system.spawn(Nop)?;
/// nop.stop();
/// nop.join()?;
/// let events = recorder.messages();
/// assert!(matches!(events[0], SystemEvent::Started { .. }));
/// assert!(matches!(events[1], SystemEvent::Stopped { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum SystemEvent {
    /// An actor started (its `started` hook ran).
    Started {
        /// The actor.
        actor: ActorId,
        /// Its registered name.
        name: Option<Arc<str>>,
    },
    /// A handler or hook failed; supervision decides what follows.
    Failed {
        /// The actor.
        actor: ActorId,
        /// Its registered name.
        name: Option<Arc<str>>,
        /// What went wrong.
        failure: Failure,
    },
    /// A failed actor was replaced by a fresh instance.
    Restarted {
        /// The actor.
        actor: ActorId,
        /// Its registered name.
        name: Option<Arc<str>>,
    },
    /// An actor ended.
    Stopped {
        /// The actor.
        actor: ActorId,
        /// Its registered name.
        name: Option<Arc<str>>,
        /// Why it ended.
        reason: ExitReason,
    },
    /// A message reached no handler.
    DeadLetter {
        /// The actor it was for, if it was for one.
        actor: Option<ActorId>,
        /// That actor's name.
        name: Option<Arc<str>>,
        /// The message's type.
        message_type: &'static str,
        /// Why it was not handled.
        reason: DeadLetterReason,
    },
    /// A message was discarded because its receiver could not take it in time.
    Dropped {
        /// The actor whose mailbox was full, when an actor dropped it.
        actor: Option<ActorId>,
        /// The exchange and subscription, when a subscriber dropped it.
        subscription: Option<(Arc<str>, SubscriptionId)>,
        /// The message's type.
        message_type: &'static str,
    },
    /// An actor asked another actor that is itself blocked asking the first one: neither
    /// can answer before the other's ask times out. Published when the second ask is made,
    /// before it waits.
    AskCycle {
        /// The actor making the ask, from inside its handler.
        asker: ActorId,
        /// Its registered name, if any.
        asker_name: Option<Arc<str>>,
        /// The actor asked, which is waiting for an answer from `asker`.
        target: ActorId,
        /// Its registered name, if any.
        target_name: Option<Arc<str>>,
    },
    /// A subscriber was found gone while publishing and was detached.
    SubscriberGone {
        /// The exchange it was attached to.
        exchange: Arc<str>,
        /// Its subscription.
        subscription: SubscriptionId,
        /// Its description.
        label: String,
    },
}

/// Why a message became a dead letter.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeadLetterReason {
    /// It was sent to an actor that had stopped (the sender got it back in the error).
    ActorGone,
    /// It was still queued when its actor was killed or failed for good.
    Discarded,
    /// Its tag names no handler.
    UnknownTag(String),
    /// Its payload did not decode as the tag's type.
    Undecodable(String),
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeadLetterReason::ActorGone => f.write_str("the actor has stopped"),
            DeadLetterReason::Discarded => f.write_str("discarded when the actor ended"),
            DeadLetterReason::UnknownTag(tag) => write!(f, "unknown tag {tag:?}"),
            DeadLetterReason::Undecodable(tag) => {
                write!(f, "payload of tag {tag:?} does not decode")
            }
        }
    }
}

fn who(actor: &Option<ActorId>, name: &Option<Arc<str>>) -> String {
    match (actor, name) {
        (Some(id), Some(name)) => format!("{id} ({name})"),
        (Some(id), None) => id.to_string(),
        (None, _) => "nobody".to_string(),
    }
}

impl fmt::Display for SystemEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SystemEvent::Started { actor, name } => {
                write!(f, "actor {} started", who(&Some(*actor), name))
            }
            SystemEvent::Failed {
                actor,
                name,
                failure,
            } => write!(f, "actor {} failed: {failure}", who(&Some(*actor), name)),
            SystemEvent::Restarted { actor, name } => {
                write!(f, "actor {} restarted", who(&Some(*actor), name))
            }
            SystemEvent::Stopped {
                actor,
                name,
                reason,
            } => write!(f, "actor {} ended: {reason}", who(&Some(*actor), name)),
            SystemEvent::DeadLetter {
                actor,
                name,
                message_type,
                reason,
            } => write!(
                f,
                "dead letter of type {message_type} for {}: {reason}",
                who(actor, name)
            ),
            SystemEvent::Dropped {
                actor,
                subscription,
                message_type,
            } => match subscription {
                Some((exchange, id)) => write!(
                    f,
                    "message of type {message_type} dropped by subscriber {id} of {exchange}"
                ),
                None => write!(
                    f,
                    "message of type {message_type} dropped: mailbox of {} full",
                    who(actor, &None)
                ),
            },
            SystemEvent::AskCycle {
                asker,
                asker_name,
                target,
                target_name,
            } => write!(
                f,
                "ask cycle: actor {} asks actor {}, which is waiting for an answer from it; \
                 both asks will time out",
                who(&Some(*asker), asker_name),
                who(&Some(*target), target_name)
            ),
            SystemEvent::SubscriberGone {
                exchange,
                subscription,
                label,
            } => write!(
                f,
                "subscriber {subscription} ({label}) of {exchange} is gone: detached"
            ),
        }
    }
}

/// The system exchanges, for the code that publishes on them.
pub(crate) struct Events {
    pub(crate) lifecycle: Exchange<SystemEvent>,
    pub(crate) dead_letters: Exchange<SystemEvent>,
    pub(crate) dropped: Exchange<SystemEvent>,
    pub(crate) subscribers: Exchange<SystemEvent>,
    pub(crate) warnings: Exchange<SystemEvent>,
}
