//! The tag router: tagged payloads dispatched to typed handlers.

use actor_core::codec::{Bincode, Codec};
use actor_core::{BoxError, Reply, RouteError, Router};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::input::Input;

/// A struct of many field types.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    id: u64,
    name: String,
    scores: Vec<i16>,
    parent: Option<u32>,
    flags: [bool; 3],
    initial: char,
    ratio: f64,
    big: u128,
}

/// An enum with every kind of variant.
#[derive(Debug, Serialize, Deserialize)]
enum Shape {
    Empty,
    Point(i8, i8),
    Circle {
        radius: u32,
    },
    Polygon(Vec<(i16, i16)>),
    Labelled {
        label: String,
        data: Option<Vec<u8>>,
    },
}

/// What the router's state counts: every handler call.
#[derive(Debug, Default)]
struct Calls(usize);

/// The model of a route: what its handler makes of a payload.
type Model = fn(&[u8]) -> Answer;

/// The routes: each tag, and the model of what its handler answers to a payload.
const ROUTES: [(&str, Model); 8] = [
    ("int", |p| {
        model::<i32, _>(p, |x| if x < 0 { Err(()) } else { Ok(x) })
    }),
    ("pair", |p| {
        model::<(i32, i32), _>(p, |(x, y)| Ok(x.wrapping_mul(y)))
    }),
    ("text", |p| model::<String, _>(p, Ok)),
    ("bytes", |p| model::<Vec<u8>, _>(p, |bytes| Ok(bytes.len()))),
    ("record", |p| model::<Record, _>(p, Ok)),
    ("shape", |p| model::<Shape, _>(p, Ok)),
    ("unit", |p| model::<(), _>(p, Ok)),
    ("reply", |p| match Bincode::new().decode::<u8>(p) {
        Ok(_) => Answer::Unencodable,
        Err(_) => Answer::Undecodable,
    }),
];

/// The router the target dispatches to, one route per entry of [`ROUTES`].
fn router() -> Router<Calls> {
    fn count<T>(calls: &mut Calls, value: T) -> T {
        calls.0 += 1;
        value
    }
    Router::new()
        .on("int", |calls: &mut Calls, x: i32| {
            if count(calls, x) < 0 {
                return Err(BoxError::from("negative"));
            }
            Ok(x)
        })
        .on("pair", |calls: &mut Calls, (x, y): (i32, i32)| {
            Ok(count(calls, x.wrapping_mul(y)))
        })
        .on("text", |calls: &mut Calls, text: String| {
            Ok(count(calls, text))
        })
        .on("bytes", |calls: &mut Calls, bytes: Vec<u8>| {
            Ok(count(calls, bytes.len()))
        })
        .on("record", |calls: &mut Calls, record: Record| {
            Ok(count(calls, record))
        })
        .on("shape", |calls: &mut Calls, shape: Shape| {
            Ok(count(calls, shape))
        })
        .on("unit", |calls: &mut Calls, (): ()| {
            count(calls, ());
            Ok(())
        })
        // A reply cannot be encoded outside a transport: the answer fails to encode.
        .on("reply", |calls: &mut Calls, _: u8| {
            Ok(count(calls, Reply::<u8>::pair().0))
        })
}

/// What a handler should make of a payload.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// The payload decodes and the handler answers these bytes.
    Value(Vec<u8>),
    /// The payload decodes and the handler fails.
    Fails,
    /// The payload decodes and the handler's answer does not encode.
    Unencodable,
    /// The payload does not decode as the handler's argument.
    Undecodable,
}

/// The model of a handler that takes a `T` and answers `handler(value)`.
fn model<T: DeserializeOwned, R: Serialize>(
    payload: &[u8],
    handler: impl FnOnce(T) -> Result<R, ()>,
) -> Answer {
    let codec = Bincode::new();
    match codec.decode::<T>(payload).map(handler) {
        Ok(Ok(value)) => {
            let mut bytes = Vec::new();
            match codec.encode(&value, &mut bytes) {
                Ok(()) => Answer::Value(bytes),
                Err(_) => Answer::Unencodable,
            }
        }
        Ok(Err(())) => Answer::Fails,
        Err(_) => Answer::Undecodable,
    }
}

/// Dispatches tag and payload pairs to a router with typed handlers (`i32`, `(i32, i32)`,
/// `String`, `Vec<u8>`, a struct, an enum, `()`, and one whose answer cannot be encoded).
///
/// Layout: a list of `flags, tag, payload`. Bit 0 of `flags` asks for an answer
/// ([`Router::dispatch`]) or not ([`Router::dispatch_tell`]); if bit 7 is clear, bits 1 to 3
/// pick a routed tag, otherwise the tag is the next length-prefixed bytes, read as UTF-8
/// (lossily). The payload is one length byte, then the bytes.
///
/// Checks: an unknown tag is [`RouteError::UnknownTag`] with that tag; a payload that does not
/// decode as the handler's argument is [`RouteError::Decode`] naming the type, and the handler
/// is not called; otherwise the handler is called once, and its answer (for a request) is its
/// value encoded, or [`RouteError::Handler`] or [`RouteError::Encode`].
///
/// # Examples
///
/// ```
/// // Ask "pair" (2, 3); then tell the tag "nope".
/// actor_fuzz_targets::tag_router(b"\x03\x02\x04\x06\x80\x04nope\x00");
/// ```
pub fn tag_router(data: &[u8]) {
    let mut router = router();
    let mut calls = Calls::default();
    let mut input = Input::new(data);
    while !input.is_empty() {
        let flags = input.byte();
        let ask = flags & 1 == 1;
        let tag = if flags & 0x80 == 0 {
            ROUTES[usize::from(flags >> 1) % ROUTES.len()].0.to_owned()
        } else {
            String::from_utf8_lossy(input.chunk()).into_owned()
        };
        let payload = input.chunk();

        let before = calls.0;
        let result = if ask {
            router.dispatch(&mut calls, &tag, payload)
        } else {
            router
                .dispatch_tell(&mut calls, &tag, payload)
                .map(|()| Vec::new())
        };
        let Some(&(_, model)) = ROUTES.iter().find(|(name, _)| *name == tag) else {
            assert!(
                matches!(&result, Err(RouteError::UnknownTag(unknown)) if *unknown == tag),
                "unknown tag {tag:?}: {result:?}"
            );
            assert_eq!(calls.0, before, "a handler ran for an unknown tag");
            continue;
        };
        let expected = model(payload);
        let called = calls.0 - before;
        assert_eq!(
            called,
            usize::from(expected != Answer::Undecodable),
            "{tag}: {called} calls"
        );
        match (expected, result) {
            (Answer::Value(bytes), Ok(answer)) => {
                let bytes = if ask { bytes } else { Vec::new() };
                assert_eq!(answer, bytes, "{tag}: the answer is not the value encoded");
            }
            (Answer::Unencodable, Ok(answer)) if !ask => assert!(answer.is_empty()),
            (Answer::Unencodable, Err(RouteError::Encode { tag: t, .. })) if ask => {
                assert_eq!(t, tag);
            }
            (Answer::Fails, Err(RouteError::Handler { tag: t, .. })) => assert_eq!(t, tag),
            (
                Answer::Undecodable,
                Err(RouteError::Decode {
                    tag: t, expected, ..
                }),
            ) => {
                assert_eq!(t, tag);
                assert!(!expected.is_empty(), "{tag}: no type named");
            }
            (expected, result) => {
                panic!("{tag}: the model says {expected:?}, the router {result:?}")
            }
        }
    }
}
