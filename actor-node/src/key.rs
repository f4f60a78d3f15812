//! The shared key: where the command line and the environment say to find it, and reading it.

use std::path::PathBuf;

use actor_net::handshake::Encryption;
use actor_net::{KeyCheck, Secret, SecretError};
use clap::Args;

use crate::error::CliError;

/// The environment variable naming the key file, when `--secret-file` is not given.
pub(crate) const SECRET_FILE_VAR: &str = "ACTOR_SECRET_FILE";
/// The environment variable holding the key itself, when no key file is named.
pub(crate) const SECRET_VAR: &str = "ACTOR_SECRET";

/// Shown after every command's help, since every command needs the key.
pub(crate) const KEY_HELP: &str = "\
The shared key is read from --secret-file FILE; without it, from the file named by the \
ACTOR_SECRET_FILE environment variable; without that, from the value of the ACTOR_SECRET \
environment variable. One trailing line ending of a key file is not part of the key. Only nodes \
with the same key can talk to each other.

The key must be random: anyone who sees or opens one handshake can test guesses against it \
offline. `actor-node keygen FILE` writes a new random key to FILE, readable by its owner only. \
A key shorter than 16 bytes is refused; so is an obviously weak one (fewer than 8 distinct byte \
values, or text shorter than 32 characters) unless --allow-weak-key is given. A key file that \
other users may access is used with a warning; one larger than 4096 bytes is refused.

Logs go to standard error; RUST_LOG sets their level (by default, info).";

#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// The file holding the shared key (see below)
    #[arg(long, value_name = "FILE", env = SECRET_FILE_VAR, global = true)]
    secret_file: Option<PathBuf>,
    /// Accept a weak key (a password): anyone who sees one handshake can test guesses offline
    #[arg(long, global = true)]
    allow_weak_key: bool,
    /// Encrypt sessions: off, preferred (encrypt unless the peer has it off) or required
    /// (refuse a peer that has it off)
    #[arg(long, value_name = "MODE", default_value_t = Encryption::Preferred, global = true)]
    encrypt: Encryption,
}

impl KeyArgs {
    /// Whether sessions are encrypted (`--encrypt`).
    pub(crate) fn encryption(&self) -> Encryption {
        self.encrypt
    }

    /// The shared key, from the first of: `--secret-file` (or `ACTOR_SECRET_FILE`, which clap
    /// reads into the same option), `ACTOR_SECRET`; a weak one only with `--allow-weak-key`.
    pub(crate) fn secret(&self) -> Result<Secret, CliError> {
        let check = if self.allow_weak_key {
            KeyCheck::AllowWeak
        } else {
            KeyCheck::Strong
        };
        let secret = match &self.secret_file {
            Some(path) => Secret::from_file_with(path, check),
            None => match Secret::from_env_with(SECRET_VAR, check) {
                Err(SecretError::NotSet { .. }) => return Err(CliError::NoKey),
                other => other,
            },
        };
        secret.map_err(|error| match error {
            SecretError::Weak(_) => CliError::WeakKey(error),
            error => CliError::Key(error),
        })
    }
}
