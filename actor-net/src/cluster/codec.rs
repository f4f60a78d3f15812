//! The membership protocol's encoding of identities, headers and member updates
//! (PROTOCOL.md, "Cluster membership"). Decoding trusts nothing: every read checks what is
//! left, and every value outside its range is an error.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bytes::{Buf, BufMut};
use foca::{Header, Member, Message, State};

use super::identity::{Identity, NodeId};

/// Why a membership payload does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The payload ends inside a field.
    #[error("membership payload cut short")]
    Short,
    /// An identity's address family is neither 4 nor 6.
    #[error("unknown address family {0}")]
    Family(u8),
    /// A header's kind is not one of the 11.
    #[error("unknown membership message kind {0}")]
    Kind(u8),
    /// A member update's state is not 0, 1 or 2.
    #[error("unknown member state {0}")]
    State(u8),
    /// No room left in the payload for one more member update.
    #[error("no room for a member update")]
    NoRoom,
}

/// The codec foca runs with.
#[derive(Debug, Default)]
pub struct Codec;

/// A member update's length but for its address: id, start, rejoins, family, port,
/// incarnation and state.
const UPDATE_LEN: usize = 8 + 8 + 2 + 1 + 2 + 2 + 1;

const FAMILY_V4: u8 = 4;
const FAMILY_V6: u8 = 6;

/// The kinds of membership message, as their code on the wire.
const PING: u8 = 1;
const ACK: u8 = 2;
const PING_REQ: u8 = 3;
const INDIRECT_PING: u8 = 4;
const INDIRECT_ACK: u8 = 5;
const FORWARDED_ACK: u8 = 6;
const ANNOUNCE: u8 = 7;
const FEED: u8 = 8;
const GOSSIP: u8 = 9;
const BROADCAST: u8 = 10;
const TURN_UNDEAD: u8 = 11;

fn need(buf: &impl Buf, len: usize) -> Result<(), CodecError> {
    if buf.remaining() < len {
        Err(CodecError::Short)
    } else {
        Ok(())
    }
}

fn get_u8(buf: &mut impl Buf) -> Result<u8, CodecError> {
    need(buf, 1)?;
    Ok(buf.get_u8())
}

fn get_u16(buf: &mut impl Buf) -> Result<u16, CodecError> {
    need(buf, 2)?;
    Ok(buf.get_u16())
}

fn get_u64(buf: &mut impl Buf) -> Result<u64, CodecError> {
    need(buf, 8)?;
    Ok(buf.get_u64())
}

/// Appends `identity` to `buf`: id, start, rejoins, address family, address and port.
pub fn put_identity(buf: &mut impl BufMut, identity: &Identity) {
    buf.put_u64(identity.id.as_u64());
    buf.put_u64(identity.started_ms);
    buf.put_u16(identity.rejoins);
    match identity.addr.ip() {
        IpAddr::V4(ip) => {
            buf.put_u8(FAMILY_V4);
            buf.put_slice(&ip.octets());
        }
        IpAddr::V6(ip) => {
            buf.put_u8(FAMILY_V6);
            buf.put_slice(&ip.octets());
        }
    }
    buf.put_u16(identity.addr.port());
}

