//! Unit tests of the scenario loader.

use super::*;
use crate::model::{ConsentAction, ConsentEffect};
use crate::scenario::load::RESTRICTED_PORTS;
use crate::scenario::{Action, ThirdPartyCookies};
use std::time::Duration;
use url::Url;

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(src: &str) -> (Option<ScenarioFile>, Diagnostics) {
    parse_audit_file(Path::new("s.toml"), src, &no_env)
}

/// `line:col message` of every diagnostic.
fn positions(d: &Diagnostics) -> Vec<String> {
    d.0.iter()
        .map(|d| format!("{}:{} {}", d.line, d.col, d.message))
        .collect()
}

const SITE: &str =
    "[site]\nname = \"s\"\nbase_url = \"https://www.example.com/\"\npolicy = \"p.toml\"\n";

#[test]
fn minimal_file_defaults() {
    let (f, d) = parse(SITE);
    assert!(d.0.is_empty(), "{d}");
    let f = f.unwrap();
    assert_eq!(f.site.pages[0].as_str(), "https://www.example.com/");
    assert_eq!(f.site.first_party_domains, ["example.com"]);
    assert_eq!(f.policy.path, PathBuf::from("p.toml"));
    assert_eq!(f.policy.at, (PathBuf::from("s.toml"), 4, 10));
    let ids: Vec<&str> = f.scenarios.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["no_action"]);
    assert_eq!(f.browser.step_timeout, Duration::from_secs(10));
}

#[test]
fn default_run_order_and_override() {
    let src = format!(
        "{SITE}[cmp]\nbanner = \"#b\"\naccept_all = [\"#a\"]\n\
         [[scenario]]\nid = \"custom\"\nsteps = [{{ wait_idle = true }}]\n\
         [[scenario]]\nid = \"no_action\"\ndescription = \"mine\"\nsteps = [{{ navigate = \"/x\" }}]\n"
    );
    let (f, d) = parse(&src);
    let f = f.unwrap();
    let ids: Vec<&str> = f.scenarios.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["no_action", "accept_all", "custom"]);
    assert_eq!(f.scenarios[0].description, "mine");
    assert!(!f.scenarios[0].builtin);
    assert_eq!(
        f.scenarios[0].steps[0].action,
        Action::Navigate(Url::parse("https://www.example.com/x").unwrap())
    );
    let accept = &f.scenarios[1];
    assert!(accept.builtin);
    assert_eq!(accept.steps.len(), 2);
    assert_eq!(accept.steps[0].location, "s.toml:6:10");
    assert_eq!(accept.steps[1].consent, Some(ConsentAction::AcceptAll));
    // The built-ins [cmp] cannot run: one warning each, at [cmp], saying why.
    assert_eq!(
        positions(&d),
        [
            "5:1 the built-in scenario `reject_all` will not run: [cmp] has no `reject_all` selectors",
            "5:1 the built-in scenario `object_li` will not run: [cmp] has no `object_li` selectors, no `profile` and no `auto = true`",
            "5:1 the built-in scenario `reject_then_reload` will not run: [cmp] has no `reject_all` selectors",
            "5:1 the built-in scenario `accept_then_withdraw` will not run: [cmp] has no `withdraw` selectors, no `profile` and no `auto = true`",
        ]
    );
}

#[test]
fn builtin_in_run_needs_cmp() {
    let src = format!(
        "{SITE}[cmp]\naccept_all = [\"#a\"]\n[run]\nscenarios = [\"accept_all\", \"reject_all\"]\n"
    );
    let (f, d) = parse(&src);
    assert!(f.is_none());
    assert_eq!(
        positions(&d),
        [
            "8:14 the built-in scenario `accept_all` needs `banner` in [cmp]",
            "8:28 the built-in scenario `reject_all` needs `reject_all` selectors in [cmp]",
            "8:28 the built-in scenario `reject_all` needs `banner` in [cmp]",
        ]
    );
}

