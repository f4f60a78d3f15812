//! Exchange names and the patterns that match them.
//!
//! A name is one or more non-empty segments separated by dots (`orders.eu.paris`). A
//! pattern is the same, where a segment may be `*` (exactly one segment) and the last
//! segment may be `>` (one or more segments).

use crate::error::ExchangeError;

/// Checks an exchange name.
pub(crate) fn validate_name(name: &str) -> Result<(), ExchangeError> {
    let valid = !name.is_empty()
        && name
            .split('.')
            .all(|s| !s.is_empty() && s != "*" && s != ">" && !s.contains(char::is_whitespace));
    if valid {
        Ok(())
    } else {
        Err(ExchangeError::InvalidName(name.to_string()))
    }
}

/// A parsed exchange pattern, as [`System::attach_pattern`](crate::System::attach_pattern)
/// takes: dot-separated segments, where `*` stands for exactly one segment and a last `>` for
/// one or more.
///
/// # Examples
///
/// ```
/// use actor_core::Pattern;
///
/// let orders = Pattern::parse("orders.>")?;
/// assert!(orders.matches("orders.eu.paris"));
/// assert!(!orders.matches("orders"));
/// assert!(Pattern::parse("*.eu")?.matches("orders.eu"));
/// assert!(Pattern::parse("orders..eu").is_err());
/// # Ok::<(), actor_core::ExchangeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    /// `*`: exactly one segment.
    One,
    /// `>`: one or more segments; only last.
    Rest,
}

impl Pattern {
    /// Parses `pattern`.
    ///
    /// # Errors
    ///
    /// [`ExchangeError::InvalidPattern`] when a segment is empty, holds whitespace, `*` or
    /// `>` among other characters, or `>` is not last.
    ///
    /// # Examples
    ///
    /// See [`Pattern`].
    pub fn parse(pattern: &str) -> Result<Pattern, ExchangeError> {
        let invalid = || ExchangeError::InvalidPattern(pattern.to_string());
        if pattern.is_empty() {
            return Err(invalid());
        }
        let parts: Vec<&str> = pattern.split('.').collect();
        let mut segments = Vec::with_capacity(parts.len());
        for (i, part) in parts.iter().enumerate() {
            let segment = match *part {
                "" => return Err(invalid()),
                "*" => Segment::One,
                ">" if i + 1 == parts.len() => Segment::Rest,
                ">" => return Err(invalid()),
                p if p.contains(char::is_whitespace) || p.contains(['*', '>']) => {
                    return Err(invalid());
                }
                p => Segment::Literal(p.to_string()),
            };
            segments.push(segment);
        }
        Ok(Pattern { segments })
    }

    /// Whether the exchange name `name` matches.
    ///
    /// # Examples
    ///
    /// See [`Pattern`].
    #[must_use]
    pub fn matches(&self, name: &str) -> bool {
        let mut parts = name.split('.');
        for segment in &self.segments {
            match segment {
                Segment::Rest => return parts.next().is_some(),
                Segment::One => {
                    if parts.next().is_none() {
                        return false;
                    }
                }
                Segment::Literal(literal) => {
                    if parts.next() != Some(literal.as_str()) {
                        return false;
                    }
                }
            }
        }
        parts.next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, name: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(name)
    }

    #[test]
    fn star_matches_exactly_one_segment() {
        assert!(matches("orders.*", "orders.eu"));
        assert!(!matches("orders.*", "orders"));
        assert!(!matches("orders.*", "orders.eu.paris"));
        assert!(matches("*.eu", "orders.eu"));
        assert!(matches("orders.*.paris", "orders.eu.paris"));
    }

    #[test]
    fn rest_matches_one_or_more_segments() {
        assert!(matches("orders.>", "orders.eu"));
        assert!(matches("orders.>", "orders.eu.paris"));
        assert!(!matches("orders.>", "orders"));
        assert!(!matches("orders.>", "trades.eu"));
        assert!(matches(">", "anything.at.all"));
    }

    #[test]
    fn literal_patterns_match_only_themselves() {
        assert!(matches("orders", "orders"));
        assert!(!matches("orders", "orders.eu"));
    }

    #[test]
    fn malformed_patterns_and_names_are_refused() {
        for bad in [
            "",
            ".",
            "orders.",
            ".orders",
            "orders..eu",
            "orders.>.eu",
            "or*ders",
            "a b",
        ] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?}");
        }
        for bad in ["", "orders.*", "orders.>", "a..b", "a b"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        validate_name("orders.eu.paris").unwrap();
    }
}
