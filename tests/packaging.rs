//! Packaging (docs/packaging.md): the release tarball `make dist` makes
//! (scripts/dist.sh, given this test's own binary instead of a release build), unpacked
//! with `tar` into an empty directory and run from there with the current directory
//! elsewhere, no repository file reachable (HOME, XDG and every CONSENTRY_* variable
//! pointed away): the demo audit and an `[cmp] auto = true` fixture audit work, each
//! report names the data it ran with, and `consentry doctor` says an audit can run. The
//! tarball holds consentry's licence and those of every crate compiled into a default
//! build. Then `doctor` with one thing broken at a time names it with its fix: Chromium
//! not on PATH, a chromedriver of another major version (a stub that prints one), the
//! data missing, a database directory that cannot be written (a path under a regular
//! file: tests run as root, which directory permissions do not stop).
//!
//! The demo and fixture sites are served by this test (`consentry::demo`): they are test
//! fixtures, not part of what is shipped.
#![cfg(feature = "browser-tests")]

use consentry::demo::{DemoServer, FileSite};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// One at a time: each test drives Chromium.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The tarball of this test's binary, as `make dist` makes it (scripts/dist.sh): made
/// once per test process, in cargo's scratch directory for integration tests.
fn tarball() -> &'static Path {
    static TARBALL: OnceLock<PathBuf> = OnceLock::new();
    TARBALL.get_or_init(|| {
        let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("packaging-dist");
        let run = Command::new(format!("{ROOT}/scripts/dist.sh"))
            .arg(env!("CARGO_BIN_EXE_consentry"))
            .arg(&out)
            .output()
            .expect("scripts/dist.sh runs");
        assert!(
            run.status.success(),
            "scripts/dist.sh failed (run `make fixtures`): {}",
            text(&run)
        );
        let path = PathBuf::from(String::from_utf8_lossy(&run.stdout).trim());
        assert!(
            path.is_file() && path.starts_with(&out),
            "dist.sh printed {path:?}"
        );
        path
    })
}

/// Unpack `tarball` with `tar` into the empty directory `into`: it must hold one folder,
/// named as the tarball, which is returned (the prefix).
fn unpack(tarball: &Path, into: &Path) -> PathBuf {
    let out = Command::new("tar")
        .arg("-xzf")
        .arg(tarball)
        .arg("-C")
        .arg(into)
        .output()
        .expect("tar runs");
    assert!(out.status.success(), "tar -xzf: {}", text(&out));
    let top: Vec<PathBuf> = std::fs::read_dir(into)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let name = tarball
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".tar.gz"))
        .expect("a .tar.gz");
    assert_eq!(top, vec![into.join(name)], "the tarball's top");
    into.join(name)
}

/// The tarball unpacked once per test process, for the tests that change nothing in it.
fn shared_prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let into = Path::new(env!("CARGO_TARGET_TMPDIR")).join("packaging-unpacked");
        let _ = std::fs::remove_dir_all(&into);
        std::fs::create_dir_all(&into).unwrap();
        unpack(tarball(), &into)
    })
}

/// A temporary machine: the unpacked tarball (`prefix`: `consentry-<version>-<target>/`),
/// `work/` (the current directory, holding copies of the scenario files), `home/` (an
/// empty HOME).
struct Installed {
    root: tempfile::TempDir,
    prefix: PathBuf,
}

impl Installed {
    /// With the tarball unpacked once for all such tests: they must not change it.
    fn new() -> Installed {
        Installed::with_prefix(|_| shared_prefix().to_owned())
    }

    /// With its own copy of the tarball, unpacked in `unpacked/`: to remove part of it.
    fn own_copy() -> Installed {
        Installed::with_prefix(|root| {
            let into = root.join("unpacked");
            std::fs::create_dir_all(&into).unwrap();
            unpack(tarball(), &into)
        })
    }

