//! Reading input files within limits, and their digests.

use crate::diag::{line_col, Diagnostic, Level};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// Largest scenario file or policy read, in bytes (8 MiB): larger files, and files that
/// keep growing while read, are reported as too large instead of exhausting memory.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Why a file could not be read as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceError {
    /// Missing, unreadable, a directory, a FIFO or a device, or too large.
    Unreadable { message: String, hint: String },
    /// Not valid UTF-8: the first bad byte is at this 1-based line and column.
    NotUtf8 { line: usize, col: usize },
}

impl SourceError {
    /// The diagnostic, in `path` (at 1:1, or at the first byte that is not UTF-8).
    pub fn diagnostic(&self, path: &Path) -> Diagnostic {
        let (line, col, message, hint) = match self {
            SourceError::Unreadable { message, hint } => (1, 1, message.clone(), hint.clone()),
            SourceError::NotUtf8 { line, col } => (
                *line,
                *col,
                format!("{} is not UTF-8 text", path.display()),
                "save the file as UTF-8 (TOML files are UTF-8)".to_string(),
            ),
        };
        Diagnostic {
            level: Level::Error,
            file: path.to_path_buf(),
            line,
            col,
            message,
            hint: Some(hint),
        }
    }
}

/// Read a file as UTF-8 text: it must be a regular file of at most
/// [`MAX_FILE_BYTES`]. Metadata is checked before the file is opened, so a FIFO or
/// `/dev/zero` neither blocks nor fills memory.
pub fn read_source(path: &Path) -> Result<String, Diagnostic> {
    read_text(path).map_err(|e| e.diagnostic(path))
}

/// [`read_source`], with the reason kept apart from the file it is reported in.
pub fn read_text(path: &Path) -> Result<String, SourceError> {
    let unreadable = |message: String, hint: &str| SourceError::Unreadable {
        message,
        hint: hint.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(|e| {
        unreadable(
            format!("cannot read {}: {e}", path.display()),
            "check the path and its permissions",
        )
    })?;
    if !meta.is_file() {
        let what = if meta.is_dir() {
            "a directory"
        } else {
            "not a regular file (a FIFO, socket or device)"
        };
        return Err(unreadable(
            format!("cannot read {}: it is {what}", path.display()),
            "give the path of a TOML file",
        ));
    }
    let too_large = || {
        unreadable(
            format!(
                "{} is too large (more than {} MiB)",
                path.display(),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
            "scenario files and policies are limited to 8 MiB",
        )
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(|e| {
        unreadable(
            format!("cannot read {}: {e}", path.display()),
            "check the path and its permissions",
        )
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| {
            unreadable(
                format!("cannot read {}: {e}", path.display()),
                "check the path and its permissions",
            )
        })?;
    if u64::try_from(bytes.len()).unwrap_or(u64::MAX) > MAX_FILE_BYTES {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let prefix =
            std::str::from_utf8(e.as_bytes().get(..valid).unwrap_or_default()).unwrap_or_default();
        let (line, col) = line_col(prefix, prefix.len());
        SourceError::NotUtf8 { line, col }
    })
}

/// SHA-256 of a file's raw bytes, as the first 16 hex digits.
pub fn digest(bytes: &[u8]) -> String {
    crate::text::hex_prefix(&Sha256::digest(bytes), 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_utf8_has_its_position() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.toml");
        std::fs::write(&p, b"a = 1\nb = \"\xc3\xa9\xff\"\n").unwrap();
        assert_eq!(read_text(&p), Err(SourceError::NotUtf8 { line: 2, col: 7 }));
        let d = read_source(&p).unwrap_err();
        assert_eq!((d.line, d.col), (2, 7));
        assert!(d.message.ends_with("is not UTF-8 text"), "{}", d.message);
    }

    #[test]
    fn special_files_are_refused_without_reading() {
        let d = read_source(Path::new("/dev/zero")).unwrap_err();
        assert!(d.message.contains("not a regular file"), "{}", d.message);
        let dir = tempfile::tempdir().unwrap();
        let d = read_source(dir.path()).unwrap_err();
        assert!(d.message.contains("a directory"), "{}", d.message);
        let fifo = dir.path().join("fifo.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let d = read_source(&fifo).unwrap_err();
        assert!(d.message.contains("not a regular file"), "{}", d.message);
    }

    #[test]
    fn oversized_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.toml");
        let f = std::fs::File::create(&p).unwrap();
        f.set_len(MAX_FILE_BYTES + 1).unwrap();
        let d = read_source(&p).unwrap_err();
        assert!(d.message.contains("too large"), "{}", d.message);
        f.set_len(10).unwrap();
        assert!(read_source(&p).is_ok());
    }

    #[test]
    fn digests_are_stable() {
        assert_eq!(digest(b""), "e3b0c44298fc1c14");
        assert_eq!(digest(b"abc"), "ba7816bf8f01cfea");
    }
}
