//! Loading and validating the policy (the declared map).
//!
//! The file is read with the generic [`Checker`](crate::toml_check::Checker), so every
//! problem is reported at once with file:line:col and a hint. Problems of the map's
//! *content* that a privacy team must still be able to audit (legitimate interest
//! declared where TCF 2.2 forbids it) are [`MapIssue`]s: warnings here, findings in
//! the report. Vendors and cookies are checked in [`super::load_vendor`].

use super::load_vendor::{check_cookie, check_vendor, VendorChecks};
use crate::diag::Diagnostics;
use crate::policy::{
    DeclaredLines, LegalBasis, MapIssue, MapIssueCode, Policy, Purpose,
    DEFAULT_RETENTION_TOLERANCE_SECS,
};
use crate::toml_check::{
    digest, parse_duration_secs, read_source, Checker, Ids, Span, Table, DURATION_HINT,
};
use std::collections::HashSet;
use std::path::Path;
use toml::de::DeTable;
use toml::Spanned;

/// Read and validate a policy. `Ok` only when there is no error (warnings, including
/// map issues, are dropped; [`parse_policy`] returns them, and the policy keeps its
/// map issues in [`Policy::map_issues`]).
pub fn load_policy(path: &Path) -> Result<Policy, Diagnostics> {
    let src = read_source(path).map_err(|d| Diagnostics(vec![d]))?;
    match parse_policy(path, &src) {
        (Some(policy), _) => Ok(policy),
        (None, diags) => Err(diags),
    }
}

/// Validate the text of a policy. The policy is `Some` only when there is no error;
/// warnings may accompany it.
pub fn parse_policy(path: &Path, src: &str) -> (Option<Policy>, Diagnostics) {
    let mut ck = Checker::new(path, src, None);
    let policy = ck.parse().map(|doc| check_policy(&mut ck, path, &doc));
    let policy = policy.filter(|_| !ck.has_errors()).map(|p| Policy {
        digest: digest(src.as_bytes()),
        ..p
    });
    (policy, ck.into_diagnostics())
}

/// The top-level keys of a policy.
pub const TOP_KEYS: &[&str] = &["settings", "purpose", "vendor", "cookie"];
pub(crate) const SETTINGS_KEYS: &[&str] = &["retention_tolerance"];
pub(crate) const PURPOSE_KEYS: &[&str] = &[
    "id",
    "name",
    "basis",
    "strictly_necessary",
    "tcf_purpose",
    "gpc_opt_out",
    "draft",
];

/// The message of an empty policy (the same through a scenario file and `validate`).
pub const EMPTY_POLICY: &str = "the policy declares no [[purpose]] and no [[vendor]]";

/// TCF 2.2 forbids legitimate interest for purpose 1 (store and/or access information
/// on a device) and purposes 3-6 (profiles and personalised ads/content).
pub(crate) const TCF_LI_FORBIDDEN: [i64; 5] = [1, 3, 4, 5, 6];

/// The rule a forbidden TCF LI purpose breaks.
pub(crate) fn tcf_li_rule(purpose: i64) -> &'static str {
    if purpose == 1 {
        "TCF 2.2: legitimate interest is not permitted for purpose 1 (store and/or access information on a device)"
    } else {
        "TCF 2.2: legitimate interest is not permitted for purposes 3-6"
    }
}

