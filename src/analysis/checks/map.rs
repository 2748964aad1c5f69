//! The policy itself: declarations that break a rule no site behaviour can fix (the
//! privacy team's map is wrong). They do not stop the audit: the map is audited as it is,
//! and these findings say where it is wrong (file:line:col).

use super::{Family, RunCtx};
use crate::analysis::finding::{Code, Evidence};
use crate::analysis::sink::{Hit, Sink};
use crate::policy::MapIssueCode;
use chrono::{DateTime, Utc};

pub(crate) const FAMILY: Family = Family {
    name: "map",
    codes: &[
        Code::LiBasisForbiddenTcfPurpose,
        Code::VendorTcfLiForbidden,
        Code::GvlVendorMissing,
        Code::GvlLiConsentOnly,
        Code::GvlPurposeUnregistered,
        Code::DraftUnconfirmed,
    ],
    visit: &[],
    run: &[map_issues, draft_entries],
};

/// The finding code of a map issue.
fn code_of(issue: MapIssueCode) -> Code {
    match issue {
        MapIssueCode::LiBasisForbiddenTcfPurpose => Code::LiBasisForbiddenTcfPurpose,
        MapIssueCode::VendorTcfLiForbidden => Code::VendorTcfLiForbidden,
        MapIssueCode::GvlVendorMissing => Code::GvlVendorMissing,
        MapIssueCode::GvlLiConsentOnly => Code::GvlLiConsentOnly,
        MapIssueCode::GvlPurposeUnregistered => Code::GvlPurposeUnregistered,
    }
}

