//! The program's runtime data (docs/packaging.md): autoconsent's bundle and rules, as
//! published on npm at the version `fixtures/package-lock.json` pins, with its licence.
//! They live in a data directory the binary finds at run time, in this order:
//!
//! 1. `--data-dir DIR` (the `explicit` argument),
//! 2. `$CONSENTRY_DATA_DIR`,
//! 3. `<prefix>/share/consentry`, where the executable is `<prefix>/bin/consentry`
//!    (`make install`, or the unpacked `make dist` tarball),
//! 4. `$XDG_DATA_HOME/consentry` (default `~/.local/share/consentry`), then
//!    `<dir>/consentry` for each of `$XDG_DATA_DIRS` (default `/usr/local/share:/usr/share`).
//!
//! An explicit directory (1, 2) is used as given, even when it does not exist (its
//! absence is then the error); the others count only when they exist. A development
//! checkout has none of these: autoconsent's lookup falls back to `fixtures/build`
//! ([`crate::cmp::autoconsent::candidates`]).
//!
//! The bundled CMP profiles are not here: they are compiled into the binary
//! ([`crate::scenario::load::profile`]), and [`bundled_versions`] names them.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Environment variable naming the data directory (order 2).
pub const DATA_DIR_ENV: &str = "CONSENTRY_DATA_DIR";
pub use crate::cmp::autoconsent::package_version;

/// Where a data directory was found: which rule of the lookup order chose it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataSource {
    /// `--data-dir`.
    Flag,
    /// `$CONSENTRY_DATA_DIR`.
    Env,
    /// `<prefix>/share/consentry` beside the executable.
    Prefix,
    /// The XDG data directories.
    Xdg,
}

impl DataSource {
    pub fn describe(self) -> &'static str {
        match self {
            DataSource::Flag => "--data-dir",
            DataSource::Env => "$CONSENTRY_DATA_DIR",
            DataSource::Prefix => "the install prefix (share/consentry beside bin/)",
            DataSource::Xdg => "the XDG data directory",
        }
    }
}

/// One place the lookup considers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub dir: PathBuf,
    pub source: DataSource,
}

/// The inputs of the lookup, gathered from the process (see [`Lookup::from_process`]) or
/// given by a test.
#[derive(Debug, Clone, Default)]
pub struct Lookup {
    pub explicit: Option<PathBuf>,
    pub env: Option<PathBuf>,
    /// The running executable.
    pub exe: Option<PathBuf>,
    pub xdg_data_home: Option<PathBuf>,
    pub home: Option<PathBuf>,
    pub xdg_data_dirs: Option<std::ffi::OsString>,
}

impl Lookup {
    /// `explicit` (`--data-dir`) and this process's environment and executable.
    pub fn from_process(explicit: Option<&Path>) -> Lookup {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Lookup {
            explicit: explicit.map(Path::to_path_buf),
            env: non_empty(DATA_DIR_ENV).map(PathBuf::from),
            exe: std::env::current_exe().ok(),
            xdg_data_home: non_empty("XDG_DATA_HOME").map(PathBuf::from),
            home: non_empty("HOME").map(PathBuf::from),
            xdg_data_dirs: non_empty("XDG_DATA_DIRS"),
        }
    }

    /// Every place, in order. An explicit one (flag, then environment) is the only one.
    pub fn candidates(&self) -> Vec<Candidate> {
        if let Some(dir) = &self.explicit {
            return vec![Candidate {
                dir: dir.clone(),
                source: DataSource::Flag,
            }];
        }
        if let Some(dir) = &self.env {
            return vec![Candidate {
                dir: dir.clone(),
                source: DataSource::Env,
            }];
        }
        let mut out = Vec::new();
        // <prefix>/bin/consentry -> <prefix>/share/consentry. The executable's own path is
        // resolved (a symlink in ~/bin to an installed consentry finds its prefix).
        if let Some(exe) = &self.exe {
            let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.clone());
            if let Some(prefix) = exe.parent().and_then(Path::parent) {
                out.push(Candidate {
                    dir: prefix.join("share").join("consentry"),
                    source: DataSource::Prefix,
                });
            }
        }
        let data_home = self
            .xdg_data_home
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".local").join("share")));
        if let Some(d) = data_home {
            out.push(Candidate {
                dir: d.join("consentry"),
                source: DataSource::Xdg,
            });
        }
        let dirs = self
            .xdg_data_dirs
            .clone()
            .unwrap_or_else(|| "/usr/local/share:/usr/share".into());
        for d in std::env::split_paths(&dirs).filter(|d| d.is_absolute()) {
            let c = Candidate {
                dir: d.join("consentry"),
                source: DataSource::Xdg,
            };
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// The data directory: an explicit one as given, else the first that exists.
    pub fn locate(&self) -> Option<Candidate> {
        let candidates = self.candidates();
        let explicit = matches!(
            candidates.first(),
            Some(Candidate {
                source: DataSource::Flag | DataSource::Env,
                ..
            })
        );
        if explicit {
            return candidates.into_iter().next();
        }
        candidates.into_iter().find(|c| c.dir.is_dir())
    }
}

