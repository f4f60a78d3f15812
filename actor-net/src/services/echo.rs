//! [`Echo`]: the actor that answers with what it is given, and the byte relay that the TCP
//! echo protocols run through it.

use std::io::Write;
use std::net::{Shutdown, TcpStream};

use actor_core::{Actor, ActorRef, Context, HandlerResult, Reply};
use serde::{Deserialize, Serialize};

use super::protocol::{ConnectionError, Limits, read_some};

/// The most bytes read from a client at once, and so the largest piece asked of the actor.
const CHUNK: usize = 4096;

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

/// Sends back, through `echo`, every byte the client sends, until the client closes its side
/// (which is then passed on: the server closes its side too) or stays idle too long.
pub(crate) fn relay(
    stream: &mut TcpStream,
    echo: &ActorRef<EchoMsg>,
    limits: &Limits,
) -> Result<(), ConnectionError> {
    let mut buf = vec![0; CHUNK];
    loop {
        let n = read_some(stream, &mut buf)?;
        if n == 0 {
            break;
        }
        let echoed = echo.ask(
            |reply| EchoMsg::Echo(buf[..n].to_vec(), reply),
            limits.ask_timeout,
        )?;
        stream.write_all(&echoed)?;
    }
    stream.flush()?;
    stream.shutdown(Shutdown::Write)?;
    Ok(())
}
