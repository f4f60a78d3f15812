//! The system: registry of names, typed lookup, shutdown.

use std::time::Duration;

use actor_core::{Actor, Context, HandlerResult, LookupError, Reply, SpawnError, System};

const WAIT: Duration = Duration::from_secs(10);

struct Echo;
impl Actor for Echo {
    type Msg = (u32, Reply<u32>);
    fn handle(&mut self, (n, reply): Self::Msg, _: &mut Context<Self::Msg>) -> HandlerResult {
        reply.send(n);
        Ok(())
    }
}

struct Other;
impl Actor for Other {
    type Msg = String;
    fn handle(&mut self, _: String, _: &mut Context<String>) -> HandlerResult {
        Ok(())
    }
}

#[test]
fn named_actors_are_found_by_name_and_type() {
    let system = System::new();
    let echo = system.actor(|| Echo).name("echo").spawn().unwrap();
    let found = system.lookup::<(u32, Reply<u32>)>("echo").unwrap();
    assert_eq!(found, echo);
    assert_eq!(found.ask(|r| (5, r), WAIT).unwrap(), 5);

    match system.lookup::<String>("echo") {
        Err(LookupError::WrongType { name, actual, .. }) => {
            assert_eq!(name, "echo");
            assert!(actual.contains("u32"));
        }
        other => panic!("expected WrongType, got {other:?}"),
    }
    assert!(matches!(
        system.lookup::<String>("nobody"),
        Err(LookupError::NotFound(_))
    ));
    system.shutdown();
}

#[test]
fn a_name_is_unique_among_live_actors_and_freed_when_its_actor_ends() {
    let system = System::new();
    let first = system.actor(|| Echo).name("svc").spawn().unwrap();
    let err = system.actor(|| Other).name("svc").spawn().unwrap_err();
    assert!(matches!(err, SpawnError::NameTaken(name) if name == "svc"));

    first.stop();
    first.join().unwrap();
    assert!(matches!(
        system.lookup::<(u32, Reply<u32>)>("svc"),
        Err(LookupError::NotFound(_))
    ));

    let second = system.actor(|| Other).name("svc").spawn().unwrap();
    assert_eq!(system.lookup::<String>("svc").unwrap(), second);
    system.shutdown();
}

#[test]
fn shutdown_stops_everything_and_refuses_new_actors() {
    let system = System::new();
    let refs: Vec<_> = (0..20).map(|_| system.spawn(Echo).unwrap()).collect();
    assert_eq!(system.actor_count(), 20);
    system.shutdown();
    assert_eq!(system.actor_count(), 0);
    assert!(refs.iter().all(|r| !r.is_alive()));
    assert!(matches!(system.spawn(Echo), Err(SpawnError::ShuttingDown)));
}

#[test]
fn shutdown_from_inside_an_actor_does_not_deadlock() {
    struct Quitter;
    impl Actor for Quitter {
        type Msg = ();
        fn handle(&mut self, _: (), ctx: &mut Context<()>) -> HandlerResult {
            ctx.system().shutdown();
            Ok(())
        }
    }
    let system = System::new();
    let echo = system.spawn(Echo).unwrap();
    let quitter = system.spawn(Quitter).unwrap();
    quitter.tell(()).unwrap();
    quitter.join_timeout(WAIT).unwrap();
    echo.join_timeout(WAIT).unwrap();
    system.shutdown();
}
