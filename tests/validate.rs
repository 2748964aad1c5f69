//! Loading and validating scenario files and declared maps, through the library API.

use consentry::diag::{Diagnostics, Level};
use consentry::model::ConsentAction;
use consentry::policy::load::{load_policy, parse_policy, EMPTY_POLICY};
use consentry::policy::{LegalBasis, Retention};
use consentry::scenario::load::{
    load_audit_file, load_audit_file_with_env, load_audit_file_with_warnings, parse_audit_file,
};
use consentry::scenario::{Action, ThirdPartyCookies};
use consentry::validate::validate_files;
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
            "bad.policy.toml:8:9 warning: map issue li-basis-forbidden-tcf-purpose: legitimate interest is declared for TCF purpose 4 (line 9), which TCF 2.2 does not permit",
            "bad.policy.toml:12:6 error: duplicate purpose id `analytics` (first defined at line 3)",
            "bad.policy.toml:13:9 error: unknown legal basis `concent`",
            "bad.policy.toml:18:36 error: invalid domain pattern `https://bad/`: write the domain without a scheme",
            "bad.policy.toml:19:26 error: unknown purpose id `analytcs`",
            "bad.policy.toml:20:1 error: unknown key `owner` in [[vendor]]",
            "bad.policy.toml:30:17 error: invalid retention \"13 moons\"",
            "bad.policy.toml:34:10 error: unknown vendor id `facebok`",
        ]
    );
    let hint = |i: usize| err.0[i].hint.clone().unwrap_or_default();
    assert!(hint(0).contains("use basis = \"consent\""), "{}", hint(0));
    assert_eq!(err.errors(), 7);
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
        "bad-scenario.toml:6:10 error: cannot read the policy {}: ",
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
    // accept_some (a partial choice, with `grant`) is a consent action too.
    assert_eq!(
        hint(6),
        "valid values: accept_all, reject_all, object_li, accept_some"
    );
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
    assert_eq!(d.errors(), 7);
    assert_eq!(d.warnings(), 1);
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

#[test]
fn map_issues_do_not_block_the_audit() {
    let (spec, warnings) = load_audit_file_with_warnings(&fixture("map-issues.toml"), &|_| None)
        .unwrap_or_else(|d| panic!("{d}"));
    let issues: Vec<(&str, &str, String)> = spec
        .policy
        .map_issues
        .iter()
        .map(|i| {
            let file = Path::new(&i.location).file_name().unwrap_or_default();
            (
                i.code.as_str(),
                i.subject.as_str(),
                file.to_string_lossy().into_owned(),
            )
        })
        .collect();
    assert_eq!(
        issues,
        [
            (
                "li-basis-forbidden-tcf-purpose",
                "ads",
                "map-issues.policy.toml:4:9".to_string()
            ),
            (
                "vendor-tcf-li-forbidden",
                "adtech",
                "map-issues.policy.toml:12:23".to_string()
            ),
        ]
    );
    assert_eq!(
        spec.policy.map_issues[1].rule,
        "TCF 2.2: legitimate interest is not permitted for purposes 3-6"
    );
    assert_eq!(warnings.warnings(), 2, "{warnings}");
    // 13months: humantime's month is 30.44 days.
    assert_eq!(
        spec.policy.cookie_rule("uid").unwrap().max_retention,
        Retention::MaxSeconds(13 * 2_630_016)
    );
    // validate shows them as warnings, not errors.
    let d = validate_files(&[fixture("map-issues.toml")]);
    assert_eq!(
        summary(&d),
        [
            "map-issues.policy.toml:4:9 warning: map issue li-basis-forbidden-tcf-purpose: legitimate interest is declared for TCF purpose 3 (line 5), which TCF 2.2 does not permit",
            "map-issues.policy.toml:12:23 warning: map issue vendor-tcf-li-forbidden: vendor `adtech` declares legitimate interest for TCF purpose 4, which TCF 2.2 does not permit",
        ]
    );
    assert!(!d.has_errors());
}

#[test]
fn digests_are_recorded() {
    let spec = load_audit_file(&repo("scenarios/demo-shop.toml")).unwrap();
    let raw = std::fs::read(repo("scenarios/demo-shop.toml")).unwrap();
    assert_eq!(spec.digest, consentry::toml_check::digest(&raw));
    let raw = std::fs::read(repo("scenarios/demo-shop.policy.toml")).unwrap();
    assert_eq!(spec.policy.digest, consentry::toml_check::digest(&raw));
    assert_eq!(spec.digest.len(), 16);
    assert_ne!(spec.digest, spec.policy.digest);
}

