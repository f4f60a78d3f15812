//! The shared key that lets nodes authenticate each other.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

/// HMAC-SHA256, the only MAC of the protocol.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Returns an HMAC-SHA256 state keyed with `key`, ready to be cloned for each message.
pub(crate) fn keyed_mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("invariant: HMAC accepts keys of any length")
}

/// A shared key: every node that holds the same bytes may talk to the others.
///
/// The bytes are overwritten with zeros when the secret is dropped, and they never appear in
/// logs: [`Debug`](fmt::Debug) prints `Secret(..)` and there is no `Display`. Equality is not
/// offered either, since a naive comparison would leak the key through its timing.
///
/// # Examples
///
/// ```
/// use actor_net::Secret;
///
/// let secret = Secret::new(b"correct horse battery staple".to_vec())?;
/// assert_eq!(format!("{secret:?}"), "Secret(..)");
/// # Ok::<(), actor_net::SecretError>(())
/// ```
#[derive(Clone)]
pub struct Secret {
    bytes: Vec<u8>,
}

impl Secret {
    /// The shortest key accepted, in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::Secret;
    ///
    /// assert!(Secret::new(vec![7; Secret::MIN_LEN]).is_ok());
    /// assert!(Secret::new(vec![7; Secret::MIN_LEN - 1]).is_err());
    /// ```
    pub const MIN_LEN: usize = 16;

    /// Makes a secret of `bytes`, which are used as they are.
    ///
    /// # Errors
    ///
    /// [`SecretError::TooShort`] if `bytes` holds fewer than [`Secret::MIN_LEN`] bytes; the
    /// rejected bytes are zeroed too.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{Secret, SecretError};
    ///
    /// let secret = Secret::new(b"actor test key 0123456789".to_vec())?;
    /// assert!(matches!(Secret::new(b"short".to_vec()), Err(SecretError::TooShort { len: 5 })));
    /// # drop(secret);
    /// # Ok::<(), SecretError>(())
    /// ```
    pub fn new(mut bytes: Vec<u8>) -> Result<Secret, SecretError> {
        let len = bytes.len();
        if len < Self::MIN_LEN {
            bytes.zeroize();
            return Err(SecretError::TooShort { len });
        }
        Ok(Secret { bytes })
    }

    /// Reads a secret from the file at `path`.
    ///
    /// The file's bytes are the key, except that ONE trailing line ending (`"\n"` or `"\r\n"`) is
    /// removed, because text editors add one when they save a file. Any other bytes, including
    /// other whitespace and further line endings, belong to the key.
    ///
    /// # Errors
    ///
    /// [`SecretError::Io`] if the file cannot be read; [`SecretError::TooShort`] if what remains
    /// is shorter than [`Secret::MIN_LEN`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::Secret;
    ///
    /// let path = std::env::temp_dir().join(format!("actor-net-doc-{}.key", std::process::id()));
    /// std::fs::write(&path, "0123456789abcdef\n")?;
    /// let from_file = Secret::from_file(&path);
    /// std::fs::remove_file(&path)?;
    /// // The same key as the 16 bytes without the line ending.
    /// assert!(from_file.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Secret, SecretError> {
        let path = path.as_ref();
        let mut bytes = std::fs::read(path).map_err(|source| SecretError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if bytes.ends_with(b"\r\n") {
            bytes.truncate(bytes.len() - 2);
        } else if bytes.ends_with(b"\n") {
            bytes.truncate(bytes.len() - 1);
        }
        // The removed line ending stays in the spare capacity, which is zeroed on drop as well.
        Secret::new(bytes)
    }

