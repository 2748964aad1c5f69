//! Chains of who loaded whom on recorded observations, without a browser: a tag manager
//! that injects a pixel, redirects, iframes, preflights, missing links, cycles and
//! chains longer than the bound; and the findings they lead to.

use super::*;
use crate::analysis::tests::{policy, scenario, site};
use crate::analysis::{analyze_visit, Code};
use crate::attribution::Attributor;
use crate::model::{ConsentAction, RequestCause, VisitObservation};

const PAGE: &str = "https://www.shop.test/";
const TAG: &str = "https://www.google-analytics.com/gtag.js";
const PIXEL_JS: &str = "https://analytics.tiktok.com/events.js";
const PIXEL: &str = "https://analytics.tiktok.com/pixel?ev=PageView";

fn cause(kind: &str, url: Option<&str>, script: Option<&str>) -> Option<RequestCause> {
    Some(RequestCause {
        kind: kind.into(),
        url: url.map(String::from),
        script: script.map(String::from),
        redirected_from: None,
    })
}

/// Requests `(url, resource type, cause)` on the shop's page, after accepting; the first
/// is the page's document (frame `main`).
fn visit(reqs: &[(&str, &str, Option<RequestCause>)]) -> VisitObservation {
    let mut b = scenario("accept_all")
        .page(PAGE)
        .act(ConsentAction::AcceptAll)
        .req(PAGE);
    for (url, _, _) in reqs {
        b = b.req(url);
    }
    let mut obs = b.build();
    if let Some(doc) = obs.requests.first_mut() {
        doc.resource_type = "Document".into();
        doc.frame_id = Some("main".into());
        doc.cause = cause("other", None, None);
    }
    for (r, (_, kind, c)) in obs.requests.iter_mut().skip(1).zip(reqs) {
        r.resource_type = (*kind).into();
        r.frame_id = Some("main".into());
        r.cause = c.clone();
    }
    obs
}

fn chains_of(obs: &VisitObservation) -> Vec<(String, Option<String>, Option<String>, bool)> {
    let (site, policy) = (site(), policy());
    let at = Attributor::new(&site, &policy).visit(obs);
    at.requests
        .iter()
        .map(|(r, f)| {
            (
                r.url.clone(),
                f.chain.describe(),
                f.chain.loader.map(|v| v.id.clone()),
                f.chain.cut,
            )
        })
        .collect()
}

fn findings(obs: &VisitObservation) -> Vec<(Code, String, Option<String>, Vec<String>)> {
    let (site, policy) = (site(), policy());
    let at = Attributor::new(&site, &policy).visit(obs);
    analyze_visit(&site, &policy, &at)
        .into_iter()
        .filter(|f| {
            matches!(
                f.code,
                Code::UndeclaredThirdParty | Code::UndeclaredFourthParty
            )
        })
        .map(|f| {
            let details = f
                .evidence
                .iter()
                .map(|e| e.detail.clone().unwrap_or_default())
                .collect();
            (f.code, f.subject, f.vendor, details)
        })
        .collect()
}

/// The page loads a declared tag (parser), the tag injects an undeclared pixel script,
/// and that script sends the pixel.
fn tag_manager_injects_pixel() -> VisitObservation {
    visit(&[
        (TAG, "Script", cause("parser", Some(PAGE), None)),
        (PIXEL_JS, "Script", cause("script", None, Some(TAG))),
        (PIXEL, "Image", cause("script", None, Some(PIXEL_JS))),
    ])
}

#[test]
fn a_declared_tag_that_injects_a_pixel_is_named_as_its_loader() {
    let got = chains_of(&tag_manager_injects_pixel());
    let want =
        "chain: www.google-analytics.com (google-analytics, declared) → analytics.tiktok.com";
    assert_eq!(got[0], (PAGE.into(), None, None, false), "the page itself");
    // The tag: the site loaded it (one hop, nothing shown).
    assert_eq!(got[1], (TAG.into(), None, None, false));
    for i in [2, 3] {
        assert_eq!(
            got[i],
            (
                got[i].0.clone(),
                Some(want.to_string()),
                Some("google-analytics".to_string()),
                false
            )
        );
    }
}

