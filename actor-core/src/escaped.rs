//! Text from elsewhere, shown without its control characters.

use std::fmt::{self, Write};

/// Shows a value's text with its control characters escaped (`\n`, `\u{1b}`, ...), so that
/// text from a peer (a node name, a remote error) cannot start a forged log line or send
/// escape codes to a terminal.
///
/// Only control characters are escaped (as [`char::escape_debug`] writes them); other text,
/// quotes and backslashes included, is shown as it is. The value itself is unchanged: this is
/// for logs and terminals, while programs keep the raw text.
///
/// # Examples
///
/// ```
/// use actor_core::Escaped;
///
/// let name = "evil\nINFO forged \u{1b}[31mred";
/// assert_eq!(
///     Escaped(name).to_string(),
///     "evil\\nINFO forged \\u{1b}[31mred"
/// );
/// assert_eq!(Escaped("a \"plain\" name").to_string(), "a \"plain\" name");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Escaped<T>(pub T);

impl<T: fmt::Display> fmt::Display for Escaped<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(EscapeControls(f), "{}", self.0)
    }
}

/// Writes through to `f`, escaping control characters on the way.
struct EscapeControls<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl Write for EscapeControls<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(char::is_control) {
            self.0.write_str(&rest[..at])?;
            let mut chars = rest[at..].chars();
            if let Some(control) = chars.next() {
                write!(self.0, "{}", control.escape_debug())?;
            }
            rest = chars.as_str();
        }
        self.0.write_str(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::Escaped;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(
            Escaped("a\r\nb\tc\u{7f}").to_string(),
            "a\\r\\nb\\tc\\u{7f}"
        );
        assert_eq!(Escaped("naïve \\ 'q'").to_string(), "naïve \\ 'q'");
        assert_eq!(
            Escaped(format_args!("{}-{}", "x\n", 1)).to_string(),
            "x\\n-1"
        );
    }
}
