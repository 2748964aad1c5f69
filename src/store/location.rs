//! Where a database is: a SQLite file or a PostgreSQL URL, parsed once from `--db` or
//! `$CONSENTRY_DB` (docs/storage.md). A value of the form `scheme://…` is a URL:
//! `postgres://` and `postgresql://` are PostgreSQL, any other scheme is refused (it is
//! never taken as a file path); anything else is a SQLite file path.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

/// The URL schemes that name a PostgreSQL database.
pub const POSTGRES_SCHEMES: [&str; 2] = ["postgres", "postgresql"];

/// Where a database is.
#[derive(Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// A SQLite file (the embedded default).
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(PgUrl),
}

/// A PostgreSQL URL, kept with its password (for connecting) and shown without it.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl {
    url: String,
    shown: String,
}

impl PgUrl {
    /// The URL as given (with any password): only for connecting.
    pub fn secret(&self) -> &str {
        &self.url
    }

    /// The URL without its password (what messages, reports and `runs` show).
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for DbLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbLocation::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            DbLocation::Postgres(u) => f.debug_tuple("Postgres").field(u).finish(),
        }
    }
}

/// A `--db` / `$CONSENTRY_DB` value that names no database consentry can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocationError {
    #[error(
        "unsupported database URL scheme `{scheme}://`: consentry stores to a SQLite file \
         (a path) or to PostgreSQL (postgres://… or postgresql://…)"
    )]
    UnsupportedScheme { scheme: String },
    #[error("invalid PostgreSQL URL {shown}: {reason}")]
    InvalidUrl { shown: String, reason: String },
}

impl DbLocation {
    /// `--db` when given, else `$CONSENTRY_DB` when set and non-empty, else
    /// `consentry.db` in the current directory.
    pub fn from_arg_or_env(arg: Option<&OsStr>) -> Result<DbLocation, LocationError> {
        match arg {
            Some(v) => DbLocation::parse(v),
            None => DbLocation::parse(super::default_db_path().as_os_str()),
        }
    }

    /// Parses one value: a URL (`scheme://…`) or a file path.
    pub fn parse(value: &OsStr) -> Result<DbLocation, LocationError> {
        let Some(text) = value.to_str() else {
            return Ok(DbLocation::Sqlite(PathBuf::from(value)));
        };
        let Some(scheme) = url_scheme(text) else {
            return Ok(DbLocation::Sqlite(PathBuf::from(value)));
        };
        if !POSTGRES_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) {
            return Err(LocationError::UnsupportedScheme {
                scheme: scheme.to_string(),
            });
        }
        let shown = redact(text).map_err(|reason| LocationError::InvalidUrl {
            shown: format!("{scheme}://…"),
            reason,
        })?;
        Ok(DbLocation::Postgres(PgUrl {
            url: text.to_string(),
            shown,
        }))
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            DbLocation::Sqlite(p) => Some(p),
            DbLocation::Postgres(_) => None,
        }
    }
}

impl From<&Path> for DbLocation {
    /// A path is always a SQLite file (no URL parsing: use [`DbLocation::parse`] for
    /// what a user typed).
    fn from(p: &Path) -> Self {
        DbLocation::Sqlite(p.to_path_buf())
    }
}
impl From<&PathBuf> for DbLocation {
    fn from(p: &PathBuf) -> Self {
        DbLocation::Sqlite(p.clone())
    }
}
impl From<PathBuf> for DbLocation {
    fn from(p: PathBuf) -> Self {
        DbLocation::Sqlite(p)
    }
}
impl From<&DbLocation> for DbLocation {
    fn from(l: &DbLocation) -> Self {
        l.clone()
    }
}

impl fmt::Display for DbLocation {
    /// The file path, or the URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DbLocation::Sqlite(p) => write!(f, "{}", p.display()),
            DbLocation::Postgres(u) => f.write_str(&u.shown),
        }
    }
}

/// The scheme of `text` when it has the form `scheme://…` (RFC 3986 scheme characters).
fn url_scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// The URL without its password (in the user info or a `password` query parameter).
fn redact(text: &str) -> Result<String, String> {
    let mut url = url::Url::parse(text).map_err(|e| e.to_string())?;
    if url.password().is_some() {
        let _ = url.set_password(None);
    }
    if url.query_pairs().any(|(k, _)| k == "password") {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| k != "password")
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<DbLocation, LocationError> {
        DbLocation::parse(OsStr::new(s))
    }

    #[test]
    fn paths_are_sqlite_and_postgres_urls_are_postgres() {
        assert_eq!(
            parse("reports/x.db"),
            Ok(DbLocation::Sqlite("reports/x.db".into()))
        );
        assert_eq!(
            parse("postgres:odd.db"),
            Ok(DbLocation::Sqlite("postgres:odd.db".into()))
        );
        for url in [
            "postgres://u@h/db",
            "postgresql://u@h:5432/db",
            "POSTGRES://h/db",
        ] {
            let l = parse(url).unwrap();
            assert!(l.sqlite_path().is_none(), "{url}");
        }
    }

    #[test]
    fn other_schemes_are_refused_naming_the_supported_ones() {
        let e = parse("ftp://x").unwrap_err();
        assert_eq!(
            e,
            LocationError::UnsupportedScheme {
                scheme: "ftp".into()
            }
        );
        let msg = e.to_string();
        assert!(
            msg.contains("ftp://") && msg.contains("postgres://"),
            "{msg}"
        );
        assert!(parse("mysql://root@h/db").is_err());
        assert!(parse("sqlite://x.db").is_err());
    }

    #[test]
    fn the_password_is_never_shown() {
        let l = parse("postgres://alice:s3cret@db.example:5433/audits?sslmode=disable").unwrap();
        let DbLocation::Postgres(u) = &l else {
            panic!("not postgres")
        };
        assert_eq!(
            u.secret(),
            "postgres://alice:s3cret@db.example:5433/audits?sslmode=disable"
        );
        for shown in [l.to_string(), format!("{l:?}")] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("db.example:5433/audits"), "{shown}");
        }
        let l = parse("postgres://h/db?user=a&password=s3cret").unwrap();
        assert_eq!(l.to_string(), "postgres://h/db?user=a");
    }
}
