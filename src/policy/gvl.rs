//! The IAB TCF Global Vendor List (`vendor-list.json`, specification version 3), as a
//! user supplies it with `--gvl FILE`, and the declared-map lint against it: what the
//! policy declares for a TCF vendor must be what that vendor registered.
//!
//! Pure apart from [`load_gvl`]. The lint's problems are [`MapIssue`]s: `validate` shows
//! them as warnings with the declaration's file:line:col, and the audit reports them as
//! findings (docs/findings.md: `gvl-vendor-missing`, `gvl-li-consent-only`,
//! `gvl-purpose-unregistered`). consentry ships no GVL: the list is updated weekly and
//! the privacy team audits against the version it reviewed.

use super::{MapIssue, MapIssueCode, Policy};
use crate::diag::{Diagnostic, Diagnostics, Level};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Largest GVL accepted (the real list is about 1 MiB).
pub const MAX_GVL_BYTES: u64 = 32 * 1024 * 1024;

/// One vendor's registration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GvlVendor {
    pub id: u32,
    pub name: String,
    /// Purposes processed on consent.
    #[serde(default)]
    pub purposes: Vec<u8>,
    /// Purposes processed on legitimate interest.
    #[serde(default)]
    pub leg_int_purposes: Vec<u8>,
    /// Purposes the vendor lets the publisher choose the basis of.
    #[serde(default)]
    pub flexible_purposes: Vec<u8>,
    /// Set when the vendor left the list.
    #[serde(default)]
    pub deleted_date: Option<String>,
}

/// The list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Gvl {
    pub path: PathBuf,
    pub vendor_list_version: u32,
    pub vendors: BTreeMap<u32, GvlVendor>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    gvl_specification_version: u32,
    vendor_list_version: u32,
    vendors: BTreeMap<String, GvlVendor>,
}

fn error(path: &Path, line: usize, col: usize, message: String, hint: Option<&str>) -> Diagnostics {
    Diagnostics(vec![Diagnostic {
        level: Level::Error,
        file: path.to_path_buf(),
        line: line.max(1),
        col: col.max(1),
        message,
        hint: hint.map(str::to_string),
    }])
}

const HINT: &str = "give the IAB's vendor-list.json, version 3 (https://vendor-list.consensu.org/v3/vendor-list.json), as downloaded";

/// Reads and checks a GVL file; errors name the file, and the line and column of bad JSON.
pub fn load_gvl(path: &Path) -> Result<Gvl, Diagnostics> {
    let meta = std::fs::metadata(path).map_err(|e| {
        error(
            path,
            1,
            1,
            format!("cannot read the Global Vendor List {}: {e}", path.display()),
            Some("check the path given with --gvl"),
        )
    })?;
    if meta.len() > MAX_GVL_BYTES {
        return Err(error(
            path,
            1,
            1,
            format!(
                "the Global Vendor List is {} bytes, more than the {MAX_GVL_BYTES} accepted",
                meta.len()
            ),
            Some(HINT),
        ));
    }
    let src = std::fs::read_to_string(path).map_err(|e| {
        error(
            path,
            1,
            1,
            format!("cannot read the Global Vendor List {}: {e}", path.display()),
            Some(HINT),
        )
    })?;
    parse_gvl(path, &src)
}

/// Parses the text of a GVL file.
pub fn parse_gvl(path: &Path, src: &str) -> Result<Gvl, Diagnostics> {
    let raw: Raw = serde_json::from_str(src).map_err(|e| {
        error(
            path,
            e.line(),
            e.column(),
            format!("not a Global Vendor List: {e}"),
            Some(HINT),
        )
    })?;
    if raw.gvl_specification_version != 3 {
        return Err(error(
            path,
            1,
            1,
            format!(
                "gvlSpecificationVersion {} is not supported (TCF 2.2 lists are version 3)",
                raw.gvl_specification_version
            ),
            Some(HINT),
        ));
    }
    let mut vendors = BTreeMap::new();
    for (key, v) in raw.vendors {
        if key.parse::<u32>().ok() != Some(v.id) {
            return Err(error(
                path,
                1,
                1,
                format!(
                    "vendor entry {key:?} has id {}: the list is inconsistent",
                    v.id
                ),
                Some(HINT),
            ));
        }
        vendors.insert(v.id, v);
    }
    Ok(Gvl {
        path: path.to_path_buf(),
        vendor_list_version: raw.vendor_list_version,
        vendors,
    })
}