#[test]
fn run_entries_are_checked() {
    let src = format!(
        "{SITE}[run]\nscenarios = [\"no_action\", \"custom\", \"no_action\", \"acept_all\"]\n\
         [[scenario]]\nid = \"custom\"\nsteps = [{{ script = \"`$${{x}}`\" }}]\n"
    );
    let (_, d) = parse(&src);
    assert_eq!(
        positions(&d),
        [
            "6:37 duplicate scenario in [run] `no_action` (first listed at line 6)",
            "6:50 unknown scenario `acept_all` in [run]",
        ]
    );
    assert_eq!(d.0[1].hint.as_deref(), Some("did you mean `accept_all`?"));
    let src = src.replace(", \"no_action\", \"acept_all\"", "");
    let (f, d) = parse(&src);
    assert!(d.0.is_empty(), "{d}");
    let f = f.unwrap();
    assert_eq!(f.scenarios.len(), 2);
    assert_eq!(
        f.scenarios[1].steps[0].action,
        Action::Script("`${x}`".into())
    );
}

#[test]
fn browser_options() {
    let src = format!(
        "{SITE}[browser]\nthird_party_cookies = \"block\"\nstep_timeout = \"2m\"\nsettle_quiet = \"250ms\"\nwindow_size = [800, 600]\nuser_agent = \"UA\"\n"
    );
    let (f, d) = parse(&src);
    assert!(d.0.is_empty(), "{d}");
    let b = f.unwrap().browser;
    assert_eq!(b.third_party_cookies, ThirdPartyCookies::Block);
    assert_eq!(b.step_timeout, Duration::from_secs(120));
    assert_eq!(b.settle_quiet, Duration::from_millis(250));
    assert_eq!(b.window_size, (800, 600));
    assert_eq!(b.user_agent.as_deref(), Some("UA"));
    assert_eq!(b.page_load_timeout, Duration::from_secs(30));
}

#[test]
fn browser_errors() {
    let src = format!(
        "{SITE}[browser]\nthird_party_cookies = \"blok\"\nstep_timeout = \"5\"\nsettle_quiet = \"0s\"\nwindow_size = [800]\nargs = \"--x\"\n"
    );
    let (_, d) = parse(&src);
    assert_eq!(
        positions(&d),
        [
            "6:23 unknown third_party_cookies value `blok`",
            "7:16 invalid duration \"5\" for `step_timeout`",
            "8:16 `settle_quiet` must be longer than zero",
            "9:15 `window_size` must have exactly two numbers",
            "10:8 `args` in [browser] must be an array of strings, found string",
        ]
    );
    assert_eq!(d.0[0].hint.as_deref(), Some("did you mean `block`?"));
}

#[test]
fn site_errors() {
    let src = "[site]\nnme = \"s\"\nbase_url = \"/relative\"\npages = []\nfirst_party_domains = [\"*.x.com\", \"co.uk\", \"www.y.com\"]\n";
    let (_, d) = parse(src);
    assert_eq!(
        positions(&d),
        [
            "1:1 missing required key `name` in [site]",
            "1:1 missing required key `policy` in [site]",
            "2:1 unknown key `nme` in [site]",
            "3:12 invalid URL \"/relative\": relative URL without a base",
            "4:9 `pages` in [site] is empty",
            "5:24 invalid domain \"*.x.com\"",
            "5:35 `co.uk` is a public suffix, not a registrable domain",
            "5:44 `www.y.com` is not a registrable domain; `y.com` is used",
        ]
    );
    assert_eq!(d.0[2].hint.as_deref(), Some("did you mean `name`?"));
    assert_eq!(d.0[7].level, Level::Warning);
}

#[test]
fn step_errors() {
    let src = format!(
        "{SITE}[[scenario]]\nid = \"x\"\nsteps = [\n  {{}},\n  {{ clik = \"#a\" }},\n  {{ wait_idle = false }},\n  {{ script = \"\" }},\n  {{ navigate = \"ftp://h/\" }},\n  {{ wait_for = \"#a\", timeout = 3 }},\n]\n"
    );
    let (_, d) = parse(&src);
    assert_eq!(
        positions(&d),
        [
            "8:3 step has no action",
            "9:5 unknown key `clik` in step",
            "10:17 `wait_idle` must be true",
            "11:14 `script` in step is empty",
            "12:16 \"ftp://h/\" is not an http or https URL",
            "13:32 `timeout` in step must be a string, found integer",
        ]
    );
}

#[test]
fn env_interpolation_everywhere() {
    let src = "[site]\nname = \"${NAME:-shop}\"\nbase_url = \"https://${HOST}/\"\npolicy = \"${MISSING}.toml\"\n";
    let env = |k: &str| (k == "HOST").then(|| "h.example.org".to_string());
    let (_, d) = parse_audit_file(Path::new("s.toml"), src, &env);
    assert_eq!(
        positions(&d),
        ["4:10 environment variable `MISSING` is not set"]
    );
    assert_eq!(
        d.0[0].hint.as_deref(),
        Some("set MISSING, give a default as in ${MISSING:-value}, or write $${ for a literal ${")
    );
}

