//! A router actor exported on one node and sent (tag, payload) pairs from another, on
//! 127.0.0.1; and the layout of a tagged message, checked against `PROTOCOL.md`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actor_core::codec::{Bincode, Codec};
use actor_core::wire::{
    ReplyCompleter, ReplyRegistry, ReplyResponder, SharedRegistry, encode_with_replies,
};
use actor_core::{
    ActorRef, AskTaggedError, ErrorChain, ErrorText, RouteError, Router, RouterActor, System,
    Tagged,
};
use actor_net::{NetError, Node, RemoteMessage, Secret};
use serde::{Deserialize, Serialize};

#[path = "support/vectors.rs"]
mod vectors;

use vectors::{PROTOCOL, decode_hex, hex};

/// The bound on every wait.
const WAIT: Duration = Duration::from_secs(10);

const KEY: &[u8] = b"tagged tests share this key: 0123456789";

/// A calculator over a running total, by tag.
fn calculator() -> Router<i64> {
    Router::new()
        .on("add", |total: &mut i64, n: i64| {
            *total += n;
            Ok(())
        })
        .on("total", |total: &mut i64, ()| Ok(*total))
        .on("mul", |_: &mut i64, (a, b): (i64, i64)| Ok(a * b))
        .on("div", |_: &mut i64, (a, b): (i64, i64)| {
            a.checked_div(b).ok_or_else(|| "division by zero".into())
        })
}

/// A node exporting the calculator as `calc`, a client node, and the calculator as the client
/// sees it.
struct Pair {
    system: System,
    server: Node,
    client: Node,
    calc: ActorRef<Tagged>,
}

impl Pair {
    fn start() -> Pair {
        let secret = Secret::new(KEY.to_vec()).unwrap();
        let system = System::new();
        let server = Node::builder(secret.clone())
            .name("server")
            .listen("127.0.0.1:0")
            .build()
            .unwrap();
        let calc = system.spawn(RouterActor::new(0, calculator())).unwrap();
        server.export("calc", &calc).unwrap();
        let client = Node::builder(secret).name("client").build().unwrap();
        let calc = client
            .lookup::<Tagged>(server.local_addr().unwrap(), "calc")
            .unwrap();
        assert!(calc.is_remote());
        Pair {
            system,
            server,
            client,
            calc,
        }
    }

    fn stop(self) {
        self.client.shutdown();
        self.server.shutdown();
        self.system.shutdown();
    }
}

#[test]
fn tells_and_asks_cross_the_wire() {
    let pair = Pair::start();
    for n in 1..=10_i64 {
        pair.calc.tell(Tagged::encode("add", &n).unwrap()).unwrap();
    }
    // Asked after the tells from the same sender, so answered after they are added.
    let total: i64 = pair.calc.ask_tagged("total", &(), WAIT).unwrap();
    assert_eq!(total, 55);
    let product: i64 = pair.calc.ask_tagged("mul", &(6_i64, 7_i64), WAIT).unwrap();
    assert_eq!(product, 42);
    // The same request by hand: the answer is the encoded value.
    let request = Tagged::encode("mul", &(-3_i64, 5_i64)).unwrap();
    let answer = pair
        .calc
        .ask(|reply| request.with_reply(reply), WAIT)
        .unwrap()
        .unwrap();
    assert_eq!(Bincode::new().decode::<i64>(&answer).unwrap(), -15);
    pair.stop();
}