fn list(ps: &[u8]) -> String {
    ps.iter().map(u8::to_string).collect::<Vec<_>>().join(", ")
}

/// What the policy's TCF declarations get wrong against `gvl`, in policy order.
pub fn lint(policy: &Policy, gvl: &Gvl) -> Vec<MapIssue> {
    let mut out = Vec::new();
    let gvl_name = format!("GVL v{}", gvl.vendor_list_version);
    for v in &policy.vendors {
        let Some(tcf) = &v.tcf else { continue };
        let Some(id) = tcf.vendor_id else { continue };
        let vendor_at = tcf
            .at
            .vendor_id
            .clone()
            .unwrap_or_else(|| policy.path.display().to_string());
        let entry = gvl.vendors.get(&id);
        let Some(entry) = entry.filter(|e| e.deleted_date.is_none()) else {
            let why = match entry.and_then(|e| e.deleted_date.as_deref()) {
                Some(d) => format!("was deleted from the {gvl_name} on {d}"),
                None => format!("is not in the {gvl_name}"),
            };
            out.push(MapIssue {
                code: MapIssueCode::GvlVendorMissing,
                subject: v.id.clone(),
                message: format!("Vendor `{}` declares TCF vendor id {id}, which {why}.", v.id),
                rule: format!("a declared TCF vendor must be registered in the Global Vendor List ({gvl_name})"),
                location: vendor_at,
            });
            continue;
        };
        let at = |p: u8, li: bool| {
            tcf.at
                .purposes
                .iter()
                .find(|(n, l, _)| *n == p && *l == li)
                .map(|(_, _, loc)| loc.clone())
                .unwrap_or_else(|| vendor_at.clone())
        };
        for &p in &tcf.li_purposes {
            if entry.leg_int_purposes.contains(&p) || entry.flexible_purposes.contains(&p) {
                continue;
            }
            if entry.purposes.contains(&p) {
                out.push(MapIssue {
                    code: MapIssueCode::GvlLiConsentOnly,
                    subject: v.id.clone(),
                    message: format!(
                        "Vendor `{}` declares legitimate interest for TCF purpose {p}, but {} (id {id}) registered purpose {p} for consent only in the {gvl_name} (consent: {}; legitimate interest: {}).",
                        v.id,
                        entry.name,
                        list(&entry.purposes),
                        list(&entry.leg_int_purposes)
                    ),
                    rule: format!("a vendor may rely on legitimate interest only for the purposes it registered so in the Global Vendor List ({gvl_name})"),
                    location: at(p, true),
                });
            } else {
                out.push(unregistered(v, entry, id, p, true, &gvl_name, at(p, true)));
            }
        }
        for &p in &tcf.consent_purposes {
            let registered = entry.purposes.contains(&p)
                || entry.leg_int_purposes.contains(&p)
                || entry.flexible_purposes.contains(&p);
            if !registered {
                out.push(unregistered(
                    v,
                    entry,
                    id,
                    p,
                    false,
                    &gvl_name,
                    at(p, false),
                ));
            }
        }
    }
    out
}

fn unregistered(
    v: &super::Vendor,
    entry: &GvlVendor,
    id: u32,
    p: u8,
    li: bool,
    gvl_name: &str,
    location: String,
) -> MapIssue {
    MapIssue {
        code: MapIssueCode::GvlPurposeUnregistered,
        subject: v.id.clone(),
        message: format!(
            "Vendor `{}` declares TCF purpose {p} ({}), which {} (id {id}) did not register in the {gvl_name} (consent: {}; legitimate interest: {}; flexible: {}).",
            v.id,
            if li { "legitimate interest" } else { "consent" },
            entry.name,
            list(&entry.purposes),
            list(&entry.leg_int_purposes),
            list(&entry.flexible_purposes)
        ),
        rule: format!("a vendor may process only the purposes it registered in the Global Vendor List ({gvl_name})"),
        location,
    }
}