    fn with_prefix(prefix: impl FnOnce(&Path) -> PathBuf) -> Installed {
        let root = tempfile::tempdir().expect("temp dir");
        for d in ["work", "home"] {
            std::fs::create_dir_all(root.path().join(d)).unwrap();
        }
        let prefix = prefix(root.path());
        Installed { root, prefix }
    }

    /// A path in the unpacked tarball.
    fn prefix(&self, p: &str) -> PathBuf {
        self.prefix.join(p)
    }

    fn path(&self, p: &str) -> PathBuf {
        self.root.path().join(p)
    }

    /// Copy a repository file into `work/` (what a user's own scenario files would be).
    fn copy_in(&self, from: &str) {
        let name = Path::new(from).file_name().unwrap();
        std::fs::copy(Path::new(ROOT).join(from), self.path("work").join(name)).unwrap();
    }

    /// The installed consentry, in `work/`, with nothing of the repository reachable.
    fn consentry(&self) -> Command {
        let mut c = Command::new(self.prefix("bin/consentry"));
        c.current_dir(self.path("work"))
            .env("HOME", self.path("home"))
            .env("XDG_DATA_DIRS", self.path("nowhere"))
            .env_remove("XDG_DATA_HOME");
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("CONSENTRY_") {
                c.env_remove(k);
            }
        }
        c
    }
}

fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn audit(i: &Installed, file: &str, port: u16, scenarios: &[&str]) -> (Output, Value) {
    let mut c = i.consentry();
    c.args(["audit", file, "--format", "json", "--no-progress", "--db"])
        .arg(i.path("work/audit.db"))
        .env("CONSENTRY_DEMO_PORT", port.to_string());
    for s in scenarios {
        c.args(["--scenario", s]);
    }
    let out = c.output().expect("consentry audit runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, json)
}

fn visit<'a>(json: &'a Value, scenario: &str) -> &'a Value {
    json["visits"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["scenario"] == scenario))
        .unwrap_or_else(|| panic!("no visit {scenario}: {json}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unpacked_tarball_audits_the_demo_and_an_autoconsent_fixture_alone() {
    let _one = ONE_AT_A_TIME.lock().await;
    let i = Installed::own_copy();
    let data = i.prefix("share/consentry");
    for f in [
        "autoconsent/autoconsent.playwright.js",
        "autoconsent/rules.json",
        "autoconsent/package.json",
        "autoconsent/LICENSE",
        "licenses/autoconsent.LICENSE",
        "schemas/scenario.schema.json",
        "schemas/policy.schema.json",
        "schemas/acks.schema.json",
        "schemas/fleet.schema.json",
        "schemas/profile.schema.json",
    ] {
        assert!(data.join(f).is_file(), "{f} is installed");
    }
    i.copy_in("scenarios/demo-shop.toml");
    i.copy_in("scenarios/demo-shop.policy.toml");
    i.copy_in("tests/fixtures/klaro/klaro.toml");
    i.copy_in("tests/fixtures/klaro/klaro.policy.toml");

    // --version: autoconsent's version from the installed data, and the bundled profiles.
    let out = i.consentry().arg("--version").output().unwrap();
    let version = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{}", text(&out));
    assert!(version.contains("autoconsent 16."), "{version}");
    assert!(version.contains("cmp-profiles klaro,"), "{version}");

    // The demo audit (two scenarios: the binary and its browser work from the install).
    let demo = DemoServer::start(0).await.expect("demo server");
    let port = demo.port();
    let run = {
        let i = &i;
        tokio::task::block_in_place(|| {
            audit(i, "demo-shop.toml", port, &["no_action", "accept_all"])
        })
    };
    demo.shutdown().await;
    let (out, json) = run;
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "demo audit: {}",
        text(&out)
    );
    for s in ["no_action", "accept_all"] {
        assert_eq!(visit(&json, s)["status"]["status"], "complete", "{s}");
    }
    // The report names the data the run ran with (one set): the demo needs no autoconsent.
    assert_eq!(json["data_versions"].as_array().map(Vec::len), Some(1));
    let data_versions = &json["data_versions"][0];
    assert_eq!(
        data_versions["consentry"],
        env!("CARGO_PKG_VERSION"),
        "{data_versions}"
    );
    assert_eq!(data_versions["autoconsent"], Value::Null, "{data_versions}");

    // `[cmp] auto = true`: autoconsent comes from PREFIX/share/consentry.
    let klaro = DemoServer::start_files(0, FileSite::named(Path::new(ROOT), "klaro"))
        .await
        .expect("klaro fixture server");
    let port = klaro.port();
    let (out, json) =
        tokio::task::block_in_place(|| audit(&i, "klaro.toml", port, &["accept_all"]));
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "klaro audit: {}",
        text(&out)
    );
    let v = visit(&json, "accept_all");
    assert_eq!(v["status"]["status"], "complete", "{v}");
    let action = &v["consent_actions"][0];
    assert_eq!(action["method"]["kind"], "autoconsent", "{action}");
    assert_eq!(action["detected"], "Klaro", "{action}");
    // The run records the data it ran with.
    let run_id = json["run_id"].as_i64().expect("run_id");
    let store = consentry::store::Store::open_read_only(&i.path("work/audit.db"))
        .await
        .expect("the audit's database");
    let run = store.history().run(run_id).await.unwrap().expect("the run");
    store.close().await;
    let versions = run.data_versions.unwrap_or_default();
    assert!(
        versions.contains("autoconsent=16.") && versions.contains("cmp-profiles=klaro,"),
        "{versions}"
    );
    // And its report says so, as printed and as `consentry report` rebuilds it.
    assert_eq!(json["data_versions"].as_array().map(Vec::len), Some(1));
    let data_versions = &json["data_versions"][0];
    let autoconsent = data_versions["autoconsent"].as_str().unwrap_or_default();
    assert!(autoconsent.starts_with("16."), "{data_versions}");
    assert!(
        data_versions["cmp_profiles"]
            .as_str()
            .is_some_and(|p| p.starts_with("klaro,")),
        "{data_versions}"
    );
    let report = |format: &str| {
        let out = i
            .consentry()
            .args(["report", &run_id.to_string(), "--format", format])
            .args(["--output", "-", "--db"])
            .arg(i.path("work/audit.db"))
            .output()
            .expect("consentry report runs");
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let again: Value = serde_json::from_str(&report("json")).expect("a JSON report");
    assert_eq!(again["data_versions"], json["data_versions"]);
    let markdown = report("markdown");
    assert!(
        markdown.lines().any(|l| l.starts_with("| Data ")
            && l.contains(&format!("autoconsent {autoconsent}, CMP profiles klaro,"))),
        "{markdown}"
    );

    // Without the data directory the same audit is refused before any browser starts,
    // naming where it looked and the fix: nothing else (no checkout) supplies it.
    std::fs::remove_dir_all(&data).unwrap();
    let (out, _) = tokio::task::block_in_place(|| audit(&i, "klaro.toml", port, &["accept_all"]));
    klaro.shutdown().await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(err.contains("make install"), "{err}");
    assert!(err.contains("--data-dir"), "{err}");
}

/// The crates of a default build (`cargo build --release --bin consentry`), as cargo
/// resolves them: normal dependencies, this host.
fn crates_of_a_default_build() -> BTreeSet<(String, String)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["tree", "--locked", "--edges", "normal", "--prefix", "none"])
        .args([
            "--format",
            "{p}",
            "--package",
            "consentry",
            "--manifest-path",
        ])
        .arg(format!("{ROOT}/Cargo.toml"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "cargo tree: {}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?;
            let version = words.next()?.strip_prefix('v')?;
            (name != "consentry").then(|| (name.to_owned(), version.to_owned()))
        })
        .collect()
}

