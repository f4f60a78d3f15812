//! `actor-node serve`: a node exporting the echo and time actors, and the classic listeners.

use std::io::{self, Write};
use std::net::ToSocketAddrs;
use std::time::Duration;

use actor_core::System;
use actor_net::services::{Protocol, ServiceSet};
use actor_net::{Node, NodeBuilder};
use clap::Args;

use crate::error::CliError;
use crate::key::KeyArgs;
use crate::stop_signals::StopSignals;

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where the node listens for other nodes (port 0: any free port)
    #[arg(long, value_name = "ADDR")]
    listen: String,
    /// The name the node gives its peers
    #[arg(long, value_name = "NAME", default_value = "actor-node")]
    name: String,
    /// The name the echo actor is exported under
    #[arg(long, value_name = "NAME", default_value = "echo")]
    echo_name: String,
    /// The name the time actor is exported under
    #[arg(long, value_name = "NAME", default_value = "time")]
    time_name: String,
    /// Join the cluster of the member at ADDR (repeat for more seeds). Without it, a node
    /// that listens on a specific address starts a cluster of its own, which others may join
    #[arg(long, value_name = "ADDR")]
    join: Vec<String>,
    /// Echo over TCP (RFC 862) on ADDR
    #[arg(long, value_name = "ADDR")]
    echo_tcp: Option<String>,
    /// Echo over UDP (RFC 862) on ADDR
    #[arg(long, value_name = "ADDR")]
    echo_udp: Option<String>,
    /// Daytime over TCP (RFC 867) on ADDR
    #[arg(long, value_name = "ADDR")]
    daytime_tcp: Option<String>,
    /// Daytime over UDP (RFC 867) on ADDR
    #[arg(long, value_name = "ADDR")]
    daytime_udp: Option<String>,
    /// Time over TCP (RFC 868) on ADDR
    #[arg(long, value_name = "ADDR")]
    time_tcp: Option<String>,
    /// Time over UDP (RFC 868) on ADDR
    #[arg(long, value_name = "ADDR")]
    time_udp: Option<String>,
    /// The authenticated echo (HMAC-SHA256 challenge under the shared key) on ADDR
    #[arg(long, value_name = "ADDR")]
    auth_echo: Option<String>,
    /// Live connections allowed per classic TCP listener; the excess is refused
    #[arg(
        long,
        value_name = "N",
        default_value_t = 64,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    max_connections: u32,
    /// Live connections allowed per classic TCP listener from one source address
    #[arg(
        long,
        value_name = "N",
        default_value_t = 8,
        value_parser = clap::value_parser!(u32).range(1..)
    )]
    max_connections_per_source: u32,
    /// Seconds a classic TCP connection may stay open in all, however busy
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 120,
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    connection_deadline: u64,
    /// Datagrams each classic UDP listener answers at once to one source address
    #[arg(long, value_name = "N", default_value_t = 32)]
    udp_burst: u32,
    /// Datagrams a second each classic UDP listener answers to one source address over time
    #[arg(long, value_name = "N", default_value_t = 64)]
    udp_rate: u32,
    #[command(flatten)]
    handshakes: HandshakeArgs,
    #[command(flatten)]
    flow: FlowArgs,
    #[command(flatten)]
    key: KeyArgs,
}

/// The node's limits on connections in their handshake (PROTOCOL.md, "Connection limits");
/// each left out keeps the library's default.
#[derive(Debug, Args)]
struct HandshakeArgs {
    /// Connections from peers allowed in their handshake at once; the excess is told BUSY [default: 256]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_handshakes: Option<u32>,
    /// Connections in their handshake allowed at once from one source address (an IPv6 /64
    /// counts as one); the excess is told BUSY [default: 8]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    max_handshakes_per_source: Option<u32>,
    /// Seconds a peer has to finish its handshake [default: 5]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    handshake_timeout: Option<u64>,
}

impl HandshakeArgs {
    /// `builder` with the limits given on the command line.
    fn apply(&self, mut builder: NodeBuilder) -> NodeBuilder {
        if let Some(n) = self.max_handshakes {
            builder = builder.max_handshaking(n as usize);
        }
        if let Some(n) = self.max_handshakes_per_source {
            builder = builder.max_handshaking_per_source(n as usize);
        }
        if let Some(seconds) = self.handshake_timeout {
            builder = builder.handshake_timeout(Duration::from_secs(seconds));
        }
        builder
    }
}

/// The node's flow-control limits (PROTOCOL.md, "Flow control"); each left out keeps the
/// library's default.
#[derive(Debug, Args)]
struct FlowArgs {
    /// Messages one connection may have in flight towards local actors [default: 1024]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    inbound_messages: Option<u32>,
    /// Bytes one connection may have in flight towards local actors [default: 8388608]
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..))]
    inbound_bytes: Option<u32>,
    /// Bytes all connections together may have received and not yet handled (at least the
    /// largest frame, 1 MiB) [default: 67108864]
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..))]
    inbound_total_bytes: Option<u32>,
    /// Messages that may wait for one connection's writer [default: 8192]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    outbound_messages: Option<u32>,
    /// Bytes that may wait for one connection's writer [default: 8388608]
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..))]
    outbound_bytes: Option<u32>,
    /// The bounded mailbox of the echo and time actors, for messages from peers [default: 1024]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    export_mailbox: Option<u32>,
    /// Seconds a connection may stay blocked waiting for room before it is closed [default: 10]
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    blocked_timeout: Option<u64>,
}

