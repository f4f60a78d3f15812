//! The message type that the `remote_lookup` server and client share.
//!
//! In a real deployment this file is a small crate (say `myapp-protocol`) that both programs
//! depend on. What makes the two sides agree is the declared identity below, `example.calc`
//! version 1, not the Rust path of the type: a program that defines its own copy of
//! `CalcMsg` with the same layout and the same `impl RemoteMessage` can talk to them too.

use actor::net::RemoteMessage;
use actor::prelude::*;
use serde::{Deserialize, Serialize};

/// What the calculator takes.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum CalcMsg {
    /// Adds a number to the running total.
    Add(i64),
    /// Multiplies two numbers; answers the product.
    Mul(i64, i64, Reply<i64>),
    /// Answers the running total.
    Total(Reply<i64>),
}

// Bump VERSION when the layout of `CalcMsg` changes incompatibly (a variant added, removed,
// reordered or retyped): old peers then fail at lookup with a typed error naming both
// identities, instead of exchanging messages that do not decode.
impl RemoteMessage for CalcMsg {
    const NAME: &'static str = "example.calc";
    const VERSION: u32 = 1;
}

/// The name the server exports the calculator under.
pub(crate) const EXPORT: &str = "calc";
