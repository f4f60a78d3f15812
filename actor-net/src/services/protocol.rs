//! [`Protocol`]: the classic protocols a [`ServiceSet`](super::ServiceSet) answers.

use std::fmt;

/// One of the classic listeners a [`ServiceSet`](super::ServiceSet) can open.
///
/// # Examples
///
/// ```
/// use actor_net::services::Protocol;
///
/// assert_eq!(Protocol::DaytimeUdp.to_string(), "daytime-udp");
/// assert!(Protocol::TimeUdp.is_udp());
/// assert_eq!(Protocol::ALL.len(), 7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Protocol {
    /// Echo over TCP (RFC 862): every byte received is sent back, until the client closes.
    EchoTcp,
    /// Echo over UDP (RFC 862): each datagram is sent back.
    EchoUdp,
    /// Daytime over TCP (RFC 867): one line with the local time, then the server closes.
    DaytimeTcp,
    /// Daytime over UDP (RFC 867): any datagram is answered with the line.
    DaytimeUdp,
    /// Time over TCP (RFC 868): 4 bytes, seconds since 1900 (big-endian), then the server
    /// closes.
    TimeTcp,
    /// Time over UDP (RFC 868): any datagram is answered with the 4 bytes.
    TimeUdp,
    /// The authenticated echo over TCP: the server sends 32 random bytes, the client answers
    /// with their HMAC-SHA256 under the shared key, then bytes are echoed until the client
    /// closes. A wrong answer closes the connection.
    AuthEcho,
}

impl Protocol {
    /// Every protocol, in the order of the variants.
    ///
    /// # Examples
    ///
    /// See [`Protocol`].
    pub const ALL: [Protocol; 7] = [
        Protocol::EchoTcp,
        Protocol::EchoUdp,
        Protocol::DaytimeTcp,
        Protocol::DaytimeUdp,
        Protocol::TimeTcp,
        Protocol::TimeUdp,
        Protocol::AuthEcho,
    ];

    /// The protocol's name, as in logs and in `actor-node`'s flags: `echo-tcp`, `echo-udp`,
    /// `daytime-tcp`, `daytime-udp`, `time-tcp`, `time-udp`, `auth-echo`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(actor_net::services::Protocol::AuthEcho.name(), "auth-echo");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Protocol::EchoTcp => "echo-tcp",
            Protocol::EchoUdp => "echo-udp",
            Protocol::DaytimeTcp => "daytime-tcp",
            Protocol::DaytimeUdp => "daytime-udp",
            Protocol::TimeTcp => "time-tcp",
            Protocol::TimeUdp => "time-udp",
            Protocol::AuthEcho => "auth-echo",
        }
    }

    /// Whether the protocol runs over UDP (else over TCP).
    ///
    /// # Examples
    ///
    /// See [`Protocol`].
    #[must_use]
    pub fn is_udp(self) -> bool {
        matches!(
            self,
            Protocol::EchoUdp | Protocol::DaytimeUdp | Protocol::TimeUdp
        )
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
