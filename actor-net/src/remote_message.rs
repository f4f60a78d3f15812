//! [`RemoteMessage`]: the stable name and version a message type declares to cross the wire.
//!
//! Lookups compare declared identities, never Rust type names, so that two programs that each
//! define the same message type (or share it through a common crate) under the same declared
//! name can talk. The identity travels in a LOOKUP as `NAME@VERSION` (see `PROTOCOL.md`); it
//! is built and compared only when an actor is exported or looked up, never per message.

use std::fmt;

use actor_core::Tagged;

/// The longest declared [`RemoteMessage::NAME`], in bytes.
///
/// # Examples
///
/// ```
/// assert_eq!(actor_net::MAX_MESSAGE_NAME, 200);
/// ```
pub const MAX_MESSAGE_NAME: usize = 200;

/// A message type that crosses the network, with the stable name and schema version it
/// declares. [`Node::export`](crate::Node::export) and [`Node::lookup`](crate::Node::lookup)
/// compare this declared identity, not `std::any::type_name`: an exported actor and a ref
/// looked up from another program agree when both sides declare the same `NAME` and the same
/// `VERSION`, whatever the Rust paths of their types.
///
/// # The naming rule
///
/// `NAME` is one or more dot-separated segments, each made of lower-case ASCII letters,
/// digits, `_` and `-`, such as `calc` or `myapp.calc`; it has at most
/// [`MAX_MESSAGE_NAME`] (200) bytes and neither starts nor ends with a dot, nor holds two dots
/// in a row. Prefix names with your application's or crate's name (`myapp.calc`) so they do
/// not collide with other programs' names; names starting with `actor.` are taken by this
/// framework's services. A name that breaks the rule makes export and lookup fail with
/// [`NetError::MessageName`](crate::NetError::MessageName); nothing panics.
///
/// # When to bump `VERSION`
///
/// `VERSION` (1 by default) names the serialized layout. Bump it when the layout changes
/// incompatibly: a variant or field added, removed, reordered or retyped, which would make
/// the old program's bytes decode wrongly or not at all. A peer that asks for another version
/// is refused at lookup with [`NetError::WrongType`](crate::NetError::WrongType) naming both
/// identities, instead of exchanging messages that do not decode. Renaming the Rust type or
/// moving it to another module changes nothing on the wire and needs no bump.
///
/// The recommended way to share a message type between programs is a small common crate (or
/// module) that defines it with its `impl RemoteMessage`, used by both sides.
///
/// # Examples
///
/// ```
/// use actor_core::Reply;
/// use actor_net::RemoteMessage;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// enum CalcMsg {
///     Add(i64),
///     Total(Reply<i64>),
/// }
///
/// impl RemoteMessage for CalcMsg {
///     const NAME: &'static str = "myapp.calc";
///     // VERSION keeps its default, 1, until the layout of CalcMsg changes.
/// }
///
/// assert_eq!(CalcMsg::NAME, "myapp.calc");
/// assert_eq!(CalcMsg::VERSION, 1);
/// ```
pub trait RemoteMessage {
    /// The stable, dotted, lower-case name of the message type, such as `myapp.calc`; see
    /// the naming rule above.
    const NAME: &'static str;
    /// The version of the serialized layout: bump it on an incompatible change. By default, 1.
    const VERSION: u32 = 1;
}

/// A [`RouterActor`](actor_core::RouterActor) is exported as any actor: its message,
/// [`Tagged`], declares `actor.tagged`, version 1, so that another process looks it up with
/// `node.lookup::<Tagged>(addr, name)` and sends it (tag, payload) pairs, told or asked. The
/// layout is in `PROTOCOL.md`, "Tagged messages".
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_core::{Router, RouterActor, System, Tagged};
/// use actor_net::{Node, RemoteMessage, Secret};
///
/// assert_eq!(Tagged::NAME, "actor.tagged");
///
/// let secret = Secret::generate()?;
/// let system = System::new();
/// let router = Router::new().on("mul", |_: &mut (), (a, b): (i64, i64)| Ok(a * b));
/// let server = Node::builder(secret.clone()).listen("127.0.0.1:0").build()?;
/// server.export("calc", &system.spawn(RouterActor::new((), router))?)?;
///
/// let client = Node::builder(secret).build()?;
/// let addr = server.local_addr().ok_or("not listening")?;
/// let calc = client.lookup::<Tagged>(addr, "calc")?;
/// let product: i64 = calc.ask_tagged("mul", &(6_i64, 7_i64), Duration::from_secs(10))?;
/// assert_eq!(product, 42);
/// # client.shutdown();
/// # server.shutdown();
/// # system.shutdown();
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
impl RemoteMessage for Tagged {
    const NAME: &'static str = "actor.tagged";
}

