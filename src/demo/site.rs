//! What the demo site answers: one pure function from (variant, host, path, request cookies) to
//! a response.
//!
//! The pages and scripts live in `site/` and are embedded at compile time. The behaviours, planted
//! violations included, are described in `docs/demo.md`. The `next` variant is the default one
//! with two changes, both made here and nowhere else: see [`site_js`] and [`cmp_js`].

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use hyper::{Response, StatusCode};

use super::{Variant, BING_HOST, SHOP_HOST, STATIC_HOST};

const PAGE: &str = include_str!("site/page.html");
const SITE_JS: &str = include_str!("site/site.js");
const CMP_JS: &str = include_str!("site/cmp.js");
const WORKER_JS: &str = include_str!("site/metrics-worker.js");
const STYLE_CSS: &str = include_str!("site/style.css");
const FBEVENTS_JS: &str = include_str!("site/fbevents.js");
const GTAG_JS: &str = include_str!("site/gtag.js");
const TIKTOK_JS: &str = include_str!("site/tiktok.js");
const HOTJAR_JS: &str = include_str!("site/hotjar.js");
const CHARTBEAT_JS: &str = include_str!("site/chartbeat.js");
const STRIPE_JS: &str = include_str!("site/stripe.js");
const RECAPTCHA_ANCHOR_HTML: &str = include_str!("site/recaptcha-anchor.html");
const RECAPTCHA_JS: &str = include_str!("site/recaptcha.js");
/// Next variant: appended to site.js (loads the Microsoft Ads tag).
const SITE_NEXT_JS: &str = include_str!("site/site-next.js");
/// Next variant: the Microsoft Ads (UET) tag stand-in.
const BAT_JS: &str = include_str!("site/bat.js");

/// The planted CMP bug of the default variant (cmp.js, reject handler), removed in `next`.
const CMP_REJECT_BUG: &str = "    // PLANTED CMP BUG: the reject handler also starts Hotjar, as if consent had been given.\n    loadHotjar();\n";
/// What cmp.js loads once consent is given; `next` loads Hotjar there too.
const CMP_WITH_CONSENT: &str = "      loadAnalytics();\n";
const CMP_WITH_CONSENT_NEXT: &str = "      loadAnalytics();\n      // Next variant: the reject bug is fixed; Hotjar loads with consent, like the Google tag.\n      loadHotjar();\n";

const INDEX_MAIN: &str = r#"  <h1>Products</h1>
  <ul class="products">
    <li>Blue mug <strong>12 EUR</strong></li>
    <li>Green teapot <strong>34 EUR</strong></li>
    <li>Tea towel <strong>8 EUR</strong></li>
  </ul>
  <p><a href="/checkout">Go to checkout</a></p>"#;

const CHECKOUT_MAIN: &str = r#"  <h1>Checkout</h1>
  <p>Your basket: Blue mug, 12 EUR.</p>
  <div id="payment-element">Card payment (Stripe)</div>"#;

const CHECKOUT_HEAD: &str = r#"<script src="https://js.stripe.com/v3/"></script>"#;

/// A transparent 1x1 GIF.
const GIF_1X1: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// A transparent 1x1 PNG.
const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x00, 0x02, 0x00,
    0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

pub(super) const JS: &str = "text/javascript; charset=utf-8";
pub(super) const HTML: &str = "text/html; charset=utf-8";

/// The page script: in `next`, followed by the new Microsoft Ads tag loader.
fn site_js(variant: Variant) -> String {
    match variant {
        Variant::Default => SITE_JS.to_string(),
        Variant::Next => format!("{SITE_JS}{SITE_NEXT_JS}"),
    }
}

/// The CMP: in `next`, the reject handler no longer starts Hotjar, which is loaded with consent.
fn cmp_js(variant: Variant) -> String {
    match variant {
        Variant::Default => CMP_JS.to_string(),
        Variant::Next => CMP_JS.replacen(CMP_REJECT_BUG, "", 1).replacen(
            CMP_WITH_CONSENT,
            CMP_WITH_CONSENT_NEXT,
            1,
        ),
    }
}

