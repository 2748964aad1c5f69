//! The schemas against the loaders: the same keys, the duration grammar, the shipped
//! files, and every bundled example file valid against its schema.

use super::*;
use crate::toml_check::shape::{Shape, Ty, DURATION_PATTERN};
use serde_json::json;
use std::path::{Path, PathBuf};

fn sorted(mut keys: Vec<&str>) -> Vec<&str> {
    keys.sort_unstable();
    keys
}

fn same_keys(shape: &Shape, loader: &[&str]) {
    assert_eq!(
        sorted(shape.keys()),
        sorted(loader.to_vec()),
        "the keys of {} in its schema and in its loader",
        shape.name
    );
}

#[test]
fn every_table_has_the_keys_its_loader_accepts() {
    use crate::scenario::load as sl;
    same_keys(&scenario::ROOT, sl::TOP_KEYS);
    same_keys(&scenario::SITE, sl::SITE_KEYS);
    same_keys(&scenario::CMP, sl::cmp::CMP_KEYS);
    same_keys(&scenario::BROWSER, sl::browser::BROWSER_KEYS);
    same_keys(&scenario::RUN, sl::RUN_KEYS);
    same_keys(&scenario::SCENARIO, sl::SCENARIO_KEYS);
    same_keys(&scenario::STEP, sl::steps::STEP_KEYS);
    assert_eq!(
        sorted(scenario::STEP_ACTION_KEYS.to_vec()),
        sorted(sl::steps::ACTION_KEYS.to_vec())
    );
    let mut actions: Vec<&str> = scenario::PLAIN_ACTIONS.iter().map(|f| f.key).collect();
    actions.push("cmp_flow");
    assert_eq!(sorted(actions), sorted(sl::steps::ACTION_KEYS.to_vec()));
    assert_eq!(
        sorted(scenario::PLAIN_ACTIONS.iter().map(|f| f.key).collect()),
        sorted(scenario::LOGIN_ACTION_KEYS.to_vec())
    );
    same_keys(&scenario::LOGIN, sl::login::LOGIN_KEYS);
    same_keys(&scenario::CRAWL, sl::crawl::CRAWL_KEYS);
    same_keys(&scenario::VANTAGE, sl::vantage::VANTAGE_KEYS);
    let records = match scenario::CMP.field("records").map(|f| f.ty) {
        Some(Ty::Table(s)) => s,
        other => panic!("records is a table: {other:?}"),
    };
    same_keys(records, &sl::cmp::CONSENT_ACTIONS);

    use crate::policy::load as pl;
    same_keys(&policy::ROOT, pl::TOP_KEYS);
    same_keys(&policy::SETTINGS, pl::SETTINGS_KEYS);
    same_keys(&policy::PURPOSE, pl::PURPOSE_KEYS);
    same_keys(&policy::VENDOR, crate::policy::load_vendor::VENDOR_KEYS);
    same_keys(&policy::COOKIE, crate::policy::load_vendor::COOKIE_KEYS);

    same_keys(&acks::ROOT, crate::ack::load::TOP_KEYS);
    same_keys(&acks::ACK, crate::ack::load::ACK_KEYS);

    use crate::fleet::load as fl;
    same_keys(&fleet::ROOT, fl::TOP_KEYS);
    same_keys(&fleet::FLEET, fl::FLEET_KEYS);
    let mut inline = sl::SITE_KEYS.to_vec();
    inline.extend(sl::INLINE_SITE_TABLES);
    same_keys(&fleet::SITE_INLINE, &inline);

    use crate::scenario::load::profile as pr;
    same_keys(&profile::ROOT, pr::TOP_KEYS);
    same_keys(&profile::PROFILE, pr::PROFILE_KEYS);
    same_keys(&profile::DETECT, pr::DETECT_KEYS);
    same_keys(&profile::FLOW, pr::FLOW_KEYS);
}