fn check_policy(ck: &mut Checker<'_>, path: &Path, doc: &Spanned<DeTable<'_>>) -> Policy {
    let root = ck.root(doc, TOP_KEYS);
    let mut issues = Vec::new();

    let retention_tolerance_secs = match ck.table_at(&root, "settings", SETTINGS_KEYS) {
        Some(t) => check_settings(ck, &t),
        None => DEFAULT_RETENTION_TOLERANCE_SECS,
    };

    let mut purpose_ids = Ids::new("purpose id");
    let purpose_tables = ck.tables_at(&root, "purpose", PURPOSE_KEYS);
    let purposes: Vec<(Purpose, Span)> = purpose_tables
        .iter()
        .filter_map(|t| check_purpose(ck, t, &mut purpose_ids, &mut issues))
        .collect();

    let vendor_tables = ck.tables_at(&root, "vendor", super::load_vendor::VENDOR_KEYS);
    let mut vc = VendorChecks::new(&purpose_ids);
    let vendors: Vec<_> = vendor_tables
        .iter()
        .filter_map(|t| check_vendor(ck, t, &mut vc, &mut issues))
        .collect();

    let mut cookie_keys = Ids::new("cookie rule");
    let cookies: Vec<_> = ck
        .tables_at(&root, "cookie", super::load_vendor::COOKIE_KEYS)
        .iter()
        .filter_map(|t| {
            let rule = check_cookie(ck, t, &mut cookie_keys, &vc.ids)?;
            let at = t.key_span("name").unwrap_or_else(|| t.span.clone());
            Some((rule, ck.line(&at)))
        })
        .collect();

    if purpose_tables.is_empty() && vendor_tables.is_empty() {
        ck.error(
            &(0..0),
            EMPTY_POLICY,
            "declare the purposes the site relies on and the vendors serving them (see docs/scenarios.md#the-policy)",
        );
    }

    let used: HashSet<&str> = vendors
        .iter()
        .flat_map(|(v, _)| v.purposes.iter().map(String::as_str))
        .collect();
    for (p, span) in &purposes {
        if !used.contains(p.id.as_str()) {
            ck.warning(
                span,
                format!("purpose `{}` is not used by any vendor", p.id),
                "list it in a vendor's `purposes`, or remove it",
            );
        }
    }
    let owners: HashSet<&str> = cookies.iter().map(|(c, _)| c.vendor.as_str()).collect();
    for (v, span) in &vendors {
        if v.domains.is_empty() && v.hosts.is_empty() && !owners.contains(v.id.as_str()) {
            ck.warning(
                span,
                format!("vendor `{}` has no domains, no hosts and no cookies", v.id),
                "nothing observed can be attributed to it; add `domains`, `hosts` or a [[cookie]] it owns",
            );
        }
    }

    let lines = DeclaredLines {
        vendors: vendors
            .iter()
            .map(|(v, span)| (v.id.clone(), ck.line(span)))
            .collect(),
        cookies: cookies
            .iter()
            .map(|(c, line)| (c.name.clone(), c.vendor.clone(), *line))
            .collect(),
        purposes: purposes
            .iter()
            .map(|(p, span)| (p.id.clone(), ck.line(span)))
            .collect(),
    };
    Policy {
        path: path.to_path_buf(),
        purposes: purposes.into_iter().map(|(p, _)| p).collect(),
        vendors: vendors.into_iter().map(|(v, _)| v).collect(),
        cookies: cookies.into_iter().map(|(c, _)| c).collect(),
        map_issues: issues,
        lines,
        retention_tolerance_secs,
        ..Policy::default()
    }
}

fn check_settings(ck: &mut Checker<'_>, t: &Table<'_, '_>) -> i64 {
    let Some(s) = ck.opt_string(t, "retention_tolerance") else {
        return DEFAULT_RETENTION_TOLERANCE_SECS;
    };
    match parse_duration_secs(s.get_ref()) {
        Some(secs) if secs <= 366 * 86_400 => secs,
        Some(_) => {
            ck.error(
                &s.span(),
                format!(
                    "retention_tolerance {:?} is longer than a year",
                    s.get_ref()
                ),
                "the tolerance absorbs clock rounding: a day (\"1d\") is the default",
            );
            DEFAULT_RETENTION_TOLERANCE_SECS
        }
        None => {
            ck.error(
                &s.span(),
                format!(
                    "invalid duration {:?} for `retention_tolerance`",
                    s.get_ref()
                ),
                DURATION_HINT,
            );
            DEFAULT_RETENTION_TOLERANCE_SECS
        }
    }
}

