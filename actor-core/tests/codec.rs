//! Black-box tests of the wire codec: frames, the serde codec, and the two together.

use std::error::Error as _;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use actor_core::codec::{
    Bincode, Codec, CodecError, FormatError, FrameConfig, FrameError, FrameReader, FrameWriter,
};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Named {
    id: u64,
    name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Command {
    Ping,
    Rename(String),
    Move { x: i32, y: i32 },
    Batch(Vec<Named>),
}

fn wire(payloads: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for payload in payloads {
        FrameConfig::new().append_frame(&mut out, payload).unwrap();
    }
    out
}

fn read_all(reader: &mut FrameReader<impl Read>) -> Result<Vec<Vec<u8>>, FrameError> {
    let mut frames = Vec::new();
    while let Some(frame) = reader.read_frame()? {
        frames.push(frame.to_vec());
    }
    Ok(frames)
}

fn header(len: u32) -> Vec<u8> {
    len.to_be_bytes().to_vec()
}

// ---- frames ----

#[test]
fn several_frames_round_trip_in_order() {
    let big = vec![0x5A; 100_000];
    let payloads: [&[u8]; 5] = [b"first", b"", b"third", &big, b"last"];
    let mut writer = FrameWriter::new(Vec::new());
    for payload in payloads {
        writer.write_frame(payload).unwrap();
    }
    writer.flush().unwrap();
    let bytes = writer.into_inner();
    assert_eq!(
        bytes,
        wire(&payloads),
        "writer and append agree byte for byte"
    );

    let mut reader = FrameReader::new(bytes.as_slice());
    assert_eq!(read_all(&mut reader).unwrap(), payloads);
}

#[test]
fn header_is_u32_big_endian() {
    let payload = vec![1; 0x0102];
    assert_eq!(wire(&[&payload])[..4], [0, 0, 1, 2]);
}

#[test]
fn frame_parts_are_announced_as_their_sum() {
    let mut writer = FrameWriter::new(Vec::new());
    writer
        .write_frame_parts(&[b"payload", b"", b"MAC"])
        .unwrap();
    let mut batch = Vec::new();
    FrameConfig::new()
        .append_frame_parts(&mut batch, &[b"payload", b"MAC"])
        .unwrap();
    assert_eq!(writer.get_ref(), &batch);
    assert_eq!(batch, b"\0\0\0\x0apayloadMAC");
}

#[test]
fn empty_frame_is_valid() {
    let bytes = wire(&[b""]);
    assert_eq!(bytes, [0, 0, 0, 0]);
    let mut reader = FrameReader::new(bytes.as_slice());
    assert_eq!(reader.read_frame().unwrap(), Some(&[][..]));
    assert_eq!(reader.read_frame().unwrap(), None);
}

#[test]
fn clean_end_of_stream_is_none_and_stays_none() {
    let mut reader = FrameReader::new(io::empty());
    assert_eq!(reader.read_frame().unwrap(), None);

    let bytes = wire(&[b"only"]);
    let mut reader = FrameReader::new(bytes.as_slice());
    assert_eq!(reader.read_frame().unwrap(), Some(&b"only"[..]));
    assert_eq!(reader.read_frame().unwrap(), None);
    assert_eq!(reader.read_frame().unwrap(), None);
    assert!(!reader.is_mid_frame());
}

#[test]
fn truncated_header_is_an_error_not_eof() {
    let whole = wire(&[b"ok", b"next"]);
    for cut in 1..4 {
        let bytes = &whole[..6 + cut];
        let mut reader = FrameReader::new(bytes);
        assert_eq!(reader.read_frame().unwrap(), Some(&b"ok"[..]));
        let err = reader.read_frame().unwrap_err();
        assert!(
            matches!(err, FrameError::TruncatedHeader { read } if read == cut),
            "{err:?}"
        );
        // The stream stays failed rather than looking like a clean end.
        assert!(matches!(
            reader.read_frame(),
            Err(FrameError::TruncatedHeader { .. })
        ));
    }
}

#[test]
fn truncated_payload_is_an_error() {
    let whole = wire(&[b"0123456789"]);
    for cut in 4..whole.len() {
        let mut reader = FrameReader::new(&whole[..cut]);
        let err = reader.read_frame().unwrap_err();
        assert!(
            matches!(err, FrameError::TruncatedPayload { read, len: 10 } if read == cut - 4),
            "{err:?}"
        );
        assert!(reader.is_mid_frame());
    }
}

#[test]
fn exactly_max_payload_is_accepted() {
    let config = FrameConfig::new().with_max_payload(1000);
    let payload = vec![7; 1000];
    let mut writer = FrameWriter::with_config(Vec::new(), config);
    writer.write_frame(&payload).unwrap();
    let bytes = writer.into_inner();
    let mut reader = FrameReader::with_config(bytes.as_slice(), config);
    assert_eq!(reader.read_frame().unwrap(), Some(&payload[..]));
}

#[test]
fn one_over_max_is_rejected_before_allocating() {
    let max = 1000;
    let config = FrameConfig::new().with_max_payload(max);
    // The header announces max + 1 and no payload follows: a reader that reserved first would
    // show it in its capacity, and one that read first would report a truncated payload.
    let bytes = header(max + 1);
    let mut reader = FrameReader::with_config(bytes.as_slice(), config);
    let err = reader.read_frame().unwrap_err();
    assert!(
        matches!(
            err,
            FrameError::TooLarge {
                len: 1001,
                max: 1000
            }
        ),
        "{err:?}"
    );
    assert_eq!(reader.capacity(), 0);
    // The oversized frame keeps being reported; its payload is never read as a header.
    assert!(matches!(
        reader.read_frame(),
        Err(FrameError::TooLarge { .. })
    ));
    assert_eq!(reader.capacity(), 0);
}

#[test]
fn four_gib_header_is_rejected_without_allocating() {
    for config in [
        FrameConfig::new(),
        FrameConfig::new().with_max_payload(16),
        FrameConfig::new().with_max_payload(u32::MAX - 1),
    ] {
        let mut bytes = header(u32::MAX);
        bytes.extend_from_slice(b"short");
        let mut reader = FrameReader::with_config(bytes.as_slice(), config);
        let err = reader.read_frame().unwrap_err();
        assert!(
            matches!(err, FrameError::TooLarge { len, .. } if len == u64::from(u32::MAX)),
            "{err:?}"
        );
        assert_eq!(reader.capacity(), 0);
    }
}

#[test]
fn stalled_large_frame_holds_memory_in_proportion_to_what_arrived() {
    // Within the limit, but only ten bytes of sixteen MiB ever arrive.
    let mut bytes = header(FrameConfig::DEFAULT_MAX_PAYLOAD);
    bytes.extend_from_slice(&[1; 10]);
    let mut reader = FrameReader::new(bytes.as_slice());
    let err = reader.read_frame().unwrap_err();
    assert!(
        matches!(err, FrameError::TruncatedPayload { read: 10, .. }),
        "{err:?}"
    );
    assert!(reader.capacity() <= 1024 * 1024, "{}", reader.capacity());
}

#[test]
fn writer_rejects_payload_over_max_and_writes_nothing() {
    let config = FrameConfig::new().with_max_payload(4);
    let mut writer = FrameWriter::with_config(Vec::new(), config);
    let err = writer.write_frame_parts(&[b"abc", b"de"]).unwrap_err();
    assert!(
        matches!(err, FrameError::TooLarge { len: 5, max: 4 }),
        "{err:?}"
    );
    assert!(writer.get_ref().is_empty());

    let mut batch = vec![1, 2, 3];
    assert!(config.append_frame(&mut batch, b"abcde").is_err());
    assert_eq!(batch, [1, 2, 3]);
}

/// Fails every read with the given kind.
struct Failing(io::ErrorKind);

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self.0.into())
    }
}

