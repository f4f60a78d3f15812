//! The shared key that lets nodes authenticate each other: making one, refusing one that is
//! obviously weak (`strength`), and reading and writing key files (`file`).

mod file;
mod strength;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroize;

pub use strength::{KeyCheck, Weakness};

use crate::random;

/// HMAC-SHA256, the only MAC of the protocol.
pub(crate) type HmacSha256 = Hmac<Sha256>;

/// Returns an HMAC-SHA256 state keyed with `key`, ready to be cloned for each message.
pub(crate) fn keyed_mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("invariant: HMAC accepts keys of any length")
}

/// A shared key: every node that holds the same bytes may talk to the others.
///
/// The key must be random. One handshake, observed on the network or opened by anyone who
/// can connect, gives a MAC under the key against which guesses can be tested offline, as
/// fast as HMAC-SHA256 runs; a password or passphrase does not survive that. Make a key with
/// [`Secret::generate`] (or `actor-node keygen FILE`). Every constructor refuses a key
/// shorter than [`Secret::MIN_LEN`] bytes, and one that is obviously weak (a [`Weakness`])
/// unless [`KeyCheck::AllowWeak`] is asked for.
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
/// // Nodes in one process can share a fresh key; across processes, use a key file.
/// let secret = Secret::generate()?;
/// assert_eq!(format!("{secret:?}"), "Secret(..)");
/// # Ok::<(), actor_net::SecretError>(())
/// ```
#[derive(Clone)]
pub struct Secret {
    bytes: Vec<u8>,
}

impl Secret {
    /// The shortest key accepted, in bytes, whatever the [`KeyCheck`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{KeyCheck, Secret, SecretError};
    ///
    /// let weak = |len| Secret::with_check(vec![7; len], KeyCheck::AllowWeak);
    /// assert!(weak(Secret::MIN_LEN).is_ok());
    /// assert!(matches!(weak(Secret::MIN_LEN - 1), Err(SecretError::TooShort { len: 15 })));
    /// ```
    pub const MIN_LEN: usize = 16;

    /// The length of a key made by [`Secret::generate`], in bytes: 256 bits, as many as
    /// SHA-256 gives.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::Secret;
    ///
    /// assert!(Secret::GENERATED_LEN >= Secret::MIN_LEN);
    /// ```
    pub const GENERATED_LEN: usize = 32;

    /// The largest key file [`Secret::from_file`] reads, in bytes; a longer one is refused
    /// with [`SecretError::FileTooLarge`] after reading one byte more than this.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::Secret;
    ///
    /// assert_eq!(Secret::MAX_FILE_LEN, 4096);
    /// ```
    pub const MAX_FILE_LEN: usize = file::MAX_FILE_LEN;

    /// The fewest distinct byte values a key may hold ([`Weakness::FewDistinctBytes`]),
    /// unless weak keys are allowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{Secret, SecretError, Weakness};
    ///
    /// // Seven distinct values, the eighth missing.
    /// let key: Vec<u8> = (0..32u8).map(|i| 0x80 + i % 7).collect();
    /// assert!(matches!(
    ///     Secret::new(key),
    ///     Err(SecretError::Weak(Weakness::FewDistinctBytes { distinct: 7 }))
    /// ));
    /// assert_eq!(Secret::MIN_DISTINCT_BYTES, 8);
    /// ```
    pub const MIN_DISTINCT_BYTES: usize = strength::MIN_DISTINCT_BYTES;

    /// The shortest key made only of printable text that is accepted
    /// ([`Weakness::ShortPrintable`]), unless weak keys are allowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{Secret, SecretError, Weakness};
    ///
    /// let text = b"abcdefghijklmnopqrstuvwxyz 0123456789";
    /// assert!(Secret::new(text[..Secret::MIN_PRINTABLE_LEN].to_vec()).is_ok());
    /// assert!(matches!(
    ///     Secret::new(text[..Secret::MIN_PRINTABLE_LEN - 1].to_vec()),
    ///     Err(SecretError::Weak(Weakness::ShortPrintable { len: 31 }))
    /// ));
    /// ```
    pub const MIN_PRINTABLE_LEN: usize = strength::MIN_PRINTABLE_LEN;

    /// How many weak draws in a row make [`Secret::generate`] give up: a random source that
    /// gives them is broken, and looping on it would never end.
    const MAX_DRAWS: usize = 16;

