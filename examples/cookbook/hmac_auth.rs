//! The challenge-response authentication recipe: the server sends 32 random bytes, the client
//! answers with their HMAC under a shared key, and only then are its bytes echoed.
//!
//! Run with `cargo run --example hmac_auth`.

use std::error::Error;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use actor::System;
use actor::net::Secret;
use actor::net::services::{self, Protocol, ServiceSet};

/// Connects, answers the challenge under `key`, sends `message`, and returns what came back
/// before the server closed.
fn talk(addr: SocketAddr, key: &Secret, message: &[u8]) -> io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    services::answer_challenge(&mut stream, key)?;
    // A refused client may find the connection closed already: its writes can fail.
    let _ = stream
        .write_all(message)
        .and_then(|()| stream.shutdown(Shutdown::Write));
    let mut back = Vec::new();
    match stream.read_to_end(&mut back) {
        Err(e) if e.kind() != ErrorKind::ConnectionReset => Err(e),
        _ => Ok(back),
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let key = Secret::generate()?; // 32 random bytes, shared by server and client
    let system = System::new();
    // The server compares the client's HMAC in constant time, then echoes.
    let services = ServiceSet::builder()
        .listen(Protocol::AuthEcho, "127.0.0.1:0")
        .secret(key.clone())
        .build(&system)?;
    let addr = services
        .local_addr(Protocol::AuthEcho)
        .ok_or("no listener")?;

    let back = talk(addr, &key, b"Hello World")?;
    println!("right key: got {:?}", String::from_utf8_lossy(&back));
    if back != b"Hello World" {
        return Err("the authenticated client was not echoed".into());
    }

    let back = talk(addr, &Secret::generate()?, b"Hello World")?;
    println!(
        "wrong key: got {} bytes, the connection was closed",
        back.len()
    );
    if !back.is_empty() {
        return Err("a client with a wrong key was echoed".into());
    }

    system.shutdown();
    Ok(())
}
