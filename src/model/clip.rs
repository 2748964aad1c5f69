//! Bounded page strings (issue 25): a page decides how long its URLs, storage keys, error
//! messages and cookie attributes are, and 200 requests with 1.9 MB URLs once made a
//! 381 MB database and 1.4 GB of memory. After the signals a visit's requests carry are
//! decoded (from the URLs as sent), every page-supplied string of the observation longer
//! than [`PAGE_STRING_MAX`] is kept as its first bytes followed by a
//! [`crate::text::clip_mark`]: the whole length and the keyed hash of the whole, so two
//! clipped URLs can still be told apart or matched, and every report says it was clipped.

use super::{CookieSource, SignalSource, StepStatus, ValueHasher, VisitObservation, VisitStatus};
use crate::text::{clip_mark, PAGE_STRING_MAX};
use std::borrow::Cow;

/// What may be stored of a page string: `redact` replaces secret values (the pipeline's
/// `Secrets::redact`; the identity without secrets), so the hash and the kept text are of
/// the redacted form and a secret in the cut-off part leaves no trace.
pub type Redact<'r> = &'r dyn Fn(&str) -> Cow<'_, str>;

/// Clips `s` when it is longer than [`PAGE_STRING_MAX`] bytes: its first bytes (cut at a
/// character boundary) and the clip mark, at most [`PAGE_STRING_MAX`] bytes in all.
/// Returns whether it was clipped.
pub fn clip_page_string(s: &mut String, hasher: &ValueHasher, redact: Redact<'_>) -> bool {
    clip_to(s, PAGE_STRING_MAX, hasher, redact)
}

/// The [`Redact`] of a string already redacted.
pub fn as_is(t: &str) -> Cow<'_, str> {
    Cow::Borrowed(t)
}

/// [`clip_page_string`] to `max` bytes (at least a clip mark's length): the bounds of
/// header names and values ([`super::http`]) are tighter than a URL's.
pub fn clip_to(s: &mut String, max: usize, hasher: &ValueHasher, redact: Redact<'_>) -> bool {
    if s.len() <= max {
        return false;
    }
    let whole = redact(s);
    let mark = clip_mark(whole.len(), &hasher.hash(&whole));
    let mut keep = max.saturating_sub(mark.len()).min(whole.len());
    while keep > 0 && !whole.is_char_boundary(keep) {
        keep -= 1;
    }
    let mut out = String::with_capacity(keep + mark.len());
    out.push_str(whole.get(..keep).unwrap_or_default());
    out.push_str(&mark);
    *s = out;
    true
}