#[test]
fn durations() {
    assert_eq!(parse_duration("700ms"), Some(Duration::from_millis(700)));
    assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
    assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
    assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
    assert_eq!(parse_duration("5"), None);
    assert_eq!(parse_duration("s"), None);
    // humantime accepts fractions, and what privacy teams write.
    assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
    assert_eq!(
        parse_duration("2 years"),
        Some(Duration::from_secs(2 * 31_557_600))
    );
    assert_eq!(parse_duration("99999999999999999999s"), None);
}

#[test]
fn no_panic_on_odd_input() {
    for src in [
        "",
        "site = 3",
        "[[site]]\nname = 1",
        "[site]\nbase_url = \"https://x.com/\"\npages = [[], {}, 1.5]\npolicy = \"\"",
        "[run]\nscenarios = 3\n[[scenario]]\nsteps = \"x\"",
        "scenario = [1, \"a\"]\n[cmp]\nbanner = \"\"\naccept_all = []\n",
        "[site]\nname = \"é${\"\nbase_url = \"${:-x}\"",
        "[browser]\nwindow_size = [-1, 99999999999]\n",
    ] {
        let (f, d) = parse(src);
        assert!(f.is_none());
        assert!(d.has_errors(), "{src:?}");
    }
}

#[test]
fn cmp_records_resolve_into_steps() {
    let src = format!(
        "{SITE}[cmp]\nbanner = \"#b\"\naccept_all = [\"#a\"]\nreject_all = [\"#r\"]\n\
         [cmp.records]\nreject_all = [\"refuse_consent\", \"object_li\"]\n\
         [[scenario]]\nid = \"mine\"\nsteps = [\n  {{ wait_for = \"#b\" }},\n  {{ wait_for = \"#other\" }},\n  \
         {{ click = \"#r\", consent = \"reject_all\" }},\n  \
         {{ click = \"#o\", consent = \"object_li\", records = [\"object_li\", \"refuse_consent\"] }},\n  \
         {{ click = \"#a\", consent = \"accept_all\" }},\n]\n"
    );
    let (f, d) = parse(&src);
    assert!(!d.has_errors(), "{d}");
    let f = f.unwrap();
    let by_id = |id: &str| f.scenarios.iter().find(|s| s.id == id).unwrap();
    let reject = by_id("reject_all");
    assert!(reject.steps[0].waits_for_banner);
    assert!(reject.steps[0].records.is_empty());
    assert_eq!(
        reject.steps[1].records,
        [ConsentEffect::RefuseConsent, ConsentEffect::ObjectLi]
    );
    assert_eq!(
        by_id("accept_all").steps[1].records,
        [ConsentEffect::GrantConsent]
    );
    let mine = by_id("mine");
    let banner: Vec<bool> = mine.steps.iter().map(|s| s.waits_for_banner).collect();
    assert_eq!(banner, [true, false, false, false, false]);
    let records: Vec<&[ConsentEffect]> = mine.steps.iter().map(|s| &s.records[..]).collect();
    assert_eq!(
        records,
        [
            &[][..],
            &[],
            &[ConsentEffect::RefuseConsent, ConsentEffect::ObjectLi],
            &[ConsentEffect::ObjectLi, ConsentEffect::RefuseConsent],
            &[ConsentEffect::GrantConsent],
        ]
    );
}

#[test]
fn records_errors() {
    let src = format!(
        "{SITE}[cmp]\nbanner = \"#b\"\n\
         [cmp.records]\naccept_all = [\"grant_consent\", \"refuse_consent\"]\nreject_all = []\nobject_li = [\"objet_li\"]\nsave = [\"x\"]\n\
         [[scenario]]\nid = \"x\"\nsteps = [\n  {{ click = \"#a\", records = [\"grant_consent\"] }},\n  \
         {{ click = \"#a\", consent = \"accept_all\", records = [\"grant\"] }},\n]\n"
    );
    let (f, d) = parse(&src);
    assert!(f.is_none());
    let d = Diagnostics(
        d.0.into_iter()
            .filter(|d| d.level == Level::Error)
            .collect(),
    );
    assert_eq!(
        positions(&d),
        [
            "8:14 `accept_all` in [cmp.records] both grants and refuses consent",
            "9:14 `reject_all` in [cmp.records] is empty",
            "10:14 unknown consent effect `objet_li`",
            "11:1 unknown key `save` in [cmp.records]",
            "15:29 `records` is only allowed on a step with `consent`",
            "16:54 unknown consent effect `grant`",
        ]
    );
    assert_eq!(d.0[2].hint.as_deref(), Some("did you mean `object_li`?"));
    assert_eq!(
        d.0[5].hint.as_deref(),
        Some("valid values: grant_consent, refuse_consent, object_li")
    );
}