/// A declared message name breaks the naming rule of [`RemoteMessage`].
///
/// # Examples
///
/// ```
/// use actor_net::{MessageNameError, RemoteMessage};
///
/// struct Bad;
/// impl RemoteMessage for Bad {
///     const NAME: &'static str = "My.Calc";
/// }
/// // Export and lookup report it inside `NetError::MessageName`.
/// let error = MessageNameError::BadCharacter { name: Bad::NAME, at: 0 };
/// assert!(error.to_string().contains("My.Calc"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageNameError {
    /// The name is empty.
    #[error("a remote message name is empty")]
    Empty,
    /// The name is longer than [`MAX_MESSAGE_NAME`] bytes.
    #[error("the remote message name {name:?} has {len} bytes, more than {MAX_MESSAGE_NAME}")]
    TooLong {
        /// The name.
        name: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The name holds a byte outside `a-z 0-9 _ - .`, or a dot that starts, ends or doubles.
    #[error(
        "the remote message name {name:?} is not dotted lower-case (a-z, 0-9, '_', '-', '.') at byte {at}"
    )]
    BadCharacter {
        /// The name.
        name: &'static str,
        /// The offset of the first offending byte.
        at: usize,
    },
}

/// Checks `name` against the naming rule of [`RemoteMessage`].
pub(crate) fn check_name(name: &'static str) -> Result<(), MessageNameError> {
    if name.is_empty() {
        return Err(MessageNameError::Empty);
    }
    if name.len() > MAX_MESSAGE_NAME {
        return Err(MessageNameError::TooLong {
            name,
            len: name.len(),
        });
    }
    let bytes = name.as_bytes();
    let bad = bytes.iter().enumerate().position(|(i, &b)| match b {
        b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' => false,
        // A dot separates two non-empty segments.
        b'.' => i == 0 || i + 1 == bytes.len() || bytes[i - 1] == b'.',
        _ => true,
    });
    match bad {
        Some(at) => Err(MessageNameError::BadCharacter { name, at }),
        None => Ok(()),
    }
}

/// The declared identity of `M` as it travels in a LOOKUP: `NAME@VERSION`, checked.
pub(crate) fn identity<M: RemoteMessage>() -> Result<String, MessageNameError> {
    check_name(M::NAME)?;
    Ok(Identity(M::NAME, M::VERSION).to_string())
}

/// `NAME@VERSION`, the version in decimal ASCII without leading zeros.
struct Identity(&'static str, u32);

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.0, self.1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Calc;
    impl RemoteMessage for Calc {
        const NAME: &'static str = "myapp.calc";
    }

    struct CalcV2;
    impl RemoteMessage for CalcV2 {
        const NAME: &'static str = "calc";
        const VERSION: u32 = 2;
    }

    #[test]
    fn identity_is_name_at_version() {
        assert_eq!(identity::<Tagged>().unwrap(), "actor.tagged@1");
        assert_eq!(identity::<Calc>().unwrap(), "myapp.calc@1");
        assert_eq!(identity::<CalcV2>().unwrap(), "calc@2");
    }

    #[test]
    fn valid_names_pass() {
        for name in ["calc", "myapp.calc", "a.b-c.d_e", "x1.2y", "actor.echo"] {
            assert_eq!(check_name(name), Ok(()), "{name}");
        }
        let longest: &'static str = "a".repeat(MAX_MESSAGE_NAME).leak();
        assert_eq!(check_name(longest), Ok(()));
    }

    #[test]
    fn invalid_names_are_typed_errors() {
        assert_eq!(check_name(""), Err(MessageNameError::Empty));
        let long: &'static str = "a".repeat(MAX_MESSAGE_NAME + 1).leak();
        assert_eq!(
            check_name(long),
            Err(MessageNameError::TooLong {
                name: long,
                len: MAX_MESSAGE_NAME + 1
            })
        );
        for (name, at) in [
            ("Calc", 0),
            ("my app", 2),
            ("calc@1", 4),
            (".calc", 0),
            ("calc.", 4),
            ("my..calc", 3),
            ("café", 3),
            ("my::calc", 2),
        ] {
            assert_eq!(
                check_name(name),
                Err(MessageNameError::BadCharacter { name, at }),
                "{name}"
            );
        }
    }
}
