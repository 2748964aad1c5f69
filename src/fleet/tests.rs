//! Unit tests of the fleet file loader and of what `audit` is given.

use super::inputs::{expand, load_inputs};
use super::load::load_fleet;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn no_env(_: &str) -> Option<String> {
    None
}

const POLICY: &str = "[[purpose]]\nid = \"analytics\"\nname = \"Analytics\"\nbasis = \"consent\"\n\n\
[[vendor]]\nid = \"ga\"\nname = \"GA\"\ndomains = [\"google-analytics.com\"]\npurposes = [\"analytics\"]\n";

fn site_file(name: &str, extra: &str) -> String {
    format!(
        "[site]\nname = \"{name}\"\nbase_url = \"https://www.{name}.test/\"\npolicy = \"p.policy.toml\"\n{extra}"
    )
}

/// A folder with the shared policy and `files` (name, text).
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("p.policy.toml"), POLICY).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

/// `file:line message` of every diagnostic, files by name only.
fn where_what(d: &crate::diag::Diagnostics) -> Vec<String> {
    d.0.iter()
        .map(|d| {
            let file = d.file.file_name().and_then(|f| f.to_str()).unwrap_or("?");
            format!("{file}:{} {}", d.line, d.message)
        })
        .collect()
}

const FLEET: &str = r##"[fleet]
name = "agency"
database = "fleet.db"
per_site = 2
page_delay = "250ms"

[browser]
settle_quiet = "300ms"
step_timeout = "7s"

[cmp]
banner = "#b"
accept_all = ["#a"]

[run]
scenarios = ["no_action", "accept_all"]

[[site]]
file = "one.toml"

[[site]]
file = "two.toml"

[[site]]
name = "three"
base_url = "https://www.three.test/"
policy = "p.policy.toml"
browser = { step_timeout = "9s" }
run = { scenarios = ["no_action"] }
"##;

#[test]
fn sites_take_the_fleet_defaults_where_they_are_silent() {
    let dir = folder(&[
        ("one.toml", &site_file("one", "[browser]\nstep_timeout = \"3s\"\n")),
        (
            "two.toml",
            &site_file("two", "[cmp]\nbanner = \"#own\"\nreject_all = [\"#r\"]\n[run]\nscenarios = [\"reject_all\"]\n"),
        ),
        ("fleet.toml", FLEET),
    ]);
    let (fleet, warnings) =
        load_fleet(&dir.path().join("fleet.toml"), &no_env).unwrap_or_else(|d| panic!("{d}"));
    assert!(!warnings.has_errors());
    assert_eq!(fleet.name, "agency");
    assert_eq!(fleet.database, Some(dir.path().join("fleet.db")));
    assert_eq!(fleet.limits.per_site, 2);
    assert_eq!(fleet.limits.page_delay, Duration::from_millis(250));
    let names: Vec<&str> = fleet
        .sites
        .iter()
        .map(|s| s.spec.site.name.as_str())
        .collect();
    assert_eq!(names, ["one", "two", "three"]);
    let [one, two, three] = &fleet.sites[..] else {
        panic!("three sites")
    };
    // [browser] key by key: the site's own key wins, the others are the fleet's.
    assert_eq!(one.spec.browser.step_timeout, Duration::from_secs(3));
    assert_eq!(one.spec.browser.settle_quiet, Duration::from_millis(300));
    assert_eq!(three.spec.browser.step_timeout, Duration::from_secs(9));
    assert_eq!(three.spec.browser.settle_quiet, Duration::from_millis(300));
    // [cmp] and [run] whole.
    let ids = |s: &super::FleetSite| -> Vec<String> {
        s.spec.scenarios.iter().map(|s| s.id.clone()).collect()
    };
    assert_eq!(ids(one), ["no_action", "accept_all"]);
    assert_eq!(ids(two), ["reject_all"], "two's own [cmp] and [run]");
    assert_eq!(ids(three), ["no_action"]);
    // A step taken from the fleet's [cmp] says where it was written: the fleet file.
    let accept = &one.spec.scenarios[1];
    assert!(
        accept
            .steps
            .iter()
            .any(|s| s.location.contains("fleet.toml:")),
        "{:?}",
        accept.steps.iter().map(|s| &s.location).collect::<Vec<_>>()
    );
    assert_eq!(
        three.scenario_file,
        format!("{}#three", dir.path().join("fleet.toml").display())
    );
    assert!(one.scenario_file.ends_with("one.toml"));
    // The site is what its file and the fleet's defaults make it: both in its digest.
    let alone =
        crate::scenario::load::load_audit_file_with_env(&dir.path().join("one.toml"), &no_env)
            .unwrap_or_else(|d| panic!("{d}"));
    assert_ne!(alone.digest, one.spec.digest);
}