#[test]
fn timeouts_have_limits() {
    let src = format!(
        "{SITE}[browser]\npage_load_timeout = \"11m\"\nstep_timeout = \"1 year\"\nsettle_quiet = \"20s\"\nsettle_timeout = \"10s\"\n\
         [[scenario]]\nid = \"x\"\nsteps = [{{ wait_idle = true, timeout = \"0ms\" }}]\n"
    );
    let (_, d) = parse(&src);
    assert_eq!(
        positions(&d),
        [
            "6:21 `page_load_timeout` = \"11m\" is longer than the limit of 10m",
            "7:16 `step_timeout` = \"1 year\" is longer than the limit of 10m",
            "8:16 `settle_quiet` (20s) is longer than `settle_timeout` (10s): the network could never be seen idle",
            "12:40 `timeout` must be longer than zero",
        ]
    );
    let ok = format!("{SITE}[browser]\npage_load_timeout = \"10m\"\nsettle_quiet = \"15s\"\n");
    let (f, d) = parse(&ok);
    assert!(d.0.is_empty(), "{d}");
    assert_eq!(
        f.unwrap().browser.page_load_timeout,
        Duration::from_secs(600)
    );
}

#[test]
fn restricted_ports_are_refused() {
    let src = "[site]\nname = \"s\"\nbase_url = \"https://www.example.com:6667/\"\npages = [\"http://x.example.com:0/\", \"https://x.example.com:8443/\"]\npolicy = \"p.toml\"\n\
               [[scenario]]\nid = \"x\"\nsteps = [{ navigate = \"http://www.example.com:10080/\" }]\n";
    let (_, d) = parse(src);
    // Pages and steps resolve against a valid base_url only.
    assert_eq!(
        positions(&d),
        ["3:12 \"https://www.example.com:6667/\" uses port 6667, which Chromium refuses (ERR_UNSAFE_PORT)"]
    );
    let src = src.replace(":6667", "");
    let (_, d) = parse(&src);
    assert_eq!(
        positions(&d),
        [
            "4:10 \"http://x.example.com:0/\" has port 0",
            "8:23 \"http://www.example.com:10080/\" uses port 10080, which Chromium refuses (ERR_UNSAFE_PORT)",
        ]
    );
    assert!(RESTRICTED_PORTS.contains(&6000));
    assert!(!RESTRICTED_PORTS.contains(&8443));
}

#[test]
fn digest_of_the_file() {
    let (f, _) = parse(SITE);
    let f = f.unwrap();
    assert_eq!(f.digest.len(), 16);
    assert_eq!(f.digest, crate::toml_check::digest(SITE.as_bytes()));
}

/// 40,000 `[[scenario]]` tables, each with a mistake: every error is reported, and
/// the check stays linear (line/col by binary search, ids by hash).
#[test]
fn forty_thousand_scenarios_validate() {
    const N: usize = 40_000;
    let mut src = String::from(SITE);
    let mut run = Vec::with_capacity(N);
    for i in 0..N {
        // Every entry has an unknown key; every 10th repeats the previous id.
        let id = if i % 10 == 9 { i - 1 } else { i };
        src.push_str(&format!(
            "[[scenario]]\nid = \"s{id}\"\nsteps = [{{ click = \"#b{i}\", consent = \"accept_all\" }}]\ncolour = 1\n"
        ));
        run.push(format!("\"s{id}\""));
    }
    src.push_str(&format!("[run]\nscenarios = [{}]\n", run.join(", ")));
    let start = std::time::Instant::now();
    let (f, d) = parse(&src);
    println!("40,000 scenarios validated in {:?}", start.elapsed());
    assert!(f.is_none());
    let count = |needle: &str| d.0.iter().filter(|d| d.message.contains(needle)).count();
    assert_eq!(count("unknown key `colour`"), N);
    assert_eq!(count("duplicate scenario id"), N / 10);
    assert_eq!(count("duplicate scenario in [run]"), N / 10);
    assert_eq!(d.errors(), N + 2 * (N / 10));
    // The last diagnostic's position is exact.
    let last_colour = d.0.iter().rfind(|d| d.message.contains("colour")).unwrap();
    assert_eq!(last_colour.line, 4 + 4 * N);
}

