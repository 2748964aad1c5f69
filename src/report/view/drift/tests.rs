//! The drift view's derived facts, read back against the sample pack they come from.

use super::DriftView;
use crate::drift::{Objection, Status};
use crate::report::html::sample::drift_pack;

#[test]
fn summary_and_rows_follow_the_pack() {
    let r = drift_pack(30);
    let v = DriftView::of(&r);
    assert_eq!(v.summary.site, "demo-shop");
    assert_eq!(v.summary.since, r.since.format("%Y-%m-%d").to_string());
    assert_eq!(v.summary.cards.len(), 10);
    assert_eq!(
        v.summary.lines.len(),
        // The vantage line is always there.
        if r.summary.runs > r.summary.complete_runs {
            7
        } else {
            6
        }
    );
    assert!(v.summary.lines[1].starts_with("Findings now: "));
    assert_eq!(v.lifecycles.len(), r.lifecycles.len());
    assert_eq!(v.vendors.len(), r.vendors.len());
    assert_eq!(v.runs.len(), r.runs.len());
    // The only declaration change of the sample is the policy's.
    assert_eq!(v.declarations.len(), 1);
    assert_eq!(v.declarations[0].files, vec!["policy"]);
    assert_eq!(v.declarations[0].files_text(" and "), "policy");
}

#[test]
fn lifecycle_notes_name_the_policy_change_and_the_ack() {
    let r = drift_pack(30);
    let v = DriftView::of(&r);
    for row in &v.lifecycles {
        let l = row.lifecycle;
        let policy = l
            .timeline
            .last()
            .is_some_and(|s| s.status == Status::Resolved && s.map_changed);
        assert_eq!(row.policy_note.is_some(), policy, "{}", l.code);
        assert_eq!(row.ack_note.is_some(), l.acknowledgement.is_some());
        let notes = row.notes();
        let expected: Vec<&str> = [row.policy_note, row.ack_note.as_deref()]
            .into_iter()
            .flatten()
            .chain(row.known_note.as_deref())
            .collect();
        assert_eq!(notes, expected.join("; "), "{}", l.code);
        // What is known is the evidence's knowledge, never the declared vendor.
        assert_eq!(
            row.known_note,
            l.evidence
                .as_ref()
                .and_then(|e| e.known.as_ref())
                .map(crate::knowledge::Known::describe)
        );
    }
    assert!(v.lifecycles.iter().any(|l| l.ack_note.is_some()));
    let tiktok = v
        .lifecycles
        .iter()
        .find(|l| l.lifecycle.subject == "tiktok.com")
        .expect("the undeclared host's lifecycle");
    assert_eq!(
        tiktok.known_note.as_deref(),
        Some("known: TikTok (ByteDance Ltd), category social, by pattern *.tiktok.com in third-party-web 0.30.0")
    );
    assert!(tiktok.notes().ends_with("third-party-web 0.30.0"));
    // The terminal's list: the inventory's host, then the finding's subject, once each.
    let known: Vec<&str> = v.known.iter().map(|(item, _)| *item).collect();
    assert_eq!(known, ["analytics.tiktok.com", "tiktok.com"]);
}

#[test]
fn acks_point_at_their_finding_or_at_none() {
    let r = drift_pack(30);
    let v = DriftView::of(&r);
    assert_eq!(v.acks.len(), r.acknowledgements.len());
    for row in &v.acks {
        match row.finding {
            Some((i, code)) => {
                assert_eq!(r.lifecycles[i].fingerprint, row.ack.fingerprint);
                assert_eq!(r.lifecycles[i].code, code);
            }
            None => assert!(r
                .lifecycles
                .iter()
                .all(|l| l.fingerprint != row.ack.fingerprint)),
        }
    }
    // The sample's unused acknowledgement matches no finding; the expired one does.
    assert!(v.acks.iter().any(|a| a.finding.is_none()));
    assert!(v.acks.iter().any(|a| a.finding.is_some()));
}

#[test]
fn vendor_runs_are_grouped_and_counted() {
    let r = drift_pack(30);
    let v = DriftView::of(&r);
    for vv in &v.vendors {
        let s = vv.section;
        assert_eq!(
            vv.fired.len(),
            s.runs.iter().filter(|x| x.unauthorized > 0).count()
        );
        // The groups hold every fired run once, in order, with its count.
        let flat: Vec<(i64, u32)> = vv
            .fired_groups
            .iter()
            .flat_map(|(ids, n)| ids.iter().map(move |&id| (id, *n)))
            .collect();
        let fired: Vec<(i64, u32)> = vv
            .fired
            .iter()
            .map(|x| (x.run_id, x.unauthorized))
            .collect();
        assert_eq!(flat, fired);
        let counted: usize = vv.objection_runs.iter().map(|(_, ids)| ids.len()).sum();
        assert_eq!(
            counted,
            s.runs.iter().filter(|x| x.objection.is_some()).count()
        );
        assert_eq!(
            vv.retention_still_over,
            s.retention.iter().filter(|x| x.still_over).count()
        );
    }
    // The sample's legitimate-interest vendor ignores the objection in some runs, and
    // the failures come first.
    let li = v
        .vendors
        .iter()
        .find(|vv| vv.section.legitimate_interest)
        .expect("an LI vendor");
    assert_eq!(li.objection_runs[0].0, Objection::NotHonoured);
    assert!(li.lines[0].starts_with("Objection honoured (suppression compliance): "));
    assert!(li.heading.contains(", legitimate interest: "));
}

