//! Real-Chromium tests of the IAB TCF checks on the TCF fixture (fixtures/sites/tcf):
//! our CMP built on the IAB reference libraries, with planted CMP faults on `/` and a
//! compliant CMP on `/good/`. Needs `make fixtures` (the CMP bundle and golden vectors).
//! Needs the `demo` feature (the demo server).
#![cfg(feature = "demo")]

mod common;

use common::{finding, finding_keys, key};
use consentry::demo::{DemoServer, FileSite};
use consentry::signals::{SignalData, SignalSource};
use consentry::store::Store;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn audit(file: &str, port: u16, db: &Path) -> (i32, Value) {
    let run = common::audit(file, port, db, &[]);
    if run.json["run_id"].is_i64() {
        common::assert_retention_agrees(db, &run.json);
    }
    (run.code, run.json)
}

fn evidence_detail(f: &Value) -> String {
    f["evidence"][0]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

async fn serve() -> DemoServer {
    DemoServer::start_files(0, FileSite::named(Path::new(ROOT), "tcf"))
        .await
        .expect("fixture server")
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium, chromedriver and `make fixtures` (run with --features browser-tests)"
)]
async fn tcf_checks_find_every_planted_fault_and_spare_compliant_vendors() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("tcf.db");
    let file = format!("{ROOT}/tests/fixtures/tcf/tcf-shop.toml");
    let (code, json) = audit(&file, server.port(), &db);
    assert_eq!(code, 1, "findings exit code: {json}");
    let got = finding_keys(&json);

    // Every TCF check, each where it was planted.
    let cmp = "cmp 300";
    let planted = [
        // The interim string grants purpose 1 (every scenario starts before a choice).
        key("tcf-consent-before-choice", "no_action", cmp),
        key("tcf-consent-before-choice", "reject_all", cmp),
        // "Reject all" keeps purpose 1's consent.
        key("tcf-consent-after-reject", "reject_all", cmp),
        key("tcf-consent-after-reject", "accept_then_reject", cmp),
        // "Object all" leaves purpose 8's LI bit.
        key("tcf-li-after-objection", "object_li", cmp),
        key("tcf-li-after-objection", "accept_then_object", cmp),
        // LI for purpose 4.
        key(
            "tcf-li-forbidden-purpose",
            "no_action",
            "cmp 300 purposes 4",
        ),
        // The stale bidder keeps its first string after the visitor's choice.
        key("tcf-stale-string", "reject_all", "stale-bidder"),
        key("tcf-stale-string", "accept_then_reject", "stale-bidder"),
        key("tcf-stale-string", "accept_all", "stale-bidder"),
        // The forged signal sends an accept-all string of its own.
        key("tcf-unrecorded-consent", "no_action", "forged-signal"),
        key("tcf-unrecorded-consent", "reject_all", "forged-signal"),
        // Fires with no bit in the CMP's string.
        key("tcf-vendor-without-basis", "no_action", "nobasis-pixel"),
        key("tcf-vendor-without-basis", "reject_all", "nobasis-pixel"),
        // Page 2's CMP shows the banner again although the choice is stored.
        key("cmp-reprompt", "reject_all", "tcf:reject_all"),
        key("cmp-reprompt", "accept_all", "tcf:accept_all"),
        // Declared basis vs the CMP's registration, both ways.
        key("tcf-basis-mismatch", "no_action", "mislabelled-analytics"),
        key("tcf-basis-mismatch", "no_action", "stale-bidder"),
        // Vendor 70 ignores the objection made through the CMP profile
        // (scenarios/cmp/consentry-tcf.toml): it keeps sending a string that gives it
        // no basis any more.
        key("tcf-vendor-without-basis", "object_li", "ignores-objection"),
        key(
            "tcf-vendor-without-basis",
            "accept_then_object",
            "ignores-objection",
        ),
        // reject_then_reload: the choice persists on the reload (the kept purpose 1 is
        // still there), page 2 shows the banner again.
        key("tcf-consent-after-reject", "reject_then_reload", cmp),
        key("cmp-reprompt", "reject_then_reload", "tcf:reject_all"),
        // accept_then_withdraw: the stale bidder keeps firing after the withdrawal.
        key("tcf-consent-after-reject", "accept_then_withdraw", cmp),
        key(
            "consent-vendor-after-reject",
            "accept_then_withdraw",
            "stale-bidder",
        ),
        key("tcf-stale-string", "accept_then_withdraw", "stale-bidder"),
        // Partial records, judged per purpose: the CMP keeps purpose 8's LI bit after
        // "Object all" (tcf-li-after-objection, above), and the vendor relying on purpose
        // 8 that trusts the kept bit is flagged too: the visitor's objection (more
        // protective than the record) decides purpose 8.
        key("li-vendor-after-objection", "object_li", "kept-li"),
        key("li-vendor-after-objection", "accept_then_object", "kept-li"),
        // Vendor 70 relies on purpose 7, which action and record agree is objected.
        // (Before per-purpose states the kept bit 8 made the whole record read as "no
        // objection", so neither was flagged.)
        key(
            "li-vendor-after-objection",
            "object_li",
            "ignores-objection",
        ),
        key(
            "li-vendor-after-objection",
            "accept_then_object",
            "ignores-objection",
        ),
    ];
    for k in &planted {
        assert!(got.contains(k), "missing {k:?}; got:\n{got:#?}");
    }
    // Before any objection, vendor 70 has its legitimate interest: never flagged there.
    for (c, s, subject) in &got {
        assert!(
            subject != "ignores-objection" || s == "object_li" || s == "accept_then_object",
            "vendor 70 flagged before an objection: {c} {s} {subject}"
        );
    }
    // The kept-LI vendor is flagged only after the objection, only for it.
    for (c, s, subject) in &got {
        assert!(
            subject != "kept-li"
                || (c == "li-vendor-after-objection"
                    && (s == "object_li" || s == "accept_then_object")),
            "kept-li flagged where its purpose stands: {c} {s} {subject}"
        );
    }
    let f = finding(&json, "li-vendor-after-objection", "object_li", "kept-li");
    let d = evidence_detail(f);
    assert!(
        d.ends_with("decided by purpose \"content-measurement\" (TCF purpose 8): legitimate interest objected, by the visitor's action (the visitor's action and the CMP's record disagree; the more protective decides)"),
        "{d}"
    );
    assert_eq!(f["evidence"][0]["phase"], "after-object_li");
    // Vendor 70's purpose 7 was cleared by the CMP too: no dispute, still by purpose.
    let f = finding(
        &json,
        "li-vendor-after-objection",
        "object_li",
        "ignores-objection",
    );
    let d = evidence_detail(f);
    assert!(
        d.ends_with("decided by purpose \"ad-measurement\" (TCF purpose 7): legitimate interest objected, by the visitor's action"),
        "{d}"
    );
    // The compliant vendors are never the subject of any finding, TCF or not: li-measure
    // relies only on purpose 7, which the CMP cleared, and stops.
    for (c, s, subject) in &got {
        assert!(
            subject != "consent-ads" && subject != "li-measure",
            "compliant vendor flagged: {c} {s} {subject}"
        );
    }
    // Nothing TCF where the CMP was right: no consent in the CMP's record after accept is
    // a fault, and an unchanged string after accept is not stale for vendors that obey it.
    assert!(!got.contains(&key("tcf-consent-after-reject", "accept_all", cmp)));
    assert!(!got.contains(&key("tcf-li-after-objection", "reject_all", cmp)));

    // Evidence carries the decoded bits behind each signal finding.
    let f = finding(&json, "tcf-consent-before-choice", "no_action", cmp);
    let d = evidence_detail(f);
    assert!(d.contains("consent purposes 1;"), "{d}");
    assert!(d.contains("CMP 300 v7"), "{d}");
    assert_eq!(f["evidence"][0]["phase"], "before-choice");
    let f = finding(&json, "tcf-li-after-objection", "object_li", cmp);
    assert!(evidence_detail(f).contains("LI purposes 8;"), "{f}");
    let f = finding(&json, "tcf-stale-string", "reject_all", "stale-bidder");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("phase before-choice"),
        "{f}"
    );
    let url = f["evidence"][0]["request_url"].as_str().unwrap();
    assert!(url.starts_with("https://x.stale-bidder.test/bid?"), "{url}");
    assert_eq!(f["evidence"][0]["phase"], "after-reject_all");
    let f = finding(
        &json,
        "tcf-unrecorded-consent",
        "reject_all",
        "forged-signal",
    );
    assert!(evidence_detail(f).contains("CMP's record #"), "{f}");

    // The CMP's record read back decides the phase's summary: "Object all" on this CMP
    // keeps an LI bit, so its record is no objection (only a refusal), whatever the click
    // meant. Vendors are judged per purpose (above), where the objection stands.
    let action = |scenario: &str, action: &str| -> Value {
        json["visits"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["scenario"] == scenario)
            .and_then(|v| v["consent_actions"].as_array())
            .and_then(|a| a.iter().find(|a| a["action"] == action))
            .cloned()
            .unwrap_or_else(|| panic!("no {action} in {scenario}"))
    };
    let obj = action("object_li", "object_li");
    assert_eq!(obj["readback"]["record"]["reader"], "tcf", "{obj:#}");
    // Performed by the CMP profile named in the scenario file.
    assert_eq!(
        obj["method"],
        serde_json::json!({"kind": "profile", "after": "consentry-tcf"}),
        "{obj:#}"
    );
    let withdraw = action("accept_then_withdraw", "reject_all");
    assert_eq!(withdraw["method"]["after"], "consentry-tcf", "{withdraw:#}");
    assert_eq!(obj["effects_from"], "cmp-record");
    assert_eq!(obj["applied"], serde_json::json!(["refuse_consent"]));
    // Its "Reject all" keeps purpose 1: a partial record, so the declared effect decides.
    let rej = action("reject_all", "reject_all");
    assert_eq!(rej["effects_from"], "declared", "{rej:#}");
    assert!(!got.iter().any(|(c, _, _)| c == "cmp-choice-opposite"));

    // The per-scenario signal view of the report.
    let visit = json["visits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["scenario"] == "reject_all")
        .expect("reject_all visit");
    let lines = visit["signals"].as_array().expect("signal view");
    assert!(
        lines.iter().any(|l| l["phase"] == "after-reject_all"
            && l["source"] == "__tcfapi getTCData"
            && l["summary"]
                .as_str()
                .unwrap()
                .contains("consent purposes 1;")),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l["source"] == "vendor requests"),
        "{lines:#?}"
    );

    // The decoded record is stored, from the page API and from the CMP's cookie, per phase;
    // a cookie value is kept only as a hash.
    let run = json["run_id"].as_i64().expect("run id");
    let store = Store::open(&db).await.unwrap();
    let signals = store
        .history()
        .signals(run, Some("reject_all"))
        .await
        .unwrap();
    let after_reject: Vec<_> = signals
        .iter()
        .filter(|s| s.state.phase() == "after-reject_all")
        .filter_map(|s| match (&s.source, &s.data) {
            (SignalSource::PageApi { .. } | SignalSource::Cookie { .. }, SignalData::Tcf(t)) => {
                Some((s.source.clone(), t.clone()))
            }
            _ => None,
        })
        .collect();
    assert!(
        after_reject.iter().any(
            |(src, _)| matches!(src, SignalSource::Cookie { name, .. } if name == "euconsent-v2")
        ),
        "no cookie signal after reject: {after_reject:#?}"
    );
    for (_, t) in &after_reject {
        let d = t.decoded.as_ref().expect("decoded");
        assert_eq!(
            d.purpose_consents,
            BTreeSet::from([1]),
            "planted reject fault"
        );
        assert!(d.vendor_consents.is_empty());
        assert_eq!(t.string_hash.len(), 16);
        assert!(d.segments.contains(&"core".to_string()));
    }
    let requests: Vec<_> = signals
        .iter()
        .filter(|s| matches!(s.source, SignalSource::Request { .. }))
        .collect();
    assert!(!requests.is_empty(), "vendor strings are stored as signals");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium, chromedriver and `make fixtures` (run with --features browser-tests)"
)]
async fn compliant_cmp_is_not_flagged_and_objection_keeps_consent() {
    let _one = ONE_AT_A_TIME.lock().await;
    let server = serve().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("good.db");
    let file = format!("{ROOT}/tests/fixtures/tcf/tcf-good.toml");
    let (code, json) = audit(&file, server.port(), &db);
    assert_eq!(
        code, 0,
        "a compliant CMP and vendors: no findings\n{json:#}"
    );
    assert!(finding_keys(&json).is_empty());

    // The CMP's record read back: the objection is recorded, consent kept.
    let actions: Vec<Value> = json["visits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["scenario"] == "object_li" || v["scenario"] == "accept_then_object")
        .flat_map(|v| v["consent_actions"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["action"] == "object_li")
        .collect();
    assert_eq!(actions.len(), 2, "{actions:#?}");
    for a in &actions {
        assert_eq!(a["effects_from"], "cmp-record", "{a:#}");
        assert!(a["applied"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("object_li")));
    }

    // Through __tcfapi: objecting after accepting keeps every consent bit and clears
    // every legitimate-interest bit.
    let run = json["run_id"].as_i64().expect("run id");
    let store = Store::open(&db).await.unwrap();
    let signals = store
        .history()
        .signals(run, Some("accept_then_object"))
        .await
        .unwrap();
    let api: Vec<_> = signals
        .iter()
        .filter(|s| matches!(s.source, SignalSource::PageApi { .. }))
        .filter_map(|s| match &s.data {
            SignalData::Tcf(t) => t.decoded.as_ref().map(|d| (s.state.phase(), d.clone())),
            _ => None,
        })
        .collect();
    let accepted = api
        .iter()
        .find(|(p, _)| p == "after-accept_all")
        .expect("a record after accept");
    let objected = api
        .iter()
        .find(|(p, _)| p == "after-object_li")
        .expect("a record after the objection");
    assert_eq!(objected.1.purpose_consents, accepted.1.purpose_consents);
    assert_eq!(objected.1.purpose_consents.len(), 11);
    assert_eq!(objected.1.vendor_consents, accepted.1.vendor_consents);
    assert!(!accepted.1.vendor_legitimate_interests.is_empty());
    assert!(objected.1.purpose_legitimate_interests.is_empty());
    assert!(objected.1.vendor_legitimate_interests.is_empty());
    // Before the choice the compliant CMP's interim string grants nothing.
    let interim = api
        .iter()
        .find(|(p, _)| p == "before-choice")
        .expect("an interim record");
    assert!(interim.1.purpose_consents.is_empty());
    assert_eq!(interim.1.consent_screen, 0);
    server.shutdown().await;
}

/// Issue 25: a page plants TC strings whose optional segment is 2-4 base64 characters
/// (tests/fixtures/hostile-tcf), each of which used to make `lib_tcstring` index past
/// its end: exit 101, no report, the run left `running`. In a vendor request's
/// `gdpr_consent`, the `euconsent-v2` cookie and the `__tcfapi` answer (which the CMP
/// reader reads back after "Reject all").
#[tokio::test(flavor = "multi_thread")]
#[cfg_attr(
    not(feature = "browser-tests"),
    ignore = "needs Chromium, chromedriver and `make fixtures` (run with --features browser-tests)"
)]
async fn hostile_tc_strings_are_undecodable_signals_and_the_audit_completes() {
    let _one = ONE_AT_A_TIME.lock().await;
    let site = FileSite {
        root: Path::new(ROOT).join("tests/fixtures/hostile-tcf/site"),
        assets: Path::new(ROOT).join("fixtures/build"),
    };
    let server = DemoServer::start_files(0, site)
        .await
        .expect("fixture server");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hostile.db");
    let file = format!("{ROOT}/tests/fixtures/hostile-tcf/hostile-tcf.toml");
    let run = common::audit(&file, server.port(), &db, &[]);
    server.shutdown().await;
    let json = &run.json;

    // Completed, with a report: 0 or 1 (findings), never 101 (a panic).
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}:\n{}",
        run.code,
        run.stderr
    );
    assert_eq!(json["status"]["status"], "complete", "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let visits = json["visits"].as_array().expect("visits");
    let scenarios: BTreeSet<&str> = visits
        .iter()
        .filter_map(|v| v["scenario"].as_str())
        .collect();
    assert_eq!(
        scenarios,
        BTreeSet::from(["no_action", "reject_all"]),
        "{json}"
    );

    let run_id = json["run_id"].as_i64().expect("run id");
    let store = Store::open(&db).await.unwrap();
    let record = store
        .history()
        .run(run_id)
        .await
        .unwrap()
        .expect("the run is stored");
    assert_eq!(
        record.status,
        consentry::model::RunStatus::Complete,
        "stored run status"
    );

    // Each planted string is a stored TCF signal, undecodable, with the reason.
    let core = "CQujIwAQujIwAEsAHBENDIFgAIEAAAKAAAYgAKAAAEAFAAACACEAAgAK";
    for scenario in ["no_action", "reject_all"] {
        let signals = store
            .history()
            .signals(run_id, Some(scenario))
            .await
            .unwrap();
        let tcf: Vec<_> = signals
            .iter()
            .filter_map(|s| match &s.data {
                SignalData::Tcf(t) => Some((&s.source, t)),
                _ => None,
            })
            .collect();
        for (what, planted, reason) in [
            (
                "request",
                ".IA",
                "segment 2 (disclosed or allowed vendors) is 8 bits",
            ),
            (
                "cookie",
                ".QAA",
                "segment 2 (disclosed or allowed vendors) is 16 bits",
            ),
            ("api", ".YAAA", "segment 2 (publisher TC) is 24 bits"),
        ] {
            let len = core.len() + planted.len();
            let found = tcf.iter().find(|(src, t)| {
                t.string_len == len
                    && match (what, src) {
                        ("request", SignalSource::Request { url }) => url.contains("gdpr_consent="),
                        ("cookie", SignalSource::Cookie { name, .. }) => name == "euconsent-v2",
                        ("api", SignalSource::PageApi { api }) => api == "__tcfapi getTCData",
                        _ => false,
                    }
            });
            let Some((_, t)) = found else {
                panic!("{scenario}: no {what} signal of {len} bytes in {tcf:#?}")
            };
            assert!(t.decoded.is_none(), "{scenario} {what}: {t:#?}");
            let e = t.error.as_deref().unwrap_or_default();
            assert!(
                e.starts_with("undecodable TC string"),
                "{scenario} {what}: {e}"
            );
            assert!(e.contains(reason), "{scenario} {what}: {e}");
        }
    }
    // The CMP reader's read-back after "Reject all": unreadable, with the reason.
    let reject = visits
        .iter()
        .find(|v| v["scenario"] == "reject_all")
        .expect("reject_all visit");
    let readback = &reject["consent_actions"][0]["readback"];
    assert_eq!(readback["status"], "unreadable", "{reject:#}");
    assert_eq!(readback["reader"], "tcf", "{readback}");
    let e = readback["error"].as_str().unwrap_or_default();
    assert!(e.starts_with("undecodable TC string"), "{e}");
    assert!(
        e.contains("lib_tcstring 0.5.0 not run: segment 2 (publisher TC) is 24 bits"),
        "{e}"
    );
}