#[test]
fn gpc_option_and_the_opt_in_builtin() {
    let src = format!(
        "{SITE}[run]\nscenarios = [\"no_action\", \"gpc\", \"mine\"]\n\
         [[scenario]]\nid = \"mine\"\ngpc = true\nsteps = []\n"
    );
    let (f, d) = parse(&src);
    assert!(!d.has_errors(), "{d}");
    let f = f.unwrap();
    let gpc: Vec<(&str, bool, bool)> = f
        .scenarios
        .iter()
        .map(|s| (s.id.as_str(), s.gpc, s.builtin))
        .collect();
    assert_eq!(
        gpc,
        [
            ("no_action", false, true),
            ("gpc", true, true),
            ("mine", true, false)
        ]
    );
    assert!(f.scenarios[1].steps.is_empty());
    // Not in the default order.
    let (f, _) = parse(SITE);
    assert!(f.unwrap().scenarios.iter().all(|s| s.id != "gpc" && !s.gpc));
}

#[test]
fn gpc_option_must_be_a_boolean() {
    let src = format!("{SITE}[[scenario]]\nid = \"x\"\ngpc = \"yes\"\nsteps = []\n");
    let (f, d) = parse(&src);
    assert!(f.is_none());
    assert_eq!(
        positions(&d)
            .into_iter()
            .filter(|p| p.contains("gpc"))
            .collect::<Vec<_>>(),
        ["7:7 `gpc` in [[scenario]] must be a boolean, found string"]
    );
    let d = &d.0.iter().find(|d| d.message.contains("gpc")).unwrap();
    assert_eq!(d.file, PathBuf::from("s.toml"));
}

#[test]
fn cmp_auto_runs_accept_and_reject_through_autoconsent() {
    let src = format!("{SITE}[cmp]\nauto = true\n");
    let (f, d) = parse(&src);
    assert!(d.0.is_empty(), "{d}");
    let f = f.unwrap();
    let ids: Vec<&str> = f.scenarios.iter().map(|s| s.id.as_str()).collect();
    // Every built-in of the default order.
    assert_eq!(ids, crate::scenario::BUILTIN_SCENARIOS);
    // object_li: the profile of the CMP detected at run time, among every bundled one.
    let Action::Profile(p) = &f.scenarios[3].steps[0].action else {
        panic!("{:?}", f.scenarios[3].steps[0].action)
    };
    assert_eq!(p.flow, crate::scenario::FlowKind::ObjectLi);
    assert!(!p.named && p.detect_with_autoconsent);
    let names: Vec<&str> = p.candidates.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["klaro", "cookieconsent", "consentry-tcf"]);
    assert!(f.scenarios[3].steps[0].consent.is_none());
    // reject_then_reload: reject, then the first page again.
    let reload = &f.scenarios[4];
    assert!(matches!(reload.steps[0].action, Action::Autoconsent(_)));
    assert_eq!(
        reload.steps[1].action,
        Action::Navigate(Url::parse("https://www.example.com/").unwrap())
    );
    // accept_then_withdraw: accept, settle, withdraw through the profile, reload.
    let w: Vec<&Action> = f.scenarios[5].steps.iter().map(|s| &s.action).collect();
    assert!(
        matches!(
            w[..],
            [
                Action::Autoconsent(_),
                Action::WaitIdle,
                Action::Profile(_),
                Action::Navigate(_)
            ]
        ),
        "{w:?}"
    );
    for (s, action) in [
        (&f.scenarios[1], ConsentAction::AcceptAll),
        (&f.scenarios[2], ConsentAction::RejectAll),
    ] {
        assert!(s.uses_autoconsent());
        assert_eq!(s.steps.len(), 1);
        let step = &s.steps[0];
        assert_eq!(step.consent, Some(action));
        assert_eq!(step.records, action.default_effects());
        assert_eq!(step.location, "s.toml:6:1");
        let Action::Autoconsent(a) = &step.action else {
            panic!("{:?}", step.action)
        };
        assert_eq!(a.action, action);
        assert!(a.fallback.is_empty());
    }
    assert!(!f.scenarios[0].uses_autoconsent());
}

