//! The shared key: where the command line and the environment say to find it, and reading it.

use std::path::PathBuf;

use actor_net::{Secret, SecretError};
use clap::Args;

use crate::error::CliError;

/// The environment variable naming the key file, when `--secret-file` is not given.
pub(crate) const SECRET_FILE_VAR: &str = "ACTOR_SECRET_FILE";
/// The environment variable holding the key itself, when no key file is named.
pub(crate) const SECRET_VAR: &str = "ACTOR_SECRET";

/// Shown after every command's help, since every command needs the key.
pub(crate) const KEY_HELP: &str = "\
The shared key (at least 16 bytes) is read from --secret-file FILE; without it, from the file \
named by the ACTOR_SECRET_FILE environment variable; without that, from the value of the \
ACTOR_SECRET environment variable. One trailing line ending of a key file is not part of the \
key. Only nodes with the same key can talk to each other.

Logs go to standard error; RUST_LOG sets their level (by default, info).";

#[derive(Debug, Args)]
pub(crate) struct KeyArgs {
    /// The file holding the shared key (see below)
    #[arg(long, value_name = "FILE", env = SECRET_FILE_VAR, global = true)]
    secret_file: Option<PathBuf>,
}

impl KeyArgs {
    /// The shared key, from the first of: `--secret-file` (or `ACTOR_SECRET_FILE`, which clap
    /// reads into the same option), `ACTOR_SECRET`.
    pub(crate) fn secret(&self) -> Result<Secret, CliError> {
        match &self.secret_file {
            Some(path) => Secret::from_file(path).map_err(CliError::Key),
            None => match Secret::from_env(SECRET_VAR) {
                Ok(secret) => Ok(secret),
                Err(SecretError::NotSet { .. }) => Err(CliError::NoKey),
                Err(error) => Err(CliError::Key(error)),
            },
        }
    }
}