impl FlowArgs {
    /// `builder` with the limits given on the command line.
    fn apply(&self, mut builder: NodeBuilder) -> NodeBuilder {
        if let Some(n) = self.inbound_messages {
            builder = builder.inbound_messages(n as usize);
        }
        if let Some(n) = self.inbound_bytes {
            builder = builder.inbound_bytes(n as usize);
        }
        if let Some(n) = self.inbound_total_bytes {
            builder = builder.inbound_total_bytes(n as usize);
        }
        if let Some(n) = self.outbound_messages {
            builder = builder.outbound_messages(n as usize);
        }
        if let Some(n) = self.outbound_bytes {
            builder = builder.outbound_bytes(n as usize);
        }
        if let Some(n) = self.export_mailbox {
            builder = builder.export_mailbox(n as usize);
        }
        if let Some(seconds) = self.blocked_timeout {
            builder = builder.blocked_timeout(Duration::from_secs(seconds));
        }
        builder
    }
}

/// Whether `listen` resolves to an address other than `0.0.0.0` or `::`.
fn listens_on_a_specific_address(listen: &str) -> bool {
    listen
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| !addr.ip().is_unspecified())
}

/// Starts the node and the listeners, prints their addresses, and serves until SIGTERM or
/// SIGINT; then says goodbye to every peer, stops, and returns `Ok`.
///
/// The shutdown sequence: the node first (it stops accepting, sends GOODBYE on every
/// connection after what is queued, and joins its threads), so that peers see the remote
/// actors stop rather than the connection fail; then the classic listeners and the echo and
/// time actors; then the actor system.
pub(crate) fn serve(args: ServeArgs) -> Result<(), CliError> {
    // Caught from before the address is printed: once anyone can reach the node, a signal
    // stops it cleanly instead of killing it.
    let mut signals = StopSignals::catch().map_err(CliError::Signals)?;
    let secret = args.key.secret()?;
    let listeners = [
        (Protocol::EchoTcp, args.echo_tcp),
        (Protocol::EchoUdp, args.echo_udp),
        (Protocol::DaytimeTcp, args.daytime_tcp),
        (Protocol::DaytimeUdp, args.daytime_udp),
        (Protocol::TimeTcp, args.time_tcp),
        (Protocol::TimeUdp, args.time_udp),
        (Protocol::AuthEcho, args.auth_echo),
    ];
    let mut builder = ServiceSet::builder()
        // The authenticated echo's clients prove they hold the node's key.
        .secret(secret.clone())
        .max_connections(args.max_connections as usize)
        .max_connections_per_source(args.max_connections_per_source as usize)
        .connection_deadline(Duration::from_secs(args.connection_deadline))
        .udp_rate_limit(args.udp_burst, args.udp_rate);
    for (protocol, addr) in listeners {
        if let Some(addr) = addr {
            builder = builder.listen(protocol, addr);
        }
    }
    let system = System::new();
    let mut node_builder = args
        .flow
        .apply(args.handshakes.apply(Node::builder(secret)))
        .encryption(args.key.encryption())
        .name(args.name)
        .listen(args.listen.clone())
        .system(&system);
    // A member must listen where others can reach it: a node on 0.0.0.0 joins no cluster
    // unless told to (and then fails with the reason).
    if !args.join.is_empty() || listens_on_a_specific_address(&args.listen) {
        node_builder = node_builder.join(args.join);
    }
    let node = node_builder.build().map_err(|source| CliError::Node {
        addr: args.listen,
        source: Box::new(source),
    })?;
    let services = builder.build(&system)?;
    services
        .export_as(&node, &args.echo_name, &args.time_name)
        .map_err(|e| CliError::Export(Box::new(e)))?;
    let node_addr = node
        .local_addr()
        .expect("invariant: a node built with an address listens");

    let mut out = io::stdout().lock();
    writeln!(out, "{node_addr}")?;
    for (protocol, addr) in services.listeners() {
        writeln!(out, "{protocol} {addr}")?;
    }
    out.flush()?;
    drop(out);
    if let Some(id) = node.node_id() {
        tracing::info!(%id, "cluster member");
    }
    tracing::info!(addr = %node_addr, "serving the echo and time actors; stop with Ctrl-C");
    let signal = signals.wait();
    tracing::info!(signal, "stopping: saying goodbye to the peers");
    node.shutdown();
    services.shutdown();
    system.shutdown();
    tracing::info!("stopped");
    Ok(())
}