impl Write for Failing {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(self.0.into())
    }

    fn flush(&mut self) -> io::Result<()> {
        Err(self.0.into())
    }
}

fn io_kind(err: &FrameError) -> Option<io::ErrorKind> {
    err.source()?
        .downcast_ref::<io::Error>()
        .map(io::Error::kind)
}

#[test]
fn io_errors_keep_their_kind_as_source() {
    let mut reader = FrameReader::new(Failing(io::ErrorKind::TimedOut));
    let err = reader.read_frame().unwrap_err();
    assert!(matches!(err, FrameError::Io(_)));
    assert_eq!(io_kind(&err), Some(io::ErrorKind::TimedOut));
    assert!(!reader.is_mid_frame());

    let mut writer = FrameWriter::new(Failing(io::ErrorKind::BrokenPipe));
    let err = writer.write_frame(b"x").unwrap_err();
    assert_eq!(io_kind(&err), Some(io::ErrorKind::BrokenPipe));
    assert_eq!(
        io_kind(&writer.flush().unwrap_err()),
        Some(io::ErrorKind::BrokenPipe)
    );
}

#[test]
fn socket_read_timeout_mid_frame_surfaces_and_resumes() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut reader = FrameReader::new(server);

    let bytes = wire(&[b"hello, node"]);
    client.write_all(&bytes[..6]).unwrap();
    let err = reader.read_frame().unwrap_err();
    let kind = io_kind(&err);
    assert!(
        matches!(
            kind,
            Some(io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
        ),
        "{err:?}"
    );
    assert!(reader.is_mid_frame());

    client.write_all(&bytes[6..]).unwrap();
    // The set timeout bounds each read, so a lost byte fails the test instead of hanging it.
    assert_eq!(reader.read_frame().unwrap(), Some(&b"hello, node"[..]));
    drop(client);
    assert_eq!(reader.read_frame().unwrap(), None);
}