/// Clips every page-supplied string of a visit ([`clip_page_string`]); returns how many
/// were clipped. Run after the request signals are decoded and before anything judges,
/// stores or shows the visit. The list of fields is held complete by a test that makes
/// every string of a full observation huge and finds none left.
pub fn clip_visit(obs: &mut VisitObservation, hasher: &ValueHasher, redact: Redact<'_>) -> usize {
    let mut n = 0;
    let mut clip = |s: &mut String| n += usize::from(clip_page_string(s, hasher, redact));
    if let VisitStatus::Incomplete(f) = &mut obs.status {
        clip(&mut f.reason);
    }
    let login_steps = obs.login.iter_mut().flat_map(|l| l.steps.iter_mut());
    for s in obs.steps.iter_mut().chain(login_steps) {
        clip(&mut s.description);
        if let StepStatus::Failed(f) = &mut s.status {
            clip(&mut f.reason);
        }
    }
    for r in &mut obs.requests {
        for s in [&mut r.url, &mut r.method, &mut r.resource_type, &mut r.page] {
            clip(s);
        }
        for s in [&mut r.initiator, &mut r.frame_id, &mut r.error]
            .into_iter()
            .flatten()
        {
            clip(s);
        }
        if let Some(h) = &mut r.http {
            let headers = h.request_headers.iter_mut().chain(&mut h.response_headers);
            for (name, value) in headers {
                clip(name);
                clip(value);
            }
            for s in [&mut h.status_text, &mut h.mime_type, &mut h.protocol]
                .into_iter()
                .flatten()
            {
                clip(s);
            }
        }
        if let Some(c) = &mut r.cause {
            clip(&mut c.kind);
            for s in [&mut c.url, &mut c.script, &mut c.redirected_from]
                .into_iter()
                .flatten()
            {
                clip(s);
            }
        }
    }
    for w in &mut obs.cookie_writes {
        for s in [&mut w.name, &mut w.domain, &mut w.value_hash, &mut w.page] {
            clip(s);
        }
        for s in [&mut w.path, &mut w.expiry_unparsed].into_iter().flatten() {
            clip(s);
        }
        match &mut w.source {
            CookieSource::Header { request_url: s } | CookieSource::Script { document_url: s } => {
                clip(s)
            }
        }
        w.blocked_reasons.iter_mut().for_each(&mut clip);
    }
    for c in &mut obs.cookies {
        for s in [&mut c.name, &mut c.domain, &mut c.path, &mut c.value_hash] {
            clip(s);
        }
        for s in [&mut c.same_site, &mut c.partition_key]
            .into_iter()
            .flatten()
        {
            clip(s);
        }
    }
    for w in &mut obs.storage_writes {
        for s in [&mut w.origin, &mut w.key, &mut w.value_hash, &mut w.page] {
            clip(s);
        }
    }
    for e in &mut obs.page_errors {
        clip(&mut e.message);
        clip(&mut e.page);
        if let Some(s) = &mut e.source {
            clip(s);
        }
    }
    for sig in &mut obs.signals {
        clip(&mut sig.page);
        match &mut sig.source {
            SignalSource::PageApi { api: s }
            | SignalSource::Request { url: s }
            | SignalSource::WellKnown { url: s } => clip(s),
            SignalSource::Cookie { name, domain } => {
                clip(name);
                clip(domain);
            }
            SignalSource::Visit => {}
        }
    }
    for a in &mut obs.cmp {
        clip(&mut a.page);
        if let Some(s) = &mut a.detected {
            clip(s);
        }
        for b in &mut a.banner_again {
            clip(&mut b.page);
            clip(&mut b.how);
        }
    }
    for shot in &mut obs.screenshots {
        clip(&mut shot.page);
    }
    obs.warnings.iter_mut().for_each(&mut clip);
    obs.timings
        .settles
        .iter_mut()
        .for_each(|s| clip(&mut s.why));
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        ConsentAction, PageError, Screenshot, SignalData, SignalObs, StorageArea, StorageWrite,
        StoredCookie,
    };
    use serde_json::Value;

    fn unchanged(s: &str) -> Cow<'_, str> {
        Cow::Borrowed(s)
    }

    #[test]
    fn a_long_string_keeps_its_start_its_length_and_its_hash() {
        let h = ValueHasher::keyed(b"k");
        let short = "https://a.example/".to_string();
        let mut s = short.clone();
        assert!(!clip_page_string(&mut s, &h, &unchanged));
        assert_eq!(s, short);
        let exact = "a".repeat(PAGE_STRING_MAX);
        let mut s = exact.clone();
        assert!(!clip_page_string(&mut s, &h, &unchanged));
        // Multi-byte characters across the cut: the kept text ends on a boundary.
        let whole = format!("https://a.example/?q={}", "é".repeat(1_000_000));
        let mut s = whole.clone();
        assert!(clip_page_string(&mut s, &h, &unchanged));
        assert!(s.len() <= PAGE_STRING_MAX, "{}", s.len());
        let (kept, mark) = crate::text::split_clip_mark(&s).expect("a clip mark");
        assert!(whole.starts_with(kept) && kept.len() > PAGE_STRING_MAX - 100);
        assert_eq!(
            mark,
            format!("…[clipped: {} bytes, hash {}]", whole.len(), h.hash(&whole))
        );
        // Another key, another hash; another string, another hash.
        let mut t = whole.clone();
        clip_page_string(&mut t, &ValueHasher::keyed(b"other"), &unchanged);
        assert_ne!(s, t);
        let mut u = format!("{whole}x");
        clip_page_string(&mut u, &h, &unchanged);
        assert_ne!(crate::text::split_clip_mark(&u).map(|m| m.1), Some(mark));
        // Shown clipped in every human format: the mark survives a display cut.
        let shown = crate::text::printable_clipped(&s, 60);
        assert!(
            shown.ends_with(mark) && shown.starts_with("https://a."),
            "{shown}"
        );
    }

    /// A secret in the part cut off leaves no trace: the kept text and the hash are of
    /// the redacted form.
    #[test]
    fn the_hash_is_of_the_redacted_whole() {
        let h = ValueHasher::keyed(b"k");
        let tail = format!("{}&token=tok_SECRET", "a".repeat(20_000));
        let mut s = format!("https://a.example/?{tail}");
        fn redact(s: &str) -> Cow<'_, str> {
            Cow::Owned(s.replace("tok_SECRET", "[secret:T]"))
        }
        clip_page_string(&mut s, &h, &redact);
        let redacted = format!(
            "https://a.example/?{}",
            tail.replace("tok_SECRET", "[secret:T]")
        );
        assert!(s.ends_with(&format!(
            "…[clipped: {} bytes, hash {}]",
            redacted.len(),
            h.hash(&redacted)
        )));
    }

    /// A visit with every record kind, each with every optional text present.
    fn full() -> VisitObservation {
        let mut obs = crate::analysis::tests::scenario("accept_all")
            .page("https://shop.test/")
            .req("https://www.google-analytics.com/g/collect?gcs=G100")
            .write("sid", Some(1))
            .header_write("hdr", "https://shop.test/set", 1)
            .stored("sid", Some(1))
            .act(ConsentAction::AcceptAll)
            .incomplete("step failed")
            .cmp_action(ConsentAction::AcceptAll, crate::cmp::Readback::NoReader)
            .build();
        let r = &mut obs.requests[0];
        r.initiator = Some("https://shop.test/app.js".into());
        r.frame_id = Some("F1".into());
        r.error = Some("net::ERR_FAILED".into());
        r.cause = Some(crate::model::RequestCause {
            kind: "script".into(),
            url: Some("https://shop.test/".into()),
            script: Some("https://shop.test/app.js".into()),
            redirected_from: Some("https://shop.test/r".into()),
        });
        r.http = Some(Box::new(crate::model::http::HttpExchange {
            request_headers: vec![("Accept".into(), "*/*".into())],
            response_headers: vec![("Server".into(), "x".into())],
            status_text: Some("OK".into()),
            mime_type: Some("text/html".into()),
            protocol: Some("h2".into()),
            ..Default::default()
        }));
        obs.cookie_writes[0].expiry_unparsed = Some("someday".into());
        obs.cookie_writes[0].blocked_reasons = vec!["Blocked".into()];
        let c: &mut StoredCookie = &mut obs.cookies[0];
        c.same_site = Some("Lax".into());
        c.partition_key = Some("https://shop.test".into());
        obs.storage_writes.push(StorageWrite {
            area: StorageArea::Local,
            origin: "https://shop.test".into(),
            key: "k".into(),
            value_hash: "0123456789abcdef".into(),
            time: obs.started_at,
            page: "https://shop.test/".into(),
            state: obs.final_state.clone(),
        });
        obs.page_errors.push(PageError {
            message: "boom".into(),
            source: Some("https://shop.test/app.js".into()),
            time: obs.started_at,
            page: "https://shop.test/".into(),
        });
        let signal = obs.signals.first().cloned().map(|s| s.data);
        for source in [
            SignalSource::PageApi {
                api: "__tcfapi".into(),
            },
            SignalSource::Cookie {
                name: "euconsent-v2".into(),
                domain: "shop.test".into(),
            },
            SignalSource::WellKnown {
                url: "https://shop.test/.well-known/gpc.json".into(),
            },
        ] {
            if let Some(data) = signal.clone() {
                obs.signals.push(SignalObs {
                    time: obs.started_at,
                    page: "https://shop.test/".into(),
                    state: obs.final_state.clone(),
                    source,
                    data,
                });
            }
        }
        if let Some(a) = obs.cmp.first_mut() {
            a.detected = Some("Klaro".into());
            a.banner_again.push(crate::model::cmp::BannerSeen {
                page: "https://shop.test/next".into(),
                time: obs.started_at,
                how: "banner visible".into(),
            });
        }
        obs.login = Some(crate::model::LoginObs {
            steps: vec![crate::model::StepOutcome {
                index: 0,
                description: "script \"login\"".into(),
                status: crate::model::StepStatus::Failed(crate::model::Failure::new(
                    crate::model::FailureKind::ScriptFailed,
                    "script failed",
                )),
                started_at: obs.started_at,
                duration_ms: 1,
            }],
            completed_at: None,
        });
        obs.screenshots.push(Screenshot {
            step: 0,
            action: ConsentAction::AcceptAll,
            when: crate::model::screenshot::ShotWhen::Before,
            time: obs.started_at,
            page: "https://shop.test/".into(),
            width: 1,
            height: 1,
            bytes: 3,
            capture_ms: 1,
            action_failed: false,
            path: None,
            png: Vec::new(),
        });
        obs.warnings.push("a warning".into());
        obs.timings.settles.push(crate::model::Settle {
            why: "after loading https://shop.test/".into(),
            ms: 1,
            ended: crate::model::SettleEnd::Idle,
        });
        assert!(matches!(
            obs.signals.first().map(|s| &s.data),
            Some(SignalData::ConsentMode(_))
        ));
        obs
    }

    fn string_leaves(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::String(_) => out.push(at),
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    string_leaves(x, format!("{at}/{i}"), out);
                }
            }
            Value::Object(map) => {
                for (k, x) in map {
                    string_leaves(
                        x,
                        format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                        out,
                    );
                }
            }
            _ => {}
        }
    }

    /// Strings that never come from the page, or are bounded where they are made.
    fn exempt(path: &str) -> bool {
        // The scenario id (from the scenario file; the store's key of the visit).
        path == "/scenario"
            // Decoded signals: every decoder bounds its input (issue 25, item 1).
            || (path.starts_with("/signals/") && path.contains("/data/"))
            // What the CMP recorded, read back from its cookie (at most 4 KiB).
            || (path.starts_with("/cmp/") && path.contains("/readback"))
    }

    /// Every string of a visit that can hold free text (an enum's tag or a timestamp
    /// cannot) is clipped when it is huge: a string field added later and not clipped
    /// fails here.
    #[test]
    fn every_page_string_of_a_visit_is_bounded() {
        let tree = serde_json::to_value(full()).expect("json");
        let mut paths = Vec::new();
        string_leaves(&tree, String::new(), &mut paths);
        let huge = Value::String(format!(
            "https://x.example/?{}",
            "a".repeat(3 * PAGE_STRING_MAX)
        ));
        let free: Vec<String> = paths
            .into_iter()
            .filter(|p| {
                let mut t = tree.clone();
                if let Some(leaf) = t.pointer_mut(p) {
                    *leaf = huge.clone();
                }
                serde_json::from_value::<VisitObservation>(t).is_ok()
            })
            .collect();
        let mut t = tree.clone();
        for p in &free {
            if let Some(leaf) = t.pointer_mut(p) {
                *leaf = huge.clone();
            }
        }
        let mut obs: VisitObservation = serde_json::from_value(t).expect("a visit");
        let n = clip_visit(&mut obs, &ValueHasher::unkeyed(), &unchanged);
        let after = serde_json::to_value(&obs).expect("json");
        let long: Vec<&String> = free
            .iter()
            .filter(|p| !exempt(p))
            .filter(|p| {
                after
                    .pointer(p)
                    .and_then(Value::as_str)
                    .is_none_or(|s| s.len() > PAGE_STRING_MAX)
            })
            .collect();
        assert!(long.is_empty(), "not clipped: {long:#?}");
        let covered = free.iter().filter(|p| !exempt(p)).count();
        assert_eq!(n, covered);
        assert!(covered >= 40, "{covered}: {free:#?}");
    }
}