/// Pure: the time of a declaration finding is when the run's last visit ended.
fn declaration_time(ctx: &RunCtx) -> DateTime<Utc> {
    ctx.visits
        .iter()
        .map(|v| v.obs.finished_at)
        .max()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// `draft-unconfirmed`: one finding per purpose, vendor and cookie rule the policy marks
/// `draft = true`. A drafted map (`consentry init`, `consentry map import`) is judged as
/// it is, and these say which of its guesses no person has confirmed yet, so an audit of
/// a draft never reads as a confirmed map's.
fn draft_entries(ctx: &RunCtx, sink: &mut Sink) {
    let policy = &ctx.policy;
    let time = declaration_time(ctx);
    let file = policy.path.display().to_string();
    let at = |line: Option<usize>| match line {
        Some(l) => format!("{file}:{l}"),
        None => file.clone(),
    };
    let lines = &policy.lines;
    let mut push = |subject: String, vendor: Option<String>, what: String, line: Option<usize>| {
        let location = at(line);
        sink.push(Hit {
            code: Code::DraftUnconfirmed,
            scenario: None,
            subject,
            vendor,
            message: format!(
                "{what} is a draft ({location}): no person has confirmed it yet. Check it with the privacy team (the comments above it say where each guess came from), then remove `draft = true`."
            ),
            rule: "a declared map is confirmed by the people who own it".to_string(),
            evidence: Evidence {
                scenario: "-".to_string(),
                page: file.clone(),
                request_url: None,
                cookie: None,
                time,
                phase: "declaration".to_string(),
                detail: Some(format!("draft = true at {location}")),
                logged_in: false,
            },
        });
    };
    for p in policy.purposes.iter().filter(|p| p.draft) {
        let line = lines
            .purposes
            .iter()
            .find(|(id, _)| *id == p.id)
            .map(|(_, l)| *l);
        push(
            format!("purpose:{}", p.id),
            None,
            format!("Purpose `{}` (basis {})", p.id, p.basis.as_str()),
            line,
        );
    }
    for v in policy.vendors.iter().filter(|v| v.draft) {
        let line = lines
            .vendors
            .iter()
            .find(|(id, _)| *id == v.id)
            .map(|(_, l)| *l);
        push(
            format!("vendor:{}", v.id),
            Some(v.id.clone()),
            format!("Vendor `{}` (purposes {})", v.id, v.purposes.join(", ")),
            line,
        );
    }
    for c in policy.cookies.iter().filter(|c| c.draft) {
        let line = lines
            .cookies
            .iter()
            .find(|(n, v, _)| *n == c.name && *v == c.vendor)
            .map(|(_, _, l)| *l);
        push(
            match &c.domain {
                Some(d) => format!("cookie:{}@{d}", c.name),
                None => format!("cookie:{}", c.name),
            },
            Some(c.vendor.clone()),
            format!(
                "Cookie `{}` of vendor `{}` (max_retention {})",
                c.name,
                c.vendor,
                c.max_retention.describe()
            ),
            line,
        );
    }
}

/// `li-basis-forbidden-tcf-purpose`, `vendor-tcf-li-forbidden`: one finding per issue
/// the policy loader recorded, its evidence the declaration's position.
fn map_issues(ctx: &RunCtx, sink: &mut Sink) {
    let time = declaration_time(ctx);
    for issue in &ctx.policy.map_issues {
        sink.push(Hit {
            code: code_of(issue.code),
            scenario: None,
            subject: issue.subject.clone(),
            // Vendor issues name their vendor; a purpose issue has none.
            vendor: (issue.code != MapIssueCode::LiBasisForbiddenTcfPurpose)
                .then(|| issue.subject.clone()),
            message: format!("{} ({})", issue.message, issue.location),
            rule: issue.rule.clone(),
            evidence: Evidence {
                scenario: "-".to_string(),
                page: ctx.policy.path.display().to_string(),
                request_url: None,
                cookie: None,
                time,
                phase: "declaration".to_string(),
                detail: Some(format!("declared at {}", issue.location)),
                logged_in: false,
            },
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::finding::{Code, Severity};
    use crate::analysis::tests::{scenario, site};
    use crate::attribution::Attributor;
    use std::path::Path;

    const DRAFT: &str = r#"[[purpose]]
id = "necessary"
basis = "legal_obligation"
strictly_necessary = true

[[purpose]]
id = "analytics"
basis = "consent"
draft = true

[[vendor]]
id = "shop"
domains = ["shop.example"]
purposes = ["necessary"]

[[vendor]]
id = "ga"
domains = ["google-analytics.com"]
purposes = ["analytics"]
draft = true

[[cookie]]
name = "_ga"
vendor = "ga"
max_retention = "400d"
draft = true

[[cookie]]
name = "sid"
vendor = "shop"
max_retention = "session"
"#;

    fn run(src: &str) -> Vec<crate::analysis::Finding> {
        let (policy, diags) =
            crate::policy::load::parse_policy(Path::new("draft.policy.toml"), src);
        let policy = policy.unwrap_or_else(|| panic!("{diags:?}"));
        let site = site();
        let obs = scenario("accept_all")
            .req("https://www.google-analytics.com/g/collect")
            .stored("_ga", Some(390))
            .build();
        let visits = vec![Attributor::new(&site, &policy).visit(&obs)];
        crate::analysis::analyze_run(&site, &policy, &visits)
    }

    #[test]
    fn each_draft_entry_is_one_info_finding_naming_where_it_is() {
        let findings = run(DRAFT);
        let mut drafts: Vec<_> = findings
            .iter()
            .filter(|f| f.code == Code::DraftUnconfirmed)
            .collect();
        let order = ["purpose:analytics", "vendor:ga", "cookie:_ga"];
        drafts.sort_by_key(|f| order.iter().position(|s| *s == f.subject));
        let subjects: Vec<&str> = drafts.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(subjects, order, "{findings:#?}");
        for f in &drafts {
            assert_eq!(f.severity, Severity::Info);
            assert_eq!(f.scenario, None);
            assert_eq!(f.evidence[0].phase, "declaration");
        }
        assert!(
            drafts[0].message.contains("draft.policy.toml:7"),
            "{}",
            drafts[0].message
        );
        assert!(
            drafts[1].message.contains("draft.policy.toml:17"),
            "{}",
            drafts[1].message
        );
        assert_eq!(drafts[1].vendor.as_deref(), Some("ga"));
        assert!(
            drafts[2].message.contains("draft.policy.toml:23"),
            "{}",
            drafts[2].message
        );
        assert_eq!(drafts[2].vendor.as_deref(), Some("ga"));
        assert_eq!(
            drafts[2].evidence[0].detail.as_deref(),
            Some("draft = true at draft.policy.toml:23")
        );
    }

    #[test]
    fn a_confirmed_map_has_no_draft_finding() {
        let confirmed = DRAFT.replace("draft = true\n", "");
        let findings = run(&confirmed);
        assert!(
            findings.iter().all(|f| f.code != Code::DraftUnconfirmed),
            "{findings:#?}"
        );
    }
}
