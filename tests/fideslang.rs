//! The declared map as fideslang (docs/fideslang.md): every shipped and test policy
//! exported and imported back is the same map; a fideslang file a team wrote (no
//! consentry meta) imports to a policy `consentry validate` reads; bad files are refused
//! with file:line:col; the export passes fideslang's own model validation (Python's
//! fideslang, pinned, installed by `make fixtures`).

use consentry::fides::{export, import_str, Entry};
use consentry::policy::load::{load_policy, parse_policy};
use consentry::policy::{DomainPattern, LegalBasis, Party, Policy, Retention};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_consentry"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// Every policy file in the repository that loads (the `validate` fixtures that are
/// invalid on purpose are left out by the loader itself).
fn policies() -> Vec<(PathBuf, Policy)> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![repo("scenarios"), repo("tests/fixtures")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.to_string_lossy().ends_with(".policy.toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|f| load_policy(&f).ok().map(|p| (f, p)))
        .collect()
}

/// The map's meaning: what `Policy` equality should compare (no path, digest, lines or
/// declaration positions); purposes no vendor serves are not exported (fideslang
/// declares purposes on systems only).
fn semantic(p: &Policy) -> Policy {
    let mut vendors = p.vendors.clone();
    for v in &mut vendors {
        if let Some(t) = &mut v.tcf {
            t.at = Default::default();
        }
    }
    Policy {
        purposes: p
            .purposes
            .iter()
            .filter(|q| p.vendors.iter().any(|v| v.purposes.contains(&q.id)))
            .cloned()
            .collect(),
        vendors,
        cookies: p.cookies.clone(),
        retention_tolerance_secs: p.retention_tolerance_secs,
        ..Policy::default()
    }
}

#[test]
fn every_policy_comes_back_whole() {
    let all = policies();
    assert!(all.len() >= 15, "{} policies", all.len());
    for (file, policy) in &all {
        let out = export(policy);
        let (imported, diags) = import_str(Path::new("export.yml"), &out.text);
        let imported =
            imported.unwrap_or_else(|| panic!("{}:\n{diags}\n{}", file.display(), out.text));
        assert!(diags.0.is_empty(), "{}: {diags}", file.display());
        // No entry becomes a draft: the meta block holds everything.
        assert_eq!(imported.drafts(), 0, "{}", file.display());
        assert_eq!(
            semantic(&imported.policy),
            semantic(policy),
            "{} did not come back whole",
            file.display()
        );
        // Exporting what came back writes the same document (its first line names the file).
        let again = export(&imported.policy).text;
        assert_eq!(
            again.split_once('\n').map(|x| x.1),
            out.text.split_once('\n').map(|x| x.1),
            "{}",
            file.display()
        );
        // And through the policy file import writes: the loader reads the same map.
        let toml = consentry::fides::import::to_toml(&imported, Path::new("export.yml"));
        let (reloaded, d) = parse_policy(Path::new("imported.policy.toml"), &toml);
        let reloaded = reloaded.unwrap_or_else(|| panic!("{}:\n{d}\n{toml}", file.display()));
        assert_eq!(semantic(&reloaded), semantic(policy), "{}", file.display());
    }
}

#[test]
fn drafts_and_the_tolerance_travel_through_fideslang() {
    let mut policy = load_policy(&repo("scenarios/demo-shop.policy.toml")).unwrap();
    policy.purposes[3].draft = true;
    policy.vendors[2].draft = true;
    policy.cookies[4].draft = true;
    policy.retention_tolerance_secs = 7200;
    // A cookie rule with every optional key (no shipped policy has them all).
    let c = &mut policy.cookies[0];
    c.domain = DomainPattern::parse("*.demo-shop.test");
    c.party = Some(Party::First);
    c.basis = Some(LegalBasis::LegitimateInterest);
    c.strictly_necessary = Some(false);
    let (imported, diags) = import_str(Path::new("x.yml"), &export(&policy).text);
    let imported = imported.unwrap_or_else(|| panic!("{diags}"));
    assert_eq!(imported.drafts(), 3);
    assert_eq!(semantic(&imported.policy), semantic(&policy));
}

#[test]
fn the_demo_export_reads_as_fideslang() {
    let policy = load_policy(&repo("scenarios/demo-shop.policy.toml")).unwrap();
    let text = export(&policy).text;
    for needle in [
        "  - fides_key: \"google-analytics\"\n",
        "        data_use: \"analytics.reporting.content_performance\"\n",
        "        legal_basis_for_processing: \"Legal obligations\"\n",
        "        data_use: \"essential.service.payment_processing\"\n",
        "        legal_basis_for_processing: \"Legitimate interests\"\n",
        "    cookie_max_age_seconds: 33696000\n",
        "        retention_period: \"390 days\"\n",
        "      - name: \"_ga\"\n",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
}

#[test]
fn a_map_kept_in_fides_imports_as_drafts_to_complete() {
    let file = repo("tests/fixtures/fides/shop.fides.yml");
    let src = std::fs::read_to_string(&file).unwrap();
    let (imported, diags) = import_str(&file, &src);
    let imported = imported.unwrap_or_else(|| panic!("{diags}"));
    let p = &imported.policy;
    let basis = |id: &str| p.purpose(id).map(|q| q.basis);
    assert_eq!(
        basis("analytics.reporting.content_performance"),
        Some(LegalBasis::Consent)
    );
    assert_eq!(
        p.purpose("analytics.reporting.content_performance")
            .unwrap()
            .tcf_purpose,
        Some(8)
    );
    assert_eq!(
        basis("essential.service.payment_processing"),
        Some(LegalBasis::Contract)
    );
    // No basis in fideslang: one is assumed, and the purpose is a draft.
    assert_eq!(
        basis("essential.fraud_detection"),
        Some(LegalBasis::LegitimateInterest)
    );
    assert!(imported.is_draft(&Entry::Purpose("essential.fraud_detection".into())));
    assert!(!imported.is_draft(&Entry::Purpose(
        "essential.service.payment_processing".into()
    )));
    // Vendors: no domains invented; each a draft.
    let ga = p.vendor("google_analytics").unwrap();
    assert!(ga.domains.is_empty() && ga.hosts.is_empty());
    assert_eq!(ga.tcf.as_ref().and_then(|t| t.vendor_id), Some(755));
    for v in &p.vendors {
        assert!(imported.is_draft(&Entry::Vendor(v.id.clone())), "{}", v.id);
    }
    let stripe = p.vendor("stripe").unwrap();
    assert_eq!(
        stripe.purposes,
        [
            "essential.service.payment_processing",
            "essential.fraud_detection"
        ]
    );
    // Cookies, with the system's cookie_max_age_seconds or the declaration's period.
    let cookie = |n: &str| p.cookies.iter().find(|c| c.name == n).unwrap();
    assert_eq!(
        cookie("_ga").max_retention,
        Retention::MaxSeconds(33_696_000)
    );
    assert_eq!(
        cookie("_ga")
            .domain
            .as_ref()
            .map(|d| d.to_string())
            .as_deref(),
        Some("shop.example")
    );
    assert_eq!(cookie("_gid").vendor, "google_analytics");
    assert_eq!(
        cookie("_fbp").max_retention,
        Retention::MaxSeconds(90 * 86_400)
    );
    assert_eq!(cookie("_fbp").vendor, "meta_pixel");
}

#[test]
fn a_misspelt_key_is_named() {
    let src = "system:\n  - fides_key: t\n    system_type: Service\n    uses_cookie: true\n    privacy_declarations:\n      - data_use: analytics\n        data_categories: []\n        legal_basis_for_procesing: Consent\n        id: 7\n";
    let (imported, diags) = import_str(Path::new("t.yml"), src);
    assert!(imported.is_some(), "{diags}");
    let text = diags.to_string();
    assert!(
        text.contains("t.yml:4:5: warning: unknown key `uses_cookie` in system `t`: ignored\n  hint: did you mean `uses_cookies`?"),
        "{text}"
    );
    assert!(
        text.contains("t.yml:8:9: warning: unknown key `legal_basis_for_procesing`"),
        "{text}"
    );
    // A key of a Fides server's own (`id`) is no typo.
    assert_eq!(diags.warnings(), 2, "{text}");
}

#[test]
fn import_writes_a_policy_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shop.policy.toml");
    let run = |force: bool| {
        let mut c = bin();
        c.args([
            "map",
            "import",
            "tests/fixtures/fides/shop.fides.yml",
            "--output",
        ])
        .arg(&out);
        if force {
            c.arg("--force");
        }
        c.output().unwrap()
    };
    let first = run(false);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let stderr = String::from_utf8_lossy(&first.stderr);
    let at = out.display().to_string();
    for line in [
        format!("{at}:24: draft purpose `essential.fraud_detection`: fideslang gives no legal basis"),
        format!("{at}:39: draft vendor `google_analytics`: fideslang does not say which domains or hosts"),
        format!("{at}:54: draft vendor `meta_pixel`:"),
        "4 entries are marked draft".to_string(),
    ] {
        assert!(stderr.contains(&line), "{line:?} not in\n{stderr}");
    }
    let written = std::fs::read_to_string(&out).unwrap();
    assert_eq!(written.matches("\ndraft = true\n").count(), 4, "{written}");
    let again = run(false);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"));
    assert_eq!(run(true).status.code(), Some(0));
    // `consentry validate` reads what import wrote.
    let v = bin().arg("validate").arg(&out).output().unwrap();
    let report = String::from_utf8_lossy(&v.stderr);
    assert_eq!(v.status.code(), Some(0), "{report}");
    assert!(
        report.contains(&format!(
            "{at}:47:6: warning: vendor `stripe` has no domains, no hosts and no cookies"
        )),
        "{report}"
    );
}

#[test]
fn bad_files_are_refused_with_positions() {
    let run = |name: &str| {
        let o = bin()
            .args(["map", "import"])
            .arg(format!("tests/fixtures/fides/{name}"))
            .output()
            .unwrap();
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
            o.stdout,
        )
    };
    let (code, err, out) = run("malformed.fides.yml");
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("tests/fixtures/fides/malformed.fides.yml:3:11: error: invalid YAML"),
        "{err}"
    );
    let (code, err, out) = run("bad.fides.yml");
    assert_eq!(code, Some(2), "{err}");
    assert!(out.is_empty());
    for line in [
        "bad.fides.yml:9:37: error: unknown legal basis `Legitimate interest`",
        "did you mean `Legitimate interests`?",
        "bad.fides.yml:10:5: error: a system has no `fides_key`",
        "bad.fides.yml:15:29: error: `cookie_max_age_seconds` of system `civic` must be a whole number",
        "bad.fides.yml:19:37: error: legal basis `Public interest` has no counterpart in consentry",
        "4 error(s)",
    ] {
        assert!(err.contains(line), "{line:?} not in\n{err}");
    }
}