    /// Reads a secret from the environment variable `var`, whose value is used exactly as it is.
    ///
    /// # Errors
    ///
    /// [`SecretError::NotSet`] if the variable is not set, [`SecretError::NotUnicode`] if its
    /// value is not valid Unicode, [`SecretError::TooShort`] if it is shorter than
    /// [`Secret::MIN_LEN`] bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{Secret, SecretError};
    ///
    /// let missing = Secret::from_env("ACTOR_NET_DOC_SURELY_UNSET_VARIABLE");
    /// assert!(matches!(missing, Err(SecretError::NotSet { .. })));
    /// ```
    pub fn from_env(var: &str) -> Result<Secret, SecretError> {
        // A value that is not Unicode is dropped without zeroing: it is still in the process
        // environment, so zeroing this copy would not take it out of memory.
        match std::env::var(var) {
            Ok(value) => Secret::new(value.into_bytes()),
            Err(std::env::VarError::NotPresent) => Err(SecretError::NotSet {
                var: var.to_owned(),
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode {
                var: var.to_owned(),
            }),
        }
    }

    /// Returns the key bytes, for computing MACs inside this crate.
    pub(crate) fn expose(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not even the length: it narrows down what an attacker must guess.
        f.write_str("Secret(..)")
    }
}

/// Why a [`Secret`] could not be made.
///
/// No variant carries any byte of the key.
///
/// # Examples
///
/// ```
/// use actor_net::{Secret, SecretError};
///
/// let err = Secret::new(vec![1; 3]).unwrap_err();
/// assert!(matches!(err, SecretError::TooShort { len: 3 }));
/// assert_eq!(err.to_string(), "the shared key has 3 bytes; at least 16 are required");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The key is shorter than [`Secret::MIN_LEN`].
    #[error("the shared key has {len} bytes; at least {min} are required", min = Secret::MIN_LEN)]
    TooShort {
        /// The length of the rejected key.
        len: usize,
    },
    /// The key file could not be read.
    #[error("cannot read the shared key file {}", path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The error reading it.
        #[source]
        source: io::Error,
    },
    /// The environment variable is not set.
    #[error("the environment variable {var} that should hold the shared key is not set")]
    NotSet {
        /// The variable's name.
        var: String,
    },
    /// The environment variable's value is not valid Unicode.
    #[error("the environment variable {var} that should hold the shared key is not valid Unicode")]
    NotUnicode {
        /// The variable's name.
        var: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_key_file(name: &str, contents: &[u8]) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "actor-net-secret-{}-{name}.key",
            std::process::id()
        ));
        std::fs::write(&path, contents).unwrap();
        path
    }

    fn from_file_bytes(name: &str, contents: &[u8]) -> Result<Vec<u8>, SecretError> {
        let path = temp_key_file(name, contents);
        let result = Secret::from_file(&path);
        std::fs::remove_file(&path).unwrap();
        result.map(|secret| secret.expose().to_vec())
    }

    #[test]
    fn from_file_strips_exactly_one_line_ending() {
        let key = b"0123456789abcdef";
        assert_eq!(from_file_bytes("plain", key).unwrap(), key);
        assert_eq!(from_file_bytes("lf", b"0123456789abcdef\n").unwrap(), key);
        assert_eq!(
            from_file_bytes("crlf", b"0123456789abcdef\r\n").unwrap(),
            key
        );
        assert_eq!(
            from_file_bytes("two-lf", b"0123456789abcdef\n\n").unwrap(),
            b"0123456789abcdef\n"
        );
        assert_eq!(
            from_file_bytes("cr", b"0123456789abcdef\r").unwrap(),
            b"0123456789abcdef\r"
        );
        assert_eq!(
            from_file_bytes("space", b" 0123456789abcdef \n").unwrap(),
            b" 0123456789abcdef "
        );
    }

    #[test]
    fn from_file_checks_length_after_stripping() {
        assert!(matches!(
            from_file_bytes("short", b"0123456789abcde\n"),
            Err(SecretError::TooShort { len: 15 })
        ));
    }

    #[test]
    fn from_file_reports_missing_file_with_path() {
        let path = std::env::temp_dir().join("actor-net-secret-surely-missing.key");
        let err = Secret::from_file(&path).unwrap_err();
        assert!(matches!(&err, SecretError::Io { path: p, .. } if *p == path));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn debug_hides_the_key() {
        let secret = Secret::new(b"a very secret key!".to_vec()).unwrap();
        let shown = format!("{secret:?} {:?}", secret.clone());
        assert_eq!(shown, "Secret(..) Secret(..)");
    }
}
