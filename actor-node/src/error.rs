//! [`CliError`]: what can go wrong in a command, as told to the user.

use std::io;

use actor_core::AskError;
use actor_net::services::ServiceError;
use actor_net::{NetError, SecretError};

use crate::key::{SECRET_FILE_VAR, SECRET_VAR};

/// What can go wrong, as told to the user: `main` prints it with its causes on one line.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("no shared key: give --secret-file FILE, or set {SECRET_FILE_VAR} or {SECRET_VAR}")]
    NoKey,
    #[error("unusable shared key: {0}")]
    Key(#[source] SecretError),
    #[error("unusable shared key (--allow-weak-key accepts a weak one): {0}")]
    WeakKey(#[source] SecretError),
    #[error("cannot make a new key: {0}")]
    Keygen(#[source] SecretError),
    // `NetError` is large: boxed, so that every `Result` here stays small.
    #[error("cannot start the node on {addr}: {source}")]
    Node {
        addr: String,
        #[source]
        source: Box<NetError>,
    },
    #[error("cannot start the client node: {0}")]
    Client(#[source] Box<NetError>),
    #[error("cannot start the services: {0}")]
    Services(#[from] ServiceError),
    #[error("cannot export the services: {0}")]
    Export(#[source] Box<NetError>),
    #[error("cannot reach the {actor} actor at {addr}: {source}")]
    Lookup {
        actor: String,
        addr: String,
        #[source]
        source: Box<NetError>,
    },
    #[error("the {actor} actor did not answer: {source}")]
    Ask {
        actor: String,
        #[source]
        source: AskError,
    },
    #[error("cannot subscribe to {pattern:?} at {addr}: {source}")]
    Subscribe {
        addr: String,
        pattern: String,
        #[source]
        source: Box<NetError>,
    },
    #[error("the connection to {0} was lost")]
    Lost(String),
    #[error("cannot catch SIGTERM and SIGINT: {0}")]
    Signals(#[source] io::Error),
    #[error("cannot write to standard output: {0}")]
    Output(#[from] io::Error),
}
