//! Diagnostics for input files: every problem with file:line:col and a hint,
//! collected together rather than failing on the first.

use serde::Serialize;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub level: Level,
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub col: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Error => "error",
            Level::Warning => "warning",
        };
        // Messages quote the file's own strings: escaped, so a newline in a quoted key
        // cannot forge a diagnostic line, and no escape sequence reaches the terminal.
        use crate::text::printable;
        write!(
            f,
            "{}:{}:{}: {level}: {}",
            printable(&self.file.display().to_string()),
            self.line,
            self.col,
            printable(&self.message)
        )?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {}", printable(h))?;
        }
        Ok(())
    }
}

/// A set of diagnostics; an `Err` of this kind means at least one is an error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.level == Level::Error)
    }
    pub fn errors(&self) -> usize {
        self.0.iter().filter(|d| d.level == Level::Error).count()
    }
    pub fn warnings(&self) -> usize {
        self.0.iter().filter(|d| d.level == Level::Warning).count()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// 1-based line and column (in characters) of a byte offset in `src`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Line starts of a text, computed once, so each position is found by binary search
/// (a file with many diagnostics is not rescanned for each).
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset where each line starts; the first is 0.
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(src: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            src.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line and column (in characters) of a byte offset in `src` (the text
    /// this index was built from). Offsets past the end are clamped.
    pub fn line_col(&self, src: &str, offset: usize) -> (usize, usize) {
        let offset = offset.min(src.len());
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let col = src
            .get(start..offset)
            .map(|l| l.chars().count())
            .unwrap_or_else(|| offset.saturating_sub(start))
            + 1;
        (line, col)
    }
}

/// A diagnostic about a whole file (unreadable, missing) at 1:1.
pub fn file_error(file: &Path, message: impl Into<String>, hint: Option<String>) -> Diagnostic {
    Diagnostic {
        level: Level::Error,
        file: file.to_path_buf(),
        line: 1,
        col: 1,
        message: message.into(),
        hint,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_chars() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        let e = src.find('=').unwrap();
        assert_eq!(line_col(src, e), (1, 3));
        let second_eq = src.rfind('=').unwrap();
        assert_eq!(line_col(src, second_eq), (2, 4));
    }

    #[test]
    fn line_index_agrees_with_line_col() {
        let src = "a = 1\nbé = 2\n\nx = \"é\"";
        let idx = LineIndex::new(src);
        for (offset, _) in src.char_indices().chain([(src.len(), ' ')]) {
            assert_eq!(idx.line_col(src, offset), line_col(src, offset), "{offset}");
        }
        assert_eq!(idx.line_col(src, 10_000), line_col(src, 10_000));
    }
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn file_strings_cannot_forge_lines_or_drive_the_terminal() {
        let d = Diagnostic {
            level: Level::Error,
            file: PathBuf::from("s.toml"),
            line: 3,
            col: 1,
            message: "unknown key \"a\nx.toml:1:1: error: forged\u{1b}[2J\u{202e}\"".into(),
            hint: Some("did you mean \u{1b}]0;title\u{7}?".into()),
        };
        let shown = d.to_string();
        assert_eq!(shown.lines().count(), 2, "{shown}");
        assert!(
            !shown.contains('\u{1b}') && !shown.contains('\u{202e}'),
            "{shown}"
        );
        assert!(shown.contains("\\nx.toml:1:1"), "{shown}");
    }
}
