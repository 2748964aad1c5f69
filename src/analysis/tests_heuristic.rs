//! `reject-more-steps-than-accept` on actions of the banner heuristic
//! (docs/heuristic.md): its own clicks count, and no reject at all is flagged.

use super::*;
use crate::model::cmp::{HeuristicAction, HeuristicClick};

fn heuristic(clicks: &[&str], reject_missing: bool) -> crate::cmp::Method {
    crate::cmp::Method::Heuristic(HeuristicAction {
        confidence: 85,
        dialog: "div#banner (fixed)".into(),
        words: vec!["cookie".into()],
        clicks: clicks
            .iter()
            .map(|b| HeuristicClick {
                button: b.to_string(),
                element: format!("button#{b}"),
                text: b.to_string(),
                phrase: b.to_string(),
                language: "en".into(),
                confidence: 85,
            })
            .collect(),
        reject_missing,
    })
}

#[test]
fn heuristic_clicks_count_and_no_reject_at_all_is_flagged() {
    let mut accept = clicked("accept_all", ConsentAction::AcceptAll, 1);
    accept.cmp[0].method = heuristic(&["accept"], false);
    let mut reject = clicked("reject_all", ConsentAction::RejectAll, 1);
    reject.cmp[0].method = heuristic(&["settings", "toggle off", "save"], false);
    let f = run(&[accept.clone(), reject]);
    let hit = f
        .iter()
        .find(|f| f.code == Code::RejectMoreStepsThanAccept)
        .expect("flagged");
    assert!(
        hit.message.contains("3 clicks where accepting took 1"),
        "{}",
        hit.message
    );

    // No reject anywhere: that visit is not observed, and the finding says so.
    let mut none = clicked("reject_all", ConsentAction::RejectAll, 1);
    none.cmp[0].method = heuristic(&[], true);
    none.cmp[0].success = false;
    none.status = crate::model::VisitStatus::Incomplete(crate::model::Failure::new(
        crate::model::FailureKind::CmpActionFailed,
        "heuristic: no reject",
    ));
    let f = run(&[accept.clone(), none.clone()]);
    let hit = f
        .iter()
        .find(|f| f.code == Code::RejectMoreStepsThanAccept)
        .expect("flagged");
    assert!(
        hit.message.starts_with("No reject option was found"),
        "{}",
        hit.message
    );
    assert!(hit.evidence[0]
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("div#banner"));

    // A reject that merely failed (not a missing one) says nothing about effort.
    let mut failed = none;
    failed.cmp[0].method = heuristic(&["reject"], false);
    let f = run(&[accept, failed]);
    assert!(!f.iter().any(|f| f.code == Code::RejectMoreStepsThanAccept));
}