#[test]
fn the_duration_pattern_is_the_loaders_grammar() {
    let re = jsonschema::validator_for(&json!({ "type": "string", "pattern": DURATION_PATTERN }))
        .expect("the pattern compiles");
    for s in [
        "700ms",
        "5s",
        "2m",
        "12h",
        "390d",
        "2w",
        "13months",
        "13 months",
        "2years",
        "1 year 1 month",
        " 12h ",
        "1d",
        "30s",
        "10min",
        "1M",
        "5 sec",
        "1.5h",
    ] {
        assert!(
            crate::toml_check::parse_duration(s).is_some(),
            "{s:?} parses"
        );
        assert!(re.is_valid(&json!(s)), "{s:?} matches the pattern");
    }
    for s in [
        "5", "s", "", "12x", "-1s", "session", "1.", ".5h", "ms5", "5 s s", "1,5h",
    ] {
        assert!(
            crate::toml_check::parse_duration(s).is_none(),
            "{s:?} does not parse"
        );
        assert!(!re.is_valid(&json!(s)), "{s:?} does not match the pattern");
    }
}

/// A TOML file as the JSON an editor validates: dates and times become strings.
fn as_json(v: toml::Value) -> serde_json::Value {
    match v {
        toml::Value::String(s) => json!(s),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::Datetime(d) => json!(d.to_string()),
        toml::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(as_json).collect()),
        toml::Value::Table(t) => {
            serde_json::Value::Object(t.into_iter().map(|(k, v)| (k, as_json(v))).collect())
        }
    }
}

fn validator(id: &str) -> jsonschema::Validator {
    let k = kind(id).expect("a kind");
    jsonschema::draft7::new(&schema(k)).expect("the schema compiles")
}

/// The schema's complaints about `text` (empty: valid).
fn problems(id: &str, text: &str) -> Vec<String> {
    let doc: toml::Value = toml::from_str(text).expect("TOML");
    let v = validator(id);
    let json = as_json(doc);
    v.iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// The kind of an example file, as `consentry validate` tells them apart.
fn kind_of(path: &Path, text: &str) -> &'static str {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if path
        .parent()
        .and_then(|p| p.file_name())
        .is_some_and(|d| d == "cmp")
    {
        "profile"
    } else if name.ends_with(".policy.toml") {
        "policy"
    } else if crate::fleet::load::is_fleet_source(text) {
        "fleet"
    } else if text.contains("[[ack]]") {
        "acks"
    } else {
        "scenario"
    }
}

fn toml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            toml_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "toml") {
            out.push(p);
        }
    }
}

/// Every file the project ships or tests with that its loader accepts validates against
/// its schema (the deliberately broken ones of tests/fixtures/validate are below).
#[test]
fn every_bundled_example_validates() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["scenarios", "tests/fixtures", "examples"] {
        toml_files(&root.join(dir), &mut files);
    }
    files.retain(|p| !p.starts_with(root.join("tests/fixtures/validate")));
    files.sort();
    assert!(files.len() >= 40, "found {} example files", files.len());
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    let mut bad = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        let id = kind_of(path, &text);
        *seen.entry(id).or_default() += 1;
        for p in problems(id, &text) {
            bad.push(format!("{} ({id}): {p}", path.display()));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    for id in ["scenario", "policy", "profile"] {
        assert!(
            seen.get(id).copied().unwrap_or(0) > 0,
            "no {id} example: {seen:?}"
        );
    }
}

/// The agency fixture's generated fleet, scenario files and policies validate too.
#[cfg(feature = "demo")]
#[test]
fn the_generated_agency_files_validate() {
    let dir = tempfile::tempdir().expect("tempdir");
    crate::demo::agency::generate(7, 12, dir.path()).expect("generate");
    let mut files = Vec::new();
    toml_files(dir.path(), &mut files);
    let mut kinds = std::collections::BTreeSet::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read");
        let id = kind_of(path, &text);
        kinds.insert(id);
        let p = problems(id, &text);
        assert!(p.is_empty(), "{} ({id}): {p:?}", path.display());
    }
    assert!(kinds.contains("fleet") && kinds.contains("scenario") && kinds.contains("policy"));
}

