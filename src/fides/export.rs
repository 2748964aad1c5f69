//! The declared map as a fideslang document: one `System` per vendor, one privacy
//! declaration per purpose it serves, and everything fideslang cannot say under the
//! System's `meta.consentry`, so that [`super::import`] gives the same map back.

use super::emit::{document, Y};
use super::taxonomy;
use crate::policy::{
    describe_secs, CookieRule, Policy, Purpose, Retention, Vendor, DEFAULT_RETENTION_TOLERANCE_SECS,
};

/// The version of the `meta.consentry` block.
pub const META_VERSION: i64 = 1;

/// fideslang's data category of a vendor that declares cookies.
pub const COOKIE_CATEGORY: &str = "user.device.cookie_id";

/// The `system_type` written for every vendor (a free text in fideslang).
pub const SYSTEM_TYPE: &str = "Service";

/// A fideslang document and what the export could not carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Exported {
    pub text: String,
    /// One line each (a purpose no vendor serves has no place in fideslang).
    pub warnings: Vec<String>,
}

/// The policy as a fideslang YAML document.
pub fn export(policy: &Policy) -> Exported {
    let mut warnings = Vec::new();
    for p in &policy.purposes {
        if !policy.vendors.iter().any(|v| v.purposes.contains(&p.id)) {
            warnings.push(format!(
                "purpose `{}` is served by no vendor: fideslang declares purposes only on a system, so it is not exported",
                p.id
            ));
        }
    }
    let systems = policy.vendors.iter().map(|v| system(policy, v)).collect();
    let mut text = format!(
        "# The declared map of {} as fideslang (the Fides taxonomy), written by `consentry map export`.\n# What fideslang has no field for is under each system's `meta.consentry` (docs/fideslang.md).\n",
        policy
            .path
            .file_name()
            .map(|f| crate::text::printable(&f.to_string_lossy()).into_owned())
            .unwrap_or_else(|| "a policy".into())
    );
    text.push_str(&document(&[("system", Y::List(systems))]));
    Exported { text, warnings }
}

/// The longest retention of some cookies: `None` without cookies.
fn longest<'a>(cookies: impl Iterator<Item = &'a CookieRule>) -> Option<Retention> {
    cookies.map(|c| c.max_retention).max_by_key(|r| match r {
        Retention::Session => -1,
        Retention::MaxSeconds(s) => *s,
    })
}

/// The declaration's name for purpose `p` of a vendor: the purpose's name, with its id
/// when two of the vendor's purposes share a name.
pub fn declaration_name(vendor_purposes: &[&Purpose], p: &Purpose) -> String {
    let same = vendor_purposes.iter().filter(|q| q.name == p.name).count();
    if same > 1 {
        format!("{} ({})", p.name, p.id)
    } else {
        p.name.clone()
    }
}

fn system(policy: &Policy, v: &Vendor) -> Y {
    let cookies: Vec<(usize, &CookieRule)> = policy
        .cookies
        .iter()
        .enumerate()
        .filter(|(_, c)| c.vendor == v.id)
        .collect();
    let purposes: Vec<&Purpose> = v
        .purposes
        .iter()
        .filter_map(|id| policy.purpose(id))
        .collect();
    let retention = longest(cookies.iter().map(|(_, c)| *c));
    let categories = if cookies.is_empty() {
        Y::List(vec![])
    } else {
        Y::strs([COOKIE_CATEGORY])
    };

    let declarations = purposes
        .iter()
        .map(|p| {
            let mut d = vec![
                ("name", Y::str(declaration_name(&purposes, p))),
                ("data_use", Y::str(taxonomy::data_use(p))),
                ("data_categories", categories.clone()),
                (
                    "legal_basis_for_processing",
                    Y::str(taxonomy::basis_name(p.basis)),
                ),
            ];
            if let Some(r) = retention {
                d.push(("retention_period", Y::str(retention_words(r))));
            }
            Y::Map(d)
        })
        .collect();

    let mut s = vec![
        ("fides_key", Y::str(&v.id)),
        ("name", Y::str(&v.name)),
        ("system_type", Y::str(SYSTEM_TYPE)),
    ];
    if let Some(id) = v.tcf.as_ref().and_then(|t| t.vendor_id) {
        s.push(("vendor_id", Y::str(format!("gvl.{id}"))));
    }
    s.push(("uses_cookies", Y::Bool(!cookies.is_empty())));
    if let Some(Retention::MaxSeconds(secs)) = retention {
        s.push(("cookie_max_age_seconds", Y::Int(secs)));
    }
    s.push(("privacy_declarations", Y::List(declarations)));
    if !cookies.is_empty() {
        let list = cookies
            .iter()
            .map(|(_, c)| {
                let mut m = vec![("name", Y::str(&c.name))];
                if let Some(d) = &c.domain {
                    m.push(("domain", Y::str(d.to_string())));
                }
                Y::Map(m)
            })
            .collect();
        s.push(("cookies", Y::List(list)));
    }
    s.push((
        "meta",
        Y::Map(vec![("consentry", meta(policy, v, &purposes, &cookies))]),
    ));
    Y::Map(s)
}