/// Reads an identity from the front of `buf`, as [`put_identity`] writes it.
///
/// # Errors
///
/// [`CodecError::Short`] if `buf` ends inside it, [`CodecError::Family`] for an unknown
/// address family.
pub fn get_identity(buf: &mut impl Buf) -> Result<Identity, CodecError> {
    let id = NodeId::from_u64(get_u64(buf)?);
    let started_ms = get_u64(buf)?;
    let rejoins = get_u16(buf)?;
    let ip = match get_u8(buf)? {
        FAMILY_V4 => {
            let mut octets = [0; 4];
            need(buf, 4)?;
            buf.copy_to_slice(&mut octets);
            IpAddr::V4(Ipv4Addr::from(octets))
        }
        FAMILY_V6 => {
            let mut octets = [0; 16];
            need(buf, 16)?;
            buf.copy_to_slice(&mut octets);
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        other => return Err(CodecError::Family(other)),
    };
    let port = get_u16(buf)?;
    Ok(Identity {
        id,
        addr: SocketAddr::new(ip, port),
        started_ms,
        rejoins,
    })
}

impl foca::Codec<Identity> for Codec {
    type Error = CodecError;

    fn encode_header(
        &mut self,
        header: &Header<Identity>,
        mut buf: impl BufMut,
    ) -> Result<(), CodecError> {
        put_identity(&mut buf, &header.src);
        buf.put_u16(header.src_incarnation);
        put_identity(&mut buf, &header.dst);
        match &header.message {
            Message::Ping(probe) => {
                buf.put_u8(PING);
                buf.put_u8(*probe);
            }
            Message::Ack(probe) => {
                buf.put_u8(ACK);
                buf.put_u8(*probe);
            }
            Message::PingReq {
                target,
                probe_number,
            } => {
                buf.put_u8(PING_REQ);
                put_identity(&mut buf, target);
                buf.put_u8(*probe_number);
            }
            Message::IndirectPing {
                origin,
                probe_number,
            } => {
                buf.put_u8(INDIRECT_PING);
                put_identity(&mut buf, origin);
                buf.put_u8(*probe_number);
            }
            Message::IndirectAck {
                target,
                probe_number,
            } => {
                buf.put_u8(INDIRECT_ACK);
                put_identity(&mut buf, target);
                buf.put_u8(*probe_number);
            }
            Message::ForwardedAck {
                origin,
                probe_number,
            } => {
                buf.put_u8(FORWARDED_ACK);
                put_identity(&mut buf, origin);
                buf.put_u8(*probe_number);
            }
            Message::Announce => buf.put_u8(ANNOUNCE),
            Message::Feed => buf.put_u8(FEED),
            Message::Gossip => buf.put_u8(GOSSIP),
            Message::Broadcast => buf.put_u8(BROADCAST),
            Message::TurnUndead => buf.put_u8(TURN_UNDEAD),
        }
        Ok(())
    }

    fn decode_header(&mut self, mut buf: impl Buf) -> Result<Header<Identity>, CodecError> {
        let src = get_identity(&mut buf)?;
        let src_incarnation = get_u16(&mut buf)?;
        let dst = get_identity(&mut buf)?;
        let message = match get_u8(&mut buf)? {
            PING => Message::Ping(get_u8(&mut buf)?),
            ACK => Message::Ack(get_u8(&mut buf)?),
            PING_REQ => Message::PingReq {
                target: get_identity(&mut buf)?,
                probe_number: get_u8(&mut buf)?,
            },
            INDIRECT_PING => Message::IndirectPing {
                origin: get_identity(&mut buf)?,
                probe_number: get_u8(&mut buf)?,
            },
            INDIRECT_ACK => Message::IndirectAck {
                target: get_identity(&mut buf)?,
                probe_number: get_u8(&mut buf)?,
            },
            FORWARDED_ACK => Message::ForwardedAck {
                origin: get_identity(&mut buf)?,
                probe_number: get_u8(&mut buf)?,
            },
            ANNOUNCE => Message::Announce,
            FEED => Message::Feed,
            GOSSIP => Message::Gossip,
            BROADCAST => Message::Broadcast,
            TURN_UNDEAD => Message::TurnUndead,
            other => return Err(CodecError::Kind(other)),
        };
        Ok(Header {
            src,
            src_incarnation,
            dst,
            message,
        })
    }

    fn encode_member(
        &mut self,
        member: &Member<Identity>,
        mut buf: impl BufMut,
    ) -> Result<(), CodecError> {
        // foca fills a Feed with as many members as it guesses will fit, and stops at the
        // first one that does not: writing it would panic, and foca wants the buffer as it was.
        let address = match member.id().addr {
            SocketAddr::V4(_) => 4,
            SocketAddr::V6(_) => 16,
        };
        if buf.remaining_mut() < UPDATE_LEN + address {
            return Err(CodecError::NoRoom);
        }
        put_identity(&mut buf, member.id());
        buf.put_u16(member.incarnation());
        buf.put_u8(match member.state() {
            State::Alive => 0,
            State::Suspect => 1,
            State::Down => 2,
        });
        Ok(())
    }

    fn decode_member(&mut self, mut buf: impl Buf) -> Result<Member<Identity>, CodecError> {
        let id = get_identity(&mut buf)?;
        let incarnation = get_u16(&mut buf)?;
        let state = match get_u8(&mut buf)? {
            0 => State::Alive,
            1 => State::Suspect,
            2 => State::Down,
            other => return Err(CodecError::State(other)),
        };
        Ok(Member::new(id, incarnation, state))
    }
}

#[cfg(test)]
mod tests {
    use foca::Codec as _;

    use super::*;

    fn identity(addr: &str) -> Identity {
        Identity {
            id: NodeId::from_u64(0x0102_0304_0506_0708),
            addr: addr.parse().unwrap(),
            started_ms: 1_700_000_000_000,
            rejoins: 3,
        }
    }

    #[test]
    fn every_message_round_trips_and_every_cut_is_refused() {
        let a = identity("10.0.0.1:7000");
        let b = identity("[2001:db8::1]:7001");
        let messages = [
            Message::Ping(1),
            Message::Ack(2),
            Message::PingReq {
                target: b,
                probe_number: 3,
            },
            Message::IndirectPing {
                origin: a,
                probe_number: 4,
            },
            Message::IndirectAck {
                target: b,
                probe_number: 5,
            },
            Message::ForwardedAck {
                origin: a,
                probe_number: 6,
            },
            Message::Announce,
            Message::Feed,
            Message::Gossip,
            Message::Broadcast,
            Message::TurnUndead,
        ];
        for message in messages {
            let header = Header {
                src: a,
                src_incarnation: 9,
                dst: b,
                message,
            };
            let mut wire = Vec::new();
            Codec.encode_header(&header, &mut wire).unwrap();
            assert_eq!(Codec.decode_header(&wire[..]).unwrap(), header);
            for cut in 0..wire.len() {
                assert_eq!(
                    Codec.decode_header(&wire[..cut]),
                    Err(CodecError::Short),
                    "{header:?} cut at {cut}"
                );
            }
        }
        for state in [State::Alive, State::Suspect, State::Down] {
            let member = Member::new(b, 7, state);
            let mut wire = Vec::new();
            Codec.encode_member(&member, &mut wire).unwrap();
            assert_eq!(Codec.decode_member(&wire[..]).unwrap(), member);
        }
    }

    #[test]
    fn an_update_that_does_not_fit_is_refused_and_writes_nothing() {
        for (addr, len) in [("10.0.0.1:7000", 28), ("[2001:db8::1]:7001", 40)] {
            let member = Member::alive(identity(addr));
            let mut fits = Vec::new();
            Codec
                .encode_member(&member, (&mut fits).limit(len))
                .unwrap();
            assert_eq!(fits.len(), len);
            let mut short = vec![0xaa];
            let refused = Codec.encode_member(&member, (&mut short).limit(len - 1));
            assert_eq!(refused, Err(CodecError::NoRoom));
            assert_eq!(short, [0xaa]);
        }
    }

    /// A member that knew 49 or more others, all on IPv4, panicked as it fed a joiner: the
    /// Feed's last member did not fit in the 1400 bytes.
    #[test]
    fn a_feed_of_a_large_cluster_holds_what_fits() {
        let member = |n: u16| Identity {
            id: NodeId::from_u64(n.into()),
            addr: SocketAddr::from(([10, 0, (n >> 8) as u8, n as u8], 7000)),
            started_ms: 1,
            rejoins: 0,
        };
        let settings = crate::ClusterSettings::default();
        let left = std::sync::Arc::default();
        let mut seed = crate::cluster::membership::swim(member(1), &settings, [0; 32], left);
        let mut runtime = foca::AccumulatingRuntime::new();
        seed.apply_many(
            (2..102).map(|n| Member::alive(member(n))),
            true,
            &mut runtime,
        )
        .unwrap();
        while runtime.to_send().is_some() {}
        let joiner = member(500);
        let mut announce = Vec::new();
        let header = Header {
            src: joiner,
            src_incarnation: 0,
            dst: member(1),
            message: Message::Announce,
        };
        Codec.encode_header(&header, &mut announce).unwrap();
        seed.handle_data(&announce, &mut runtime).unwrap();
        let (to, feed) = runtime.to_send().expect("a Feed");
        assert_eq!(to, joiner);
        assert!(feed.len() <= crate::cluster::settings::MAX_PAYLOAD);
        let mut feed = &feed[..];
        assert_eq!(
            Codec.decode_header(&mut feed).unwrap().message,
            Message::Feed
        );
        // After a header of two IPv4 identities (53 bytes) and the count, 1345 bytes hold 48
        // updates of 28.
        assert_eq!(feed.get_u16(), 48);
        assert_eq!(feed.len(), 48 * 28);
    }

    #[test]
    fn unknown_codes_are_refused() {
        let mut wire = Vec::new();
        put_identity(&mut wire, &identity("10.0.0.1:7000"));
        wire[18] = 5;
        assert_eq!(get_identity(&mut &wire[..]), Err(CodecError::Family(5)));
        let mut member = Vec::new();
        Codec
            .encode_member(&Member::alive(identity("10.0.0.1:1")), &mut member)
            .unwrap();
        *member.last_mut().unwrap() = 3;
        assert_eq!(Codec.decode_member(&member[..]), Err(CodecError::State(3)));
    }
}
