//! Replays the saved fuzz corpus: every file of `fuzz/corpus/<target>/` through its target.
//!
//! The corpus holds the seeds, what the fuzzer found that reached new code, and every input
//! that once failed a target, so this test keeps the fuzzer's findings fixed in CI, where no
//! fuzzer runs.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use actor_fuzz_targets::TARGETS;

/// `fuzz/corpus`, found from this crate's directory (`fuzz/targets`).
fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../corpus")
}

/// The files of one target's corpus, sorted so that failures come in a stable order.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = corpus().join(target);
    let entries = fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("no corpus for {target} at {}: {error}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("a readable corpus directory").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "the corpus of {target} is empty: {}",
        dir.display()
    );
    files
}

#[test]
fn every_corpus_input_passes_its_target() {
    let mut failures = Vec::new();
    for &(target, run) in TARGETS {
        for path in inputs(target) {
            let data = fs::read(&path).expect("a readable corpus file");
            if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(|| run(&data))) {
                let message = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("(no message)");
                failures.push(format!("{target} {}: {message}", path.display()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} inputs failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_target_has_a_corpus_and_no_stray_directory_exists() {
    let mut names: Vec<String> = fs::read_dir(corpus())
        .expect("fuzz/corpus exists")
        .map(|entry| {
            entry
                .expect("a readable directory")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    let mut targets: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    targets.sort_unstable();
    assert_eq!(names, targets, "fuzz/corpus has one directory per target");
}