#[test]
fn every_problem_is_reported_at_once_where_it_was_written() {
    let fleet = r##"[fleet]
name = "agency"
per_site = 40

[browser]
settle_quiet = "soon"

[run]
scenarios = ["no_action", "checkout"]

[[site]]
file = "one.toml"

[[site]]
file = "two.toml"
name = "x"

[[site]]
name = "three"
base_url = "https://www.three.test/"
policy = "p.policy.toml"
colour = "red"
"##;
    let dir = folder(&[
        (
            "one.toml",
            &site_file(
                "one",
                "[[scenario]]\nid = \"checkout\"\nsteps = [{ wait_idle = true }]\n",
            ),
        ),
        (
            "two.toml",
            &site_file("two", "[browser]\nstep_timeout = \"never\"\n"),
        ),
        ("fleet.toml", fleet),
    ]);
    let diags = match load_fleet(&dir.path().join("fleet.toml"), &no_env) {
        Ok(_) => panic!("the fleet has errors"),
        Err(d) => d,
    };
    let got = where_what(&diags);
    let has = |needle: &str| got.iter().any(|g| g.contains(needle));
    assert!(
        has("fleet.toml:3 `per_site` must be between 1 and 16"),
        "{got:#?}"
    );
    // A bad default is said once, at its line, whatever the number of sites.
    assert_eq!(
        got.iter()
            .filter(|g| g.starts_with("fleet.toml:6 "))
            .count(),
        1,
        "{got:#?}"
    );
    // A default that does not fit some sites names them: `checkout` is one's only.
    assert!(
        got.iter().any(|g| g.starts_with("fleet.toml:9 ")
            && g.contains("unknown scenario `checkout`")
            && g.ends_with("(for site two.toml, three)")),
        "{got:#?}"
    );
    assert!(has("fleet.toml:16 `name` beside `file`"), "{got:#?}");
    assert!(
        has("fleet.toml:22 unknown key `colour` in [[site]]"),
        "{got:#?}"
    );
    assert_eq!(
        got.iter().filter(|g| g.contains("colour")).count(),
        1,
        "{got:#?}"
    );
    assert!(
        has("two.toml:6"),
        "an error in a site's own file is at its line: {got:#?}"
    );
}

#[test]
fn two_sites_of_one_name_would_share_a_history_and_are_refused() {
    let fleet =
        "[fleet]\nname = \"a\"\n[[site]]\nfile = \"one.toml\"\n[[site]]\nfile = \"again.toml\"\n";
    let dir = folder(&[
        ("one.toml", &site_file("one", "")),
        ("again.toml", &site_file("one", "")),
        ("fleet.toml", fleet),
    ]);
    let diags = load_fleet(&dir.path().join("fleet.toml"), &no_env)
        .err()
        .unwrap_or_default();
    let got = where_what(&diags);
    assert!(
        got.iter()
            .any(|g| g.starts_with("fleet.toml:5 site name `one` is used twice")),
        "{got:#?}"
    );
}