/// Between the sets of [`DataVersions::stored`] in a run whose visits ran with different
/// data (the workers of a queued fleet), in the order their visits ran.
pub const STORED_SEPARATOR: &str = " | ";

/// What this consentry runs with, for `--version`, `doctor`, each stored run and its
/// report: its own version, autoconsent's (as found, `None` when not found or without a
/// `package.json`; in a run, `None` when no scenario used it) and the bundled CMP
/// profiles (names and a digest of the set, `klaro,cookieconsent,...@<sha256 prefix>`),
/// and the vendor and cookie knowledge bases loaded ([`crate::knowledge`], docs/knowledge.md;
/// `None` when none was, or for a run recorded before they existed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataVersions {
    pub consentry: String,
    pub autoconsent: Option<String>,
    pub cmp_profiles: String,
    /// `third-party-web 0.30.0 + open-cookie-database (gdpr-cookie-scanner 3.8.2)`
    /// ([`crate::knowledge::KnowledgeBase::versions`]).
    #[serde(default)]
    pub knowledge: Option<String>,
}

impl DataVersions {
    /// One line per data set: `autoconsent 16.23.0` / `cmp-profiles klaro,... (sha256 ...)`.
    pub fn lines(&self) -> Vec<String> {
        vec![
            format!(
                "autoconsent {}",
                self.autoconsent.as_deref().unwrap_or("not found")
            ),
            format!("cmp-profiles {}", self.cmp_profiles),
            format!(
                "knowledge {}",
                self.knowledge.as_deref().unwrap_or("not found")
            ),
        ]
    }

    /// The compact form stored with each run: `autoconsent=16.23.0; cmp-profiles=...;
    /// knowledge=...`.
    pub fn stored(&self) -> String {
        format!(
            "consentry={}; autoconsent={}; cmp-profiles={}; knowledge={}",
            self.consentry,
            self.autoconsent.as_deref().unwrap_or("none"),
            self.cmp_profiles,
            self.knowledge.as_deref().unwrap_or("none")
        )
    }

    /// Every set a run's stored text names, in order: one, or, for a run of a queued fleet
    /// whose workers ran with different data, each distinct one joined by
    /// [`STORED_SEPARATOR`]. A part that does not read ([`DataVersions::from_stored`]) is
    /// skipped.
    pub fn all_from_stored(stored: &str) -> Vec<DataVersions> {
        stored
            .split(STORED_SEPARATOR)
            .filter_map(DataVersions::from_stored)
            .collect()
    }

    /// Read back what [`DataVersions::stored`] wrote. Keys it does not know (data sets of
    /// a later consentry) are skipped; `None` when a part is not `key=value` or
    /// `consentry` or `cmp-profiles` is missing.
    pub fn from_stored(stored: &str) -> Option<DataVersions> {
        let (mut consentry, mut autoconsent, mut cmp_profiles) = (None, None, None);
        let mut knowledge = None;
        for part in stored.split(';') {
            let (key, value) = part.trim().split_once('=')?;
            let value = value.trim().to_owned();
            match key.trim() {
                "consentry" => consentry = Some(value),
                "autoconsent" => autoconsent = Some(value).filter(|v| v != "none"),
                "cmp-profiles" => cmp_profiles = Some(value),
                "knowledge" => knowledge = Some(value).filter(|v| v != "none"),
                _ => {}
            }
        }
        Some(DataVersions {
            consentry: consentry?,
            autoconsent,
            cmp_profiles: cmp_profiles?,
            knowledge,
        })
    }
}

impl DataVersions {
    /// This consentry's, with autoconsent's version as loaded (`None`: not used, or
    /// without a `package.json`).
    pub fn with_autoconsent(autoconsent: Option<String>) -> DataVersions {
        DataVersions {
            consentry: env!("CARGO_PKG_VERSION").to_owned(),
            autoconsent,
            cmp_profiles: crate::scenario::load::profile::bundled_digest(),
            knowledge: None,
        }
    }

    /// The same, naming the knowledge bases loaded (`None`: none).
    pub fn with_knowledge(mut self, knowledge: Option<String>) -> DataVersions {
        self.knowledge = knowledge;
        self
    }
}

