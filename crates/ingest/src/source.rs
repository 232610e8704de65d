//! Opening the files greenplan imports: every importer (plan files, factors, activity,
//! registers, medicines, pathways, schemes, travel surveys, backups) goes through [`open`].
//!
//! Importers are run by hand and by schedule on files dropped into shared folders, so a path
//! can name anything (issue 21, class 11: `init --plan /dev/zero` grew to 24 GB and was
//! killed; an `.xlsx` linked to `/dev/urandom` never finished). [`open`] resolves symlinks,
//! accepts a regular file only (never a device, a FIFO, a socket or a folder), refuses a file
//! larger than the bound for its kind, and hands back a reader that stops with an error at the
//! bound, so a file that grows while it is read is cut off too. Errors name the file, what it
//! is, and the bound.

use crate::IngestError;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

const MB: u64 = 1024 * 1024;
const GB: u64 = 1024 * MB;

/// What a file is, which sets its size bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A plan file (TOML): the built-in plan is under 200 KB.
    Plan,
    /// An official factor file (flat file workbook or CSV) or a custom factor CSV: a few MB.
    Factors,
    /// A spend factor set: one row per category.
    SpendFactors,
    /// An activity return or footprint input: millions of rows are supported
    /// (`footprint --from` is measured on 17 million rows, about 1.5 GB).
    Activity,
    /// A register file.
    Register,
    /// A month of the English Prescribing Dataset: national months run to several GB.
    Prescribing,
    /// An inhaler product table.
    InhalerProducts,
    /// Anaesthetic gas returns.
    AnaestheticGases,
    /// A care pathway scenario file.
    Pathway,
    /// A care-activity factor library.
    CareActivities,
    /// A scheme file.
    Scheme,
    /// A travel survey export.
    TravelSurvey,
    /// A backup to restore: the whole database.
    Backup,
}

impl FileKind {
    /// What the file is, in the words of an error message.
    pub fn what(self) -> &'static str {
        match self {
            Self::Plan => "a plan file",
            Self::Factors => "a conversion factor file",
            Self::SpendFactors => "a spend factor file",
            Self::Activity => "an activity file",
            Self::Register => "a register file",
            Self::Prescribing => "a prescribing (EPD) file",
            Self::InhalerProducts => "an inhaler product file",
            Self::AnaestheticGases => "an anaesthetic gas file",
            Self::Pathway => "a pathway scenario file",
            Self::CareActivities => "a care-activity factor file",
            Self::Scheme => "a scheme file",
            Self::TravelSurvey => "a travel survey file",
            Self::Backup => "a backup",
        }
    }

    /// The largest file of this kind greenplan reads: generous for each (tens of times the
    /// largest real file), so only a file that is not what it claims is refused.
    pub fn max_bytes(self) -> u64 {
        match self {
            Self::Plan | Self::Pathway | Self::SpendFactors => 16 * MB,
            Self::Factors | Self::InhalerProducts | Self::CareActivities | Self::Scheme => 256 * MB,
            Self::Register | Self::AnaestheticGases | Self::TravelSurvey => GB,
            Self::Activity => 16 * GB,
            Self::Prescribing => 32 * GB,
            Self::Backup => 64 * GB,
        }
    }
}

/// A regular file opened for reading within its kind's bound; reads past the bound fail.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as given.
    pub path: PathBuf,
    /// The file it names, symlinks resolved.
    pub resolved: PathBuf,
    /// What the file is.
    pub kind: FileKind,
    /// Its size when opened.
    pub len: u64,
    /// The most that will be read from it.
    pub bound: u64,
    file: File,
    read: u64,
}

/// Opens `path` as a file of `kind`: symlinks resolved, a regular file only, within
/// [`FileKind::max_bytes`]. The one way importers open files.
pub fn open(path: &Path, kind: FileKind) -> Result<SourceFile, IngestError> {
    open_within(path, kind, kind.max_bytes())
}

/// The most of a workbook read into memory: its parts are unpacked from there, and a real
/// return or factor workbook is a few MB.
pub const MAX_WORKBOOK_BYTES: u64 = 256 * MB;

/// A workbook of `kind`, whole, through [`open`], within [`MAX_WORKBOOK_BYTES`]: the workbook
/// reader then works from memory, never from the path (which could be swapped meanwhile).
pub fn read_workbook(path: &Path, kind: FileKind) -> Result<Vec<u8>, IngestError> {
    let f = open_within(path, kind, kind.max_bytes().min(MAX_WORKBOOK_BYTES))?;
    read_all(f)
}

