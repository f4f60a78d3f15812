//! [`Overflow`]: what a `tell` to a full bounded mailbox does.

/// What `tell` does when a bounded mailbox is full.
///
/// `try_tell` never blocks: under `Block` it returns [`SendError::Full`](crate::SendError::Full)
/// instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Overflow {
    /// Wait for room (backpressure). The default.
    #[default]
    Block,
    /// Fail at once with [`SendError::Full`](crate::SendError::Full), giving the message back.
    Fail,
    /// Discard the new message, count it (see
    /// [`ActorRef::dropped_count`](crate::ActorRef::dropped_count)) and report success.
    DropNewest,
}
