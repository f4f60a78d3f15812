//! Five `actor-node serve` processes on 127.0.0.1 form a cluster, each joining through the
//! first; `actor-node members` shows what each one sees. A process killed with SIGKILL is seen
//! as down by every survivor, and back as up (with a new id, at the same address) once it is
//! started again; a process stopped with SIGSTOP (a silent failure: its sockets stay open,
//! nothing is reset) is seen as down too, and as up again after SIGCONT, with the same id. A
//! name exported on one member is found and asked through another by name alone.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

mod support;

use support::{KeyFile, Server, actor_node, run, stdout};

/// How long a failure may take to be seen by every member: with the default settings a
/// member is suspected within about two probe rounds (0.15 s each, plus the 0.06 s probe
/// timeout) and declared down 0.4 s later; the rest is how long the news takes to spread,
/// and the time this test's `members` calls take. Generous: a bound, not a speed figure.
const DETECTION: Duration = Duration::from_secs(10);

const KEY: &str = "the cluster tests share this key: 0123456789";

/// What a member sees: node id -> (address, state).
type View = BTreeMap<String, (String, String)>;

/// The members as the node at `addr` lists them.
fn members(key: &KeyFile, addr: &str) -> Option<View> {
    let output = run(actor_node().args([
        "members",
        addr,
        "--secret-file",
        key.path(),
        "--timeout",
        "5",
    ]));
    if !output.status.success() {
        return None;
    }
    let mut view = View::new();
    for line in stdout(&output).lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let [id, addr, state] = fields[..] else {
            panic!("not `<node id> <address> <state>`: {line:?}");
        };
        assert!(
            ["up", "suspect", "down", "left"].contains(&state),
            "{line:?}"
        );
        view.insert(id.to_string(), (addr.to_string(), state.to_string()));
    }
    Some(view)
}

/// Polls until `condition` holds for the view of every node in `addrs`; returns how long it
/// took, or panics with `what` after `limit`.
fn wait_for_all(
    key: &KeyFile,
    addrs: &[&str],
    limit: Duration,
    what: &str,
    condition: impl Fn(&View) -> bool,
) -> Duration {
    let start = Instant::now();
    loop {
        let views: Vec<Option<View>> = addrs.iter().map(|addr| members(key, addr)).collect();
        if views
            .iter()
            .all(|view| view.as_ref().is_some_and(&condition))
        {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < limit,
            "{what}: not within {limit:?}; the views: {views:#?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn state_of<'v>(view: &'v View, id: &str) -> Option<&'v str> {
    view.get(id).map(|(_, state)| state.as_str())
}

/// The id a node gives itself (the first line of its own list).
fn own_id(key: &KeyFile, addr: &str) -> String {
    let output = run(actor_node().args(["members", addr, "--secret-file", key.path()]));
    assert!(output.status.success(), "{output:?}");
    let text = stdout(&output);
    let first = text.lines().next().expect("a first line");
    first.split(' ').next().unwrap().to_string()
}

#[test]
fn five_processes_see_each_other_and_every_failure() {
    let key = KeyFile::new(KEY);
    let first = Server::start_on("127.0.0.1:0", &key, &[], &[]);
    let seed = first.node.clone();
    let mut servers = vec![first];
    for n in 2..=5 {
        // Each exports its echo actor under a name of its own too: `echo-2` ... `echo-5`.
        let echo_name = format!("echo-{n}");
        servers.push(Server::start_on(
            "127.0.0.1:0",
            &key,
            &[],
            &["--join", &seed, "--echo-name", &echo_name],
        ));
    }
    let addrs: Vec<String> = servers.iter().map(|s| s.node.clone()).collect();
    let all: Vec<&str> = addrs.iter().map(String::as_str).collect();
    let took = wait_for_all(&key, &all, DETECTION, "all five up everywhere", |view| {
        view.len() == 5 && view.values().all(|(_, state)| state == "up")
    });
    println!("5 processes converged in {took:?} (as seen through `members`)");
    let ids: Vec<String> = all.iter().map(|addr| own_id(&key, addr)).collect();

    // A name exported on node 4 only is found, and asked, from node 1 by name alone.
    let deadline = Instant::now() + DETECTION;
    let answer = loop {
        let call = run(actor_node().args([
            "call",
            all[0],
            "echo",
            "found by name",
            "--as",
            "echo-4",
            "--secret-file",
            key.path(),
        ]));
        if call.status.success() || Instant::now() > deadline {
            break call;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(answer.status.success(), "{answer:?}");
    assert_eq!(stdout(&answer), "found by name\n");

    // SIGKILL: the process and its sockets are gone at once.
    let killed = 2;
    servers[killed].child.kill().unwrap();
    servers[killed].child.wait().unwrap();
    let survivors: Vec<&str> = (0..5).filter(|i| *i != killed).map(|i| all[i]).collect();
    let took = wait_for_all(
        &key,
        &survivors,
        DETECTION,
        "the killed node down",
        |view| state_of(view, &ids[killed]) == Some("down"),
    );
    println!("a SIGKILLed node was down for every survivor after {took:?}");
    // Its name went with it: node 1 no longer knows where `echo-3` is.
    let gone = run(actor_node().args([
        "call",
        all[0],
        "echo",
        "anyone?",
        "--as",
        "echo-3",
        "--secret-file",
        key.path(),
    ]));
    assert_eq!(gone.status.code(), Some(1), "{gone:?}");

    // Started again on its address: a new process, a new id, up everywhere.
    servers[killed] = Server::start_on(all[killed], &key, &[], &["--join", &seed]);
    let took = wait_for_all(&key, &all, DETECTION, "the restarted node up", |view| {
        view.iter()
            .any(|(id, (addr, state))| *id != ids[killed] && addr == all[killed] && state == "up")
            && state_of(view, &ids[killed]) != Some("up")
    });
    println!("the restarted node was up everywhere after {took:?}");

    // SIGSTOP: a silent failure; its sockets stay open, nothing is reset.
    let stopped = 3;
    let pid = Pid::from_raw(i32::try_from(servers[stopped].child.id()).unwrap());
    kill(pid, Signal::SIGSTOP).unwrap();
    let others: Vec<&str> = (0..5).filter(|i| *i != stopped).map(|i| all[i]).collect();
    let took = wait_for_all(&key, &others, DETECTION, "the stopped node down", |view| {
        state_of(view, &ids[stopped]) == Some("down")
    });
    println!("a SIGSTOPped node was down for every other after {took:?}");
    kill(pid, Signal::SIGCONT).unwrap();
    let took = wait_for_all(
        &key,
        &all,
        DETECTION,
        "the continued node up again",
        |view| state_of(view, &ids[stopped]) == Some("up"),
    );
    println!("the continued node was up again everywhere after {took:?}");
}
