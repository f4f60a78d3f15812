//! [`Echo`]: the actor that answers with what it is given.

use actor_core::{Actor, Context, HandlerResult, Reply};
use serde::{Deserialize, Serialize};

use crate::RemoteMessage;

/// What the [`Echo`] actor takes.
///
/// # Examples
///
/// See [`Echo`].
#[derive(Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub enum EchoMsg {
    /// Asks for the same bytes back.
    Echo(Vec<u8>, Reply<Vec<u8>>),
}

/// Declared as `actor.echo` (version 1), the identity under which a node exports the echo
/// service (see `PROTOCOL.md`, "Services").
///
/// # Examples
///
/// ```
/// use actor_net::RemoteMessage;
/// use actor_net::services::EchoMsg;
///
/// assert_eq!((EchoMsg::NAME, EchoMsg::VERSION), ("actor.echo", 1));
/// ```
impl RemoteMessage for EchoMsg {
    const NAME: &'static str = "actor.echo";
}

/// An actor that answers [`EchoMsg::Echo`] with the bytes it was given.
///
/// The echo protocols of a [`ServiceSet`](super::ServiceSet) (TCP, UDP and the
/// authenticated echo) ask it for every answer, and a node can export it (as
/// [`ECHO`](super::ECHO)) for remote callers.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::System;
/// use actor_net::services::{Echo, EchoMsg};
///
/// let system = System::new();
/// let echo = system.spawn(Echo)?;
/// let answer = echo.ask(|reply| EchoMsg::Echo(b"ping".to_vec(), reply), Duration::from_secs(5))?;
/// assert_eq!(answer, b"ping");
/// system.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Echo;

impl Actor for Echo {
    type Msg = EchoMsg;

    fn handle(&mut self, msg: EchoMsg, _ctx: &mut Context<EchoMsg>) -> HandlerResult {
        match msg {
            EchoMsg::Echo(bytes, reply) => reply.send(bytes),
        }
        Ok(())
    }
}
