//! Flow control on both sides of a connection, on 127.0.0.1: a reader blocked past the
//! blocked timeout closes its connection (and counts it); a sender to a peer that does not
//! read is held back by the outbound queue instead of buffering.

use std::io::Write;
use std::time::{Duration, Instant};

use actor_core::{Actor, ActorRef, Context, HandlerResult, SendError, System};
use actor_net::{Node, RemoteMessage, Secret};
use crossbeam_channel::{Receiver, Sender};
use serde::{Deserialize, Serialize};

#[path = "support/peer.rs"]
mod peer;

use peer::{WAIT, closed_by_peer, raw_session};

const KEY: &[u8] = b"flow control tests share this key: 0123456789";

fn secret() -> Secret {
    Secret::new(KEY.to_vec()).unwrap()
}

#[derive(Serialize, Deserialize)]
struct Job(u64);

impl RemoteMessage for Job {
    const NAME: &'static str = "test.job";
}

/// Blocks in its first message until released.
struct Stuck {
    entered: Sender<()>,
    release: Receiver<()>,
}

impl Actor for Stuck {
    type Msg = Job;
    fn handle(&mut self, _: Job, _: &mut Context<Job>) -> HandlerResult {
        let _ = self.entered.send(());
        let _ = self.release.recv_timeout(WAIT);
        Ok(())
    }
}

/// A `Stuck` actor, with the channel that says it entered a job and the one that releases it.
fn stuck(system: &System) -> (ActorRef<Job>, Receiver<()>, Sender<()>) {
    let (entered_tx, entered) = crossbeam_channel::unbounded();
    let (release, release_rx) = crossbeam_channel::unbounded();
    let actor = system
        .spawn(Stuck {
            entered: entered_tx,
            release: release_rx,
        })
        .unwrap();
    (actor, entered, release)
}

/// A TELL of `Job(n)` to `actor`, by hand as PROTOCOL.md lays it out.
fn tell_job(actor: u64, n: u8) -> Vec<u8> {
    let mut payload = actor.to_be_bytes().to_vec();
    payload.extend_from_slice(&0_u16.to_be_bytes());
    payload.push(n);
    let mut msg = vec![4];
    msg.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    msg.extend_from_slice(&payload);
    msg
}

#[test]
fn a_reader_blocked_past_the_blocked_timeout_closes_its_connection_and_counts_it() {
    let system = System::new();
    let (stuck, entered, release) = stuck(&system);
    let server = Node::builder(secret())
        .listen("127.0.0.1:0")
        .blocked_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    // Room for one message: the one being handled.
    server.export_with_mailbox("stuck", &stuck, 1).unwrap();
    let addr = server.local_addr().unwrap();
    // The first export gets id 1 (ids count up from 1 on each node).
    let (mut stream, mut sealer) = raw_session(addr, KEY);
    let mut frame = Vec::new();
    let mut body = tell_job(1, 1);
    body.extend_from_slice(&tell_job(1, 2));
    sealer.seal(&body, &mut frame).unwrap();
    stream.write_all(&frame).unwrap();
    entered
        .recv_timeout(WAIT)
        .expect("the first job is being handled");
    // The second job finds the mailbox full: the reader waits, then gives up on the peer.
    assert!(
        closed_by_peer(&mut stream),
        "the blocked connection was closed"
    );
    assert_eq!(server.blocked_count(), 1);
    // An honest client is served once the actor has room again.
    release.send(()).unwrap();
    let client = Node::builder(secret()).build().unwrap();
    let remote = client.lookup::<Job>(addr, "stuck").unwrap();
    remote.tell(Job(3)).unwrap();
    entered
        .recv_timeout(WAIT)
        .expect("served after the blocked one was cut off");
    release.send(()).unwrap();
    client.shutdown();
    server.shutdown();
    system.shutdown();
}

#[test]
fn try_tell_to_a_remote_actor_hands_the_message_back_when_the_queue_is_full() {
    // A real server whose actor is stuck, and whose connection reader therefore stops
    // reading once the budgets are spent: the client's queue then fills.
    let system = System::new();
    let (stuck, entered, release) = stuck(&system);
    let server = Node::builder(secret())
        .listen("127.0.0.1:0")
        .build()
        .unwrap();
    server.export_with_mailbox("stuck", &stuck, 1).unwrap();
    let client = Node::builder(secret())
        .outbound_messages(16)
        .outbound_bytes(16 * 1024)
        .build()
        .unwrap();
    let remote = client
        .lookup::<Job>(server.local_addr().unwrap(), "stuck")
        .unwrap();
    remote.tell(Job(0)).unwrap();
    entered
        .recv_timeout(WAIT)
        .expect("the actor is stuck in its first job");
    // Everything after this stays somewhere between the client's queue, the sockets and the
    // server's reader, which waits for the mailbox: once the sockets' buffers are full, the
    // client's queue fills, and sends are held back instead of buffered.
    let deadline = Instant::now() + WAIT;
    let mut sent = 0_u64;
    loop {
        match remote.tell_timeout(Job(1), Duration::from_millis(100)) {
            Ok(()) => sent += 1,
            Err(SendError::Timeout(Job(1))) => break,
            Err(other) => panic!("unexpected {other:?}"),
        }
        assert!(
            Instant::now() < deadline,
            "the queue never filled ({sent} sent)"
        );
    }
    let refused = remote.try_tell(Job(2));
    assert!(
        matches!(refused, Err(SendError::Full(Job(2)))),
        "{refused:?}"
    );
    release.send(()).unwrap();
    drop(release);
    client.shutdown();
    server.shutdown();
    system.shutdown();
}

