//! Recipe: a worker actor whose `submit` returns a result handle the caller waits on; an
//! error in the task (a panic, or an error it returns) reaches the caller.

use actor::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let system = System::new();
    let worker = Worker::spawn(&system)?;

    println!("submitting pow(2, 3)");
    let eight = worker.submit(|| 2_u32.pow(3));
    println!("submitting a task that panics");
    let broken = worker.submit(|| -> u32 { panic!("this task failed on purpose") });
    println!("submitting a task that returns its own error");
    let parsed = worker.submit(|| "forty-two".parse::<u32>());

    println!("pow(2, 3) = {}", eight.wait()?);
    match broken.wait() {
        Ok(value) => return Err(format!("the panicking task returned {value}").into()),
        Err(error) => println!("the panicking task: {error}"),
    }
    match parsed.wait()? {
        Ok(value) => return Err(format!("parsing returned {value}").into()),
        Err(error) => println!("the task's own error, handed back as data: {error}"),
    }
    println!(
        "the worker is still alive: {}",
        worker.submit(|| "yes").wait()?
    );
    system.shutdown();
    Ok(())
}
