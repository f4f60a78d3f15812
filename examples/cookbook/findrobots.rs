//! Map-reduce over gzip'd web server logs with a process pool: find every host that asked for
//! /robots.txt; compare with a sequential run.
//!
//! The program writes a set of gzip-compressed web-server logs into a temporary folder, then
//! finds the set of hosts that requested `/robots.txt`: sequentially, with a process pool, and
//! with a thread pool. Each file is mapped to its set of hosts, and the sets are reduced by
//! union. It checks that the three answers are equal and prints the times and speedups.
//!
//! Run with `cargo run --release --example findrobots [FILES [LINES]]`; by default 24 files
//! of 200,000 lines each. The folder is removed at the end, also on error.

use std::collections::BTreeSet;
use std::error::Error;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use actor::pool::{Function, Functions, ProcessPool, ThreadPool};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

/// The hosts of one file, or why the file could not be read (an error for the caller travels
/// as data).
type Hosts = Result<BTreeSet<String>, String>;

fn main() -> ExitCode {
    // A copy of this program started by the process pool serves calls here and exits.
    let mut functions = Functions::new();
    let find_robots = functions.register("find_robots", |path: PathBuf| -> Hosts {
        robots(&path).map_err(|error| format!("{}: {error}", path.display()))
    });
    functions.serve_if_worker();

    let (files, lines) = match parse_args() {
        Ok(sizes) => sizes,
        Err(message) => {
            eprintln!("{message}\nusage: findrobots [FILES [LINES]]");
            return ExitCode::from(2);
        }
    };
    match run(&functions, &find_robots, files, lines) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("findrobots: the three methods disagree");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("findrobots: {error}");
            ExitCode::FAILURE
        }
    }
}

fn parse_args() -> Result<(usize, usize), String> {
    let mut args = std::env::args().skip(1);
    let mut next = |default: usize, what: &str| match args.next() {
        None => Ok(default),
        Some(arg) => match arg.parse() {
            Ok(0) | Err(_) => Err(format!("{what} must be a positive number, not {arg:?}")),
            Ok(n) => Ok(n),
        },
    };
    Ok((next(24, "FILES")?, next(200_000, "LINES")?))
}

/// Returns whether the three methods agree.
fn run(
    functions: &Functions,
    find_robots: &Function<PathBuf, Hosts>,
    files: usize,
    lines: usize,
) -> Result<bool, Box<dyn Error>> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("findrobots: {files} files of {lines} lines, {cpus} CPUs");
    let threads = ThreadPool::builder().threads(cpus).build()?;

    let folder = TempFolder::create()?;
    let started = Instant::now();
    let paths: Vec<PathBuf> = (0..files)
        .map(|file| folder.path().join(format!("access-{file:02}.log.gz")))
        .collect();
    // Writing the logs is not what is measured; the thread pool makes it quicker.
    let written: Vec<u64> = threads
        .map(
            move |(file, path): (usize, PathBuf)| write_log(&path, file as u64, lines),
            paths.clone().into_iter().enumerate(),
        )
        .collect::<Result<Result<_, _>, _>>()??;
    println!(
        "wrote {:.1} MB of compressed logs to {} in {}",
        written.iter().sum::<u64>() as f64 / 1e6,
        folder.path().display(),
        seconds(started.elapsed())
    );

    let started = Instant::now();
    let processes = ProcessPool::builder(functions).workers(cpus).build()?;
    println!(
        "started {cpus} worker processes in {}",
        seconds(started.elapsed())
    );

    let started = Instant::now();
    let sequential = paths
        .iter()
        .map(|path| robots(path))
        .try_fold(BTreeSet::new(), |all, hosts| {
            hosts.map(|hosts| union(all, hosts))
        })?;
    let sequential_time = started.elapsed();

    let started = Instant::now();
    let mut by_processes = BTreeSet::new();
    for hosts in processes.map(find_robots, paths.clone())? {
        by_processes = union(by_processes, hosts??);
    }
    let processes_time = started.elapsed();

    let started = Instant::now();
    let mut by_threads = BTreeSet::new();
    let read = |path: PathBuf| robots(&path).map_err(|error| error.to_string());
    for hosts in threads.map(read, paths) {
        by_threads = union(by_threads, hosts??);
    }
    let threads_time = started.elapsed();

    let speedup = |time: Duration| sequential_time.as_secs_f64() / time.as_secs_f64();
    println!(
        "sequential:   {}  {} hosts",
        seconds(sequential_time),
        sequential.len()
    );
    println!(
        "process pool: {}  {} hosts  speedup {:.2}x",
        seconds(processes_time),
        by_processes.len(),
        speedup(processes_time)
    );
    println!(
        "thread pool:  {}  {} hosts  speedup {:.2}x",
        seconds(threads_time),
        by_threads.len(),
        speedup(threads_time)
    );
    let agree = sequential == by_processes && sequential == by_threads;
    if agree {
        let first: Vec<&str> = sequential.iter().take(3).map(String::as_str).collect();
        println!(
            "all three agree: {} hosts asked for /robots.txt (first: {})",
            sequential.len(),
            first.join(", ")
        );
    }
    Ok(agree)
}