/// `390 days`, `12 hours`, `session`: fideslang's `retention_period` is free text.
pub fn retention_words(r: Retention) -> String {
    match r {
        Retention::Session => "session".into(),
        Retention::MaxSeconds(s) => {
            let short = describe_secs(s);
            let (n, unit) = short.split_at(short.len() - 1);
            let word = match unit {
                "d" => "day",
                "h" => "hour",
                "m" => "minute",
                _ => "second",
            };
            let plural = if n == "1" { "" } else { "s" };
            format!("{n} {word}{plural}")
        }
    }
}

fn meta(policy: &Policy, v: &Vendor, purposes: &[&Purpose], cookies: &[(usize, &CookieRule)]) -> Y {
    let mut m = vec![
        ("version", Y::Int(META_VERSION)),
        ("domains", Y::strs(v.domains.iter().map(|d| d.to_string()))),
        ("hosts", Y::strs(v.hosts.iter().map(|h| h.to_string()))),
        ("pages", Y::strs(&v.pages)),
    ];
    if let Some(mode) = v.consent_mode {
        m.push(("consent_mode", Y::str(mode.to_string())));
    }
    if !v.cmp_services.is_empty() {
        m.push(("cmp_services", Y::strs(&v.cmp_services)));
    }
    if v.draft {
        m.push(("draft", Y::Bool(true)));
    }
    if let Some(t) = &v.tcf {
        let nums = |l: &[u8]| Y::List(l.iter().map(|n| Y::Int(i64::from(*n))).collect());
        let mut tcf = Vec::new();
        if let Some(id) = t.vendor_id {
            tcf.push(("vendor_id", Y::Int(i64::from(id))));
        }
        tcf.extend([
            ("consent_purposes", nums(&t.consent_purposes)),
            ("li_purposes", nums(&t.li_purposes)),
            ("special_purposes", nums(&t.special_purposes)),
            ("features", nums(&t.features)),
            ("special_features", nums(&t.special_features)),
        ]);
        m.push(("tcf", Y::Map(tcf)));
    }
    let purpose_list = purposes
        .iter()
        .map(|p| {
            let order = policy
                .purposes
                .iter()
                .position(|q| q.id == p.id)
                .unwrap_or(0);
            let mut e = vec![
                ("id", Y::str(&p.id)),
                ("declaration", Y::str(declaration_name(purposes, p))),
                ("name", Y::str(&p.name)),
                ("basis", Y::str(p.basis.as_str())),
                ("strictly_necessary", Y::Bool(p.strictly_necessary)),
            ];
            if let Some(n) = p.tcf_purpose {
                e.push(("tcf_purpose", Y::Int(i64::from(n))));
            }
            e.push(("gpc_opt_out", Y::Bool(p.gpc_opt_out)));
            if p.draft {
                e.push(("draft", Y::Bool(true)));
            }
            e.push(("order", Y::Int(i64::try_from(order).unwrap_or(0))));
            Y::Map(e)
        })
        .collect();
    m.push(("purposes", Y::List(purpose_list)));
    let cookie_list = cookies
        .iter()
        .map(|(order, c)| {
            let mut e = vec![
                ("name", Y::str(&c.name)),
                ("max_retention", Y::str(c.max_retention.describe())),
            ];
            if let Some(d) = &c.domain {
                e.push(("domain", Y::str(d.to_string())));
            }
            if let Some(p) = c.party {
                e.push(("party", Y::str(p.to_string())));
            }
            if let Some(b) = c.basis {
                e.push(("basis", Y::str(b.as_str())));
            }
            if let Some(sn) = c.strictly_necessary {
                e.push(("strictly_necessary", Y::Bool(sn)));
            }
            if c.draft {
                e.push(("draft", Y::Bool(true)));
            }
            e.push(("order", Y::Int(i64::try_from(*order).unwrap_or(0))));
            Y::Map(e)
        })
        .collect();
    m.push(("cookies", Y::List(cookie_list)));
    if policy.retention_tolerance_secs != DEFAULT_RETENTION_TOLERANCE_SECS {
        m.push((
            "retention_tolerance",
            Y::str(describe_secs(policy.retention_tolerance_secs)),
        ));
    }
    Y::Map(m)
}
