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
    ],
    visit: &[],
    run: &[map_issues],
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

/// `li-basis-forbidden-tcf-purpose`, `vendor-tcf-li-forbidden`: one finding per issue
/// the policy loader recorded, its evidence the declaration's position.
fn map_issues(ctx: &RunCtx, sink: &mut Sink) {
    // Pure: the time of a declaration finding is when the run's last visit ended.
    let time = ctx
        .visits
        .iter()
        .map(|v| v.obs.finished_at)
        .max()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
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
                known: None,
            },
        });
    }
}
