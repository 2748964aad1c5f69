//! The real binary: `validate` diagnostics and exit codes, `ack`, a missing Chromium.
//! Audits interrupted by signals or crashes are in `interrupts.rs` (they need the demo site).

use consentry::store::Store;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_consentry"))
}

#[test]
fn validate_reports_every_problem_with_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("broken.policy.toml");
    std::fs::write(
        &policy,
        r#"[[purpose]]
id = "ads"
basis = "consnet"

[[vendor]]
id = "fb"
domains = ["facebook .com"]
purposes = ["ads", "nope"]

[[cookie]]
name = "_fbp"
vendor = "fb"
max_retention = "3 moons"
"#,
    )
    .unwrap();
    let out = bin().arg("validate").arg(&policy).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let p = policy.display().to_string();
    for (pos, what) in [
        ("3:9", "consnet"),
        ("7:12", "facebook .com"),
        ("8:20", "nope"),
        ("13:17", "3 moons"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.starts_with(&format!("{p}:{pos}: error:")))
            .unwrap_or_else(|| panic!("no error at {pos} ({what}) in:\n{stderr}"));
        assert!(line.contains(what) || stderr.contains(what), "{line}");
    }
    assert!(stderr.contains("hint:"), "{stderr}");

    let ok = bin()
        .args(["validate", "scenarios/demo-shop.toml"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

#[test]
fn audit_with_an_invalid_file_exits_2_and_records_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[site]\nname = \"x\"\nbase_url = \"not a url\"\n").unwrap();
    let db = dir.path().join("never.db");
    let out = bin()
        .arg("audit")
        .arg(&file)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}:3:", file.display())),
        "{stderr}"
    );
    assert!(!db.exists(), "no database for an audit that never started");
}

/// An explicit `--chromium` that does not exist is named, never silently replaced by
/// another binary; the scenario is not observed.
#[test]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium and chromedriver: run `make test` or `cargo test --features browser-tests`"
)]
fn a_missing_chromium_path_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["audit", "scenarios/demo-shop.toml", "-s", "no_action"])
        .args([
            "--format",
            "json",
            "--chromium",
            "/nonexistent/chromium",
            "--db",
        ])
        .arg(dir.path().join("x.db"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reason = report["visits"][0]["status"]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("Chromium not found at /nonexistent/chromium"),
        "{reason}"
    );
}

/// `demo-site` is compiled only with the `demo` feature; without it the command is not
/// listed and says how to get it (exit 2), never "unrecognized subcommand".
#[test]
fn demo_site_exists_only_with_the_demo_feature() {
    let out = bin()
        .args(["demo-site", "--port", "1", "--help"])
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    let help = bin().arg("--help").output().unwrap();
    let listed = String::from_utf8_lossy(&help.stdout).contains("demo-site");
    if cfg!(feature = "demo") {
        assert_eq!(out.status.code(), Some(0), "{stderr}");
        assert!(stdout.contains("--variant <VARIANT>"), "{stdout}");
        assert!(listed);
    } else {
        assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
        assert!(
            stderr.contains("built without the demo site") && stderr.contains("--features demo"),
            "{stderr}"
        );
        assert!(!listed);
    }
}

/// An `--autoconsent` bundle that is not there: exit 4, naming the path and `make fixtures`.
#[test]
fn missing_autoconsent_bundle_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "audit",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/fixtures/klaro/klaro.toml"
            ),
            "--no-progress",
            "--db",
        ])
        .arg(dir.path().join("a.db"))
        .arg("--autoconsent")
        .arg(dir.path().join("nowhere"))
        .output()
        .expect("run consentry");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("make fixtures"), "{stderr}");
    assert!(stderr.contains("nowhere"), "{stderr}");
}

