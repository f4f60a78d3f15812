//! `actor-node keygen`: writes a new random key to a file that only its owner can read.

use std::io::{self, Write};
use std::path::PathBuf;

use actor_net::Secret;
use clap::Args;

use crate::error::CliError;

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The new key file; an existing file is never written over
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

/// Writes [`Secret::GENERATED_LEN`] random bytes to a new file (mode 0600 on Unix), and says
/// so on one line.
pub(crate) fn keygen(args: KeygenArgs) -> Result<(), CliError> {
    let secret = Secret::generate().map_err(CliError::Keygen)?;
    secret
        .write_new_file(&args.file)
        .map_err(CliError::Keygen)?;
    let mode = if cfg!(unix) { " (mode 0600)" } else { "" };
    writeln!(
        io::stdout().lock(),
        "wrote a new {}-byte key to {}{mode}",
        Secret::GENERATED_LEN,
        args.file.display()
    )?;
    Ok(())
}
