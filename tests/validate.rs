//! Loading and validating scenario files and declared maps, through the library API.

use consentry::diag::{Diagnostics, Level};
use consentry::observe::ConsentAction;
use consentry::policy::load::{load_policy, parse_policy};
use consentry::policy::{LegalBasis, Retention};
use consentry::scenario::load::{
    load_audit_file, load_audit_file_with_env, parse_audit_file, validate_files,
};
use consentry::scenario::{Action, ThirdPartyCookies};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn fixture(name: &str) -> PathBuf {
    repo("tests/fixtures/validate").join(name)
}

/// `file:line:col level: message` of every diagnostic, file names only.
fn summary(d: &Diagnostics) -> Vec<String> {
    d.0.iter()
        .map(|d| {
            let file = d.file.file_name().unwrap_or_default().to_string_lossy();
            let level = match d.level {
                Level::Error => "error",
                Level::Warning => "warning",
            };
            format!("{file}:{}:{} {level}: {}", d.line, d.col, d.message)
        })
        .collect()
}

#[test]
fn demo_files_load() {
    let spec = load_audit_file(&repo("scenarios/demo-shop.toml")).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(spec.site.name, "demo-shop");
    assert_eq!(spec.site.base_url.as_str(), "https://www.demo-shop.test/");
    let pages: Vec<&str> = spec.site.pages.iter().map(|u| u.as_str()).collect();
    assert_eq!(
        pages,
        [
            "https://www.demo-shop.test/",
            "https://www.demo-shop.test/checkout"
        ]
    );
    assert_eq!(spec.site.first_party_domains, ["demo-shop.test"]);
    assert_eq!(spec.browser.third_party_cookies, ThirdPartyCookies::Allow);
    assert_eq!(spec.browser.step_timeout, Duration::from_secs(5));
    assert_eq!(spec.browser.settle_quiet, Duration::from_millis(700));

    let ids: Vec<&str> = spec.scenarios.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "no_action",
            "accept_all",
            "reject_all",
            "object_li",
            "accept_then_object",
            "legacy_banner"
        ]
    );
    let builtins: Vec<bool> = spec.scenarios.iter().map(|s| s.builtin).collect();
    assert_eq!(builtins, [true, true, true, true, false, false]);
    assert!(spec.scenarios[0].steps.is_empty());

    // object_li: wait for the banner, then the three clicks, the last marked.
    let object_li = &spec.scenarios[3];
    let actions: Vec<&Action> = object_li.steps.iter().map(|s| &s.action).collect();
    assert_eq!(
        actions,
        [
            &Action::WaitFor("#consent-banner".into()),
            &Action::Click("#cb-settings".into()),
            &Action::Click("#cb-object-li".into()),
            &Action::Click("#cb-save".into()),
        ]
    );
    let marks: Vec<Option<ConsentAction>> = object_li.steps.iter().map(|s| s.consent).collect();
    assert_eq!(marks, [None, None, None, Some(ConsentAction::ObjectLi)]);
    assert!(
        object_li.steps[1]
            .location
            .ends_with("demo-shop.toml:19:14"),
        "{}",
        object_li.steps[1].location
    );

    let accept_then_object = &spec.scenarios[4];
    assert_eq!(accept_then_object.steps.len(), 7);
    let marks: Vec<Option<ConsentAction>> =
        accept_then_object.steps.iter().map(|s| s.consent).collect();
    assert_eq!(
        marks,
        [
            None,
            Some(ConsentAction::AcceptAll),
            None,
            None,
            None,
            None,
            Some(ConsentAction::ObjectLi)
        ]
    );
    assert_eq!(accept_then_object.steps[2].action, Action::WaitIdle);
    assert!(accept_then_object.steps[0]
        .location
        .ends_with("demo-shop.toml:38:3"));

    let legacy = &spec.scenarios[5];
    assert_eq!(
        legacy.steps[1].action,
        Action::Click("#old-cmp-reject".into())
    );
    assert_eq!(legacy.steps[1].timeout, Some(Duration::from_secs(2)));
    assert_eq!(legacy.steps[1].consent, Some(ConsentAction::RejectAll));
    assert_eq!(legacy.steps[0].timeout, None);

    assert_eq!(spec.policy.purposes.len(), 7);
    assert_eq!(spec.policy.vendors.len(), 9);
    assert_eq!(spec.policy.cookies.len(), 6);
    assert_eq!(
        spec.policy.purpose("measurement").unwrap().basis,
        LegalBasis::LegitimateInterest
    );
    assert_eq!(
        spec.policy.cookie_rule("_ga").unwrap().max_retention,
        Retention::MaxSeconds(390 * 86_400)
    );
}

#[test]
fn demo_port_default_and_override() {
    let path = repo("scenarios/demo-shop.toml");
    let default = load_audit_file_with_env(&path, &|_| None).unwrap();
    assert_eq!(
        default.browser.args,
        ["--host-resolver-rules=MAP * 127.0.0.1:8443, EXCLUDE localhost"]
    );
    let env = |k: &str| (k == "CONSENTRY_DEMO_PORT").then(|| "9999".to_string());
    let overridden = load_audit_file_with_env(&path, &env).unwrap();
    assert_eq!(
        overridden.browser.args,
        ["--host-resolver-rules=MAP * 127.0.0.1:9999, EXCLUDE localhost"]
    );
}