// ---- serde codec ----

#[test]
fn struct_round_trips_through_codec_and_frames() {
    let codec = Bincode::new();
    let values = [
        Named {
            id: 0,
            name: String::new(),
        },
        Named {
            id: u64::MAX,
            name: "ünïcødé name".into(),
        },
        Named {
            id: 42,
            name: "x".repeat(10_000),
        },
    ];
    let mut writer = FrameWriter::new(Vec::new());
    let mut payload = Vec::new();
    for value in &values {
        payload.clear();
        codec.encode(value, &mut payload).unwrap();
        writer.write_frame(&payload).unwrap();
    }
    let bytes = writer.into_inner();
    let mut reader = FrameReader::new(bytes.as_slice());
    let mut decoded = Vec::new();
    while let Some(frame) = reader.read_frame().unwrap() {
        decoded.push(codec.decode::<Named>(frame).unwrap());
    }
    assert_eq!(decoded, values);
}

#[test]
fn enums_round_trip() {
    let codec = Bincode::new();
    for command in [
        Command::Ping,
        Command::Rename("new".into()),
        Command::Move { x: -1, y: i32::MAX },
        Command::Batch(vec![Named {
            id: 1,
            name: "a".into(),
        }]),
    ] {
        let mut out = Vec::new();
        codec.encode(&command, &mut out).unwrap();
        assert_eq!(codec.decode::<Command>(&out).unwrap(), command);
    }
}

#[test]
fn encode_appends_into_callers_buffer_without_reallocating() {
    let codec = Bincode::new();
    let mut out = Vec::with_capacity(256);
    out.extend_from_slice(b"head");
    let (ptr, capacity) = (out.as_ptr(), out.capacity());
    let value = Named {
        id: 7,
        name: "sixteen-byte-nam".into(),
    };
    codec.encode(&value, &mut out).unwrap();
    codec.encode(&value, &mut out).unwrap();
    assert_eq!((out.as_ptr(), out.capacity()), (ptr, capacity));
    assert_eq!(&out[..4], b"head");
    let one = (out.len() - 4) / 2;
    assert_eq!(out[4..4 + one], out[4 + one..]);
    assert_eq!(codec.decode::<Named>(&out[4..4 + one]).unwrap(), value);
}

/// A `Vec` length of 2^32 as bincode's varint: 253 announces a little-endian `u64`.
const FOUR_GIB_LEN: [u8; 9] = [253, 0, 0, 0, 0, 1, 0, 0, 0];