    /// Makes a new key of [`Secret::GENERATED_LEN`] bytes from the operating system's
    /// cryptographically secure random source.
    ///
    /// The key never ends in `b'\n'`, so that [`Secret::from_file`] (which removes one
    /// trailing line ending) reads back the same key from a file that
    /// [`Secret::write_new_file`] wrote; nor has it a [`Weakness`]. A draw that does (about 1
    /// in 256) is replaced by a fresh one.
    ///
    /// # Errors
    ///
    /// [`SecretError::Random`] if the random source fails, or gives 16 unusable draws in a
    /// row.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{Node, Secret};
    ///
    /// let secret = Secret::generate()?;
    /// // Two nodes in one process, sharing a fresh key.
    /// let server = Node::builder(secret.clone()).listen("127.0.0.1:0").build()?;
    /// let client = Node::builder(secret).build()?;
    /// # client.shutdown();
    /// # server.shutdown();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn generate() -> Result<Secret, SecretError> {
        // Zeroed on drop, whatever happens.
        let mut secret = Secret {
            bytes: vec![0; Self::GENERATED_LEN],
        };
        for _ in 0..Self::MAX_DRAWS {
            random::fill(&mut secret.bytes).map_err(SecretError::Random)?;
            if secret.bytes.last() != Some(&b'\n') && strength::weakness(&secret.bytes).is_none() {
                return Ok(secret);
            }
        }
        Err(SecretError::Random(io::Error::other(format!(
            "the random source gave {} unusable keys in a row",
            Self::MAX_DRAWS
        ))))
    }

    /// Makes a secret of `bytes`, which are used as they are, refusing a weak key
    /// ([`KeyCheck::Strong`]).
    ///
    /// # Errors
    ///
    /// [`SecretError::TooShort`] if `bytes` holds fewer than [`Secret::MIN_LEN`] bytes;
    /// [`SecretError::Weak`] if it has a [`Weakness`]. The rejected bytes are zeroed.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{Secret, SecretError};
    ///
    /// // The key's bytes, from wherever the application keeps them: here, 32 random bytes.
    /// let mut bytes = vec![0; 32];
    /// getrandom::fill(&mut bytes).map_err(|e| e.to_string())?;
    /// let secret = Secret::new(bytes)?;
    /// assert!(matches!(Secret::new(b"short".to_vec()), Err(SecretError::TooShort { len: 5 })));
    /// assert!(matches!(Secret::new(b"passwordpassword".to_vec()), Err(SecretError::Weak(_))));
    /// # drop(secret);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(bytes: Vec<u8>) -> Result<Secret, SecretError> {
        Secret::with_check(bytes, KeyCheck::Strong)
    }

    /// Makes a secret of `bytes`, which are used as they are, refusing a weak key unless
    /// `check` is [`KeyCheck::AllowWeak`].
    ///
    /// # Errors
    ///
    /// [`SecretError::TooShort`] if `bytes` holds fewer than [`Secret::MIN_LEN`] bytes;
    /// [`SecretError::Weak`] if it has a [`Weakness`] and `check` is [`KeyCheck::Strong`].
    /// The rejected bytes are zeroed.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{KeyCheck, Secret, SecretError};
    ///
    /// // The key of PROTOCOL.md's test vectors: short text, weak on purpose.
    /// let vectors = b"actor test key 0123456789".to_vec();
    /// assert!(matches!(Secret::new(vectors.clone()), Err(SecretError::Weak(_))));
    /// let secret = Secret::with_check(vectors, KeyCheck::AllowWeak)?;
    /// # drop(secret);
    /// # Ok::<(), SecretError>(())
    /// ```
    pub fn with_check(mut bytes: Vec<u8>, check: KeyCheck) -> Result<Secret, SecretError> {
        let len = bytes.len();
        let refused = if len < Self::MIN_LEN {
            Some(SecretError::TooShort { len })
        } else if check == KeyCheck::Strong {
            strength::weakness(&bytes).map(SecretError::Weak)
        } else {
            None
        };
        match refused {
            Some(error) => {
                bytes.zeroize();
                Err(error)
            }
            None => Ok(Secret { bytes }),
        }
    }

    /// Reads a secret from the file at `path`, refusing a weak key ([`KeyCheck::Strong`]).
    ///
    /// See [`Secret::from_file_with`].
    ///
    /// # Errors
    ///
    /// As [`Secret::from_file_with`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::Secret;
    ///
    /// let path = std::env::temp_dir().join(format!("actor-net-doc-{}.key", std::process::id()));
    /// Secret::generate()?.write_new_file(&path)?;
    /// let from_file = Secret::from_file(&path);
    /// std::fs::remove_file(&path)?;
    /// assert!(from_file.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Secret, SecretError> {
        Secret::from_file_with(path, KeyCheck::Strong)
    }

    /// Reads a secret from the file at `path`, refusing a weak key unless `check` is
    /// [`KeyCheck::AllowWeak`].
    ///
    /// The file's bytes are the key, except that ONE trailing line ending (`"\n"` or `"\r\n"`)
    /// is removed, because text editors add one when they save a file. Any other bytes,
    /// including other whitespace and further line endings, belong to the key. At most
    /// [`Secret::MAX_FILE_LEN`] + 1 bytes are read, so that naming a large file or a device by
    /// mistake fails at once.
    ///
    /// On Unix, if users other than the file's owner may access it (any of the mode bits
    /// `0o077`), a warning naming the file and its mode is logged through `tracing`: they
    /// could read the key, or replace it. `chmod 600 FILE` ends it.
    ///
    /// # Errors
    ///
    /// [`SecretError::Io`] if the file cannot be read; [`SecretError::FileTooLarge`] if it
    /// holds more than [`Secret::MAX_FILE_LEN`] bytes; [`SecretError::TooShort`] if what
    /// remains is shorter than [`Secret::MIN_LEN`]; [`SecretError::Weak`] as for
    /// [`Secret::with_check`]. The bytes read are zeroed on every error.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{KeyCheck, Secret};
    ///
    /// let path = std::env::temp_dir().join(format!("actor-net-doc-{}.txt", std::process::id()));
    /// // A passphrase saved by a text editor: weak, but accepted when asked for.
    /// std::fs::write(&path, "correct horse battery staple\n")?;
    /// let strong = Secret::from_file_with(&path, KeyCheck::Strong);
    /// let allowed = Secret::from_file_with(&path, KeyCheck::AllowWeak);
    /// std::fs::remove_file(&path)?;
    /// assert!(strong.is_err());
    /// assert!(allowed.is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file_with(path: impl AsRef<Path>, check: KeyCheck) -> Result<Secret, SecretError> {
        Secret::with_check(file::read(path.as_ref())?, check)
    }

    /// Reads a secret from the environment variable `var`, whose value is used exactly as it
    /// is, refusing a weak key ([`KeyCheck::Strong`]).
    ///
    /// # Errors
    ///
    /// As [`Secret::from_env_with`].
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
        Secret::from_env_with(var, KeyCheck::Strong)
    }

    /// Reads a secret from the environment variable `var`, whose value is used exactly as it
    /// is, refusing a weak key unless `check` is [`KeyCheck::AllowWeak`].
    ///
    /// # Errors
    ///
    /// [`SecretError::NotSet`] if the variable is not set, [`SecretError::NotUnicode`] if its
    /// value is not valid Unicode, [`SecretError::TooShort`] if it is shorter than
    /// [`Secret::MIN_LEN`] bytes, [`SecretError::Weak`] as for [`Secret::with_check`].
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{KeyCheck, Secret, SecretError};
    ///
    /// let missing = Secret::from_env_with("ACTOR_NET_DOC_SURELY_UNSET_VARIABLE", KeyCheck::AllowWeak);
    /// assert!(matches!(missing, Err(SecretError::NotSet { .. })));
    /// ```
    pub fn from_env_with(var: &str, check: KeyCheck) -> Result<Secret, SecretError> {
        // A value that is not Unicode is dropped without zeroing: it is still in the process
        // environment, so zeroing this copy would not take it out of memory.
        match std::env::var(var) {
            Ok(value) => Secret::with_check(value.into_bytes(), check),
            Err(std::env::VarError::NotPresent) => Err(SecretError::NotSet {
                var: var.to_owned(),
            }),
            Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode {
                var: var.to_owned(),
            }),
        }
    }

    /// Writes the key to a new file at `path`, which only its owner can read and write on
    /// Unix (mode 0600), and flushes it to the disk.
    ///
    /// An existing file is never replaced (nor a symbolic link followed). If writing fails,
    /// the new file is removed. A key from [`Secret::generate`] reads back unchanged with
    /// [`Secret::from_file`]; a key that ends in a line ending would lose it.
    ///
    /// # Errors
    ///
    /// [`SecretError::FileExists`] if something is at `path` already;
    /// [`SecretError::Write`] if the file cannot be created or written.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor_net::{Secret, SecretError};
    ///
    /// let path = std::env::temp_dir().join(format!("actor-net-doc-new-{}.key", std::process::id()));
    /// let secret = Secret::generate()?;
    /// secret.write_new_file(&path)?;
    /// let again = secret.write_new_file(&path);
    /// std::fs::remove_file(&path)?;
    /// assert!(matches!(again, Err(SecretError::FileExists { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_new_file(&self, path: impl AsRef<Path>) -> Result<(), SecretError> {
        file::write_new(path.as_ref(), &self.bytes)
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