#[test]
fn empty_policy_is_the_same_error_both_ways() {
    let through_scenario = load_audit_file(&fixture("empty-policy.toml")).unwrap_err();
    let alone = validate_files(&[fixture("empty.policy.toml")]);
    let expected = format!("empty.policy.toml:1:1 error: {EMPTY_POLICY}");
    assert_eq!(summary(&through_scenario), std::slice::from_ref(&expected));
    assert_eq!(summary(&alone), [expected]);
}

#[test]
fn new_policy_keys_are_checked() {
    let err = load_policy(&fixture("bad-keys.policy.toml")).unwrap_err();
    assert_eq!(
        summary(&err),
        [
            "bad-keys.policy.toml:3:23 error: invalid duration \"a day\" for `retention_tolerance`",
            "bad-keys.policy.toml:10:6 warning: vendor `google` has no domains, no hosts and no cookies",
            "bad-keys.policy.toml:11:12 error: `co.uk` is a public suffix, not a vendor's domain",
            "bad-keys.policy.toml:12:10 error: invalid host pattern `www.google.com:443/recaptcha`: write the host without a port",
            "bad-keys.policy.toml:13:10 error: invalid page pattern \"checkout\"",
            "bad-keys.policy.toml:14:16 error: unknown consent_mode `advance`",
            "bad-keys.policy.toml:16:20 error: 12 is out of range in `tcf_li_purposes` in [[vendor]] (1 to 11)",
            "bad-keys.policy.toml:21:17 error: invalid retention \"2 fortnights\"",
            "bad-keys.policy.toml:22:10 error: invalid domain pattern `bad_domain.com`: the label `bad_domain` may use only letters, digits and `-` (write international names in their xn-- form)",
            "bad-keys.policy.toml:23:9 error: unknown party `1st`",
        ]
    );
    assert_eq!(err.0[5].hint.as_deref(), Some("did you mean `advanced`?"));
}

#[test]
fn scenario_limits_are_checked() {
    let err = load_audit_file(&fixture("bad-limits.toml")).unwrap_err();
    let errors: Vec<String> = summary(&err)
        .into_iter()
        .filter(|s| s.contains(" error: "))
        .collect();
    assert_eq!(
        errors,
        [
            "bad-limits.toml:4:12 error: \"http://www.example.com:6000/\" uses port 6000, which Chromium refuses (ERR_UNSAFE_PORT)",
            "bad-limits.toml:12:14 error: `accept_all` in [cmp.records] both grants and refuses consent",
            "bad-limits.toml:15:21 error: `page_load_timeout` = \"1h\" is longer than the limit of 10m",
            "bad-limits.toml:16:16 error: `settle_quiet` (1m) is longer than `settle_timeout` (15s): the network could never be seen idle",
            "bad-limits.toml:20:36 error: `records` is only allowed on a step with `consent`",
        ]
    );
}

/// `[login]`: an unknown key, a bad check selector, consent marks and CMP flows (a login
/// is not a consent action), and credentials from a variable that is not a declared
/// secret, each reported where it is written.
#[test]
fn a_bad_login_is_reported_where_it_is() {
    let env = |name: &str| match name {
        "SHOP_USER" | "SHOP_PASSWORD" => Some(format!("value-of-{name}")),
        _ => None,
    };
    let err = load_audit_file_with_env(&fixture("bad-login.toml"), &env).unwrap_err();
    let lines = summary(&err);
    let has = |want: &str| {
        assert!(
            lines.iter().any(|l| l.starts_with(want)),
            "no `{want}` in {lines:#?}"
        )
    };
    has("bad-login.toml:10:1 error: unknown key `pages` in [login]");
    has("bad-login.toml:9:9 error: ");
    has("bad-login.toml:13:14 warning: `${SHOP_USER}` in [login] is not a declared secret: credentials should be declared secrets");
    has("bad-login.toml:14:24 error: a [login] step cannot carry `consent`: a login is not a consent action");
    has("bad-login.toml:15:5 error: a [login] step cannot carry `cmp_flow`: a login is not a consent action");
    has("bad-login.toml:20:9 error: ");
    // The declared secret is not warned about, and no value is written out.
    assert!(
        !lines.iter().any(|l| l.contains("${SHOP_PASSWORD}")),
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains("value-of-")), "{lines:#?}");
}