#[test]
fn payload_claiming_a_four_gib_vec_fails_fast() {
    let codec = Bincode::new();
    let err = codec.decode::<Vec<u8>>(&FOUR_GIB_LEN).unwrap_err();
    assert!(
        matches!(
            err,
            CodecError::LimitExceeded { .. } | CodecError::Decode(_)
        ),
        "{err:?}"
    );

    // Elements do follow, each one byte on the wire and eight in memory; a small limit stops the
    // decoding at the eighth.
    let mut bytes = FOUR_GIB_LEN.to_vec();
    bytes.resize(64, 0);
    let small = Bincode::new().with_limit::<64>();
    let err = small.decode::<Vec<u64>>(&bytes).unwrap_err();
    assert!(
        matches!(err, CodecError::LimitExceeded { limit: 64 }),
        "{err:?}"
    );
}

#[test]
fn payload_claiming_a_four_gib_string_hits_the_limit_before_allocating() {
    let codec = Bincode::new();
    let err = codec.decode::<String>(&FOUR_GIB_LEN).unwrap_err();
    assert!(
        matches!(err, CodecError::LimitExceeded { limit } if limit == 16 * 1024 * 1024),
        "{err:?}"
    );
    // Inside a struct, after a valid id.
    let mut bytes = vec![5];
    bytes.extend_from_slice(&FOUR_GIB_LEN);
    let err = codec.decode::<Named>(&bytes).unwrap_err();
    assert!(matches!(err, CodecError::LimitExceeded { .. }), "{err:?}");
    // The largest length a varint can carry, which no allocator could satisfy.
    let err = codec
        .decode::<String>(&[253, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        .unwrap_err();
    assert!(matches!(err, CodecError::LimitExceeded { .. }), "{err:?}");
}

#[test]
fn limit_applies_to_encoding_and_input_length() {
    let codec = Bincode::new().with_limit::<32>();
    let mut out = Vec::new();
    codec.encode(&"x".repeat(15), &mut out).unwrap();
    assert_eq!(out.len(), 16);
    assert_eq!(codec.decode::<String>(&out).unwrap(), "x".repeat(15));

    out.clear();
    codec.encode(&vec![7_u8; 31], &mut out).unwrap();
    assert_eq!(out.len(), 32, "exactly the limit is accepted");

    let mut out = vec![1];
    let err = codec.encode(&vec![7_u8; 32], &mut out).unwrap_err();
    assert!(matches!(err, CodecError::LimitExceeded { limit: 32 }));
    assert_eq!(out, [1]);

    let err = codec.decode::<Vec<u8>>(&[0; 33]).unwrap_err();
    assert!(matches!(err, CodecError::LimitExceeded { limit: 32 }));
}

#[test]
fn decode_limit_counts_what_decoding_allocates() {
    // Twenty short u64s: 21 bytes on the wire, 168 in memory (length included).
    let values = vec![3_u64; 20];
    let mut out = Vec::new();
    Bincode::new().encode(&values, &mut out).unwrap();
    assert_eq!(out.len(), 21);
    let err = Bincode::new()
        .with_limit::<128>()
        .decode::<Vec<u64>>(&out)
        .unwrap_err();
    assert!(matches!(err, CodecError::LimitExceeded { limit: 128 }));
    let decoded = Bincode::new().with_limit::<168>().decode::<Vec<u64>>(&out);
    assert_eq!(decoded.unwrap(), values);
}

#[test]
fn trailing_bytes_are_rejected() {
    let codec = Bincode::new();
    let mut out = Vec::new();
    codec.encode(&42_u64, &mut out).unwrap();
    out.extend_from_slice(b"junk");
    let err = codec.decode::<u64>(&out).unwrap_err();
    assert!(
        matches!(err, CodecError::TrailingBytes { trailing: 4 }),
        "{err:?}"
    );
}

#[test]
fn malformed_input_is_a_decode_error_with_detail() {
    let codec = Bincode::new();
    for (bytes, what) in [
        (&[][..], "empty input"),
        (&[2, 0xC3, 0x28][..], "invalid UTF-8"),
        (&[9][..], "unknown enum variant"),
        (&[251, 1][..], "truncated varint"),
    ] {
        let result = if what == "unknown enum variant" {
            codec.decode::<Command>(bytes).map(drop)
        } else {
            codec.decode::<String>(bytes).map(drop)
        };
        let err = result.unwrap_err();
        assert!(matches!(err, CodecError::Decode(_)), "{what}: {err:?}");
        let detail = err.source().expect("a decode error has a source");
        assert!(detail.is::<FormatError>(), "{what}");
        assert!(!detail.to_string().is_empty(), "{what}");
    }
}

#[test]
fn errors_are_send_sync_static_and_display() {
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<FrameError>();
    assert_error::<CodecError>();
    assert_error::<FormatError>();

    let shown = FrameError::TooLarge { len: 5, max: 4 }.to_string();
    assert_eq!(
        shown,
        "frame payload of 5 bytes exceeds the maximum of 4 bytes"
    );
    let shown = CodecError::TrailingBytes { trailing: 3 }.to_string();
    assert_eq!(shown, "3 unexpected bytes after the encoded value");
}

#[test]
fn handles_are_send_and_sync_where_their_parts_are() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<FrameReader<TcpStream>>();
    assert_send_sync::<FrameWriter<TcpStream>>();
    assert_send_sync::<Bincode>();
    assert_send_sync::<FrameConfig>();
}

// ---- properties ----

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x00C0_DEC0),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Hands out its data in reads of at most `step` bytes.
struct Chunked<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len());
        self.data.read(&mut buf[..n])
    }
}