/// A `gpc` option of the wrong type: named with its file, line and column.
#[test]
fn a_malformed_gpc_option_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("gpc-bad.toml");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/gpc/gpc.policy.toml"
        ),
        dir.path().join("gpc.policy.toml"),
    )
    .unwrap();
    std::fs::write(
        &file,
        "[site]\nname = \"gpc-shop\"\nbase_url = \"https://www.gpc-shop.test/\"\npolicy = \"gpc.policy.toml\"\n\n\
         [[scenario]]\nid = \"gpc_reject\"\ngpc = \"on\"\nsteps = []\n",
    )
    .unwrap();
    let out = bin()
        .arg("validate")
        .arg(&file)
        .output()
        .expect("run consentry validate");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{text}");
    let want = format!("{}:8:7", file.display());
    assert!(
        text.contains(&want) && text.contains("`gpc` in [[scenario]] must be a boolean"),
        "{text}"
    );
}

/// A database with one complete run of site `shop` (scenario file `scenario_file`)
/// holding one site-level finding; returns the finding's fingerprint.
async fn db_with_a_finding(db: &std::path::Path, scenario_file: &std::path::Path) -> String {
    use consentry::analysis::finding::{fingerprint, Code, Finding};
    let store = Store::open(db).await.unwrap();
    let start = chrono::Utc::now() - chrono::Duration::hours(1);
    let run = store
        .writer()
        .begin_run("shop", &scenario_file.display().to_string(), start)
        .await
        .unwrap();
    let code = Code::UndeclaredThirdParty;
    let f = Finding {
        code,
        severity: code.severity(),
        site: "shop".into(),
        scenario: None,
        subject: "tiktok.com".into(),
        vendor: None,
        message: "tiktok.com was contacted".into(),
        rule: "every third party must be declared".into(),
        evidence: Vec::new(),
        occurrences: 1,
        repeat: None,
        fingerprint: fingerprint(code, "shop", None, "tiktok.com"),
    };
    store
        .writer()
        .record_findings(run, std::slice::from_ref(&f))
        .await
        .unwrap();
    store
        .writer()
        .finish_run(run, &consentry::model::RunStatus::Complete, start)
        .await
        .unwrap();
    store.close().await;
    f.fingerprint
}

/// `consentry ack`: appends a block to acks.toml beside the finding's scenario file
/// (comments kept), filled from the stored finding; refuses, leaving the file as it
/// was, what would make the file invalid; refuses an unknown fingerprint without
/// --force; `--list` shows the status.
#[tokio::test]
async fn ack_appends_validates_and_lists() {
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir(&scenarios).unwrap();
    let db = dir.path().join("c.db");
    let fp = db_with_a_finding(&db, &scenarios.join("shop.toml")).await;
    let acks = scenarios.join("acks.toml");
    std::fs::write(&acks, "# accepted findings, reviewed each quarter\n").unwrap();
    let ack = |extra: &[&str]| {
        let out = bin()
            .arg("ack")
            .args(extra)
            .arg("--db")
            .arg(&db)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let args = |fp: &str, expires: &str| -> Vec<String> {
        [
            fp,
            "--reason",
            "TikTok pixel \"test\", removal planned",
            "--owner",
            "dpo@example.com",
            "--expires",
            expires,
        ]
        .map(String::from)
        .to_vec()
    };
    fn as_strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    let (code, stdout, stderr) = ack(&as_strs(&args(&fp, "2099-12-31")));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains(&format!("acknowledged {fp}")), "{stdout}");
    let text = std::fs::read_to_string(&acks).unwrap();
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        text,
        format!(
            "# accepted findings, reviewed each quarter\n\n[[ack]]\nfingerprint = \"{fp}\"\nsite = \"shop\"\ncode = \"undeclared-third-party\"\nsubject = \"tiktok.com\"\nreason = \"TikTok pixel \\\"test\\\", removal planned\"\nowner = \"dpo@example.com\"\nacknowledged = \"{today}\"\nexpires = \"2099-12-31\"\n"
        )
    );

    // The same finding again: a duplicate; a bad date: invalid. The file stays as it was.
    for (expires, why) in [
        ("2099-12-31", "duplicate acknowledgement"),
        ("soon", "invalid date \"soon\" for `expires`"),
    ] {
        let (code, _, stderr) = ack(&as_strs(&args(&fp, expires)));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains(why), "{stderr}");
        assert!(stderr.contains("the file is unchanged"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&acks).unwrap(), text);
    }
    let (code, _, stderr) = ack(&as_strs(&args("abc", "2099-12-31")));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("invalid fingerprint \"abc\""), "{stderr}");

    // A fingerprint no run has: refused, unless forced into a given file.
    let unknown = "v1-1111111111111111";
    let (code, _, stderr) = ack(&as_strs(&args(unknown, "2099-12-31")));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--force"), "{stderr}");
    let mut forced = args(unknown, "2099-12-31");
    forced.push("--force".into());
    let (code, _, stderr) = ack(&as_strs(&forced));
    assert_eq!(code, Some(2), "--force without --file");
    assert!(stderr.contains("--force needs --file"), "{stderr}");
    let other = dir.path().join("other-acks.toml");
    forced.extend(["--file".into(), other.display().to_string()]);
    let (code, _, stderr) = ack(&as_strs(&forced));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(std::fs::read_to_string(&other)
        .unwrap()
        .contains(&format!("fingerprint = \"{unknown}\"")));
    let mut wrong_site = args(&fp, "2099-12-31");
    wrong_site.extend(["--site".into(), "elsewhere".into()]);
    let (code, _, stderr) = ack(&as_strs(&wrong_site));
    assert_eq!(code, Some(2));
    assert!(stderr.contains("is of site \"shop\""), "{stderr}");

    // --list: beside the latest run's scenario file by default.
    let (code, stdout, stderr) = ack(&["--list"]);
    assert_eq!(code, Some(0), "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.contains(&fp))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(row.contains("| active"), "{row}");
    assert!(row.contains("2099-12-31"), "{row}");
    std::fs::write(
        &other,
        format!("[[ack]]\nfingerprint = \"{unknown}\"\nreason = \"r\"\nowner = \"o\"\nacknowledged = \"2098-01-01\"\nexpires = \"2099-01-01\"\n\n[[ack]]\nfingerprint = \"{fp}\"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2001-01-01\"\n"),
    )
    .unwrap();
    let (code, stdout, _) = ack(&["--list", "--file", &other.display().to_string()]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("| not yet in force |"), "{stdout}");
    assert!(stdout.contains("| expired "), "{stdout}");
    assert!(stdout.contains("| (any) "), "{stdout}");
}

