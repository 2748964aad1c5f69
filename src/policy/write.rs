//! A policy written out as TOML: the one writer of the declared map, for the files
//! consentry drafts (`consentry init`, `consentry map draft`) and imports
//! (`consentry map import`). What it writes loads back into an equal [`Policy`] (a test
//! holds every shipped policy to that), with each entry's comments above it.
//!
//! Keys are written in the loader's order and only when they differ from the loader's
//! default (`name` equal to the id, `pages = ["*"]`, `gpc_opt_out` as the TCF default
//! gives it are left out).

use super::{default_gpc_opt_out, Policy, Retention, DEFAULT_RETENTION_TOLERANCE_SECS};
use crate::toml_check::toml_string;
use std::collections::HashMap;
use std::fmt::Write as _;

/// Comment lines to write: at the top of the file, and above entries.
#[derive(Debug, Clone, Default)]
pub struct Notes {
    /// The file's opening comment, one line each (without `#`).
    pub header: Vec<String>,
    /// Above a `[[purpose]]`, by purpose id.
    pub purposes: HashMap<String, Vec<String>>,
    /// Above a `[[vendor]]`, by vendor id.
    pub vendors: HashMap<String, Vec<String>>,
    /// Above a `[[cookie]]`, by (cookie name, vendor id).
    pub cookies: HashMap<(String, String), Vec<String>>,
}

