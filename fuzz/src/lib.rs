//! What the fuzz targets share: outside bytes written to a file with the name a user would
//! give it, because the readers take paths (they stream, and pick the format by extension
//! and first bytes).

use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;

static DEFAULT_HOOK: Once = Once::new();

/// The workbook readers turn calamine's panics on damaged files into errors (catch_unwind in
/// greenplan-ingest). libfuzzer-sys installs a panic hook that aborts before any unwinding,
/// which would report those caught panics as crashes; the default hook lets them unwind to
/// the reader. A panic that escapes the reader still reaches libfuzzer-sys's own
/// catch_unwind around the target, which aborts: it is still found.
fn let_caught_panics_unwind() {
    DEFAULT_HOOK.call_once(|| drop(std::panic::take_hook()));
}

/// A temporary file holding `data`, named `upload.{extension}`; removed when dropped.
pub struct Upload {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

/// Writes `data` to a fresh temporary `upload.{extension}`.
pub fn upload(data: &[u8], extension: &str) -> Upload {
    let_caught_panics_unwind();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(format!("upload.{extension}"));
    let mut file = std::fs::File::create(&path).expect("a temporary file");
    file.write_all(data).expect("written");
    Upload { _dir: dir, path }
}
