//! [`Sent`]: what a successful send did with the message.

/// What a successful send did with the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    Queued,
    /// Discarded by a full `DropNewest` mailbox, as the policy promises the sender.
    Dropped,
}