/// Builds the response for one request. `host` is lower-case without port; `cookies` is the
/// request's `Cookie` header, if any. Unknown hosts and paths get 404.
pub(super) fn respond(
    variant: Variant,
    host: &str,
    path: &str,
    cookies: Option<&str>,
) -> Response<Full<Bytes>> {
    if path.starts_with("/lab/") {
        if let Some(resp) = super::lab::respond(host, path) {
            return resp;
        }
    }
    match (host, path) {
        (SHOP_HOST, "/") => {
            let page = index_page();
            if has_cookie(cookies, "sid") {
                ok(HTML, page)
            } else {
                let sid = format!("sid={}; Path=/; HttpOnly; Secure; SameSite=Lax", token());
                with_cookie(ok(HTML, page), &sid)
            }
        }
        (SHOP_HOST, "/checkout") => ok(HTML, checkout_page()),
        (SHOP_HOST, "/site.js") => ok(JS, site_js(variant)),
        (SHOP_HOST, "/cmp.js") => ok(JS, cmp_js(variant)),
        (SHOP_HOST, "/metrics-worker.js") => ok(JS, WORKER_JS),
        (SHOP_HOST, "/favicon.ico") => no_content(),
        (STATIC_HOST, "/style.css") => ok("text/css; charset=utf-8", STYLE_CSS),
        (STATIC_HOST, "/logo.png") => ok("image/png", PNG_1X1),

        ("connect.facebook.net", "/en_US/fbevents.js") => ok(JS, FBEVENTS_JS),
        ("www.facebook.com", "/tr") => {
            let fr = format!(
                "fr={}; Max-Age=7776000; Path=/; Secure; SameSite=None",
                token()
            );
            with_cookie(gif(), &fr)
        }
        ("www.googletagmanager.com", "/gtag/js") => ok(JS, GTAG_JS),
        ("www.google-analytics.com", "/g/collect") => no_content(),
        ("analytics.tiktok.com", "/i18n/pixel/events.js") => ok(JS, TIKTOK_JS),
        ("analytics.tiktok.com", "/api/v2/pixel") => gif(),
        ("static.hotjar.com", "/c/hotjar-demo.js") => ok(JS, HOTJAR_JS),
        ("static.hotjar.com", "/ping") => gif(),
        ("sb.scorecardresearch.com", "/p" | "/b") => no_content(),
        ("static.chartbeat.com", "/js/chartbeat.js") => ok(JS, CHARTBEAT_JS),
        ("static.chartbeat.com", "/ping") => gif(),
        ("js.stripe.com", "/v3/") => ok(JS, STRIPE_JS),
        ("www.recaptcha.net", "/recaptcha/api2/anchor") => {
            let grecaptcha = format!(
                "_GRECAPTCHA={}; Max-Age=15552000; Path=/recaptcha; Secure; SameSite=None",
                token()
            );
            with_cookie(ok(HTML, RECAPTCHA_ANCHOR_HTML), &grecaptcha)
        }
        ("www.recaptcha.net", "/recaptcha/api2/logo.png") => ok("image/png", PNG_1X1),
        ("www.gstatic.com", "/recaptcha/releases/demo/recaptcha__en.js") => ok(JS, RECAPTCHA_JS),
        (BING_HOST, "/bat.js") if variant == Variant::Next => ok(JS, BAT_JS),
        (BING_HOST, "/action/0") if variant == Variant::Next => gif(),
        _ => status_only(StatusCode::NOT_FOUND, "not found\n"),
    }
}

fn index_page() -> String {
    render_page("Products", "", INDEX_MAIN)
}

fn checkout_page() -> String {
    render_page("Checkout", CHECKOUT_HEAD, CHECKOUT_MAIN)
}

fn render_page(title: &str, head: &str, main: &str) -> String {
    PAGE.replace("{{TITLE}}", title)
        .replace("{{HEAD}}", head)
        .replace("{{MAIN}}", main)
}

fn has_cookie(header: Option<&str>, name: &str) -> bool {
    header.is_some_and(|h| {
        h.split(';')
            .filter_map(|pair| pair.split_once('='))
            .any(|(k, _)| k.trim() == name)
    })
}

pub(super) fn ok(content_type: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(body.into()));
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

pub(super) fn gif() -> Response<Full<Bytes>> {
    ok("image/gif", GIF_1X1)
}

fn no_content() -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::new()));
    *resp.status_mut() = StatusCode::NO_CONTENT;
    resp
}

fn status_only(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut resp = ok("text/plain; charset=utf-8", text);
    *resp.status_mut() = status;
    resp
}

pub(super) fn with_cookie(mut resp: Response<Full<Bytes>>, cookie: &str) -> Response<Full<Bytes>> {
    // The cookie is built from fixed text and a hex token, so it is always a valid header value.
    if let Ok(value) = HeaderValue::from_str(cookie) {
        resp.headers_mut().append(SET_COOKIE, value);
    }
    resp
}