#[test]
fn a_folder_stands_for_its_scenario_files_and_a_fleet_file_for_itself_alone() {
    let dir = folder(&[
        ("b.toml", &site_file("b", "")),
        ("a.toml", &site_file("a", "")),
        ("acks.toml", ""),
        ("notes.toml", "title = \"not a scenario file\"\n"),
        ("broken.toml", "[site\n"),
    ]);
    let files = expand(&[dir.path().to_path_buf()]).unwrap_or_else(|d| panic!("{d}"));
    let names: Vec<&str> = files
        .iter()
        .filter_map(|f| f.file_name().and_then(|n| n.to_str()))
        .collect();
    assert_eq!(
        names,
        ["a.toml", "b.toml", "broken.toml"],
        "a file that does not parse is kept, so its errors show"
    );

    std::fs::remove_file(dir.path().join("broken.toml")).unwrap();
    let (fleet, _) =
        load_inputs(&[dir.path().to_path_buf()], None, &no_env).unwrap_or_else(|d| panic!("{d}"));
    let names: Vec<&str> = fleet
        .sites
        .iter()
        .map(|s| s.spec.site.name.as_str())
        .collect();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(fleet.limits.per_site, 1, "polite by default");

    std::fs::write(
        dir.path().join("fleet.toml"),
        "[fleet]\nname = \"x\"\n[[site]]\nfile = \"a.toml\"\n",
    )
    .unwrap();
    let err = load_inputs(
        &[dir.path().join("fleet.toml"), dir.path().join("b.toml")],
        None,
        &no_env,
    )
    .err()
    .unwrap_or_default();
    assert!(
        where_what(&err)[0].contains("a fleet file must be the only input"),
        "{err}"
    );

    let empty = tempfile::tempdir().unwrap();
    let err = expand(&[empty.path().to_path_buf()])
        .err()
        .unwrap_or_default();
    assert!(where_what(&err)[0].contains("no scenario files in this folder"));
    let _ = (Path::new("."), PathBuf::new());
}

#[test]
fn a_site_with_invalid_files_is_left_out_and_never_holds_the_others_up() {
    let fleet =
        "[fleet]\nname = \"a\"\n[[site]]\nfile = \"one.toml\"\n[[site]]\nfile = \"broken.toml\"\n\
                 [[site]]\nfile = \"missing.toml\"\n";
    let dir = folder(&[
        ("one.toml", &site_file("one", "")),
        (
            "broken.toml",
            &site_file("broken", "[browser]\nstep_timeout = \"later\"\n"),
        ),
        ("fleet.toml", fleet),
    ]);
    let (fleet, diags) = load_fleet(&dir.path().join("fleet.toml"), &no_env)
        .unwrap_or_else(|d| panic!("one valid site is enough to run: {d}"));
    let names: Vec<&str> = fleet
        .sites
        .iter()
        .map(|s| s.spec.site.name.as_str())
        .collect();
    assert_eq!(names, ["one"]);
    let left: Vec<(&str, usize)> = fleet
        .invalid
        .iter()
        .map(|s| (s.label.as_str(), s.errors))
        .collect();
    assert_eq!(left, [("broken.toml", 1), ("missing.toml", 1)]);
    let got = where_what(&diags);
    assert!(
        got.iter().any(|g| g.starts_with("broken.toml:6 ")),
        "{got:#?}"
    );
    assert!(
        got.iter().any(|g| g.starts_with("missing.toml:")),
        "{got:#?}"
    );

    // With no valid site there is nothing to audit.
    let only_broken = "[fleet]\nname = \"a\"\n[[site]]\nfile = \"broken.toml\"\n";
    std::fs::write(dir.path().join("fleet.toml"), only_broken).unwrap();
    assert!(load_fleet(&dir.path().join("fleet.toml"), &no_env).is_err());
}

#[test]
fn validate_checks_a_fleet_file_with_every_site_it_names() {
    let fleet = "[fleet]\nname = \"a\"\n[browser]\nsettle_quiet = \"soon\"\n[[site]]\nfile = \"one.toml\"\n\
                 [[site]]\nfile = \"broken.toml\"\n";
    let dir = folder(&[
        ("one.toml", &site_file("one", "")),
        (
            "broken.toml",
            &site_file("broken", "[browser]\nstep_timeout = \"later\"\n"),
        ),
        ("fleet.toml", fleet),
    ]);
    let diags = crate::validate::validate_files(&[dir.path().join("fleet.toml")]);
    let got = where_what(&diags);
    assert!(
        got.iter().any(|g| g.starts_with("fleet.toml:4 ")),
        "{got:#?}"
    );
    assert!(
        got.iter().any(|g| g.starts_with("broken.toml:6 ")),
        "{got:#?}"
    );
    assert!(
        !got.iter().any(|g| g.contains("unknown key")),
        "a fleet file is not read as a scenario file: {got:#?}"
    );
}