#[test]
fn the_tarball_ships_the_licences_of_consentry_and_of_every_crate_in_the_binary() {
    let i = Installed::new();
    // Nothing but the binary and its data.
    let mut top: Vec<String> = std::fs::read_dir(&i.prefix)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["bin", "share"]);
    let licenses = i.prefix("share/consentry/licenses");
    let ours = std::fs::read_to_string(licenses.join("consentry.LICENSE")).unwrap();
    assert_eq!(
        ours,
        std::fs::read_to_string(format!("{ROOT}/LICENSE")).unwrap()
    );
    assert!(
        ours.contains("Apache License") && ours.contains("Version 2.0, January 2004"),
        "{ours}"
    );
    let readme = std::fs::read_to_string(licenses.join("README")).unwrap();
    assert!(readme.contains("consentry.LICENSE"), "{readme}");
    assert!(readme.contains("crates/INDEX"), "{readme}");

    // INDEX: one line per crate of the build, name, version, licence, files.
    let index = std::fs::read_to_string(licenses.join("crates/INDEX")).unwrap();
    let mut listed = BTreeSet::new();
    let mut without_files = Vec::new();
    for line in index.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [name, version, licence, files] = fields[..] else {
            panic!("not 4 tab-separated fields: {line:?}");
        };
        assert!(!licence.is_empty(), "{line}");
        assert!(
            listed.insert((name.to_owned(), version.to_owned())),
            "listed twice: {line}"
        );
        if files == "no licence file in the package" {
            without_files.push(name);
            continue;
        }
        for f in files.split(' ') {
            assert!(
                f.starts_with(&format!("{name}-{version}/")),
                "{f} in {line}"
            );
            let text = std::fs::read_to_string(licenses.join("crates").join(f))
                .unwrap_or_else(|e| panic!("{f} of {line}: {e}"));
            assert!(!text.trim().is_empty(), "{f} is empty");
        }
    }
    let built = crates_of_a_default_build();
    assert_eq!(listed, built, "INDEX against `cargo tree`");
    let names: BTreeSet<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
    for name in [
        "tokio",
        "serde",
        "sqlx",
        "fantoccini",
        "rustls",
        "ring",
        "clap",
    ] {
        assert!(names.contains(name), "{name} in INDEX");
    }
    // Only what a default build compiles: the demo site's certificate generator is not.
    assert!(
        !names.contains("rcgen"),
        "rcgen is behind the `demo` feature"
    );
    assert!(
        without_files.len() * 10 < listed.len(),
        "most crates ship a licence file; without: {without_files:?}"
    );
    // Every folder under crates/ is a listed crate's.
    for e in std::fs::read_dir(licenses.join("crates")).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            name == "INDEX" || listed.iter().any(|(n, v)| name == format!("{n}-{v}")),
            "{name} is not in INDEX"
        );
    }
}

/// `c` is `consentry doctor ...`: its exit code and everything it printed.
fn doctor(c: &mut Command) -> (Option<i32>, String) {
    let out = c.output().expect("consentry doctor runs");
    (out.status.code(), text(&out))
}

