//! The resident set size of this process or of another one (W9's serving process), from
//! `/proc/<pid>/status`.

use crate::error::BenchResult;

/// `VmRSS` of this process, in bytes.
///
/// # Errors
///
/// When `/proc/self/status` cannot be read (not Linux) or has no `VmRSS` line.
pub(crate) fn vm_rss_bytes() -> BenchResult<u64> {
    read_vm_rss("/proc/self/status")
}

/// `VmRSS` of the process `pid`, in bytes.
///
/// # Errors
///
/// When `/proc/<pid>/status` cannot be read (not Linux, or the process is gone) or has no
/// `VmRSS` line.
pub(crate) fn vm_rss_bytes_of(pid: u32) -> BenchResult<u64> {
    read_vm_rss(&format!("/proc/{pid}/status"))
}

fn read_vm_rss(path: &str) -> BenchResult<u64> {
    let status = std::fs::read_to_string(path)?;
    let rss = parse_vm_rss(&status);
    rss.ok_or_else(|| std::io::Error::other(format!("no VmRSS line in {path}")).into())
}

/// The `VmRSS:  <n> kB` line of a status file, in bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let mut fields = line["VmRSS:".len()..].split_whitespace();
    let kib: u64 = fields.next()?.parse().ok()?;
    match fields.next() {
        Some("kB") => kib.checked_mul(1024),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_vm_rss_line() {
        let status = "Name:\tactor-bench\nVmPeak:\t   9000 kB\nVmRSS:\t    2048 kB\nThreads:\t1\n";
        assert_eq!(parse_vm_rss(status), Some(2048 * 1024));
        assert_eq!(parse_vm_rss("VmRSS:\t12 MB\n"), None);
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        assert!(vm_rss_bytes().unwrap() > 0);
        assert!(vm_rss_bytes_of(std::process::id()).unwrap() > 0);
    }
}