fn decode_never_panics<T: serde::de::DeserializeOwned>(bytes: &[u8]) {
    let _ = Bincode::new().decode::<T>(bytes);
    let _ = Bincode::new().with_limit::<64>().decode::<T>(bytes);
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_streams_never_panic_the_frame_reader(
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        max in prop_oneof![Just(FrameConfig::DEFAULT_MAX_PAYLOAD), 0..64_u32],
    ) {
        let config = FrameConfig::new().with_max_payload(max);
        let mut reader = FrameReader::with_config(bytes.as_slice(), config);
        // Every frame consumes at least its header, so this ends within len / 4 + 1 frames.
        for _ in 0..=bytes.len() / 4 {
            match reader.read_frame() {
                Ok(Some(frame)) => prop_assert!(frame.len() <= max as usize),
                Ok(None) | Err(_) => break,
            }
        }
        prop_assert!(reader.capacity() <= bytes.len().max(64 * 1024));
    }

    #[test]
    fn frames_round_trip_however_the_stream_is_split(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
        step in 1..16_usize,
    ) {
        let mut bytes = Vec::new();
        for payload in &payloads {
            FrameConfig::new().append_frame(&mut bytes, payload).unwrap();
        }
        let mut reader = FrameReader::new(Chunked { data: &bytes, step });
        prop_assert_eq!(read_all(&mut reader).unwrap(), payloads);
    }

    #[test]
    fn random_bytes_never_panic_the_decoder(
        bytes in prop::collection::vec(any::<u8>(), 0..256),
    ) {
        decode_never_panics::<u64>(&bytes);
        decode_never_panics::<String>(&bytes);
        decode_never_panics::<Vec<u8>>(&bytes);
        decode_never_panics::<Named>(&bytes);
        decode_never_panics::<Command>(&bytes);
        decode_never_panics::<Vec<Vec<String>>>(&bytes);
        decode_never_panics::<Option<(char, bool, f64)>>(&bytes);
    }

    #[test]
    fn hostile_prefixes_never_panic_the_decoder(
        len in any::<u64>(),
        tail in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        // A u64 length marker and an arbitrary length, the likeliest attack on an allocator.
        let mut bytes = vec![253];
        bytes.extend_from_slice(&len.to_le_bytes());
        bytes.extend_from_slice(&tail);
        decode_never_panics::<String>(&bytes);
        decode_never_panics::<Vec<u8>>(&bytes);
        decode_never_panics::<Vec<Named>>(&bytes);
        decode_never_panics::<Command>(&bytes);
    }

    #[test]
    fn named_values_round_trip(id in any::<u64>(), name in ".{0,40}") {
        let codec = Bincode::new();
        let value = Named { id, name };
        let mut out = Vec::new();
        codec.encode(&value, &mut out).unwrap();
        prop_assert_eq!(codec.decode::<Named>(&out).unwrap(), value);
    }
}