/// Acknowledgements files are validated with the scenario file, before anything runs:
/// `validate` checks the one beside a scenario file (or `--acks`), `audit` exits 2 with
/// the problems of both files and records nothing.
#[test]
fn invalid_acknowledgements_are_invalid_input() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/demo-shop.toml");
    let broken = dir.path().join("broken-acks.toml");
    std::fs::write(
        &broken,
        "[[ack]]\nfingerprint = \"v1-XYZ\"\nreason = \"r\"\nowner = \"\"\nexpires = \"2027-01-01\"\n",
    )
    .unwrap();
    let b = broken.display().to_string();
    let out = bin()
        .arg("validate")
        .arg(&demo)
        .arg("--acks")
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{b}:2:15: error: invalid fingerprint")),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{b}:4:9: error: `owner` in [[ack]] is empty")),
        "{stderr}"
    );
    // Given directly, it is recognised as an acknowledgements file.
    let out = bin().arg("validate").arg(&broken).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid fingerprint"));

    // Beside a scenario file: found by default; its problems and the scenario file's
    // are all shown, and nothing is audited.
    let scenario = dir.path().join("bad.toml");
    std::fs::write(
        &scenario,
        "[site]\nname = \"x\"\nbase_url = \"not a url\"\n",
    )
    .unwrap();
    std::fs::copy(&broken, dir.path().join("acks.toml")).unwrap();
    let db = dir.path().join("never.db");
    let out = bin()
        .arg("audit")
        .arg(&scenario)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let beside = dir.path().join("acks.toml").display().to_string();
    assert!(
        stderr.contains(&format!("{}:3:", scenario.display())),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("{beside}:2:15:")), "{stderr}");
    assert!(!db.exists(), "nothing recorded");
    let out = bin().arg("validate").arg(&scenario).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("{beside}:4:9:")));

    // A valid scenario file with an --acks file that does not exist: named, exit 2,
    // no browser started, nothing recorded.
    let missing = dir.path().join("missing-acks.toml");
    let out = bin()
        .arg("audit")
        .arg(&demo)
        .arg("--acks")
        .arg(&missing)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{}", missing.display())),
        "{stderr}"
    );
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(!db.exists(), "nothing recorded");
}