/// The map step: the hosts that requested `/robots.txt` in one gzip-compressed log.
///
/// As in the recipe, a line's first field is the host and its seventh the requested path.
fn robots(path: &Path) -> io::Result<BTreeSet<String>> {
    let mut text = Vec::new();
    GzDecoder::new(File::open(path)?).read_to_end(&mut text)?;
    let mut hosts = BTreeSet::new();
    for line in text.split(|&byte| byte == b'\n') {
        let mut fields = line
            .split(|byte| byte.is_ascii_whitespace())
            .filter(|field| !field.is_empty());
        let host = fields.next();
        if let (Some(host), Some(b"/robots.txt")) = (host, fields.nth(5)) {
            hosts.insert(String::from_utf8_lossy(host).into_owned());
        }
    }
    Ok(hosts)
}

/// The reduce step.
fn union(mut all: BTreeSet<String>, hosts: BTreeSet<String>) -> BTreeSet<String> {
    if all.len() < hosts.len() {
        return union(hosts, all);
    }
    all.extend(hosts);
    all
}

/// Writes `lines` lines of a combined-format access log, the same for the same `file`, and
/// returns the compressed size.
fn write_log(path: &Path, file: u64, lines: usize) -> io::Result<u64> {
    const PAGES: [&str; 10] = [
        "/",
        "/index.html",
        "/about.html",
        "/blog/2024/10/actors-on-threads.html",
        "/blog/feed.xml",
        "/images/logo.png",
        "/css/site.css",
        "/js/app.js",
        "/favicon.ico",
        "/search?q=process+pool",
    ];
    const AGENTS: [&str; 4] = [
        "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "curl/8.5.0",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    ];
    let mut random = XorShift::new(file);
    let mut out = BufWriter::with_capacity(
        1 << 16,
        GzEncoder::new(File::create(path)?, Compression::fast()),
    );
    for line in 0..lines {
        let host = random.below(30_000);
        let second = (file as usize * lines + line) / 20;
        let page = if random.below(400) == 0 {
            "/robots.txt"
        } else {
            PAGES[random.below(PAGES.len() as u64) as usize]
        };
        let status = if random.below(50) == 0 { 404 } else { 200 };
        writeln!(
            out,
            "{}.{}.{}.{} - - [{:02}/Oct/2024:{:02}:{:02}:{:02} +0000] \"GET {page} HTTP/1.1\" \
             {status} {} \"-\" \"{}\"",
            64 + host % 7,
            (host >> 8) & 255,
            host & 255,
            1 + (host * 13) % 250,
            1 + second / 86_400 % 28,
            second / 3600 % 24,
            second / 60 % 60,
            second % 60,
            200 + random.below(40_000),
            AGENTS[random.below(AGENTS.len() as u64) as usize],
        )?;
    }
    let file = out
        .into_inner()
        .map_err(|error| error.into_error())?
        .finish()?;
    Ok(file.metadata()?.len())
}

/// xorshift64*: a small, fast generator whose output depends only on the seed.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        // Any seed but zero will do; mixing spreads nearby seeds apart.
        XorShift((seed + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (with a bias too small to matter here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A folder under the system's temporary directory, removed when dropped.
struct TempFolder(PathBuf);

impl TempFolder {
    fn create() -> io::Result<TempFolder> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let path = std::env::temp_dir().join(format!("findrobots-{}-{nanos}", std::process::id()));
        // `create_dir`, not `create_dir_all`: it fails rather than share an existing folder.
        std::fs::create_dir(&path)?;
        Ok(TempFolder(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFolder {
    fn drop(&mut self) {
        if let Err(error) = std::fs::remove_dir_all(&self.0) {
            eprintln!("findrobots: could not remove {}: {error}", self.0.display());
        }
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}