/// A meta block edited into a map the policy loader refuses (a domain two vendors claim)
/// is not written: exit 2 with the loader's reasons.
#[test]
fn an_import_the_loader_refuses_is_not_written() {
    let policy = load_policy(&repo("scenarios/demo-shop.policy.toml")).unwrap();
    let text = export(&policy)
        .text
        .replacen("- \"hotjar.com\"", "- \"stripe.com\"", 1);
    let dir = tempfile::tempdir().unwrap();
    let yml = dir.path().join("edited.yml");
    std::fs::write(&yml, text).unwrap();
    let out = dir.path().join("out.policy.toml");
    let o = bin()
        .args(["map", "import"])
        .arg(&yml)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(!out.exists());
    assert!(
        stderr.contains("domain `stripe.com` is already claimed by vendor `stripe`")
            && stderr.contains("nothing written"),
        "{stderr}"
    );
}

#[test]
fn export_writes_a_file_and_refuses_an_invalid_policy() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("map.yml");
    let o = bin()
        .args([
            "map",
            "export",
            "scenarios/demo-shop.policy.toml",
            "--format",
            "fideslang",
            "--output",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("# The declared map of demo-shop.policy.toml"),
        "{text}"
    );
    let bad = bin()
        .args(["map", "export", "tests/fixtures/validate/bad.policy.toml"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(bad.stdout.is_empty());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("bad.policy.toml:"));
}

/// Python's fideslang (pinned in fixtures/fideslang/requirements.txt, installed by
/// `make fixtures`) validates every export against its own models and default taxonomy.
#[test]
fn fideslang_itself_accepts_the_exports() {
    let python = repo("fixtures/fideslang/venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make fixtures` (it installs Python's fideslang, pinned)",
        python.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (_, policy)) in policies().iter().enumerate() {
        let f = dir.path().join(format!("{i}.yml"));
        std::fs::write(&f, export(policy).text).unwrap();
        files.push(f);
    }
    let o = Command::new(&python)
        .arg(repo("fixtures/fideslang/check.py"))
        .args(&files)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{report}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        report.lines().filter(|l| l.starts_with("ok ")).count(),
        files.len(),
        "{report}"
    );
    // And it refuses what it should: a declaration without its data use.
    let broken = dir.path().join("broken.yml");
    std::fs::write(
        &broken,
        "system:\n  - fides_key: x\n    system_type: Service\n    privacy_declarations:\n      - name: n\n        data_categories: []\n",
    )
    .unwrap();
    let o = Command::new(&python)
        .arg(repo("fixtures/fideslang/check.py"))
        .arg(&broken)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
}