/// A good `[login]` loads: its steps, its check, and which scenarios opt out.
#[test]
fn a_login_loads_with_its_check_and_opt_outs() {
    let env = |name: &str| match name {
        "LAB_USER" => Some("lab-user-1".to_string()),
        "LAB_PASSWORD" => Some("lab-password-1".to_string()),
        "CONSENTRY_DEMO_PORT" => Some("8443".to_string()),
        _ => None,
    };
    let (spec, warnings) = load_audit_file_with_warnings(&repo("tests/fixtures/login.toml"), &env)
        .unwrap_or_else(|d| panic!("{d}"));
    assert!(warnings.0.is_empty(), "{warnings}");
    let login = spec.login.expect("[login]");
    assert_eq!(login.check.as_deref(), Some("#account-name"));
    assert_eq!(login.steps.len(), 3);
    assert!(login.steps.iter().all(|s| s.consent.is_none()));
    assert!(
        login.location.ends_with("login.toml:24:1"),
        "{}",
        login.location
    );
    let opted: Vec<(&str, bool)> = spec
        .scenarios
        .iter()
        .map(|s| (s.id.as_str(), s.login))
        .collect();
    assert_eq!(opted, [("member", true), ("guest", false)]);
}

#[test]
fn not_utf8_is_reported_where_it_is() {
    let d = validate_files(&[fixture("latin1.toml")]);
    assert_eq!(
        summary(&d),
        ["latin1.toml:1:13 error: ".to_string()
            + &format!("{} is not UTF-8 text", fixture("latin1.toml").display())]
    );
    assert_eq!(
        d.0[0].hint.as_deref(),
        Some("save the file as UTF-8 (TOML files are UTF-8)")
    );
}

#[test]
fn special_and_oversized_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.toml");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let big = dir.path().join("big.toml");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(consentry::toml_check::MAX_FILE_BYTES + 1)
        .unwrap();
    // Neither blocks (nobody writes to the FIFO) nor reads /dev/zero forever.
    let d = validate_files(&[fifo.clone(), PathBuf::from("/dev/zero"), big.clone()]);
    let s = summary(&d);
    assert_eq!(s.len(), 3, "{d}");
    assert!(
        s[0].starts_with("pipe.toml:1:1 error: cannot read"),
        "{}",
        s[0]
    );
    assert!(s[0].contains("not a regular file"));
    assert!(s[1].starts_with("zero:1:1 error: cannot read"), "{}", s[1]);
    assert!(s[2].starts_with("big.toml:1:1 error: "), "{}", s[2]);
    assert!(s[2].ends_with("is too large (more than 8 MiB)"), "{}", s[2]);
    // A scenario file whose policy is a FIFO: reported at the `policy` value.
    let scenario = dir.path().join("s.toml");
    std::fs::write(
        &scenario,
        "[site]\nname = \"s\"\nbase_url = \"https://example.com/\"\npolicy = \"pipe.toml\"\n",
    )
    .unwrap();
    let err = load_audit_file(&scenario).unwrap_err();
    let s = summary(&err);
    assert!(
        s[0].starts_with("s.toml:4:10 error: cannot read the policy"),
        "{}",
        s[0]
    );
}

/// `validate --gvl`: the declared TCF vendors against an IAB Global Vendor List, as
/// warnings with the declaration's file:line:col; a broken list is an error naming its
/// line and column.
#[test]
fn gvl_lint_names_each_declaration() {
    let run = |gvl: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_consentry"))
            .arg("validate")
            .arg(fixture("map-issues.policy.toml"))
            .arg("--gvl")
            .arg(repo(&format!("tests/fixtures/gvl/{gvl}")))
            .output()
            .expect("run")
    };
    let out = run("vendor-list.json");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "warnings only: {err}");
    // Purpose 2 on legitimate interest: Adtech registered it for consent only.
    assert!(
        err.contains("map-issues.policy.toml:12:20: warning: map issue gvl-li-consent-only"),
        "{err}"
    );
    assert!(err.contains("Adtech Example Ltd"), "{err}");
    let out = run("broken.json");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("broken.json:3:"), "{err}");
}

