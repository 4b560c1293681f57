//! A seam for fault-injection tests: makes one step of publishing a generation under a given
//! index root fail with an operating-system error, as a full disk or a failing device would.
//! Nothing is armed unless a test arms it; the check costs one atomic load then.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// A step of building and publishing a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Writing the tantivy index into the temporary directory.
    WriteIndex,
    /// Writing `faqd-meta.json`.
    WriteMeta,
    /// Flushing the new `CURRENT` pointer's temporary file to disk (fsync).
    SyncCurrent,
    /// Renaming the temporary pointer over `CURRENT`.
    RenameCurrent,
}

static ANY: AtomicBool = AtomicBool::new(false);
static ARMED: Mutex<Vec<(PathBuf, Step, i32)>> = Mutex::new(Vec::new());

/// Makes the next `step` under `root` fail once with OS error `errno` (e.g. 28, ENOSPC).
/// Roots are told apart by path, so tests on different roots run in parallel safely.
pub fn inject(root: &Path, step: Step, errno: i32) {
    ARMED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((root.to_path_buf(), step, errno));
    ANY.store(true, Ordering::SeqCst);
}

/// Fails if a test armed `step` under `root` (disarming it).
pub(crate) fn check(root: &Path, step: Step) -> std::io::Result<()> {
    if !ANY.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut armed = ARMED.lock().unwrap_or_else(|e| e.into_inner());
    match armed.iter().position(|(r, s, _)| r == root && *s == step) {
        Some(at) => Err(std::io::Error::from_raw_os_error(armed.remove(at).2)),
        None => Ok(()),
    }
}
