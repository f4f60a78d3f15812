//! What the `actor-node` process tests share: key files, the binary, `serve` as a child
//! process killed and reaped on drop, and running a command to its end within a deadline.
//!
//! Included as a module by several test binaries, each of which uses a part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_actor-node");
pub(crate) const WAIT: Duration = Duration::from_secs(15);
pub(crate) const KEY: &str = "the cli tests share this key: 0123456789";

/// A key file in the temporary directory, removed on drop.
pub(crate) struct KeyFile(pub(crate) PathBuf);

impl KeyFile {
    /// A path for a key file that does not exist yet.
    pub(crate) fn unused() -> KeyFile {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "actor-node-cli-test-{}-{n}.key",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        KeyFile(path)
    }

    /// A key file holding `contents`, which only its owner can read (mode 0600 on Unix).
    pub(crate) fn new(contents: &str) -> KeyFile {
        KeyFile::with_mode(contents, 0o600)
    }

    /// A key file holding `contents`, with `mode` on Unix.
    pub(crate) fn with_mode(contents: &str, mode: u32) -> KeyFile {
        let file = KeyFile::unused();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            options.mode(mode);
            let mut opened = options.open(&file.0).unwrap();
            // The umask may have taken bits away: the mode asked for, exactly.
            opened
                .set_permissions(std::fs::Permissions::from_mode(mode))
                .unwrap();
            std::io::Write::write_all(&mut opened, contents.as_bytes()).unwrap();
        }
        #[cfg(not(unix))]
        {
            let _ = mode;
            std::io::Write::write_all(&mut options.open(&file.0).unwrap(), contents.as_bytes())
                .unwrap();
        }
        file
    }

    pub(crate) fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for KeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `actor-node` with a clean environment for the key, and the time zone fixed to UTC.
pub(crate) fn actor_node() -> Command {
    let mut command = Command::new(BIN);
    command
        .env_remove("ACTOR_SECRET")
        .env_remove("ACTOR_SECRET_FILE")
        .env("TZ", "UTC")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    command
}

/// Sends each line the child writes to `pipe` into a channel, from a thread of its own.
pub(crate) fn lines_of(pipe: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A running `actor-node serve`; killed and reaped on drop.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) node: String,
    pub(crate) listeners: HashMap<String, SocketAddr>,
    pub(crate) logs: Receiver<String>,
}

impl Server {
    /// Starts `serve` on 127.0.0.1:0 with `listeners` (protocol names) on 127.0.0.1:0 too, and
    /// reads the addresses it prints.
    pub(crate) fn start(key: &KeyFile, listeners: &[&str]) -> Server {
        Server::start_with(key, listeners, &[])
    }

    /// [`Server::start`], with more arguments.
    pub(crate) fn start_with(key: &KeyFile, listeners: &[&str], more: &[&str]) -> Server {
        Server::start_on("127.0.0.1:0", key, listeners, more)
    }

    /// [`Server::start_with`], listening on `listen`.
    pub(crate) fn start_on(
        listen: &str,
        key: &KeyFile,
        listeners: &[&str],
        more: &[&str],
    ) -> Server {
        let mut command = actor_node();
        command.args(["serve", "--listen", listen, "--secret-file", key.path()]);
        command.args(more);
        for listener in listeners {
            command.args([&format!("--{listener}"), "127.0.0.1:0"]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines_of(child.stdout.take().unwrap());
        let logs = lines_of(child.stderr.take().unwrap());
        let mut server = Server {
            child,
            node: String::new(),
            listeners: HashMap::new(),
            logs,
        };
        server.node = stdout.recv_timeout(WAIT).expect("the node's address");
        for _ in listeners {
            let line = stdout.recv_timeout(WAIT).expect("a listener's address");
            let (protocol, addr) = line.split_once(' ').expect("PROTOCOL ADDRESS");
            server
                .listeners
                .insert(protocol.to_string(), addr.parse().unwrap());
        }
        server
    }

    pub(crate) fn listener(&self, protocol: &str) -> SocketAddr {
        self.listeners[protocol]
    }

    /// Waits for a log line that contains every one of `words`.
    pub(crate) fn wait_for_log(&self, words: &[&str]) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self
                .logs
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("no log line with {words:?}"));
            if words.iter().all(|word| line.contains(word)) {
                return line;
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `command` to its end, within `WAIT` (else kills it and fails).
pub(crate) fn run(command: &mut Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let collect = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let (stdout, stderr) = (collect(Box::new(stdout)), collect(Box::new(stderr)));
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("actor-node did not finish within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// The error `actor-node` printed: one line (after any log lines), `actor-node: ...`.
pub(crate) fn error_line(output: &Output) -> String {
    let stderr = String::from_utf8(output.stderr.clone()).unwrap();
    let errors: Vec<&str> = stderr
        .lines()
        .filter(|line| line.starts_with("actor-node: "))
        .collect();
    assert_eq!(errors.len(), 1, "one error line expected in {stderr:?}");
    assert!(stderr.ends_with(&format!("{}\n", errors[0])), "{stderr:?}");
    errors[0].to_string()
}

pub(crate) fn call(server: &Server, key: &KeyFile, what: &[&str]) -> Output {
    run(actor_node().args(["call", &server.node]).args(what).args([
        "--secret-file",
        key.path(),
        "--timeout",
        "10",
    ]))
}

pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
