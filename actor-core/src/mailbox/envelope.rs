//! [`Envelope`]: what travels through a mailbox of either flavor, a message or a wake-up.

/// What travels through a mailbox.
pub(crate) enum Envelope<M> {
    /// A user message.
    Msg(M),
    /// Nothing to handle: wakes a blocked actor so it looks at its state (stop, kill).
    Wake,
}

impl<M> Envelope<M> {
    /// The message a sender handed in; a send only ever hands back what it was given.
    pub(super) fn into_msg(self) -> M {
        match self {
            Envelope::Msg(m) => m,
            Envelope::Wake => {
                unreachable!("invariant: senders hand back only the message they sent")
            }
        }
    }
}
