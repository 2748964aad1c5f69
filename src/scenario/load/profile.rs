//! CMP profile files (`scenarios/cmp/<name>.toml`): the bundled ones, embedded in the
//! binary, and the user's, in the `cmp/` directory beside the scenario file (a user
//! profile with a bundled one's name replaces it). Every problem of every profile file
//! is reported with the scenario file's own diagnostics, at the profile's file:line:col.

use super::cmp::selector;
use super::steps::check_step;
use crate::diag::Diagnostic;
use crate::scenario::profile::{CmpProfile, Detect, Flow, FlowKind};
use crate::toml_check::{read_source, Checker, Table};
use std::path::{Path, PathBuf};

/// The profiles shipped with consentry, one per fixture CMP (docs/scenarios.md).
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "scenarios/cmp/klaro.toml",
        include_str!("../../../scenarios/cmp/klaro.toml"),
    ),
    (
        "scenarios/cmp/cookieconsent.toml",
        include_str!("../../../scenarios/cmp/cookieconsent.toml"),
    ),
    (
        "scenarios/cmp/consentry-tcf.toml",
        include_str!("../../../scenarios/cmp/consentry-tcf.toml"),
    ),
];

/// The bundled profiles as one data set, for `--version` and each stored run: their
/// names and a digest of their texts (`klaro,cookieconsent,consentry-tcf@3f2a...`).
pub fn bundled_digest() -> String {
    let names: Vec<&str> = BUNDLED
        .iter()
        .map(|(path, _)| {
            Path::new(path)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or(path)
        })
        .collect();
    let texts: String = BUNDLED.iter().map(|(_, src)| *src).collect();
    format!(
        "{}@{}",
        names.join(","),
        crate::toml_check::source::digest(texts.as_bytes())
    )
}

pub(crate) const TOP_KEYS: &[&str] = &["profile", "detect", "object_li", "withdraw", "accept_some"];
pub(crate) const PROFILE_KEYS: &[&str] = &["name", "description", "banner", "tested_with"];
pub(crate) const DETECT_KEYS: &[&str] = &["autoconsent", "tcf_cmp_ids", "selector"];
pub(crate) const FLOW_KEYS: &[&str] = &["steps", "unsupported"];

/// The directory of user profiles for a scenario file: `cmp/` beside it.
pub fn user_dir(scenario_file: &Path) -> PathBuf {
    scenario_file
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("cmp")
}

/// The bundled profiles alone, validated (`consentry doctor`).
pub fn bundled_profiles() -> (Vec<CmpProfile>, Vec<Diagnostic>) {
    let mut out = Vec::new();
    let mut diags = Vec::new();
    for (path, src) in BUNDLED {
        let (p, d) = parse_profile(Path::new(path), src, true);
        diags.extend(d);
        out.extend(p);
    }
    (out, diags)
}