/// Bytes, as large as the test wants a message to be.
#[derive(Serialize, Deserialize)]
struct Blob(Vec<u8>);

impl RemoteMessage for Blob {
    const NAME: &'static str = "test.blob";
}

/// Says how large each `Blob` is as it starts handling it, then waits until released (or
/// until its release channel is gone).
struct Holding {
    entered: Sender<usize>,
    release: Receiver<()>,
}

impl Actor for Holding {
    type Msg = Blob;
    fn handle(&mut self, Blob(bytes): Blob, _: &mut Context<Blob>) -> HandlerResult {
        let _ = self.entered.send(bytes.len());
        let _ = self.release.recv_timeout(WAIT);
        Ok(())
    }
}

/// A `Holding` actor, with the channel that says it entered a message and the one that
/// releases it (dropping that one lets every message through).
fn holding(system: &System) -> (ActorRef<Blob>, Receiver<usize>, Sender<()>) {
    let (entered_tx, entered) = crossbeam_channel::unbounded();
    let (release, release_rx) = crossbeam_channel::unbounded();
    let actor = system
        .spawn(Holding {
            entered: entered_tx,
            release: release_rx,
        })
        .unwrap();
    (actor, entered, release)
}

/// A TELL of `Blob(vec![7; len])` to `actor`, by hand as PROTOCOL.md lays it out.
fn tell_blob(actor: u64, len: u16) -> Vec<u8> {
    let mut payload = actor.to_be_bytes().to_vec();
    payload.extend_from_slice(&0_u16.to_be_bytes());
    // bincode: the length as a varint (251, then a u16 little-endian), then the bytes.
    payload.push(251);
    payload.extend_from_slice(&len.to_le_bytes());
    payload.resize(payload.len() + usize::from(len), 7);
    let mut msg = vec![4];
    msg.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    msg.extend_from_slice(&payload);
    msg
}

#[test]
fn a_connection_waits_for_the_node_wide_inbound_budget_until_another_ones_messages_are_handled() {
    let system = System::new();
    let (stuck, stuck_entered, release) = holding(&system);
    let (seen, seen_entered, seen_release) = holding(&system);
    drop(seen_release);
    // Room for one 60 kB message node-wide, whichever connection it comes from.
    let server = Node::builder(secret())
        .listen("127.0.0.1:0")
        .max_frame(64 * 1024)
        .inbound_total_bytes(96 * 1024)
        .build()
        .unwrap();
    server.export("stuck", &stuck).unwrap();
    server.export("seen", &seen).unwrap();
    let addr = server.local_addr().unwrap();
    let first = Node::builder(secret()).build().unwrap();
    let second = Node::builder(secret()).build().unwrap();
    let stuck = first.lookup::<Blob>(addr, "stuck").unwrap();
    let seen = second.lookup::<Blob>(addr, "seen").unwrap();

    stuck.tell(Blob(vec![1; 60_000])).unwrap();
    assert_eq!(stuck_entered.recv_timeout(WAIT), Ok(60_000));
    // The first message is being handled and holds its 60 kB of the node's budget: the
    // second connection's frame (as large) finds no room, and its reader waits.
    seen.tell(Blob(vec![2; 60_000])).unwrap();
    assert!(
        seen_entered
            .recv_timeout(Duration::from_millis(300))
            .is_err(),
        "the second message was delivered while the first held the node's budget"
    );
    release.send(()).unwrap();
    assert_eq!(seen_entered.recv_timeout(WAIT), Ok(60_000));
    assert_eq!(server.blocked_count(), 0);
    first.shutdown();
    second.shutdown();
    server.shutdown();
    system.shutdown();
}

#[test]
fn the_messages_of_a_frame_as_large_as_the_node_wide_budget_never_wait_on_their_own_frame() {
    let system = System::new();
    let (stuck, entered, release) = holding(&system);
    // The whole node-wide budget is one frame; a reader that took fresh room for each
    // message while holding its frame's share would wait for itself until the blocked
    // timeout.
    let server = Node::builder(secret())
        .listen("127.0.0.1:0")
        .max_frame(64 * 1024)
        .inbound_total_bytes(64 * 1024)
        .blocked_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    server.export("stuck", &stuck).unwrap();
    let (mut stream, mut sealer) = raw_session(server.local_addr().unwrap(), KEY);
    let mut frame = Vec::new();
    // The first export gets id 1. Two messages of 30 kB in one frame of about 60 kB.
    let mut body = tell_blob(1, 30_000);
    body.extend_from_slice(&tell_blob(1, 30_001));
    sealer.seal(&body, &mut frame).unwrap();
    stream.write_all(&frame).unwrap();
    assert_eq!(entered.recv_timeout(WAIT), Ok(30_000));
    release.send(()).unwrap();
    assert_eq!(entered.recv_timeout(WAIT), Ok(30_001));
    release.send(()).unwrap();
    // Every share came back: a frame as large as the budget again finds room.
    frame.clear();
    sealer.seal(&tell_blob(1, 60_000), &mut frame).unwrap();
    stream.write_all(&frame).unwrap();
    assert_eq!(entered.recv_timeout(WAIT), Ok(60_000));
    release.send(()).unwrap();
    assert_eq!(server.blocked_count(), 0);
    drop(stream);
    server.shutdown();
    system.shutdown();
}