/// `[fleet] notify`: each URL becomes a target (its shape chosen by the URL, `${VAR}`
/// interpolated); a bad one is an error at its own line and column that never repeats
/// the URL (a webhook's URL is often its credential).
#[test]
fn notify_targets_are_validated_where_they_are_written() {
    let dir = folder(&[("one.toml", &site_file("one", ""))]);
    let good = "[fleet]\nname = \"a\"\nnotify = [\n  \"slack+https://chat.example/hooks/T0K3N\",\n  \"${HOOK}\",\n]\n\n[[site]]\nfile = \"one.toml\"\n";
    std::fs::write(dir.path().join("fleet.toml"), good).unwrap();
    let env = |name: &str| (name == "HOOK").then(|| "https://alerts.example/in".to_string());
    let (fleet, _) = load_fleet(&dir.path().join("fleet.toml"), &env).expect("valid");
    let shapes: Vec<(crate::notify::Format, String)> =
        fleet.notify.iter().map(|t| (t.format, t.label())).collect();
    assert_eq!(
        shapes,
        vec![
            (
                crate::notify::Format::Slack,
                "https://chat.example/hooks/…".to_string()
            ),
            (
                crate::notify::Format::Generic,
                "https://alerts.example/in".to_string()
            ),
        ]
    );

    let bad = "[fleet]\nname = \"a\"\nnotify = [\"https://alerts.example/in\",\n  \"ftp://files.example/s3cr3t\", 7]\n\n[[site]]\nfile = \"one.toml\"\n";
    std::fs::write(dir.path().join("fleet.toml"), bad).unwrap();
    let diags = load_fleet(&dir.path().join("fleet.toml"), &no_env).expect_err("invalid");
    let found = where_what(&diags);
    assert!(
        found
            .iter()
            .any(|d| d.starts_with("fleet.toml:4 `notify`: scheme `ftp` is not supported")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|d| d.starts_with("fleet.toml:4 ")
            && d.contains("each element of")
            && d.contains("notify")),
        "{found:#?}"
    );
    assert!(
        diags.0.iter().all(|d| !d.message.contains("s3cr3t")),
        "{found:#?}"
    );
}

#[test]
fn a_database_url_is_kept_as_written_a_path_is_relative_to_the_fleet_file() {
    use super::load::resolve_database;
    let dir = Path::new("/srv/fleets");
    assert_eq!(
        resolve_database(dir, "postgres://audit@db.example/agency"),
        PathBuf::from("postgres://audit@db.example/agency")
    );
    assert_eq!(resolve_database(dir, "agency.db"), dir.join("agency.db"));
}

#[test]
fn shards_split_the_sites_once_each() {
    use super::Shard;
    let dir = folder(&[("fleet.toml", FLEET)]);
    let files = ["one", "two"];
    for f in files {
        std::fs::write(dir.path().join(format!("{f}.toml")), site_file(f, "")).unwrap();
    }
    let (fleet, _) = load_inputs(&[dir.path().join("fleet.toml")], None, &no_env).unwrap();
    let all: Vec<String> = fleet
        .sites
        .iter()
        .map(|s| s.spec.site.name.clone())
        .collect();
    assert_eq!(all, ["one", "two", "three"]);
    let mut seen = Vec::new();
    for i in 1..=2 {
        let mut part = fleet.clone();
        Shard::parse(&format!("{i}/2")).unwrap().keep_in(&mut part);
        seen.extend(part.sites.iter().map(|s| s.spec.site.name.clone()));
    }
    seen.sort();
    let mut want = all.clone();
    want.sort();
    assert_eq!(seen, want, "every site in exactly one shard");
    let mut first = fleet.clone();
    Shard::parse("1/2").unwrap().keep_in(&mut first);
    assert_eq!(first.sites.len(), 2, "positions 1 and 3");
    for bad in ["0/2", "3/2", "1/0", "2", "a/b", ""] {
        assert!(Shard::parse(bad).is_err(), "{bad:?} accepted");
    }
}

