//! [`Envelope`]: what travels through a mailbox of either flavor, a message (with the
//! [`Ticket`] a transport sent it with, if any) or a wake-up.

use crate::budget::Ticket;

/// What travels through a mailbox.
pub(crate) enum Envelope<M> {
    /// A user message.
    Msg(M),
    /// A user message and its share of a transport's budget, given back once the message has
    /// been handled or discarded. Boxed, so that envelopes of plain messages stay as small as
    /// the message itself.
    Ticketed(Box<(M, Ticket)>),
    /// Nothing to handle: wakes a blocked actor so it looks at its state (stop, kill).
    Wake,
}

impl<M> Envelope<M> {
    /// The message inside, for a mailbox that orders by it; `None` for a wake-up.
    pub(super) fn msg(&self) -> Option<&M> {
        match self {
            Envelope::Msg(m) => Some(m),
            Envelope::Ticketed(ticketed) => Some(&ticketed.0),
            Envelope::Wake => None,
        }
    }

    /// The message a sender handed in (its ticket, if any, is given back); a send only ever
    /// hands back what it was given.
    pub(crate) fn into_msg(self) -> M {
        match self.into_parts() {
            Some((m, _ticket)) => m,
            None => unreachable!("invariant: senders hand back only the message they sent"),
        }
    }

    /// The message and its ticket (to keep until the message is handled); `None` for a
    /// wake-up.
    pub(crate) fn into_parts(self) -> Option<(M, Option<Ticket>)> {
        match self {
            Envelope::Msg(m) => Some((m, None)),
            Envelope::Ticketed(ticketed) => {
                let (m, ticket) = *ticketed;
                Some((m, Some(ticket)))
            }
            Envelope::Wake => None,
        }
    }
}