/// The lint's issues as `validate` warnings (their location is `file:line:col`).
pub fn as_warnings(issues: &[MapIssue]) -> Vec<Diagnostic> {
    issues
        .iter()
        .map(|i| {
            let mut parts = i.location.rsplitn(3, ':');
            let col = parts.next().and_then(|c| c.parse().ok()).unwrap_or(1);
            let line = parts.next().and_then(|l| l.parse().ok()).unwrap_or(1);
            let file = parts.next().unwrap_or(&i.location);
            Diagnostic {
                level: Level::Warning,
                file: PathBuf::from(file),
                line,
                col,
                message: format!("map issue {}: {}", i.code.as_str(), i.message),
                hint: Some(format!("{}; the audit still runs and reports it", i.rule)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GVL: &str = r#"{
  "gvlSpecificationVersion": 3,
  "vendorListVersion": 142,
  "vendors": {
    "755": {"id": 755, "name": "Google Advertising Products", "purposes": [1, 3, 4], "legIntPurposes": [2, 7], "flexiblePurposes": [2, 7]},
    "21": {"id": 21, "name": "The Trade Desk", "purposes": [1, 2], "legIntPurposes": [], "flexiblePurposes": []},
    "99": {"id": 99, "name": "Gone Ltd", "purposes": [1], "deletedDate": "2025-03-01T00:00:00Z"}
  }
}"#;

    fn policy() -> Policy {
        let src = "[[purpose]]\nid = \"ads\"\nname = \"Ads\"\nbasis = \"consent\"\n\n\
            [[vendor]]\nid = \"google\"\nname = \"Google\"\ndomains = [\"google.com\"]\npurposes = [\"ads\"]\n\
            tcf_vendor_id = 755\ntcf_consent_purposes = [1, 3]\ntcf_li_purposes = [2, 8]\n\n\
            [[vendor]]\nid = \"ttd\"\nname = \"TTD\"\ndomains = [\"adsrvr.org\"]\npurposes = [\"ads\"]\n\
            tcf_vendor_id = 21\ntcf_li_purposes = [2]\n\n\
            [[vendor]]\nid = \"gone\"\nname = \"Gone\"\ndomains = [\"gone.example\"]\npurposes = [\"ads\"]\n\
            tcf_vendor_id = 99\n\n\
            [[vendor]]\nid = \"ghost\"\nname = \"Ghost\"\ndomains = [\"ghost.example\"]\npurposes = [\"ads\"]\n\
            tcf_vendor_id = 4242\n";
        let (p, d) = super::super::load::parse_policy(Path::new("map.toml"), src);
        p.unwrap_or_else(|| panic!("{d}"))
    }

    #[test]
    fn every_rule_with_its_position() {
        let gvl = parse_gvl(Path::new("gvl.json"), GVL).expect("gvl");
        let issues = lint(&policy(), &gvl);
        let got: Vec<(&str, &str, &str)> = issues
            .iter()
            .map(|i| (i.code.as_str(), i.subject.as_str(), i.location.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                // li 8 (line 13): Google registered purpose 8 on no basis.
                ("gvl-purpose-unregistered", "google", "map.toml:13:23"),
                // TTD registered purpose 2 for consent only.
                ("gvl-li-consent-only", "ttd", "map.toml:21:20"),
                ("gvl-vendor-missing", "gone", "map.toml:28:17"),
                ("gvl-vendor-missing", "ghost", "map.toml:35:17"),
            ]
        );
        assert!(
            issues[2]
                .message
                .contains("deleted from the GVL v142 on 2025-03-01"),
            "{}",
            issues[2].message
        );
        assert!(
            issues[1].message.contains("The Trade Desk"),
            "{}",
            issues[1].message
        );
        let w = as_warnings(&issues);
        assert_eq!((w[1].line, w[1].col), (21, 20));
        assert!(w[1]
            .to_string()
            .starts_with("map.toml:21:20: warning: map issue gvl-li-consent-only"));
    }

    #[test]
    fn bad_lists_are_named_with_their_position() {
        let e = parse_gvl(Path::new("gvl.json"), "{\n  \"vendors\": [1,\n").expect_err("bad");
        let d = &e.0[0];
        assert_eq!(d.file, Path::new("gvl.json"));
        assert!(d.line >= 2, "{d}");
        let e = parse_gvl(
            Path::new("gvl.json"),
            r#"{"gvlSpecificationVersion": 2, "vendorListVersion": 1, "vendors": {}}"#,
        )
        .expect_err("v2");
        assert!(
            e.to_string()
                .contains("gvlSpecificationVersion 2 is not supported"),
            "{e}"
        );
        let e = load_gvl(Path::new("/nonexistent/gvl.json")).expect_err("missing");
        assert!(e.to_string().contains("/nonexistent/gvl.json"), "{e}");
    }
}