#[test]
fn route_errors_cross_the_wire_with_their_kind_and_causes() {
    let pair = Pair::start();
    match pair.calc.ask_tagged::<_, i64>("nope", &1_i64, WAIT) {
        Err(AskTaggedError::Route(RouteError::UnknownTag(tag))) => assert_eq!(tag, "nope"),
        other => panic!("unexpected {other:?}"),
    }
    match pair.calc.ask_tagged::<_, i64>("mul", "not a pair", WAIT) {
        Err(AskTaggedError::Route(RouteError::Decode {
            tag,
            expected,
            source,
        })) => {
            assert_eq!(tag, "mul");
            assert_eq!(expected, "(i64, i64)");
            assert!(!source.message().is_empty());
        }
        other => panic!("unexpected {other:?}"),
    }
    let error = pair
        .calc
        .ask_tagged::<_, i64>("div", &(1_i64, 0_i64), WAIT)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"the handler of tag "div" failed: division by zero"#
    );
    match error {
        AskTaggedError::Route(RouteError::Handler { tag, source }) => {
            assert_eq!(tag, "div");
            assert_eq!(ErrorChain(&source).to_string(), "division by zero");
        }
        other => panic!("unexpected {other:?}"),
    }
    // An answer of another type than the one asked for.
    assert!(matches!(
        pair.calc
            .ask_tagged::<_, String>("mul", &(6_i64, 7_i64), WAIT),
        Err(AskTaggedError::Decode { .. })
    ));
    // The actor lives on, and a message told with an unknown tag goes nowhere.
    pair.calc
        .tell(Tagged::encode("nope", &()).unwrap())
        .unwrap();
    let product: i64 = pair.calc.ask_tagged("mul", &(2_i64, 3_i64), WAIT).unwrap();
    assert_eq!(product, 6);
    pair.stop();
}

#[test]
fn a_lookup_of_another_message_type_is_refused() {
    #[derive(Serialize, Deserialize)]
    struct Calc(i64);
    impl RemoteMessage for Calc {
        const NAME: &'static str = "test.calc";
    }
    let pair = Pair::start();
    let addr = pair.server.local_addr().unwrap();
    match pair.client.lookup::<Calc>(addr, "calc") {
        Err(NetError::WrongType { .. }) => {}
        other => panic!("unexpected {:?}", other.map(|_| ())),
    }
    pair.stop();
}

/// Hands out reply ids from 1, and answers nothing.
#[derive(Default)]
struct Ids(AtomicU64);

impl ReplyRegistry for Ids {
    fn register(&self, _complete: ReplyCompleter) -> u64 {
        // Relaxed: only the ids matter, in a single thread.
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn responder(&self, _id: u64) -> ReplyResponder {
        Box::new(|_| {})
    }
}

/// The values of the "Tagged messages" example of PROTOCOL.md, one per line.
fn documented_values() -> Vec<Vec<u8>> {
    let section = PROTOCOL
        .split("### Tagged messages")
        .nth(1)
        .and_then(|s| s.split("```text").nth(1))
        .and_then(|s| s.split("```").next())
        .expect("PROTOCOL.md has a \"Tagged messages\" example");
    section
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| decode_hex(&line.split_whitespace().collect::<String>()))
        .collect()
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = Vec::new();
    Bincode::new().encode(value, &mut bytes).unwrap();
    bytes
}

#[test]
fn tagged_messages_are_laid_out_as_documented() {
    assert_eq!(Tagged::NAME, "actor.tagged");
    assert_eq!(Tagged::VERSION, 1);
    let registry: SharedRegistry = Arc::new(Ids::default());
    let tell = encode(&Tagged::encode("add", &5_i64).unwrap());
    let (ask, ids) = encode_with_replies(&registry, || {
        let (reply, _pending) = actor_core::Reply::pair();
        encode(
            &Tagged::encode("mul", &(6_i64, 7_i64))
                .unwrap()
                .with_reply(reply),
        )
    });
    assert_eq!(ids, [1]);
    let answers: [Result<Vec<u8>, RouteError>; 3] = [
        Ok(encode(&42_i64)),
        Err(RouteError::UnknownTag("nope".into())),
        Err(RouteError::Handler {
            tag: "div".into(),
            source: ErrorText::new(&*actor_core::BoxError::from("division by zero")),
        }),
    ];
    let mut produced = vec![tell, ask];
    produced.extend(answers.iter().map(encode));
    let documented = documented_values();
    assert_eq!(
        produced.iter().map(|v| hex(v)).collect::<Vec<_>>(),
        documented.iter().map(|v| hex(v)).collect::<Vec<_>>()
    );
    // And the documented answers decode to the same values.
    for (bytes, answer) in documented[2..].iter().zip(&answers) {
        let decoded: Result<Vec<u8>, RouteError> = Bincode::new().decode(bytes).unwrap();
        assert_eq!(&decoded, answer);
    }
}
