//! Tag routing: typed handlers by name; every bad input is a typed error, never a panic.

use std::time::Duration;

use actor_core::codec::{Bincode, Codec};
use actor_core::tap::Recorder;
use actor_core::{
    DEAD_LETTERS, DeadLetterReason, ExitReason, Failure, RouteError, Router, RouterActor, System,
    SystemEvent, Tagged,
};

const WAIT: Duration = Duration::from_secs(10);

fn router() -> Router<Vec<i32>> {
    Router::new()
        .on("A", |seen: &mut Vec<i32>, x: i32| {
            seen.push(x);
            Ok(())
        })
        .on("B", |_: &mut Vec<i32>, (x, y): (i32, i32)| Ok(x * y))
        .on("div", |_: &mut Vec<i32>, (x, y): (i32, i32)| {
            x.checked_div(y).ok_or_else(|| "division by zero".into())
        })
        .on("seen", |seen: &mut Vec<i32>, ()| Ok(seen.clone()))
}

#[test]
fn typed_handlers_get_decoded_arguments() {
    let mut seen = Vec::new();
    let mut router = router();
    router
        .dispatch_tell(&mut seen, "A", &Tagged::encode("A", &7).unwrap().payload)
        .unwrap();
    let answer = router
        .dispatch(
            &mut seen,
            "B",
            &Tagged::encode("B", &(6, 7)).unwrap().payload,
        )
        .unwrap();
    assert_eq!(Bincode::new().decode::<i32>(&answer).unwrap(), 42);
    assert_eq!(seen, [7]);
}

#[test]
fn unknown_tag_wrong_payload_and_handler_error_are_typed() {
    let mut seen = Vec::new();
    let mut router = router();
    assert!(matches!(
        router.dispatch(&mut seen, "C", &[]),
        Err(RouteError::UnknownTag(tag)) if tag == "C"
    ));
    // "B" takes a pair; a string does not decode as one.
    let wrong = Tagged::encode("B", "not a pair").unwrap().payload;
    assert!(matches!(
        router.dispatch(&mut seen, "B", &wrong),
        Err(RouteError::Decode { tag, .. }) if tag == "B"
    ));
    // Trailing bytes after a valid value are refused too.
    let mut long = Tagged::encode("A", &1).unwrap().payload;
    long.push(0);
    assert!(matches!(
        router.dispatch(&mut seen, "A", &long),
        Err(RouteError::Decode { .. })
    ));
    let zero = Tagged::encode("div", &(1, 0)).unwrap().payload;
    match router.dispatch(&mut seen, "div", &zero) {
        Err(RouteError::Handler { tag, source }) => {
            assert_eq!(tag, "div");
            assert_eq!(source.to_string(), "division by zero");
        }
        other => panic!("expected a handler error, got {other:?}"),
    }
    assert!(seen.is_empty());
}

#[test]
fn a_router_actor_answers_errors_and_reports_dead_letters() {
    let system = System::new();
    let dead = Recorder::new(10);
    system
        .exchange::<SystemEvent>(DEAD_LETTERS)
        .unwrap()
        .attach(dead.clone());
    let actor = system
        .spawn(RouterActor::new(Vec::new(), router()))
        .unwrap();

    let unknown = Tagged::encode("C", &()).unwrap();
    let answer = actor.ask(|r| unknown.with_reply(r), WAIT).unwrap();
    assert!(matches!(answer, Err(RouteError::UnknownTag(_))));

    // Told, not asked: no one to answer, but still a dead letter.
    actor
        .tell(Tagged::encode("B", &"garbage").unwrap())
        .unwrap();

    let zero = Tagged::encode("div", &(1, 0)).unwrap();
    let answer = actor.ask(|r| zero.with_reply(r), WAIT).unwrap();
    assert!(
        matches!(answer, Err(RouteError::Handler { .. })),
        "the asker gets the error"
    );

    actor.tell(Tagged::encode("A", &5).unwrap()).unwrap();
    let seen = Tagged::encode("seen", &()).unwrap();
    let answer = actor.ask(|r| seen.with_reply(r), WAIT).unwrap().unwrap();
    assert_eq!(
        Bincode::new().decode::<Vec<i32>>(&answer).unwrap(),
        [5],
        "the actor lives on"
    );

    assert!(dead.wait_for(2, WAIT));
    let reasons: Vec<DeadLetterReason> = dead
        .messages()
        .into_iter()
        .filter_map(|event| match event {
            SystemEvent::DeadLetter {
                reason,
                actor: Some(id),
                ..
            } if id == actor.id() => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(
        reasons,
        [
            DeadLetterReason::UnknownTag("C".into()),
            DeadLetterReason::Undecodable("B".into())
        ]
    );
    system.shutdown();
}

#[test]
fn a_handler_error_nobody_asked_about_is_a_failure_of_the_actor() {
    let system = System::new();
    let actor = system
        .spawn(RouterActor::new(Vec::new(), router()))
        .unwrap();
    actor.tell(Tagged::encode("div", &(1, 0)).unwrap()).unwrap();
    match actor.join().unwrap() {
        ExitReason::Failed(Failure::Error(e)) => assert!(e.to_string().contains("division")),
        other => panic!("expected a failure, got {other:?}"),
    }
}