/// `schema KIND` prints the JSON Schema `schemas/` ships; `--output-dir` writes all five;
/// an unknown kind is exit 2 naming the kinds.
#[test]
fn schema_prints_each_kind_and_writes_them_all() {
    let out = bin().args(["schema", "policy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/policy.schema.json"),
    )
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), shipped);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["properties"]["purpose"]["type"], "array");

    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args(["schema", "--output-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    for kind in ["scenario", "policy", "acks", "fleet", "profile"] {
        let written = dir.path().join(format!("{kind}.schema.json"));
        assert!(written.is_file(), "{kind}");
    }

    let out = bin().args(["schema", "polcy"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "unknown file kind \"polcy\"; the kinds are: scenario, policy, acks, fleet, profile"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `init URL --no-visit` writes a starter scenario file and policy that `validate` accepts,
/// names them on stdout, and never overwrites a file without `--force` (the draft from a
/// visit: tests/init.rs).
#[test]
fn init_writes_a_valid_starter_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    let out = bin()
        .args([
            "init",
            "--no-visit",
            "https://www.my-shop.example/",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scenario = dir.path().join("my-shop-example.toml");
    let policy = dir.path().join("my-shop-example.policy.toml");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n{}\n", scenario.display(), policy.display())
    );
    let text = std::fs::read_to_string(&scenario).unwrap();
    assert!(
        text.contains("base_url = \"https://www.my-shop.example/\""),
        "{text}"
    );
    assert!(
        text.contains("policy = \"my-shop-example.policy.toml\""),
        "{text}"
    );
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.contains("domains = [\"my-shop.example\"]"), "{text}");
    let v = bin().arg("validate").arg(&scenario).output().unwrap();
    assert_eq!(
        v.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&v.stderr)
    );

    std::fs::write(&policy, "# edited by the privacy team\n").unwrap();
    let again = bin()
        .args([
            "init",
            "--no-visit",
            "https://www.my-shop.example/",
            "--dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("exists; consentry init never overwrites")
    );
    assert_eq!(
        std::fs::read_to_string(&policy).unwrap(),
        "# edited by the privacy team\n"
    );

    let bad = bin().args(["init", "shop.example"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("not an absolute http:// or https:// URL")
    );
}

/// `explain CODE` prints the code's documented contract, the very text the SARIF report
/// gives as the rule's help; an unknown code is exit 2 naming the close codes.
#[test]
fn explain_prints_the_contract_and_names_close_codes_for_an_unknown_one() {
    use consentry::analysis::finding::Code;
    let out = bin()
        .args(["explain", "undeclared-fourth-party"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(
        page.starts_with(
            "undeclared-fourth-party: a declared vendor loaded a third party not in the declared map\nfamily: chains · default severity: medium\n"
        ),
        "{page}"
    );
    for part in [
        "**Severity:** medium",
        "**Triggers**",
        "**Evidence:**",
        "**How to fix:**",
        "acknowledge",
    ] {
        assert!(page.contains(part), "{part} missing:\n{page}");
    }
    // One source of truth: the SARIF rule help, whole.
    assert!(page.contains(consentry::report::ci::code_doc(Code::UndeclaredFourthParty)));
    for code in Code::all() {
        let out = bin().args(["explain", code.as_str()]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{code}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(consentry::report::ci::code_doc(code))
        );
    }

    let out = bin()
        .args(["explain", "undeclared-third-pary"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with(
            "error: unknown finding code \"undeclared-third-pary\"; close codes:\n  undeclared-third-party\n"
        ),
        "{err}"
    );
    // Nothing close: every code is listed.
    let out = bin()
        .args(["explain", "qqqqqqqqqqqqqqqqqqqq"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("the codes are:"), "{err}");
    assert_eq!(err.lines().count(), 1 + Code::all().count(), "{err}");
}