#[test]
fn demo_files_validate_clean() {
    let d = validate_files(&[
        repo("scenarios/demo-shop.toml"),
        repo("scenarios/demo-shop.policy.toml"),
    ]);
    assert!(d.0.is_empty(), "{d}");
}

#[test]
fn policy_errors_all_at_once() {
    let path = fixture("bad.policy.toml");
    let err = load_policy(&path).unwrap_err();
    assert_eq!(
        summary(&err),
        [
            "bad.policy.toml:8:9 error: legitimate interest is not allowed for TCF purpose 4 (line 9)",
            "bad.policy.toml:12:6 error: duplicate purpose id `analytics` (first defined at line 3)",
            "bad.policy.toml:13:9 error: unknown legal basis `concent`",
            "bad.policy.toml:18:36 error: invalid domain pattern `https://bad/`",
            "bad.policy.toml:19:26 error: unknown purpose id `analytcs`",
            "bad.policy.toml:20:1 error: unknown key `owner` in [[vendor]]",
            "bad.policy.toml:30:17 error: invalid retention \"13 months\"",
            "bad.policy.toml:34:10 error: unknown vendor id `facebok`",
        ]
    );
    let hint = |i: usize| err.0[i].hint.clone().unwrap_or_default();
    assert!(hint(0).contains("use basis = \"consent\""), "{}", hint(0));
    assert_eq!(hint(2), "did you mean `consent`?");
    assert_eq!(hint(4), "did you mean `analytics`?");
    assert_eq!(hint(7), "defined vendor ids: ga, meta");
}

#[test]
fn scenario_errors_all_at_once() {
    let path = fixture("bad-scenario.toml");
    let err = load_audit_file(&path).unwrap_err();
    // The OS's words for "not found" vary; the rest is exact.
    let read_error = format!(
        "bad-scenario.toml:6:10 error: cannot read the declared map {}: ",
        fixture("does-not-exist.policy.toml").display()
    );
    let mut got = summary(&err);
    assert!(got[1].starts_with(&read_error), "{}", got[1]);
    got[1] = read_error.clone();
    assert_eq!(
        got,
        [
            "bad-scenario.toml:5:15 error: invalid URL \"http://[oops/\": invalid IPv6 address",
            &read_error,
            "bad-scenario.toml:10:15 error: invalid CSS selector \"button:contains('Accept')\": unsupported pseudo class or element",
            "bad-scenario.toml:13:41 error: unknown scenario `accept_then_obejct` in [run]",
            "bad-scenario.toml:16:6 warning: scenario `accept_then_object` is not listed in [run], so it will not run",
            "bad-scenario.toml:18:27 error: step has 2 actions: `wait_for`, `click`",
            "bad-scenario.toml:19:30 error: unknown consent action `accept`",
            "bad-scenario.toml:20:16 error: invalid URL \"https://exa mple.com/\": invalid international domain name",
        ]
    );
    let hint = |i: usize| err.0[i].hint.clone().unwrap_or_default();
    assert_eq!(
        hint(1),
        "`policy` is a path relative to the scenario file's directory"
    );
    assert_eq!(hint(3), "did you mean `accept_then_object`?");
    assert_eq!(
        hint(5),
        "a step does exactly one thing: split it into one step per action"
    );
    assert_eq!(hint(6), "valid values: accept_all, reject_all, object_li");
}

#[test]
fn syntax_error_has_a_position() {
    let path = fixture("syntax.toml");
    let d = validate_files(std::slice::from_ref(&path));
    assert_eq!(
        d.to_string(),
        format!(
            "{}:3:33: error: TOML syntax error: invalid basic string, expected `\"`\n  \
             hint: check the TOML syntax near here: strings in double quotes, arrays in [ ], inline tables in {{ }}\n",
            path.display()
        )
    );
    // The loaders stop at syntax errors too.
    assert_eq!(load_audit_file(&path).unwrap_err(), d);
}

#[test]
fn display_format() {
    let (_, d) = parse_policy(
        Path::new("map.toml"),
        "[[purpose]]\nid = \"a\"\nbasis = \"li\"\n",
    );
    assert_eq!(
        d.to_string(),
        "map.toml:3:9: error: unknown legal basis `li`\n  hint: valid values: consent, legitimate_interest, contract, legal_obligation\n"
    );
}

#[test]
fn validate_files_checks_each_declared_map_once() {
    let d = validate_files(&[fixture("bad.policy.toml"), fixture("bad.policy.toml")]);
    assert_eq!(d.errors(), 8);
    assert_eq!(d.warnings(), 0);
}

#[test]
fn validate_files_reports_unknown_and_missing_files() {
    let d = validate_files(&[fixture("neither.toml"), fixture("no-such-file.toml")]);
    let s = summary(&d);
    assert_eq!(s.len(), 2, "{d}");
    assert!(s[0].starts_with("neither.toml:1:1 error: "), "{}", s[0]);
    assert!(s[0].contains("neither a scenario file nor a declared map"));
    assert!(
        s[1].starts_with("no-such-file.toml:1:1 error: cannot read"),
        "{}",
        s[1]
    );
}

#[test]
fn parse_audit_file_is_pure() {
    let src =
        "[site]\nname = \"x\"\nbase_url = \"https://x.example/\"\npolicy = \"nowhere.toml\"\n";
    let (file, d) = parse_audit_file(Path::new("dir/x.toml"), src, &|_| None);
    assert!(d.0.is_empty(), "{d}");
    assert_eq!(file.unwrap().policy.path, Path::new("dir/nowhere.toml"));
}