/// As [`open`], with a lower bound than the kind's.
pub fn open_within(path: &Path, kind: FileKind, bound: u64) -> Result<SourceFile, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let resolved = std::fs::canonicalize(path).map_err(io)?;
    // `stat` before `open`: opening a FIFO would wait for a writer, forever.
    let meta = std::fs::metadata(&resolved).map_err(io)?;
    refuse_unless_regular(path, &resolved, kind, &meta)?;
    let file = File::open(&resolved).map_err(io)?;
    // And again on the handle, in case the path was swapped in between.
    let meta = file.metadata().map_err(io)?;
    refuse_unless_regular(path, &resolved, kind, &meta)?;
    let len = meta.len();
    if len > bound {
        return Err(too_large(path, kind, len, bound));
    }
    Ok(SourceFile {
        path: path.to_path_buf(),
        resolved,
        kind,
        len,
        bound,
        file,
        read: 0,
    })
}

/// The whole of a file of `kind` as text (UTF-8), through [`open`].
pub fn read_to_string(path: &Path, kind: FileKind) -> Result<String, IngestError> {
    let bytes = read(path, kind)?;
    String::from_utf8(bytes).map_err(|_| IngestError::Invalid {
        file: path.display().to_string(),
        message: format!(
            "{} must be UTF-8 text: save it as UTF-8 and try again",
            kind.what()
        ),
    })
}

/// The whole of a file of `kind`, through [`open`].
pub fn read(path: &Path, kind: FileKind) -> Result<Vec<u8>, IngestError> {
    read_all(open(path, kind)?)
}

fn read_all(mut f: SourceFile) -> Result<Vec<u8>, IngestError> {
    let mut bytes = Vec::with_capacity(usize::try_from(f.len).unwrap_or(0).min(64 * 1024 * 1024));
    f.read_to_end(&mut bytes).map_err(|e| f.error(e))?;
    Ok(bytes)
}

impl SourceFile {
    /// The error for an I/O failure while reading this file: a read past the bound says so.
    pub fn error(&self, source: io::Error) -> IngestError {
        if source.get_ref().is_some_and(|e| e.is::<GrewPastBound>()) {
            return too_large(&self.path, self.kind, self.read, self.bound);
        }
        IngestError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

impl Read for SourceFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let bound = self.bound;
        if self.read > bound {
            return Err(io::Error::other(GrewPastBound));
        }
        // One byte past the bound is enough to know the file grew beyond it.
        let room = usize::try_from(bound - self.read + 1).unwrap_or(usize::MAX);
        let take = buf.len().min(room);
        let n = self.file.read(&mut buf[..take])?;
        self.read += n as u64;
        if self.read > bound {
            return Err(io::Error::other(GrewPastBound));
        }
        Ok(n)
    }
}

impl Seek for SourceFile {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let at = self.file.seek(pos)?;
        self.read = at;
        Ok(at)
    }
}

/// The reader's error when a file grows past its kind's bound while it is read.
#[derive(Debug, thiserror::Error)]
#[error("the file grew past the size greenplan reads while it was being read")]
struct GrewPastBound;

fn refuse_unless_regular(
    path: &Path,
    resolved: &Path,
    kind: FileKind,
    meta: &std::fs::Metadata,
) -> Result<(), IngestError> {
    if meta.is_file() {
        return Ok(());
    }
    let found = describe(meta);
    let via = if resolved == path {
        String::new()
    } else {
        format!(" (it leads to {})", resolved.display())
    };
    Err(IngestError::NotAFile {
        file: path.display().to_string(),
        message: format!(
            "is {found}{via}, not a regular file: greenplan reads {} only from a regular file; copy the data into a file and import that",
            kind.what()
        ),
    })
}

fn describe(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a folder"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a named pipe (FIFO)"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

fn too_large(path: &Path, kind: FileKind, size: u64, bound: u64) -> IngestError {
    IngestError::NotAFile {
        file: path.display().to_string(),
        message: format!(
            "is more than {} MB ({} MB or more), the most greenplan reads as {}; check it is the right file, or split it",
            bound / MB,
            size.div_ceil(MB),
            kind.what()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_links_to_them_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("plan.toml");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        for p in [Path::new("/dev/zero"), link.as_path()] {
            let e = open(p, FileKind::Plan).unwrap_err().to_string();
            assert!(
                e.contains("character device") && e.contains("a plan file"),
                "{e}"
            );
        }
        let e = open(dir.path(), FileKind::Activity)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a folder"), "{e}");
    }

    #[test]
    fn a_file_past_its_bound_is_refused_and_a_small_one_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("plan.toml");
        let f = File::create(&big).unwrap();
        f.set_len(FileKind::Plan.max_bytes() + 1).unwrap();
        let e = open(&big, FileKind::Plan).unwrap_err().to_string();
        assert!(e.contains("16 MB") && e.contains("plan.toml"), "{e}");
        let small = dir.path().join("small.toml");
        std::fs::write(&small, "x = 1").unwrap();
        assert_eq!(read_to_string(&small, FileKind::Plan).unwrap(), "x = 1");
    }
}