/// Every profile a scenario file can use: the bundled ones, then the user's (sorted by
/// file name; one with a bundled profile's name replaces it).
pub fn load_profiles(scenario_file: &Path) -> (Vec<CmpProfile>, Vec<Diagnostic>) {
    let (mut out, mut diags) = bundled_profiles();
    let dir = user_dir(scenario_file);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    for file in files {
        let src = match read_source(&file) {
            Ok(s) => s,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let (p, d) = parse_profile(&file, &src, false);
        diags.extend(d);
        if let Some(p) = p {
            out.retain(|q| q.name != p.name);
            out.push(p);
        }
    }
    (out, diags)
}

/// Validate one profile file. `bundled`: `source` says so.
pub fn parse_profile(
    path: &Path,
    src: &str,
    bundled: bool,
) -> (Option<CmpProfile>, Vec<Diagnostic>) {
    let mut ck = Checker::new(path, src, None);
    let Some(doc) = ck.parse() else {
        return (None, ck.into_diagnostics().0);
    };
    let root = ck.root(&doc, TOP_KEYS);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = None;
    let mut description = String::new();
    let mut banner = None;
    match ck.table_at(&root, "profile", PROFILE_KEYS) {
        Some(t) => {
            if let Some(n) = ck.req_id(&t, "name", &stem) {
                if n.get_ref() != &stem {
                    ck.error(
                        &n.span(),
                        format!(
                            "profile name `{}` differs from its file name `{stem}.toml`",
                            n.get_ref()
                        ),
                        format!(
                            "name the file {}.toml, or write name = \"{stem}\"",
                            n.get_ref()
                        ),
                    );
                } else {
                    name = Some(n.into_inner());
                }
            }
            description = ck
                .opt_string(&t, "description")
                .map(|s| s.into_inner())
                .unwrap_or_default();
            let _ = ck.opt_string(&t, "tested_with");
            banner = ck
                .opt_string(&t, "banner")
                .and_then(|s| selector(&mut ck, &s));
        }
        None => {
            if root.get("profile").is_none() {
                ck.error(
                    &root.span,
                    "missing [profile] table",
                    format!(
                        "add [profile] with name = \"{stem}\" (docs/scenarios.md#cmp-profiles)"
                    ),
                );
            }
        }
    }
    let detect = match ck.table_at(&root, "detect", DETECT_KEYS) {
        Some(t) => check_detect(&mut ck, &t),
        None => {
            ck.error(
                &root.span,
                "missing [detect] table",
                "say how the CMP is recognised: autoconsent = [\"Name\"], tcf_cmp_ids = [N] or selector = \"#banner\"",
            );
            Detect::default()
        }
    };
    let object_li = check_flow(&mut ck, &root, FlowKind::ObjectLi);
    let withdraw = check_flow(&mut ck, &root, FlowKind::Withdraw);
    let accept_some = check_flow(&mut ck, &root, FlowKind::AcceptSome);
    let ok = !ck.has_errors();
    let source = if bundled {
        format!("{} (bundled)", path.display())
    } else {
        path.display().to_string()
    };
    let diags = ck.into_diagnostics().0;
    let profile = match (ok, name) {
        (true, Some(name)) => Some(CmpProfile {
            name,
            source,
            description,
            detect,
            banner,
            object_li,
            withdraw,
            accept_some,
        }),
        _ => None,
    };
    (profile, diags)
}

fn check_detect(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> Detect {
    let autoconsent = ck
        .opt_strings(t, "autoconsent")
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.into_inner())
        .collect();
    let tcf_cmp_ids = t
        .get("tcf_cmp_ids")
        .and_then(|v| {
            ck.ints_in(
                v,
                "`tcf_cmp_ids` in [detect]",
                1..=4095,
                "IAB CMP ids are 12-bit numbers (1 to 4095)",
            )
        })
        .unwrap_or_default()
        .into_iter()
        .map(|n| *n.get_ref() as u32)
        .collect();
    let sel = ck.opt_string(t, "selector").and_then(|s| selector(ck, &s));
    let d = Detect {
        autoconsent,
        tcf_cmp_ids,
        selector: sel,
    };
    if d.autoconsent.is_empty() && d.tcf_cmp_ids.is_empty() && d.selector.is_none() {
        ck.error(
            &t.span,
            "[detect] recognises nothing",
            "give at least one of autoconsent = [\"Name\"], tcf_cmp_ids = [N], selector = \"#banner\"",
        );
    }
    d
}

/// `[object_li]` / `[withdraw]` / `[accept_some]`: steps with exactly one marked with the flow's consent
/// action, or `unsupported = "why"`.
fn check_flow(ck: &mut Checker<'_>, root: &Table<'_, '_>, kind: FlowKind) -> Flow {
    let key = kind.as_str();
    let Some(t) = ck.table_at(root, key, FLOW_KEYS) else {
        return Flow::Absent;
    };
    let consent = kind.consent();
    match (t.get("steps"), ck.opt_string(&t, "unsupported")) {
        (Some(v), Some(_)) => {
            ck.error(
                &v.span(),
                format!("[{key}] has both `steps` and `unsupported`"),
                "a CMP either can do it (steps) or cannot (unsupported = \"why\")",
            );
            Flow::Absent
        }
        (None, Some(why)) => Flow::Unsupported(why.into_inner()),
        (None, None) => {
            ck.missing(
                &t,
                "steps",
                &format!(
                    "[{{ click = \"#settings\" }}, {{ click = \"#save\", consent = \"{}\" }}]",
                    consent.as_str()
                ),
            );
            Flow::Absent
        }
        (Some(v), None) => {
            let Some(items) = ck.array(v, &format!("`steps` in [{key}]")) else {
                return Flow::Absent;
            };
            let mut steps = Vec::new();
            let mut all = true;
            for item in items {
                if let Some(nav) = item
                    .get_ref()
                    .as_table()
                    .and_then(|m| m.get_key_value("navigate"))
                {
                    ck.error(
                        &nav.0.span(),
                        "a CMP profile cannot navigate",
                        "profiles are site-independent: the scenario decides which pages load",
                    );
                    all = false;
                    continue;
                }
                match check_step(ck, item, None, None, true) {
                    Some(s) => steps.push(s),
                    None => all = false,
                }
            }
            let marked: Vec<_> = steps.iter().filter(|s| s.consent.is_some()).collect();
            if all && (marked.len() != 1 || marked[0].consent != Some(consent)) {
                ck.error(
                    &v.span(),
                    format!(
                        "[{key}] must mark exactly one step with consent = \"{}\"",
                        consent.as_str()
                    ),
                    "mark the step that saves the choice (the CMP records it then)",
                );
                all = false;
            }
            if all {
                Flow::Steps(steps)
            } else {
                Flow::Absent
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_profiles_are_valid() {
        for (path, src) in BUNDLED {
            let (p, d) = parse_profile(Path::new(path), src, true);
            assert!(d.is_empty(), "{path}: {d:?}");
            let p = p.expect(path);
            assert!(p.source.ends_with("(bundled)"));
        }
    }

    #[test]
    fn every_problem_of_a_profile_is_reported_at_its_line() {
        let src = r##"[profile]
name = "other"
banner = "div["

[detect]

[object_li]
steps = [
  { click = "#a" },
  { navigate = "/x" },
]

[withdraw]
steps = [{ click = "#w", consent = "accept_all" }]
unsupported = "no"
"##;
        let (p, d) = parse_profile(Path::new("cmp/mine.toml"), src, false);
        assert!(p.is_none());
        let text: Vec<String> = d
            .iter()
            .map(|d| format!("{}:{}: {}", d.line, d.col, d.message))
            .collect();
        let has = |needle: &str| text.iter().any(|t| t.contains(needle));
        assert!(
            has("2:8: profile name `other` differs from its file name `mine.toml`"),
            "{text:#?}"
        );
        assert!(has("3:10: invalid CSS selector"), "{text:#?}");
        assert!(has("5:1: [detect] recognises nothing"), "{text:#?}");
        assert!(has("10:5: a CMP profile cannot navigate"), "{text:#?}");
        assert!(
            has("[withdraw] has both `steps` and `unsupported`"),
            "{text:#?}"
        );
    }

    #[test]
    fn a_flow_must_mark_its_consent_step() {
        let src = r##"[profile]
name = "mine"
[detect]
selector = "#cmp"
[object_li]
steps = [{ click = "#a" }, { click = "#save" }]
"##;
        let (p, d) = parse_profile(Path::new("cmp/mine.toml"), src, false);
        assert!(p.is_none());
        assert!(
            d.iter().any(|d| d.line == 6
                && d.message
                    == "[object_li] must mark exactly one step with consent = \"object_li\""),
            "{d:?}"
        );
    }

    #[test]
    fn a_user_profile_replaces_the_bundled_one_of_that_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("cmp")).expect("mkdir");
        std::fs::write(
            dir.path().join("cmp/klaro.toml"),
            "[profile]\nname = \"klaro\"\ndescription = \"mine\"\n[detect]\nselector = \".klaro\"\n[object_li]\nunsupported = \"not here\"\n",
        )
        .expect("write");
        let (profiles, d) = load_profiles(&dir.path().join("site.toml"));
        assert!(d.is_empty(), "{d:?}");
        let klaro: Vec<_> = profiles.iter().filter(|p| p.name == "klaro").collect();
        assert_eq!(klaro.len(), 1);
        assert_eq!(klaro[0].description, "mine");
        assert_eq!(klaro[0].object_li, Flow::Unsupported("not here".into()));
        assert!(profiles.iter().any(|p| p.name == "cookieconsent"));
    }
}