/// The PROBLEM line of `name` and the fix under it.
fn problem<'a>(out: &'a str, name: &str) -> (&'a str, &'a str) {
    let mut lines = out.lines();
    let line = lines
        .find(|l| l.starts_with("PROBLEM") && l.split_whitespace().nth(1) == Some(name))
        .unwrap_or_else(|| panic!("no problem for {name}:\n{out}"));
    let fix = lines
        .next()
        .filter(|l| l.trim_start().starts_with("fix: "))
        .unwrap_or_else(|| panic!("no fix after {line}:\n{out}"));
    (line, fix)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_on_the_unpacked_tarball() {
    let _one = ONE_AT_A_TIME.lock().await;
    let i = Installed::new();
    let (code, out) = doctor(i.consentry().arg("doctor"));
    assert_eq!(code, Some(0), "{out}");
    assert!(!out.contains("PROBLEM"), "{out}");
    for want in [
        "ok       chromium",
        "ok       chromedriver",
        "ok       browser       a headless session starts",
        "share/consentry (from the install prefix",
        "ok       autoconsent   16.",
        "ok       cmp-profiles  3 bundled: klaro, cookieconsent, consentry-tcf",
        "(created on the first audit)",
        "an audit can run",
    ] {
        assert!(out.contains(want), "{want:?} in:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_chromium_missing_from_path() {
    let _one = ONE_AT_A_TIME.lock().await;
    let i = Installed::new();
    std::fs::create_dir_all(i.path("bin")).unwrap();
    let (code, out) = doctor(i.consentry().arg("doctor").env("PATH", i.path("bin")));
    assert_eq!(code, Some(4), "{out}");
    let (line, fix) = problem(&out, "chromium");
    assert!(line.contains("Chromium not found on PATH"), "{line}");
    assert!(fix.contains("apt-get install -y chromium"), "{fix}");
    assert!(out.contains("an audit cannot run"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_a_chromedriver_of_another_major_version() {
    let _one = ONE_AT_A_TIME.lock().await;
    let i = Installed::new();
    let bin = i.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let stub = bin.join("chromedriver");
    std::fs::write(
        &stub,
        "#!/bin/sh\necho 'ChromeDriver 120.0.6099.71 (0000-refs/branch-heads/6099@{#1})'\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let (code, out) = doctor(i.consentry().arg("doctor").env("PATH", path));
    assert_eq!(code, Some(4), "{out}");
    let (line, fix) = problem(&out, "chromedriver");
    assert!(line.contains(&stub.display().to_string()), "{line}");
    assert!(line.contains("is major version 120, Chromium is"), "{line}");
    assert!(
        fix.contains("--only-upgrade chromium chromium-driver"),
        "{fix}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_the_data_missing() {
    let _one = ONE_AT_A_TIME.lock().await;
    let i = Installed::own_copy();
    std::fs::remove_dir_all(i.prefix("share/consentry")).unwrap();
    let (code, out) = doctor(i.consentry().arg("doctor"));
    assert_eq!(code, Some(4), "{out}");
    let (line, fix) = problem(&out, "autoconsent");
    assert!(line.contains("was not found in"), "{line}");
    assert!(fix.contains("make install"), "{fix}");
    assert!(fix.contains("--data-dir DIR"), "{fix}");
    // An explicit data directory that does not exist is named as such.
    let (code, out) = doctor(
        i.consentry()
            .arg("doctor")
            .env("CONSENTRY_DATA_DIR", i.path("gone"))
            .env("PATH", i.path("nowhere")),
    );
    assert_eq!(code, Some(4), "{out}");
    let (line, _) = problem(&out, "data");
    assert!(
        line.contains("(from $CONSENTRY_DATA_DIR) does not exist"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_a_database_directory_that_cannot_be_written() {
    let _one = ONE_AT_A_TIME.lock().await;
    let i = Installed::new();
    // Root writes through any permission bits: a parent that is a regular file stops
    // everyone.
    let file = i.path("work/not-a-dir");
    std::fs::write(&file, "").unwrap();
    let db = file.join("consentry.db");
    let (code, out) = doctor(
        i.consentry()
            .arg("doctor")
            .arg("--db")
            .arg(&db)
            .env("PATH", i.path("no")),
    );
    assert_eq!(code, Some(4), "{out}");
    let (line, fix) = problem(&out, "database");
    assert!(line.contains("cannot be written"), "{line}");
    assert!(line.contains("is not a directory"), "{line}");
    assert!(fix.contains("pass --db PATH"), "{fix}");
    let (line, _) = problem(&out, "reports");
    assert!(line.contains("not-a-dir/reports"), "{line}");
}