/// `[fleet] repeat`: how many times each scenario is visited (default 1); out of range
/// is an error at its line, like the other limits.
#[test]
fn repeat_is_a_fleet_default_checked_at_its_line() {
    let fleet = |repeat: &str| {
        format!("[fleet]\nname = \"agency\"\n{repeat}\n[[site]]\nfile = \"one.toml\"\n")
    };
    let dir = folder(&[
        ("one.toml", &site_file("one", "")),
        ("fleet.toml", &fleet("repeat = 3")),
    ]);
    let (loaded, _) =
        load_fleet(&dir.path().join("fleet.toml"), &no_env).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(loaded.limits.repeat, 3);

    std::fs::write(dir.path().join("fleet.toml"), fleet("")).unwrap();
    let (loaded, _) =
        load_fleet(&dir.path().join("fleet.toml"), &no_env).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(loaded.limits.repeat, 1, "one visit by default");

    for bad in ["repeat = 0", "repeat = 11", "repeat = -2"] {
        std::fs::write(dir.path().join("fleet.toml"), fleet(bad)).unwrap();
        let got = match load_fleet(&dir.path().join("fleet.toml"), &no_env) {
            Ok(_) => panic!("{bad} was accepted"),
            Err(d) => where_what(&d),
        };
        assert!(
            got.iter()
                .any(|g| g.contains("fleet.toml:3 `repeat` must be between 1 and 10")),
            "{bad}: {got:#?}"
        );
    }
}

#[test]
fn a_fleet_vantage_is_every_silent_sites_and_a_sites_own_wins_whole() {
    let fleet = |label: &str| {
        format!(
            "[fleet]\nname = \"agency\"\n\n[vantage]\nlabel = \"{label}\"\nproxy = \"http://proxy.test:3128\"\n\
             proxy_user_env = \"PU\"\nproxy_password_env = \"PP\"\nlocale = \"de-DE\"\n\n\
             [[site]]\nfile = \"one.toml\"\n\n[[site]]\nfile = \"two.toml\"\n\n\
             [[site]]\nname = \"three\"\nbase_url = \"https://www.three.test/\"\npolicy = \"p.policy.toml\"\n\
             vantage = {{ label = \"jp\", timezone = \"Asia/Tokyo\" }}\n"
        )
    };
    let env = |name: &str| match name {
        "PU" => Some("fleet-proxy-user".to_string()),
        "PP" => Some("fleet-proxy-pass".to_string()),
        _ => None,
    };
    let dir = folder(&[
        ("one.toml", &site_file("one", "")),
        ("two.toml", &site_file("two", "[vantage]\nlabel = \"us\"\n")),
        ("fleet.toml", &fleet("eu-de")),
    ]);
    let (loaded, _) =
        load_fleet(&dir.path().join("fleet.toml"), &env).unwrap_or_else(|d| panic!("{d}"));
    let [one, two, three] = &loaded.sites[..] else {
        panic!("three sites")
    };
    let v = &one.spec.browser.vantage;
    assert_eq!(
        (v.label.as_str(), v.proxy.as_deref(), v.locale.as_deref()),
        ("eu-de", Some("http://proxy.test:3128"), Some("de-DE"))
    );
    assert!(one.spec.browser.proxy_auth.is_some());
    // The fleet's credentials are the site's secrets.
    assert_eq!(
        one.spec.site.secrets.redact("fleet-proxy-pass"),
        "[secret:PP]"
    );
    // A site's own [vantage] replaces the fleet's whole: no proxy, no locale.
    let v = &two.spec.browser.vantage;
    assert_eq!(v, &crate::model::vantage::Vantage::labelled("us"));
    assert!(two.spec.browser.proxy_auth.is_none());
    assert!(two.spec.site.secrets.is_empty());
    let v = &three.spec.browser.vantage;
    assert_eq!(
        (v.label.as_str(), v.timezone.as_deref(), v.proxy.as_deref()),
        ("jp", Some("Asia/Tokyo"), None)
    );

    // A bad default is reported once, at the fleet file's line.
    std::fs::write(dir.path().join("fleet.toml"), fleet("eu de")).unwrap();
    let got = match load_fleet(&dir.path().join("fleet.toml"), &env) {
        Ok(_) => panic!("a bad label was accepted"),
        Err(d) => where_what(&d),
    };
    assert_eq!(
        got.iter()
            .filter(|g| g.contains("invalid vantage label"))
            .collect::<Vec<_>>(),
        ["fleet.toml:5 invalid vantage label \"eu de\""],
        "{got:#?}"
    );
}