#[test]
fn runs_say_what_they_did_not_observe() {
    let r = drift_pack(30);
    let v = DriftView::of(&r);
    for row in &v.runs {
        let x = row.run;
        assert_eq!(row.observed + row.missing.len(), x.scenarios.len());
        assert_eq!(row.complete, x.status == "complete");
        assert_eq!(
            row.changed.is_empty(),
            !x.declaration_changed && !x.behaviour_changed
        );
    }
}

/// The first and last run's matrices: the same rows in the same order (a vendor that went
/// silent keeps its row), each run's own marks, and one legend for both.
#[test]
fn the_first_and_last_run_share_their_matrix_rows() {
    use crate::analysis::Code;
    use crate::drift::{RunActivity, ScenarioActivity};
    use crate::report::view::Mark;
    let mut r = drift_pack(3);
    let run = |id: i64, hotjar: bool, observed: bool| RunActivity {
        run_id: id,
        started_at: r.since,
        scenarios: vec![
            ScenarioActivity {
                scenario: "accept_all".into(),
                observed: true,
                vendors: if hotjar {
                    vec!["ga".into(), "hotjar".into()]
                } else {
                    vec!["ga".into()]
                },
            },
            ScenarioActivity {
                scenario: "reject_all".into(),
                observed,
                vendors: vec!["hotjar".into()]
                    .into_iter()
                    .filter(|_| hotjar)
                    .collect(),
            },
        ],
        findings: if hotjar {
            vec![(
                "hotjar".into(),
                Some("reject_all".into()),
                Code::ConsentVendorAfterReject,
            )]
        } else {
            Vec::new()
        },
    };
    r.activity = vec![run(1, true, true), run(9, false, false)];
    let v = DriftView::of(&r);
    assert_eq!(v.matrices.len(), 2);
    assert!(v.matrices[0].title.starts_with("first run: #1"));
    assert!(v.matrices[1].title.starts_with("last run: #9"));
    let rows = |i: usize| -> Vec<(String, Vec<String>)> {
        v.matrices[i]
            .matrix
            .rows
            .iter()
            .map(|r| {
                (
                    r.vendor.clone(),
                    r.cells.iter().map(|c| c.letters()).collect(),
                )
            })
            .collect()
    };
    // hotjar's refusal makes it the worst row of the first run; the last run keeps that
    // order, hotjar silent where observed and unknown where not.
    assert_eq!(
        rows(0),
        vec![
            ("hotjar".to_string(), vec!["o".to_string(), "R".to_string()]),
            ("ga".to_string(), vec!["o".to_string(), "-".to_string()]),
        ]
    );
    assert_eq!(
        rows(1),
        vec![
            ("hotjar".to_string(), vec!["-".to_string(), "?".to_string()]),
            ("ga".to_string(), vec!["o".to_string(), "?".to_string()]),
        ]
    );
    let legend = super::RunMatrix::legend(&v.matrices);
    assert_eq!(
        legend,
        [
            Mark::AfterRefusal,
            Mark::Fired,
            Mark::Silent,
            Mark::NotObserved
        ]
    );
    // Every layout shows both, under one heading.
    for text in [
        crate::report::reporter(crate::report::Format::Table).render_drift(&r),
        crate::report::reporter(crate::report::Format::Markdown).render_drift(&r),
        crate::report::reporter(crate::report::Format::Html).render_drift(&r),
    ] {
        assert_eq!(text.matches("Vendors by scenario").count(), 1, "{text}");
        assert!(text.contains("first run: #1") && text.contains("last run: #9"));
    }
    // One run: one matrix; none: no section.
    r.activity.truncate(1);
    let v = DriftView::of(&r);
    assert_eq!(v.matrices.len(), 1);
    assert!(v.matrices[0].title.starts_with("the window's run: #1"));
    r.activity.clear();
    let text = crate::report::reporter(crate::report::Format::Table).render_drift(&r);
    assert!(!text.contains("Vendors by scenario"));
}