#[test]
fn cmp_auto_with_selectors_keeps_them_as_fallback() {
    let src = format!(
        "{SITE}[cmp]\nauto = true\nbanner = \"#b\"\nreject_all = [\"#more\", \"#r\"]\nobject_li = [\"#o\"]\n"
    );
    let (f, d) = parse(&src);
    assert!(d.0.is_empty(), "{d}");
    let f = f.unwrap();
    let ids: Vec<&str> = f.scenarios.iter().map(|s| s.id.as_str()).collect();
    // Every built-in of the default order.
    assert_eq!(ids, crate::scenario::BUILTIN_SCENARIOS);
    // object_li selectors win over the profiles.
    assert_eq!(f.scenarios[3].steps[1].action, Action::Click("#o".into()));
    let Action::Autoconsent(reject) = &f.scenarios[2].steps[0].action else {
        panic!("reject_all is not autoconsent")
    };
    let fallback: Vec<&Action> = reject.fallback.iter().map(|s| &s.action).collect();
    assert_eq!(
        fallback,
        [
            &Action::WaitFor("#b".into()),
            &Action::Click("#more".into()),
            &Action::Click("#r".into())
        ]
    );
    assert!(reject.fallback[0].waits_for_banner);
    assert!(reject.fallback.iter().all(|s| s.consent.is_none()));
    // accept_all: autoconsent alone; object_li: selectors (autoconsent cannot object).
    let Action::Autoconsent(accept) = &f.scenarios[1].steps[0].action else {
        panic!("accept_all is not autoconsent")
    };
    assert!(accept.fallback.is_empty());
    assert!(!f.scenarios[3].uses_autoconsent());
}

#[test]
fn cmp_auto_must_be_a_boolean() {
    let src = format!("{SITE}[cmp]\nauto = \"yes\"\n");
    let (_, d) = parse(&src);
    assert!(d.has_errors());
    assert!(positions(&d).iter().any(|p| p.starts_with("6:8 ")), "{d}");
}

#[test]
fn cmp_heuristic_is_on_with_auto_and_takes_the_scenarios_words() {
    let auto_step = |f: &ScenarioFile| match &f.scenarios[1].steps[0].action {
        Action::Autoconsent(a) => a.heuristic.clone(),
        other => panic!("{other:?}"),
    };
    let (f, d) = parse(&format!("{SITE}[cmp]\nauto = true\n"));
    assert!(d.0.is_empty(), "{d}");
    let words = auto_step(&f.unwrap()).expect("on by default");
    assert_eq!(words.sources, ["data/banner-words.toml"]);
    let (f, d) = parse(&format!("{SITE}[cmp]\nauto = true\nheuristic = false\n"));
    assert!(d.0.is_empty(), "{d}");
    assert!(auto_step(&f.unwrap()).is_none());

    let dir = tempfile::tempdir().unwrap();
    let extra = dir.path().join("words.toml");
    std::fs::write(&extra, "[sv]\naccept = [\"godkänn alla\"]\n").unwrap();
    let (f, d) = parse(&format!(
        "{SITE}[cmp]\nauto = true\nbanner_words = {:?}\n",
        extra.display().to_string()
    ));
    assert!(d.0.is_empty(), "{d}");
    let words = auto_step(&f.unwrap()).expect("on");
    assert!(words.languages().contains(&"sv"));
    // A bad words file: its own problem at its own line; a missing one named.
    std::fs::write(&extra, "[sv]\naccept = [\"Godkänn\"]\n").unwrap();
    let (_, d) = parse(&format!(
        "{SITE}[cmp]\nauto = true\nbanner_words = {:?}\n",
        extra.display().to_string()
    ));
    assert!(
        d.0.iter()
            .any(|x| x.file == extra && x.line == 2 && x.message.contains("not lower case")),
        "{d}"
    );
    let (_, d) = parse(&format!(
        "{SITE}[cmp]\nauto = true\nbanner_words = \"/nonexistent/w.toml\"\n"
    ));
    assert!(
        positions(&d)
            .iter()
            .any(|p| p.contains("banner words file /nonexistent/w.toml not found")),
        "{d}"
    );
}