/// Marks a response as never cacheable, so every page view reaches the server.
pub(super) fn no_store(resp: &mut Response<Full<Bytes>>) {
    resp.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A random 32-hex-digit token for cookie values (not cryptographic; the demo needs only
/// distinct values).
fn token() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let a = RandomState::new().hash_one(n);
    let b = RandomState::new().hash_one(n ^ a);
    format!("{a:016x}{b:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_host_and_path_are_404() {
        assert_eq!(
            respond(Variant::Default, "example.org", "/", None).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            respond(Variant::Default, SHOP_HOST, "/nope", None).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn sid_only_when_absent() {
        assert!(respond(Variant::Default, SHOP_HOST, "/", None)
            .headers()
            .contains_key(SET_COOKIE));
        let again = respond(Variant::Default, SHOP_HOST, "/", Some("a=1; sid=abc"));
        assert!(!again.headers().contains_key(SET_COOKIE));
    }

    #[test]
    fn pages_have_every_cmp_selector() {
        for page in [index_page(), checkout_page()] {
            for id in [
                "consent-banner",
                "cb-accept",
                "cb-reject",
                "cb-settings",
                "cb-object-li",
                "cb-save",
                "cb-reopen",
            ] {
                assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
            }
        }
    }

    #[test]
    fn tokens_differ() {
        assert_ne!(token(), token());
        assert_eq!(token().len(), 32);
    }

    #[test]
    fn no_third_party_url_outside_demo_hosts() {
        // Every absolute URL in the site files must point at a host the demo serves, and the
        // declared-but-unused vendor must never appear.
        for text in [
            PAGE,
            SITE_JS,
            CMP_JS,
            WORKER_JS,
            STYLE_CSS,
            FBEVENTS_JS,
            GTAG_JS,
            TIKTOK_JS,
            HOTJAR_JS,
            CHARTBEAT_JS,
            STRIPE_JS,
            RECAPTCHA_ANCHOR_HTML,
            RECAPTCHA_JS,
            SITE_NEXT_JS,
            BAT_JS,
            CMP_WITH_CONSENT_NEXT,
            CHECKOUT_HEAD,
            super::super::lab::ABORT_HTML,
            super::super::lab::REDIRECT_HTML,
            super::super::lab::BEACON_HTML,
            super::super::lab::ERROR_HTML,
        ] {
            assert!(!text.contains("optimizely"));
            for (i, _) in text.match_indices("https://") {
                let rest = &text[i + "https://".len()..];
                let host: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
                    .collect();
                assert!(super::super::DEMO_HOSTS.contains(&host.as_str()), "{host}");
                let end = rest.find(['\'', '"', ')']).unwrap_or(rest.len());
                let url = &rest[..end];
                let path = url[host.len()..].split('?').next().unwrap_or("");
                let path = if path.is_empty() { "/" } else { path };
                // `next` serves everything the default variant does, and the new vendor.
                let status = respond(Variant::Next, &host, path, None).status();
                assert_ne!(status, StatusCode::NOT_FOUND, "{url}");
            }
        }
    }

    fn body(variant: Variant, host: &str, path: &str) -> (StatusCode, String) {
        let resp = respond(variant, host, path, None);
        let status = resp.status();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        let bytes = rt
            .block_on(http_body_util::BodyExt::collect(resp.into_body()))
            .expect("body")
            .to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[test]
    fn default_variant_serves_the_site_files_unchanged() {
        assert_eq!(body(Variant::Default, SHOP_HOST, "/site.js").1, SITE_JS);
        assert_eq!(body(Variant::Default, SHOP_HOST, "/cmp.js").1, CMP_JS);
        for path in ["/bat.js", "/action/0"] {
            assert_eq!(
                body(Variant::Default, BING_HOST, path).0,
                StatusCode::NOT_FOUND
            );
        }
    }

    #[test]
    fn next_variant_fixes_the_reject_bug_and_adds_the_bing_tag() {
        // The patch points exist exactly once, so the fix cannot silently stop applying.
        assert_eq!(CMP_JS.matches(CMP_REJECT_BUG).count(), 1);
        assert_eq!(CMP_JS.matches(CMP_WITH_CONSENT).count(), 1);
        let cmp = body(Variant::Next, SHOP_HOST, "/cmp.js").1;
        assert!(!cmp.contains("PLANTED CMP BUG"), "{cmp}");
        let reject = &cmp[cmp.find("'cb-reject'").expect("reject handler")..];
        let reject = &reject[..reject.find("});").expect("end of handler")];
        assert!(!reject.contains("loadHotjar"), "{reject}");
        let apply = &cmp[cmp.find("function applyConsent").expect("applyConsent")..];
        let apply = &apply[..apply.find("\n  }\n").expect("end of applyConsent")];
        assert!(apply.contains("loadHotjar();"), "{apply}");

        let site = body(Variant::Next, SHOP_HOST, "/site.js").1;
        assert!(site.starts_with(SITE_JS));
        assert!(site.contains("https://bat.bing.com/bat.js"));
        assert!(!SITE_JS.contains("bing"));
        assert_eq!(body(Variant::Next, BING_HOST, "/bat.js").0, StatusCode::OK);
        assert_eq!(
            body(Variant::Next, BING_HOST, "/action/0").0,
            StatusCode::OK
        );
    }
}