/// The versions, with autoconsent's read from `autoconsent_dir` (where it was found).
pub fn bundled_versions(autoconsent_dir: Option<&Path>) -> DataVersions {
    DataVersions::with_autoconsent(autoconsent_dir.and_then(package_version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_explicit_directory_wins_even_when_missing() {
        let l = Lookup {
            explicit: Some("/nowhere/a".into()),
            env: Some("/nowhere/b".into()),
            ..Lookup::default()
        };
        assert_eq!(
            l.locate(),
            Some(Candidate {
                dir: "/nowhere/a".into(),
                source: DataSource::Flag
            })
        );
        let l = Lookup {
            env: Some("/nowhere/b".into()),
            ..Lookup::default()
        };
        assert_eq!(l.locate().map(|c| c.source), Some(DataSource::Env));
    }

    #[test]
    fn the_prefix_then_xdg_directories_in_order_only_existing_ones_count() {
        let root = tempfile::tempdir().unwrap();
        let prefix = root.path().join("opt");
        std::fs::create_dir_all(prefix.join("bin")).unwrap();
        std::fs::write(prefix.join("bin/consentry"), "").unwrap();
        let home = root.path().join("home");
        let l = Lookup {
            exe: Some(prefix.join("bin/consentry")),
            home: Some(home.clone()),
            xdg_data_dirs: Some(root.path().join("sys").into_os_string()),
            ..Lookup::default()
        };
        let dirs: Vec<PathBuf> = l.candidates().into_iter().map(|c| c.dir).collect();
        let prefix = std::fs::canonicalize(&prefix).unwrap();
        assert_eq!(
            dirs,
            vec![
                prefix.join("share/consentry"),
                home.join(".local/share/consentry"),
                root.path().join("sys/consentry"),
            ]
        );
        assert_eq!(l.locate(), None);
        std::fs::create_dir_all(root.path().join("sys/consentry")).unwrap();
        assert_eq!(l.locate().map(|c| c.source), Some(DataSource::Xdg));
        std::fs::create_dir_all(prefix.join("share/consentry")).unwrap();
        assert_eq!(l.locate().map(|c| c.source), Some(DataSource::Prefix));
    }

    #[test]
    fn versions_read_the_package_json_and_name_the_bundled_profiles() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"name":"@duckduckgo/autoconsent","version":"16.23.0"}"#,
        )
        .unwrap();
        let v = bundled_versions(Some(dir.path()));
        assert_eq!(v.autoconsent.as_deref(), Some("16.23.0"));
        assert!(v.cmp_profiles.contains("klaro"), "{}", v.cmp_profiles);
        assert!(v.stored().contains("autoconsent=16.23.0"), "{}", v.stored());
        assert_eq!(bundled_versions(None).autoconsent, None);
    }

    #[test]
    fn the_stored_form_reads_back() {
        for autoconsent in [Some("16.23.0".to_owned()), None] {
            let v = DataVersions::with_autoconsent(autoconsent);
            assert_eq!(DataVersions::from_stored(&v.stored()), Some(v));
        }
        let later = "consentry=0.2.0; autoconsent=17.0.0; cmp-profiles=klaro@00ff; vendors=3";
        assert_eq!(
            DataVersions::from_stored(later),
            Some(DataVersions {
                consentry: "0.2.0".into(),
                autoconsent: Some("17.0.0".into()),
                cmp_profiles: "klaro@00ff".into(),
                knowledge: None,
            })
        );
        // The knowledge bases, and a run stored before they were recorded.
        let v = DataVersions::with_autoconsent(None).with_knowledge(Some(
            "third-party-web 0.30.0 + open-cookie-database (gdpr-cookie-scanner 3.8.2)".into(),
        ));
        assert!(
            v.stored().ends_with(
                "; knowledge=third-party-web 0.30.0 + open-cookie-database (gdpr-cookie-scanner 3.8.2)"
            ),
            "{}",
            v.stored()
        );
        assert_eq!(DataVersions::from_stored(&v.stored()), Some(v.clone()));
        let before = "consentry=0.1.0; autoconsent=none; cmp-profiles=klaro@00ff";
        assert_eq!(
            DataVersions::from_stored(before).map(|d| d.knowledge),
            Some(None)
        );
        let none = v.clone().with_knowledge(None);
        assert!(
            none.stored().ends_with("; knowledge=none"),
            "{}",
            none.stored()
        );
        assert_eq!(DataVersions::from_stored(&none.stored()), Some(none));
        for bad in [
            "",
            "consentry=0.1.0",
            "consentry=0.1.0; cmp-profiles",
            "garbage",
        ] {
            assert_eq!(DataVersions::from_stored(bad), None, "{bad:?}");
        }
        // Two workers with different data: both, in order.
        let a = DataVersions::with_autoconsent(Some("16.23.0".into()));
        let b = DataVersions::with_autoconsent(Some("16.24.0".into()));
        let both = [a.stored(), b.stored()].join(STORED_SEPARATOR);
        assert_eq!(DataVersions::all_from_stored(&both), vec![a.clone(), b]);
        assert_eq!(DataVersions::all_from_stored(&a.stored()), vec![a]);
        assert_eq!(DataVersions::all_from_stored("garbage"), vec![]);
    }
}