#[test]
fn the_documented_acknowledgements_example_validates() {
    let text = r#"
[[ack]]
fingerprint = "v1-0123456789abcdef"
site = "demo-shop"
code = "consent-cookie-without-consent"
subject = "__stripe_mid"
reason = "Stripe fraud cookie, accepted in the 2026 Q3 LIA"
owner = "dpo@example.com"
acknowledged = 2026-12-01
expires = "2027-03-31"
"#;
    assert_eq!(problems("acks", text), Vec::<String>::new());
    assert!(crate::ack::load::parse_acks(Path::new("acks.toml"), text)
        .0
        .is_some());
}

/// What the schema refuses, the loader refuses too.
#[test]
fn structural_mistakes_fail_the_schema() {
    let base = "[site]\nname = \"s\"\nbase_url = \"https://s.test/\"\npolicy = \"p.toml\"\n";
    let cases = [
        ("[browser]\nsetle_quiet = \"1s\"\n", "unknown key"),
        ("[browser]\nthird_party_cookies = \"sometimes\"\n", "enum"),
        ("[browser]\nstep_timeout = \"ten seconds\"\n", "duration"),
        ("[browser]\nwindow_size = [1280]\n", "pair"),
        (
            "[[scenario]]\nid = \"x\"\nsteps = [{ click = \"#a\", navigate = \"/\" }]\n",
            "two actions",
        ),
        (
            "[[scenario]]\nid = \"x\"\nsteps = [{ consent = \"accept_all\" }]\n",
            "no action",
        ),
        ("[[scenario]]\nid = \"x y\"\nsteps = []\n", "bad id"),
        (
            "[cmp]\nrecords = { accept_all = [\"grant\"] }\n",
            "bad effect",
        ),
    ];
    for (extra, what) in cases {
        let text = format!("{base}{extra}");
        assert!(
            !problems("scenario", &text).is_empty(),
            "{what}: the schema accepts\n{text}"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.toml");
        let (file, _, diags) = crate::scenario::load::check_source(&path, &text, &|_| None);
        assert!(
            file.is_none() || diags.0.iter().any(|d| d.level == crate::diag::Level::Error),
            "{what}: the loader accepts\n{text}"
        );
    }
    // `${VAR}` in a value with an enum or a pattern is the loader's to check.
    let text = format!(
        "{base}[browser]\nthird_party_cookies = \"${{TPC:-block}}\"\nstep_timeout = \"${{T}}\"\n"
    );
    assert_eq!(problems("scenario", &text), Vec::<String>::new());
    // The policy is not interpolated: there, it is a bad value.
    let policy = "[[purpose]]\nid = \"a\"\nbasis = \"${B}\"\n";
    assert!(!problems("policy", policy).is_empty());
}

#[test]
fn the_validate_fixture_with_bad_values_fails_the_schema_at_each() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/validate");
    let text = std::fs::read_to_string(root.join("bad-keys.policy.toml")).expect("read");
    let p = problems("policy", &text);
    for at in [
        "/cookie/0/party",
        "/settings/retention_tolerance",
        "/vendor/0/consent_mode",
        "/vendor/0/pages/0",
        "/vendor/0/tcf_li_purposes/0",
    ] {
        assert!(p.iter().any(|m| m.ends_with(at)), "nothing at {at}: {p:?}");
    }
}

/// `schemas/` holds exactly what `consentry schema --output-dir schemas` writes.
#[test]
fn the_shipped_schemas_are_the_generated_ones() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    for k in KINDS {
        let path = dir.join(format!("{}.schema.json", k.id));
        let shipped = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            shipped == schema_text(k),
            "{} is not what this consentry generates: run `cargo run -- schema --output-dir schemas`",
            path.display()
        );
    }
}
