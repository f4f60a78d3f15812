//! [`Signature`]: the argument and result types of a registered function.

use std::any::{TypeId, type_name};
use std::fmt;

/// The argument and result types of a registered function.
///
/// Two signatures are equal when their types are the same types; the names are for messages
/// (as [`std::any::type_name`] spells them).
///
/// # Examples
///
/// ```
/// use actor_pool::Signature;
///
/// let signature = Signature::of::<(u32, String), Vec<u8>>();
/// assert_eq!(signature.to_string(), "fn((u32, alloc::string::String)) -> alloc::vec::Vec<u8>");
/// assert_ne!(signature, Signature::of::<(u32, &'static str), Vec<u8>>());
/// ```
#[derive(Clone, Copy)]
pub struct Signature {
    /// The type of `fn(A) -> R`: one id for the pair.
    id: TypeId,
    /// The names, computed when a message needs them (keeps the value, and the errors that
    /// carry it, small).
    names: fn() -> (&'static str, &'static str),
}

impl Signature {
    /// The signature of a function from `A` to `R`.
    ///
    /// # Examples
    ///
    /// ```
    /// let signature = actor_pool::Signature::of::<u8, bool>();
    /// assert_eq!(signature.argument(), "u8");
    /// ```
    #[must_use]
    pub fn of<A: 'static, R: 'static>() -> Signature {
        Signature {
            id: TypeId::of::<fn(A) -> R>(),
            names: || (type_name::<A>(), type_name::<R>()),
        }
    }

    /// The name of the argument type.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actor_pool::Signature::of::<u8, bool>().argument(), "u8");
    /// ```
    #[must_use]
    pub fn argument(&self) -> &'static str {
        (self.names)().0
    }

    /// The name of the result type.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actor_pool::Signature::of::<u8, bool>().result(), "bool");
    /// ```
    #[must_use]
    pub fn result(&self) -> &'static str {
        (self.names)().1
    }
}

impl PartialEq for Signature {
    fn eq(&self, other: &Signature) -> bool {
        self.id == other.id
    }
}

impl Eq for Signature {}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({self})")
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fn({}) -> {}", self.argument(), self.result())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_compare_types_not_names() {
        assert_eq!(Signature::of::<u8, u8>(), Signature::of::<u8, u8>());
        assert_ne!(Signature::of::<u8, u8>(), Signature::of::<u8, u16>());
        assert_ne!(Signature::of::<u8, u8>(), Signature::of::<i8, u8>());
    }
}
