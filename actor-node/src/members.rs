//! `actor-node members`: asks a cluster member who is in its cluster, and prints one line per
//! member.

use std::io::{self, Write};
use std::time::Instant;

use actor_net::cluster::{CLUSTER, ClusterMsg};
use clap::Args;

use crate::call::ClientArgs;
use crate::error::CliError;

#[derive(Debug, Args)]
pub(crate) struct MembersArgs {
    /// The address of a cluster member
    #[arg(value_name = "ADDR")]
    addr: String,
    #[command(flatten)]
    client: ClientArgs,
}

/// Asks the member's `cluster` actor for the members and prints them, one per line:
/// `<node id> <address> <state>`, the asked node first.
pub(crate) fn members(args: MembersArgs) -> Result<(), CliError> {
    let (node, deadline) = args.client.connect()?;
    let cluster = node
        .lookup::<ClusterMsg>(args.addr.as_str(), CLUSTER)
        .map_err(|source| CliError::Lookup {
            actor: CLUSTER.to_owned(),
            addr: args.addr.clone(),
            source: Box::new(source),
        })?;
    let members = cluster
        .ask(
            ClusterMsg::Members,
            deadline.saturating_duration_since(Instant::now()),
        )
        .map_err(|source| CliError::Ask {
            actor: CLUSTER.to_owned(),
            source,
        })?;
    node.shutdown();
    let mut out = io::stdout().lock();
    for member in members {
        // Ids, addresses and states are printed by this program's own code: nothing to escape.
        writeln!(out, "{member}")?;
    }
    out.flush()?;
    Ok(())
}
