//! [`ClusterSettings`], the timing of membership and failure detection, and
//! [`ClusterError`], why a node cannot be a member as configured.

use std::net::SocketAddr;
use std::num::{NonZeroU8, NonZeroUsize};
use std::time::Duration;

/// The largest membership payload (foca's packet), so that a sealed datagram fits an
/// Ethernet frame: 1400 + 53 bytes of wrapping + 28 of IP and UDP headers < 1500.
pub const MAX_PAYLOAD: usize = 1400;

/// The timing of membership and failure detection. The defaults suit a LAN or loopback.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor_net::ClusterSettings;
///
/// let settings = ClusterSettings {
///     suspect_timeout: Duration::from_secs(2),
///     ..ClusterSettings::default()
/// };
/// assert_eq!(settings.probe_interval, Duration::from_millis(150));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterSettings {
    /// How often a member probes another. Default 150 ms.
    pub probe_interval: Duration,
    /// How long a probe waits for its answer before others are asked to probe too; must be
    /// shorter than `probe_interval`. Default 60 ms.
    pub probe_timeout: Duration,
    /// How many others are asked to probe a member that did not answer. Default 3.
    pub indirect_probes: usize,
    /// How long a suspected member has to refute the suspicion before it is declared down.
    /// Default 400 ms.
    pub suspect_timeout: Duration,
    /// How often a member announces itself to members it sees as down, so that two sides of
    /// a healed partition find each other again. Default 2 s.
    pub rejoin_interval: Duration,
    /// How long a member declared down (or left) stays listed. Default 60 s.
    pub forget_down_after: Duration,
}

impl Default for ClusterSettings {
    fn default() -> Self {
        ClusterSettings {
            probe_interval: Duration::from_millis(150),
            probe_timeout: Duration::from_millis(60),
            indirect_probes: 3,
            suspect_timeout: Duration::from_millis(400),
            rejoin_interval: Duration::from_secs(2),
            forget_down_after: Duration::from_secs(60),
        }
    }
}

impl ClusterSettings {
    /// The settings as foca takes them.
    pub(crate) fn foca_config(&self) -> foca::Config {
        let one = NonZeroUsize::MIN;
        foca::Config {
            probe_period: self.probe_interval,
            probe_rtt: self.probe_timeout,
            num_indirect_probes: NonZeroUsize::new(self.indirect_probes).unwrap_or(one),
            // Each update is sent 8 times: enough for clusters of up to about 100 members
            // (foca's rule is 4 log10(n + 1)).
            max_transmissions: NonZeroU8::new(8).unwrap_or(NonZeroU8::MIN),
            suspect_to_down_after: self.suspect_timeout,
            remove_down_after: Some(self.forget_down_after),
            max_packet_size: NonZeroUsize::new(MAX_PAYLOAD).unwrap_or(one),
            notify_down_members: true,
            periodic_announce: Some(foca::PeriodicParams {
                frequency: Duration::from_secs(5),
                num_members: one,
            }),
            periodic_announce_to_down_members: Some(foca::PeriodicParams {
                frequency: self.rejoin_interval,
                num_members: NonZeroUsize::new(2).unwrap_or(one),
            }),
            periodic_gossip: Some(foca::PeriodicParams {
                frequency: Duration::from_millis(100),
                num_members: NonZeroUsize::new(3).unwrap_or(one),
            }),
        }
    }

    /// Checks the settings foca would refuse.
    pub(crate) fn check(&self) -> Result<(), ClusterError> {
        if self.probe_timeout.is_zero() || self.probe_timeout >= self.probe_interval {
            return Err(ClusterError::ProbeTimeout);
        }
        Ok(())
    }
}

/// Why a node cannot be a cluster member as configured.
///
/// # Examples
///
/// ```
/// use actor_net::ClusterError;
///
/// assert_eq!(
///     ClusterError::NotListening.to_string(),
///     "a cluster member must listen: call NodeBuilder::listen"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// Members reach each other at their listen address; this node does not listen.
    #[error("a cluster member must listen: call NodeBuilder::listen")]
    NotListening,
    /// The node listens on an unspecified address (such as `0.0.0.0`), which other members
    /// cannot reach.
    #[error("a cluster member must listen on an address others can reach, not {0}")]
    UnspecifiedAddress(SocketAddr),
    /// [`ClusterSettings::probe_timeout`] is zero or not below the probe interval.
    #[error("the probe timeout must be above zero and below the probe interval")]
    ProbeTimeout,
    /// The actor system has an exchange `cluster.members` of another message type.
    #[error("the exchange cluster.members exists with another message type")]
    MembersExchange,
    /// What was asked needs a cluster, and this node did not join one.
    #[error("this node is not a cluster member: call NodeBuilder::join")]
    NotMember,
}
