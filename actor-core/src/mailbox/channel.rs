//! The channel flavor of mailbox: a crossbeam channel, unbounded or bounded.

use crossbeam_channel::{SendTimeoutError, TrySendError};

use super::envelope::Envelope;
use super::overflow::Overflow;
use super::sent::Sent;
use crate::error::SendError;
use crate::send_wait::SendWait;

pub(crate) struct Sender<M> {
    tx: crossbeam_channel::Sender<Envelope<M>>,
    overflow: Overflow,
}

impl<M> Clone for Sender<M> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
            overflow: self.overflow,
        }
    }
}

impl<M> Sender<M> {
    pub(crate) fn new(tx: crossbeam_channel::Sender<Envelope<M>>, overflow: Overflow) -> Self {
        Sender { tx, overflow }
    }

    #[inline]
    pub(crate) fn send(&self, env: Envelope<M>, wait: SendWait) -> Result<Sent, SendError<M>> {
        let result = match (self.overflow, wait) {
            (Overflow::Block, SendWait::Forever) => {
                return self
                    .tx
                    .send(env)
                    .map(|()| Sent::Queued)
                    .map_err(|e| SendError::Closed(e.0.into_msg()));
            }
            (Overflow::Block, SendWait::Until(deadline)) => {
                return self
                    .tx
                    .send_deadline(env, deadline)
                    .map(|()| Sent::Queued)
                    .map_err(|e| match e {
                        SendTimeoutError::Timeout(env) => SendError::Timeout(env.into_msg()),
                        SendTimeoutError::Disconnected(env) => SendError::Closed(env.into_msg()),
                    });
            }
            _ => self.tx.try_send(env),
        };
        match result {
            Ok(()) => Ok(Sent::Queued),
            Err(TrySendError::Disconnected(env)) => Err(SendError::Closed(env.into_msg())),
            Err(TrySendError::Full(env)) => match self.overflow {
                Overflow::DropNewest => Ok(Sent::Dropped),
                Overflow::Block | Overflow::Fail => Err(SendError::Full(env.into_msg())),
            },
        }
    }

    /// How many envelopes are queued now (a pending wake-up counts as one).
    pub(crate) fn len(&self) -> usize {
        self.tx.len()
    }

    /// Queues a wake-up if there is room. A full mailbox needs none: its actor is not
    /// blocked waiting for mail and looks at its state before the next message.
    pub(crate) fn wake(&self) {
        let _ = self.tx.try_send(Envelope::Wake);
    }
}