/// A stdout that cannot be written (`/dev/full`) is exit 4 with the reason, never a panic.
#[test]
fn a_full_stdout_is_exit_4() {
    for args in [
        ["map", "export", "scenarios/demo-shop.policy.toml"],
        ["map", "import", "tests/fixtures/fides/shop.fides.yml"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = bin().args(args).stdout(full).output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(4), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write to standard output") && !stderr.contains("panicked"),
            "{args:?}: {stderr}"
        );
    }
}

/// An export edited in Fides: what fideslang says wins over the meta block (a basis
/// changed, a declaration removed or added), the meta block fills in the rest; a purpose
/// two systems now give two bases is an error naming both.
#[test]
fn fideslang_edits_after_an_export_win() {
    let policy = load_policy(&repo("scenarios/demo-shop.policy.toml")).unwrap();
    let text = export(&policy).text;
    let rebase = |text: &str, system: &str| {
        let at = text.find(&format!("  - fides_key: \"{system}\"")).unwrap();
        let basis = at + text[at..].find("\"Consent\"").unwrap();
        format!(
            "{}\"Contract\"{}",
            &text[..basis],
            &text[basis + "\"Consent\"".len()..]
        )
    };
    // Meta's advertising (its vendor alone) becomes contract in Fides.
    let mut edited = rebase(&text, "meta");
    // Stripe's payment declaration is replaced by a fraud-detection one.
    edited = edited.replacen(
        "      - name: \"Payment processing\"\n        data_use: \"essential.service.payment_processing\"",
        "      - name: \"Fraud checks\"\n        data_use: \"essential.fraud_detection\"",
        1,
    );
    // And a dataset resource, which is not part of the map.
    edited.push_str("dataset:\n  - fides_key: orders\n");
    let (imported, diags) = import_str(Path::new("edited.yml"), &edited);
    let imported = imported.unwrap_or_else(|| panic!("{diags}"));
    let messages = diags.to_string();
    assert!(
        messages.contains(
            "warning: purpose `payment` of system `stripe` has no privacy declaration any more"
        ),
        "{messages}"
    );
    assert!(
        messages.contains("warning: `dataset` is not part of the declared map"),
        "{messages}"
    );
    let p = &imported.policy;
    assert_eq!(
        p.purpose("advertising").unwrap().basis,
        LegalBasis::Contract
    );
    assert!(imported
        .notes
        .iter()
        .any(|(e, n)| *e == Entry::Purpose("advertising".into()) && n.contains("was consent")));
    let stripe = p.vendor("stripe").unwrap();
    assert_eq!(stripe.purposes, ["essential.fraud_detection"]);
    assert_eq!(
        stripe.pages,
        ["/checkout"],
        "the meta block still gives the pages"
    );
    let fraud = p.purpose("essential.fraud_detection").unwrap();
    assert_eq!(fraud.basis, LegalBasis::Contract);
    assert!(!fraud.draft && fraud.strictly_necessary);
    assert!(p.purpose("payment").is_none());
    assert_eq!(p.cookies.len(), policy.cookies.len());

    // Hotjar shares `analytics` with Google Analytics: one purpose, one basis.
    let (none, diags) = import_str(Path::new("edited.yml"), &rebase(&text, "hotjar"));
    assert!(none.is_none());
    let messages = diags.to_string();
    assert!(
        messages.contains("error: purpose `analytics` is declared differently here and at line"),
        "{messages}"
    );
}