#[test]
fn the_fourth_party_finding_names_the_loader_and_the_third_party_finding_shows_the_chain() {
    let got = findings(&tag_manager_injects_pixel());
    let chain =
        "chain: www.google-analytics.com (google-analytics, declared) → analytics.tiktok.com";
    assert_eq!(got.len(), 2, "{got:#?}");
    let (code, subject, vendor, details) = &got[0];
    assert_eq!(
        (*code, subject.as_str(), vendor.as_deref()),
        (Code::UndeclaredThirdParty, "tiktok.com", None)
    );
    assert_eq!(details.len(), 2);
    assert!(details.iter().all(|d| d.ends_with(chain)), "{details:#?}");
    let (code, subject, vendor, details) = &got[1];
    assert_eq!(
        (*code, subject.as_str(), vendor.as_deref()),
        (
            Code::UndeclaredFourthParty,
            "google-analytics:tiktok.com",
            Some("google-analytics")
        )
    );
    assert_eq!(
        details[1],
        format!("GET Image, status 200; {chain}"),
        "{details:#?}"
    );
}

#[test]
fn what_the_site_loads_itself_has_no_loader_and_no_chain() {
    let obs = visit(&[
        (PIXEL_JS, "Script", cause("parser", Some(PAGE), None)),
        (PIXEL, "Image", cause("script", None, Some(PIXEL_JS))),
        // A first-party script between a declared tag and the pixel: the site loaded it.
        (TAG, "Script", cause("parser", Some(PAGE), None)),
        (
            "https://www.shop.test/app.js",
            "Script",
            cause("script", None, Some(TAG)),
        ),
        (
            "https://px.unknown.test/p.gif",
            "Image",
            cause("script", None, Some("https://www.shop.test/app.js")),
        ),
    ]);
    let got = chains_of(&obs);
    assert_eq!(got[1].1, None);
    assert_eq!(got[2].1, None, "one host: {got:#?}");
    assert_eq!(got[2].2, None);
    assert_eq!(
        got[5].1.as_deref(),
        Some("chain: www.google-analytics.com (google-analytics, declared) → www.shop.test (shop, declared) → px.unknown.test")
    );
    assert_eq!(got[5].2, None, "the site's script loaded it");
    let codes: Vec<Code> = findings(&obs).into_iter().map(|f| f.0).collect();
    assert!(!codes.contains(&Code::UndeclaredFourthParty), "{codes:?}");
}

#[test]
fn a_redirect_hop_is_loaded_by_the_hop_before_it() {
    let mut obs = visit(&[
        (
            "https://www.google-analytics.com/collect?v=2",
            "Image",
            cause("parser", Some(PAGE), None),
        ),
        (
            "https://bat.bing.com/action/0",
            "Image",
            cause("parser", Some(PAGE), None),
        ),
    ]);
    if let Some(c) = obs.requests[2].cause.as_mut() {
        c.redirected_from = Some("https://www.google-analytics.com/collect?v=2".into());
    }
    let got = chains_of(&obs);
    assert_eq!(
        got[2].1.as_deref(),
        Some("chain: www.google-analytics.com (google-analytics, declared) → bat.bing.com")
    );
    assert_eq!(got[2].2.as_deref(), Some("google-analytics"));
}

#[test]
fn an_iframe_of_a_declared_vendor_loads_for_it() {
    let frame_doc = "https://www.facebook.com/plugins/like.html";
    let mut obs = visit(&[
        (frame_doc, "Document", cause("parser", Some(PAGE), None)),
        // Parser-inserted in the frame's document.
        (
            "https://px.partner.test/a.gif",
            "Image",
            cause("parser", Some(frame_doc), None),
        ),
        // No initiator worth the name: the frame's document.
        (
            "https://px.other.test/b.gif",
            "Other",
            cause("other", None, None),
        ),
    ]);
    for r in obs.requests.iter_mut().skip(1) {
        r.frame_id = Some("F2".into());
    }
    let got = chains_of(&obs);
    assert_eq!(got[1].1, None, "the site's iframe");
    assert_eq!(
        got[2].1.as_deref(),
        Some("chain: www.facebook.com (meta, declared) → px.partner.test")
    );
    assert_eq!(got[2].2.as_deref(), Some("meta"));
    assert_eq!(
        got[3].1.as_deref(),
        Some("chain: www.facebook.com (meta, declared) → px.other.test")
    );
    assert_eq!(got[3].2.as_deref(), Some("meta"));
}