/// A duration as the file's grammar reads it back exactly: whole years or months
/// (humantime's 365.25 and 30.44 days) as such, else days, hours, minutes and seconds.
fn duration_text(secs: i64) -> String {
    const YEAR: i64 = 31_557_600;
    const MONTH: i64 = 2_630_016;
    if secs > 0 && secs % YEAR == 0 {
        return format!("{}years", secs / YEAR);
    }
    if secs > 0 && secs % MONTH == 0 {
        return format!("{}months", secs / MONTH);
    }
    let mut parts = Vec::new();
    let mut rest = secs;
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if rest >= size {
            parts.push(format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    if rest > 0 || parts.is_empty() {
        parts.push(format!("{rest}s"));
    }
    parts.join(" ")
}

fn comments(out: &mut String, lines: Option<&Vec<String>>) {
    for line in lines.into_iter().flatten() {
        if line.is_empty() {
            out.push_str("#\n");
        }
        for l in line.lines() {
            if l.is_empty() {
                out.push_str("#\n");
            } else {
                let _ = writeln!(out, "# {l}");
            }
        }
    }
}

fn list<T: ToString>(items: &[T]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| toml_string(&i.to_string())).collect();
    format!("[{}]", quoted.join(", "))
}

fn numbers(items: &[u8]) -> String {
    let n: Vec<String> = items.iter().map(u8::to_string).collect();
    format!("[{}]", n.join(", "))
}

/// The policy as a TOML document that loads back into an equal [`Policy`].
pub fn render(policy: &Policy, notes: &Notes) -> String {
    let mut out = String::new();
    comments(&mut out, Some(&notes.header));
    if policy.retention_tolerance_secs != DEFAULT_RETENTION_TOLERANCE_SECS {
        let _ = writeln!(
            out,
            "\n[settings]\nretention_tolerance = {}",
            toml_string(&duration_text(policy.retention_tolerance_secs))
        );
    }
    for p in &policy.purposes {
        out.push('\n');
        comments(&mut out, notes.purposes.get(&p.id));
        let _ = writeln!(out, "[[purpose]]\nid = {}", toml_string(&p.id));
        if p.name != p.id {
            let _ = writeln!(out, "name = {}", toml_string(&p.name));
        }
        let _ = writeln!(out, "basis = {}", toml_string(p.basis.as_str()));
        if p.strictly_necessary {
            out.push_str("strictly_necessary = true\n");
        }
        if let Some(n) = p.tcf_purpose {
            let _ = writeln!(out, "tcf_purpose = {n}");
        }
        if p.gpc_opt_out != default_gpc_opt_out(p.tcf_purpose, p.strictly_necessary) {
            let _ = writeln!(out, "gpc_opt_out = {}", p.gpc_opt_out);
        }
        if p.draft {
            out.push_str("draft = true\n");
        }
    }
    for v in &policy.vendors {
        out.push('\n');
        comments(&mut out, notes.vendors.get(&v.id));
        let _ = writeln!(out, "[[vendor]]\nid = {}", toml_string(&v.id));
        if v.name != v.id {
            let _ = writeln!(out, "name = {}", toml_string(&v.name));
        }
        if !v.domains.is_empty() {
            let _ = writeln!(out, "domains = {}", list(&v.domains));
        }
        if !v.hosts.is_empty() {
            let _ = writeln!(out, "hosts = {}", list(&v.hosts));
        }
        if !v.pages.is_empty() && v.pages != ["*"] {
            let _ = writeln!(out, "pages = {}", list(&v.pages));
        }
        let _ = writeln!(out, "purposes = {}", list(&v.purposes));
        if let Some(m) = v.consent_mode {
            let _ = writeln!(out, "consent_mode = {}", toml_string(m.into()));
        }
        if !v.cmp_services.is_empty() {
            let _ = writeln!(out, "cmp_services = {}", list(&v.cmp_services));
        }
        if let Some(t) = &v.tcf {
            if let Some(id) = t.vendor_id {
                let _ = writeln!(out, "tcf_vendor_id = {id}");
            }
            for (key, items) in [
                ("tcf_consent_purposes", &t.consent_purposes),
                ("tcf_li_purposes", &t.li_purposes),
                ("tcf_special_purposes", &t.special_purposes),
                ("tcf_features", &t.features),
                ("tcf_special_features", &t.special_features),
            ] {
                if !items.is_empty() {
                    let _ = writeln!(out, "{key} = {}", numbers(items));
                }
            }
        }
        if v.draft {
            out.push_str("draft = true\n");
        }
    }
    for c in &policy.cookies {
        out.push('\n');
        comments(
            &mut out,
            notes.cookies.get(&(c.name.clone(), c.vendor.clone())),
        );
        let _ = writeln!(
            out,
            "[[cookie]]\nname = {}\nvendor = {}",
            toml_string(&c.name),
            toml_string(&c.vendor)
        );
        let retention = match c.max_retention {
            Retention::Session => "session".to_string(),
            Retention::MaxSeconds(s) => duration_text(s),
        };
        let _ = writeln!(out, "max_retention = {}", toml_string(&retention));
        if let Some(d) = &c.domain {
            let _ = writeln!(out, "domain = {}", toml_string(&d.to_string()));
        }
        if let Some(p) = c.party {
            let _ = writeln!(out, "party = {}", toml_string(p.into()));
        }
        if let Some(b) = c.basis {
            let _ = writeln!(out, "basis = {}", toml_string(b.as_str()));
        }
        if let Some(s) = c.strictly_necessary {
            let _ = writeln!(out, "strictly_necessary = {s}");
        }
        if c.draft {
            out.push_str("draft = true\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::load::parse_policy as load_policy_str;
    use std::path::Path;

    /// The declared facts of a policy, without where they were read from.
    fn facts(p: &Policy) -> String {
        let mut p = p.clone();
        p.path = Default::default();
        p.digest = String::new();
        for i in &mut p.map_issues {
            i.location = String::new();
            i.message = String::new();
        }
        for v in &mut p.vendors {
            if let Some(t) = &mut v.tcf {
                t.at = Default::default();
            }
        }
        serde_json::to_string_pretty(&p).unwrap_or_default()
    }

    fn policies() -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let mut dirs = vec![
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"),
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        ];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    dirs.push(p);
                } else if p.to_string_lossy().ends_with(".policy.toml") {
                    out.push(p);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn every_shipped_policy_written_out_loads_back_equal() {
        let files = policies();
        assert!(files.len() >= 10, "{files:?}");
        let mut checked = 0;
        for f in files {
            let src = std::fs::read_to_string(&f).expect("policy readable");
            // A fixture that is meant to fail validation has no policy to write.
            let (Some(p), _) = load_policy_str(&f, &src) else {
                continue;
            };
            let text = render(&p, &Notes::default());
            let (back, diags) = load_policy_str(&f, &text);
            let back = back.unwrap_or_else(|| panic!("{}: {diags:?}\n{text}", f.display()));
            assert!(!diags.has_errors(), "{}: {diags:?}\n{text}", f.display());
            assert_eq!(facts(&p), facts(&back), "{}\n{text}", f.display());
            checked += 1;
        }
        assert!(checked >= 10, "{checked}");
    }

    #[test]
    fn comments_and_draft_marks_are_written_where_they_belong() {
        let src = r#"
[settings]
retention_tolerance = "2d"

[[purpose]]
id = "ads"
name = "Say \"ads\""
basis = "consent"
tcf_purpose = 4
gpc_opt_out = false
draft = true

[[vendor]]
id = "x"
domains = ["x.example", "*.y.example"]
hosts = ["www.z.example/p"]
pages = ["/a"]
purposes = ["ads"]
draft = true

[[cookie]]
name = "c_*"
vendor = "x"
max_retention = "13months"
domain = "x.example"
party = "third"
draft = true
"#;
        let (p, diags) = load_policy_str(Path::new("t.policy.toml"), src);
        let p = p.unwrap_or_else(|| panic!("{diags:?}"));
        assert!(p.purposes[0].draft && p.vendors[0].draft && p.cookies[0].draft);
        let mut notes = Notes {
            header: vec!["Drafted.".into(), String::new()],
            ..Notes::default()
        };
        notes
            .vendors
            .insert("x".into(), vec!["seen on two pages\nknown: X".into()]);
        notes
            .cookies
            .insert(("c_*".into(), "x".into()), vec!["observed 30d".into()]);
        let text = render(&p, &notes);
        assert!(text.starts_with("# Drafted.\n#\n"), "{text}");
        assert!(
            text.contains("# seen on two pages\n# known: X\n[[vendor]]\nid = \"x\"\n"),
            "{text}"
        );
        assert!(text.contains("# observed 30d\n[[cookie]]\n"), "{text}");
        assert!(text.contains("name = \"Say \\\"ads\\\"\""), "{text}");
        assert_eq!(text.matches("draft = true").count(), 3, "{text}");
        assert!(text.contains("max_retention = \"13months\""), "{text}");
        assert_eq!(duration_text(90_061), "1d 1h 1m 1s");
        assert_eq!(duration_text(2 * 31_557_600), "2years");
        assert_eq!(duration_text(0), "0s");
        for secs in [
            1, 59, 61, 3601, 86_399, 90_061, 34_190_208, 34_560_000, 63_115_200,
        ] {
            let text = duration_text(secs);
            assert_eq!(
                crate::toml_check::parse_duration_secs(&text),
                Some(secs),
                "{text}"
            );
        }
        assert!(text.contains("gpc_opt_out = false"), "{text}");
        let (back, _) = load_policy_str(Path::new("t.policy.toml"), &text);
        assert_eq!(facts(&p), facts(&back.expect("loads back")));
    }
}
