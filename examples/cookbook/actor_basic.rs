//! Recipe: an actor as a thread with a mailbox (send, close, join), a printing actor, and an
//! actor written as a coroutine-like loop that receives.

use actor::prelude::*;

/// The printing actor: prints every message it gets.
struct Printer;

impl Actor for Printer {
    type Msg = String;

    fn handle(&mut self, msg: String, _ctx: &mut Context<String>) -> HandlerResult {
        println!("printer got {msg:?}");
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();

    // Send, close, join.
    let printer = system.spawn(Printer)?;
    printer.tell("Hello".to_string())?;
    printer.tell("World".to_string())?;
    printer.stop(); // closes the mailbox: what is queued is handled, then the actor ends
    println!("printer ended: {}", printer.join()?);
    if printer.tell("too late".to_string()).is_ok() {
        return Err("a closed actor took a message".into());
    }

    // The same shape written as a loop on a thread of its own, receiving from a mailbox.
    let mailbox = Inbox::new();
    let sender = mailbox.actor_ref().clone();
    let summer = std::thread::spawn(move || {
        let mut total = 0;
        // Receives until the mailbox is closed and drained.
        while let Ok(n) = mailbox.recv() {
            total += n;
            println!("summer got {n}, total {total}");
        }
        total
    });
    for n in 1..=4 {
        sender.tell(n)?;
    }
    sender.stop(); // closes the mailbox
    let total = summer.join().map_err(|_| "the summer panicked")?;
    system.shutdown();
    if total != 10 {
        return Err(format!("the total is {total}, not 10").into());
    }
    Ok(())
}
