//! [`Line`]: what a member process tells the measuring process, one line on its stdout each;
//! and [`TRAFFIC_REQUEST`], the one line it reads on its stdin.
//!
//! | line                                         | when                                      |
//! |----------------------------------------------|-------------------------------------------|
//! | `node <id> <addr>`                           | first, once the member's node is built    |
//! | `change <ns> <id> <addr> <state>`            | the member published a change of a member |
//! | `traffic <ns> <sent> <received> <refused>`   | the answer to a [`TRAFFIC_REQUEST`]       |
//!
//! `<ns>` is the member's reading of [`now_ns`](super::clock::now_ns) when it published the
//! change or read its counters; `<id>` a node id (16 hex digits), `<addr>` a socket address,
//! `<state>` one of `up`, `suspect`, `down`, `left`. The end of the member's stdin tells it to
//! leave the cluster and exit.

use std::fmt;
use std::net::SocketAddr;

use actor_net::{ClusterMember, MemberState, NodeId};

use crate::error::{BenchError, BenchResult};

/// The line that asks a member for its membership traffic counters.
pub(super) const TRAFFIC_REQUEST: &str = "traffic";

/// A member's membership traffic counters ([`actor_net::Node::membership_traffic`]) at one
/// moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Traffic {
    /// When they were read, on the shared clock.
    pub(super) at_ns: u64,
    /// Bytes of membership datagrams sent so far.
    pub(super) sent: u64,
    /// Bytes of membership datagrams received so far.
    pub(super) received: u64,
    /// Datagrams refused so far (not sealed with the key, or replayed).
    pub(super) refused: u64,
}

/// One line of a member process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Line {
    /// The member's node is up: its id and where it listens.
    Started {
        /// The member's node id.
        id: NodeId,
        /// Its TCP and UDP address.
        addr: SocketAddr,
    },
    /// The member published `member`'s new state on `cluster.members` at `at_ns`.
    Change {
        /// When, on the shared clock.
        at_ns: u64,
        /// The member whose state changed, with its new state.
        member: ClusterMember,
    },
    /// The answer to a [`TRAFFIC_REQUEST`].
    Traffic(Traffic),
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Started { id, addr } => write!(f, "node {id} {addr}"),
            // `ClusterMember` displays as `<id> <addr> <state>`.
            Line::Change { at_ns, member } => write!(f, "change {at_ns} {member}"),
            Line::Traffic(t) => write!(
                f,
                "traffic {} {} {} {}",
                t.at_ns, t.sent, t.received, t.refused
            ),
        }
    }
}

impl Line {
    /// Reads a line written by [`Display`](fmt::Display), without its line end.
    ///
    /// # Errors
    ///
    /// A [`BenchError::Peer`] quoting a line that is none of the three.
    pub(super) fn parse(text: &str) -> BenchResult<Line> {
        let fields: Vec<&str> = text.split(' ').collect();
        let line = match fields[..] {
            ["node", id, addr] => parse_id(id)
                .zip(addr.parse().ok())
                .map(|(id, addr)| Line::Started { id, addr }),
            ["change", at_ns, id, addr, state] => (|| {
                Some(Line::Change {
                    at_ns: at_ns.parse().ok()?,
                    member: ClusterMember {
                        id: parse_id(id)?,
                        addr: addr.parse().ok()?,
                        state: parse_state(state)?,
                    },
                })
            })(),
            ["traffic", at_ns, sent, received, refused] => (|| {
                Some(Line::Traffic(Traffic {
                    at_ns: at_ns.parse().ok()?,
                    sent: sent.parse().ok()?,
                    received: received.parse().ok()?,
                    refused: refused.parse().ok()?,
                }))
            })(),
            _ => None,
        };
        line.ok_or_else(|| BenchError::peer(format!("wrote {text:?}, not a line of W8")))
    }
}

fn parse_id(text: &str) -> Option<NodeId> {
    text.parse().ok()
}

/// The state a [`MemberState`] displays as.
fn parse_state(text: &str) -> Option<MemberState> {
    [
        MemberState::Up,
        MemberState::Suspect,
        MemberState::Down,
        MemberState::Left,
    ]
    .into_iter()
    .find(|state| state.to_string() == text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(line: Line) {
        let text = line.to_string();
        assert_eq!(Line::parse(&text).unwrap(), line, "{text}");
    }

    #[test]
    fn every_line_reads_back() {
        let id = NodeId::from_u64(0x0123_4567_89ab_cdef);
        let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        round_trip(Line::Started { id, addr });
        for state in [
            MemberState::Up,
            MemberState::Suspect,
            MemberState::Down,
            MemberState::Left,
        ] {
            round_trip(Line::Change {
                at_ns: 123_456_789,
                member: ClusterMember { id, addr, state },
            });
        }
        round_trip(Line::Traffic(Traffic {
            at_ns: 1,
            sent: 2,
            received: 3,
            refused: 4,
        }));
    }

    #[test]
    fn the_lines_are_as_documented() {
        let member = ClusterMember {
            id: NodeId::from_u64(1),
            addr: "127.0.0.1:7000".parse().unwrap(),
            state: MemberState::Down,
        };
        assert_eq!(
            Line::Change { at_ns: 5, member }.to_string(),
            "change 5 0000000000000001 127.0.0.1:7000 down"
        );
    }

    #[test]
    fn other_lines_are_refused() {
        for text in [
            "",
            "node",
            "node 1 127.0.0.1:7000",
            "node 0000000000000001 nowhere",
            "change x 0000000000000001 127.0.0.1:7000 up",
            "change 5 0000000000000001 127.0.0.1:7000 gone",
            "traffic 1 2 3",
            "traffic 1 2 3 4 5",
            "hello",
        ] {
            assert!(Line::parse(text).is_err(), "{text:?}");
        }
    }
}
