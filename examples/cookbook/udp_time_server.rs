//! The UDP time server recipe: every datagram is answered with the current time as text; a
//! client asks twice and prints both answers.
//!
//! Run with `cargo run --example udp_time_server`.

use std::error::Error;
use std::net::UdpSocket;
use std::time::Duration;

use actor::System;
use actor::net::server::UdpServer;
use actor::net::services::TimeOfDay;

fn main() -> Result<(), Box<dyn Error>> {
    let system = System::new();
    // As `time.ctime()` writes it: `Fri Nov 27 14:15:03 2026`.
    let server = UdpServer::builder().spawn(&system, "127.0.0.1:0", |_request, _peer| {
        Some(TimeOfDay::now().daytime.into_bytes())
    })?;
    println!("time server on {}", server.local_addr());

    let client = UdpSocket::bind("127.0.0.1:0")?;
    client.set_read_timeout(Some(Duration::from_secs(5)))?;
    for _ in 0..2 {
        client.send_to(b"", server.local_addr())?;
        let mut answer = [0; 64];
        let (n, from) = client.recv_from(&mut answer)?;
        let text = std::str::from_utf8(&answer[..n])?;
        println!("{from} says: {text}");
        let year = text.rsplit(' ').next().unwrap_or_default();
        if text.len() != 24 || year.parse::<u16>().map_or(true, |y| y < 2024) {
            return Err(format!("{text:?} is not a time").into());
        }
    }
    system.shutdown();
    Ok(())
}