/// Why a [`Secret`] could not be made, read or written.
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
/// assert_eq!(
///     err.to_string(),
///     "the shared key has 3 bytes; at least 16 random bytes are required \
///      (`actor-node keygen FILE` writes 32, or `Secret::generate` makes them)"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The key is shorter than [`Secret::MIN_LEN`].
    #[error(
        "the shared key has {len} bytes; at least {min} random bytes are required \
         (`actor-node keygen FILE` writes 32, or `Secret::generate` makes them)",
        min = Secret::MIN_LEN
    )]
    TooShort {
        /// The length of the rejected key.
        len: usize,
    },
    /// The key is obviously weak, and [`KeyCheck::Strong`] was asked for.
    #[error(
        "the shared key is weak ({0}): anyone who sees one handshake can test guesses against \
         it offline, so it must be random (`actor-node keygen FILE` writes one)"
    )]
    Weak(Weakness),
    /// The key file could not be read.
    #[error("cannot read the shared key file {}", path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The error reading it.
        #[source]
        source: io::Error,
    },
    /// The key file holds more than [`Secret::MAX_FILE_LEN`] bytes: it is not a key file.
    #[error("the shared key file {} is larger than {max} bytes: not a key file", path.display())]
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// The largest key file read, [`Secret::MAX_FILE_LEN`].
        max: usize,
    },
    /// A new key file was to be written where a file exists already.
    #[error("{} exists already; a key is never written over a file", path.display())]
    FileExists {
        /// The path of the existing file.
        path: PathBuf,
    },
    /// A new key file could not be created or written.
    #[error("cannot write the key file {}", path.display())]
    Write {
        /// The file that could not be written.
        path: PathBuf,
        /// The error writing it.
        #[source]
        source: io::Error,
    },
    /// The operating system's random source failed.
    #[error("no random key: the operating system's random source failed: {0}")]
    Random(#[source] io::Error),
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
    use std::time::{Duration, Instant};

    use super::*;

    /// A strong key of printable text: 32 distinct characters.
    const KEY: &[u8] = b"0123456789abcdefghijklmnopqrstuv";

    fn temp_path(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!(
            "actor-net-secret-{}-{name}.key",
            std::process::id()
        ))
    }

    fn temp_key_file(name: &str, contents: &[u8]) -> PathBuf {
        let path = temp_path(name);
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
        let with = |tail: &[u8]| [KEY, tail].concat();
        assert_eq!(from_file_bytes("plain", KEY).unwrap(), KEY);
        assert_eq!(from_file_bytes("lf", &with(b"\n")).unwrap(), KEY);
        assert_eq!(from_file_bytes("crlf", &with(b"\r\n")).unwrap(), KEY);
        assert_eq!(
            from_file_bytes("two-lf", &with(b"\n\n")).unwrap(),
            with(b"\n")
        );
        assert_eq!(from_file_bytes("cr", &with(b"\r")).unwrap(), with(b"\r"));
        assert_eq!(
            from_file_bytes("space", &[b" ", KEY, b" \n"].concat()).unwrap(),
            [b" ", KEY, b" "].concat()
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
        let secret = Secret::generate().unwrap();
        let shown = format!("{secret:?} {:?}", secret.clone());
        assert_eq!(shown, "Secret(..) Secret(..)");
    }

    #[test]
    fn the_weak_keys_of_the_finding_are_refused_unless_allowed() {
        for key in [&b"aaaaaaaaaaaaaaaa"[..], b"passwordpassword"] {
            assert!(matches!(
                Secret::new(key.to_vec()),
                Err(SecretError::Weak(Weakness::FewDistinctBytes { .. }))
            ));
            assert!(Secret::with_check(key.to_vec(), KeyCheck::AllowWeak).is_ok());
        }
        let err = Secret::new(b"passwordpassword".to_vec()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("only 7 distinct byte values"), "{message}");
        assert!(message.contains("actor-node keygen"), "{message}");
    }

    #[test]
    fn length_is_checked_even_when_weak_keys_are_allowed() {
        assert!(matches!(
            Secret::with_check(b"aaaaaaaaaaaaaaa".to_vec(), KeyCheck::AllowWeak),
            Err(SecretError::TooShort { len: 15 })
        ));
        // A key both short and weak is told it is short: length comes first.
        assert!(matches!(
            Secret::new(b"aaaa".to_vec()),
            Err(SecretError::TooShort { len: 4 })
        ));
    }

    #[test]
    fn printable_keys_need_32_characters() {
        assert!(matches!(
            Secret::new(KEY[..31].to_vec()),
            Err(SecretError::Weak(Weakness::ShortPrintable { len: 31 }))
        ));
        assert!(Secret::new(KEY[..32].to_vec()).is_ok());
    }

    #[test]
    fn keys_need_8_distinct_byte_values() {
        let key = |distinct: u8| -> Vec<u8> { (0..32).map(|i| 0x80 + i % distinct).collect() };
        assert!(matches!(
            Secret::new(key(7)),
            Err(SecretError::Weak(Weakness::FewDistinctBytes {
                distinct: 7
            }))
        ));
        assert!(Secret::new(key(8)).is_ok());
    }

    #[test]
    fn from_file_refuses_a_weak_key_unless_allowed() {
        let path = temp_key_file("weak", b"passwordpassword\n");
        let strong = Secret::from_file(&path);
        let allowed = Secret::from_file_with(&path, KeyCheck::AllowWeak);
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(strong, Err(SecretError::Weak(_))));
        assert_eq!(allowed.unwrap().expose(), b"passwordpassword");
    }

    #[test]
    fn from_file_refuses_a_file_over_4096_bytes() {
        let contents: Vec<u8> = (0..=255u8).cycle().take(Secret::MAX_FILE_LEN + 1).collect();
        let err = from_file_bytes("large", &contents).unwrap_err();
        assert!(
            matches!(err, SecretError::FileTooLarge { max: 4096, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("larger than 4096 bytes"), "{err}");
        // The limit itself is a key file still.
        let key = from_file_bytes("limit", &contents[..Secret::MAX_FILE_LEN]).unwrap();
        assert_eq!(key.len(), Secret::MAX_FILE_LEN);
    }

    /// `--secret-file /dev/zero` used to read until memory ran out: it is refused after
    /// 4097 bytes.
    #[cfg(unix)]
    #[test]
    fn from_file_of_dev_zero_fails_fast() {
        let started = Instant::now();
        let err = Secret::from_file("/dev/zero").unwrap_err();
        assert!(
            matches!(&err, SecretError::FileTooLarge { path, .. } if path == Path::new("/dev/zero")),
            "{err:?}"
        );
        // A hang guard, not a speed claim.
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn generated_keys_are_strong_and_never_end_in_a_line_feed() {
        let first = Secret::generate().unwrap();
        for _ in 0..4096 {
            let secret = Secret::generate().unwrap();
            let bytes = secret.expose();
            assert_eq!(bytes.len(), Secret::GENERATED_LEN);
            assert_ne!(bytes.last(), Some(&b'\n'));
            assert_eq!(strength::weakness(bytes), None);
            assert_ne!(bytes, first.expose());
        }
    }

    #[test]
    fn write_new_file_round_trips_and_never_overwrites() {
        let path = temp_path("new");
        let _ = std::fs::remove_file(&path);
        let secret = Secret::generate().unwrap();
        secret.write_new_file(&path).unwrap();
        let written = std::fs::read(&path).unwrap();
        let other = Secret::generate().unwrap();
        let again = other.write_new_file(&path);
        let after = std::fs::read(&path).unwrap();
        let read_back = Secret::from_file(&path).unwrap();
        #[cfg(unix)]
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
        };
        std::fs::remove_file(&path).unwrap();

        assert_eq!(written, secret.expose());
        assert_eq!(read_back.expose(), secret.expose());
        assert!(
            matches!(&again, Err(SecretError::FileExists { path: p }) if *p == path),
            "{again:?}"
        );
        assert_eq!(after, written, "the existing file is unchanged");
        #[cfg(unix)]
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn write_new_file_reports_a_missing_directory() {
        let path = temp_path("no-such-dir").join("key");
        let err = Secret::generate()
            .unwrap()
            .write_new_file(&path)
            .unwrap_err();
        assert!(matches!(&err, SecretError::Write { path: p, .. } if *p == path));
        assert!(std::error::Error::source(&err).is_some());
    }
}