/// A purpose and the span of its id.
fn check_purpose(
    ck: &mut Checker<'_>,
    t: &Table<'_, '_>,
    ids: &mut Ids,
    issues: &mut Vec<MapIssue>,
) -> Option<(Purpose, Span)> {
    let id = ck.req_id(t, "id", "analytics");
    let name = ck.opt_string(t, "name");
    let basis = ck.req_string(t, "basis", "\"consent\"");
    let basis = basis.as_ref().and_then(|b| {
        ck.one_of(b, "legal basis", LegalBasis::ALL)
            .and_then(LegalBasis::parse)
    });
    let strictly_necessary = ck.opt_bool(t, "strictly_necessary").unwrap_or(false);
    let tcf = ck.opt_int(t, "tcf_purpose");
    if let Some(n) = &tcf {
        if !(1..=11).contains(n.get_ref()) {
            ck.error(
                &n.span(),
                format!("tcf_purpose {} does not exist", n.get_ref()),
                "IAB TCF 2.2 purposes are numbered 1 to 11",
            );
        }
    }
    if let (Some(LegalBasis::LegitimateInterest), Some(n), Some(id)) = (basis, &tcf, &id) {
        let n = *n.get_ref();
        if TCF_LI_FORBIDDEN.contains(&n) {
            let at = t
                .get("basis")
                .map(|v| v.span())
                .unwrap_or_else(|| t.span.clone());
            let message = format!(
                "legitimate interest is declared for TCF purpose {n} (line {}), which TCF 2.2 does not permit",
                ck.line(&t.get("tcf_purpose").map(|v| v.span()).unwrap_or(at.clone()))
            );
            ck.warning(
                &at,
                format!("map issue li-basis-forbidden-tcf-purpose: {message}"),
                "TCF 2.2 requires consent for purposes 1 and 3-6: use basis = \"consent\"; the audit still runs and reports it",
            );
            issues.push(MapIssue {
                code: MapIssueCode::LiBasisForbiddenTcfPurpose,
                subject: id.get_ref().clone(),
                message: format!("Purpose `{}`: {message}.", id.get_ref()),
                rule: tcf_li_rule(n).to_string(),
                location: ck.location(&at),
            });
        }
    }
    if strictly_necessary && basis == Some(LegalBasis::Consent) {
        let at = t
            .key_span("strictly_necessary")
            .unwrap_or_else(|| t.span.clone());
        ck.warning(
            &at,
            "a strictly necessary purpose does not rely on consent: basis is ignored",
            "strictly necessary purposes may run in every scenario; give the basis they really rely on",
        );
    }
    let draft = ck.opt_bool(t, "draft").unwrap_or(false);
    let gpc_opt_out = ck.opt_bool(t, "gpc_opt_out");
    if gpc_opt_out == Some(true) && strictly_necessary {
        let at = t
            .get("gpc_opt_out")
            .map(|v| v.span())
            .unwrap_or_else(|| t.span.clone());
        ck.error(
            &at,
            "a strictly necessary purpose cannot be opted out of with Global Privacy Control",
            "GPC opts out of advertising, sale and sharing: remove gpc_opt_out, or strictly_necessary if the purpose is not",
        );
    }
    let id = id?;
    ids.insert(ck, &id);
    let tcf_purpose = tcf.and_then(|n| u8::try_from(*n.get_ref()).ok());
    let gpc_opt_out = gpc_opt_out
        .unwrap_or_else(|| crate::policy::default_gpc_opt_out(tcf_purpose, strictly_necessary));
    let span = id.span();
    let id = id.into_inner();
    Some((
        Purpose {
            name: name.map(Spanned::into_inner).unwrap_or_else(|| id.clone()),
            id,
            basis: basis?,
            strictly_necessary,
            tcf_purpose,
            gpc_opt_out,
            draft,
        },
        span,
    ))
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