#[test]
fn a_preflight_belongs_to_the_request_it_is_for() {
    let api = "https://api.partner.test/collect";
    let mut obs = visit(&[
        (TAG, "Script", cause("parser", Some(PAGE), None)),
        (api, "Preflight", cause("preflight", Some(api), None)),
        (api, "Fetch", cause("script", None, Some(TAG))),
    ]);
    obs.requests[2].method = "OPTIONS".into();
    obs.requests[3].method = "POST".into();
    let got = chains_of(&obs);
    for i in [2, 3] {
        assert_eq!(got[i].2.as_deref(), Some("google-analytics"), "{got:#?}");
    }
}

#[test]
fn a_missing_link_ends_the_chain_there() {
    let obs = visit(&[
        // Scripts no request of the visit has (served before capture started).
        (
            "https://px.unknown.test/p.gif",
            "Image",
            cause("script", None, Some("https://cdn.unknown.test/x.js")),
        ),
        (
            "https://px.partner.test/q.gif",
            "Image",
            cause(
                "script",
                None,
                Some("https://connect.facebook.net/fbevents.js"),
            ),
        ),
        // A parser of a document that was never requested.
        (
            "https://px.other.test/r.gif",
            "Image",
            cause("parser", Some("https://gone.example/doc"), None),
        ),
        // Nothing at all.
        ("https://px.none.test/s.gif", "Image", None),
    ]);
    let got = chains_of(&obs);
    assert_eq!(
        (got[1].1.as_deref(), got[1].2.as_deref()),
        (Some("chain: cdn.unknown.test → px.unknown.test"), None)
    );
    assert_eq!(
        (got[2].1.as_deref(), got[2].2.as_deref()),
        (
            Some("chain: connect.facebook.net (meta, declared) → px.partner.test"),
            Some("meta")
        )
    );
    assert_eq!(
        got[3].1.as_deref(),
        Some("chain: gone.example → px.other.test")
    );
    assert_eq!((got[4].1.as_deref(), got[4].2.as_deref()), (None, None));
    assert!(got.iter().all(|g| !g.3), "nothing cut: {got:#?}");
}

#[test]
fn a_cycle_ends_and_is_marked_cut() {
    let a = "https://a.loop.test/a.js";
    let b = "https://b.loop.test/b.js";
    let obs = visit(&[
        (a, "Script", cause("script", None, Some(b))),
        (b, "Script", cause("script", None, Some(a))),
        // A request whose script is itself.
        (
            "https://c.loop.test/c.js",
            "Script",
            cause("script", None, Some("https://c.loop.test/c.js")),
        ),
        // A redirect to itself.
        ("https://d.loop.test/d", "Image", None),
    ]);
    let mut obs = obs;
    if let Some(r) = obs.requests.get_mut(4) {
        r.cause = Some(RequestCause {
            redirected_from: Some("https://d.loop.test/d".into()),
            ..RequestCause::default()
        });
    }
    let got = chains_of(&obs);
    assert_eq!(
        (got[1].1.as_deref(), got[1].3),
        (Some("chain: … → b.loop.test → a.loop.test"), true)
    );
    assert_eq!(
        (got[2].1.as_deref(), got[2].3),
        (Some("chain: … → a.loop.test → b.loop.test"), true)
    );
    // A request never names itself: its own URL is then a link no other request has.
    assert_eq!((got[3].1.as_deref(), got[3].3), (None, false));
    assert_eq!((got[4].1.as_deref(), got[4].3), (None, false));
}

#[test]
fn a_chain_longer_than_the_bound_is_cut() {
    let urls: Vec<String> = (0..40)
        .map(|i| format!("https://h{i}.long.test/s.js"))
        .collect();
    let reqs: Vec<(&str, &str, Option<RequestCause>)> = urls
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let parent = i
                .checked_sub(1)
                .and_then(|p| urls.get(p))
                .map(String::as_str);
            (u.as_str(), "Script", cause("script", None, parent))
        })
        .collect();
    let obs = visit(&reqs);
    let (site, policy) = (site(), policy());
    let at = Attributor::new(&site, &policy).visit(&obs);
    let (_, last) = at.requests.last().expect("requests");
    assert!(last.chain.cut);
    assert_eq!(last.chain.hops.len(), MAX_DEPTH);
    assert_eq!(
        last.chain.hops.last().map(|h| h.host.as_str()),
        Some("h39.long.test")
    );
    assert!(last
        .chain
        .describe()
        .is_some_and(|d| d.starts_with("chain: … → h24.long.test → ")));
    // The first 16 are whole.
    let (_, early) = &at.requests[10];
    assert!(!early.chain.cut);
}
