//! What the fuzz targets share: outside bytes written to a file with the name a user would
//! give it, because the readers take paths (they stream, and pick the format by extension
//! and first bytes).

use std::io::Write;
use std::path::PathBuf;

/// A temporary file holding `data`, named `upload.{extension}`; removed when dropped.
pub struct Upload {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

/// Writes `data` to a fresh temporary `upload.{extension}`.
pub fn upload(data: &[u8], extension: &str) -> Upload {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(format!("upload.{extension}"));
    let mut file = std::fs::File::create(&path).expect("a temporary file");
    file.write_all(data).expect("written");
    Upload { _dir: dir, path }
}