/// `[vantage]`: every bad value reported at once, where it is written, never quoting a
/// credential; a good one loads, its credentials secrets of the site.
#[test]
fn vantage_values_are_checked_where_written() {
    let head = "[site]\nname = \"x\"\nbase_url = \"https://x.example/\"\npolicy = \"p.toml\"\n";
    let env = |name: &str| match name {
        "PROXY_USER" => Some("someone-proxy".to_string()),
        "PROXY_PASSWORD" => Some("hunter2-hunter2".to_string()),
        "SHORT" => Some("ab".to_string()),
        _ => None,
    };
    let check = |body: &str| {
        let src = format!("{head}{body}");
        let (file, d) = parse_audit_file(Path::new("v.toml"), &src, &env);
        (file, summary(&d))
    };
    let (file, d) = check(
        "[vantage]\nlabel = \"eu de\"\nproxy = \"ftp://p.example:21\"\nproxy_user_env = \"PROXY_USER\"\n\
         proxy_password_env = \"SHORT\"\nlocale = \"deutsch_DE\"\ntimezone = \"Europe/Atlantis\"\nregion = \"x\"\n",
    );
    assert!(file.is_none());
    assert_eq!(
        d,
        [
            "v.toml:6:9 error: invalid vantage label \"eu de\"",
            "v.toml:7:9 error: unsupported proxy scheme `ftp`",
            "v.toml:9:22 error: the value of SHORT is shorter than 4 characters and cannot be redacted safely",
            "v.toml:10:10 error: invalid locale \"deutsch_DE\"",
            "v.toml:11:12 error: unknown timezone \"Europe/Atlantis\"",
            "v.toml:12:1 error: unknown key `region` in [vantage]",
        ]
    );
    // Credentials in the URL (never quoted), one variable without the other, SOCKS with
    // credentials, an unset variable.
    let (_, d) = check("[vantage]\nlabel = \"a\"\nproxy = \"http://u:hunter2-hunter2@p.example:3128\"\nproxy_user_env = \"PROXY_USER\"\n");
    assert_eq!(
        d,
        [
            "v.toml:7:9 error: the proxy URL holds credentials",
            "v.toml:8:18 error: `proxy_user_env` and `proxy_password_env` go together",
        ]
    );
    let (_, d) = check("[vantage]\nlabel = \"a\"\nproxy = \"socks5://p.example:1080\"\nproxy_user_env = \"PROXY_USER\"\nproxy_password_env = \"UNSET_ONE\"\n");
    assert_eq!(
        d,
        [
            "v.toml:8:18 error: Chromium cannot authenticate to a SOCKS proxy",
            "v.toml:9:22 error: proxy credential UNSET_ONE is not set in the environment",
        ]
    );
    let (_, d) = check("[vantage]\nproxy = \"http://p.example\"\n");
    assert_eq!(
        d,
        ["v.toml:5:1 error: missing required key `label` in [vantage]"]
    );

    let (file, d) = check(
        "[vantage]\nlabel = \"eu-de\"\nproxy = \"http://P.Example:3128/\"\nproxy_user_env = \"PROXY_USER\"\n\
         proxy_password_env = \"PROXY_PASSWORD\"\nlocale = \"de-DE\"\ntimezone = \"Europe/Berlin\"\n",
    );
    assert!(d.is_empty(), "{d:?}");
    let file = file.expect("loads");
    let v = &file.browser.vantage;
    assert_eq!(v.label, "eu-de");
    assert_eq!(v.proxy.as_deref(), Some("http://p.example:3128"));
    assert!(v.proxy_auth);
    assert_eq!(
        (v.locale.as_deref(), v.timezone.as_deref()),
        (Some("de-DE"), Some("Europe/Berlin"))
    );
    let auth = file.browser.proxy_auth.as_ref().expect("credentials");
    assert_eq!(auth.password, "hunter2-hunter2");
    assert!(!format!("{:?}", file.browser).contains("hunter2"));
    let redacted = file
        .site
        .secrets
        .redact("user someone-proxy pass hunter2-hunter2");
    assert_eq!(
        redacted,
        "user [secret:PROXY_USER] pass [secret:PROXY_PASSWORD]"
    );
    // Without [vantage]: `default`, direct.
    let (file, _) = check("");
    let file = file.expect("loads");
    assert_eq!(file.browser.vantage.label, "default");
    assert!(file.browser.vantage.proxy.is_none() && file.browser.proxy_auth.is_none());
}
