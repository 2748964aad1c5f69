//! What the demo site answers: one pure function from (host, path, request cookies) to a response.
//!
//! The pages and scripts live in `site/` and are embedded at compile time. The behaviours, planted
//! violations included, are described in `docs/demo.md`.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE, SET_COOKIE};
use hyper::{Response, StatusCode};

use super::{SHOP_HOST, STATIC_HOST};

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

/// Builds the response for one request. `host` is lower-case without port; `cookies` is the
/// request's `Cookie` header, if any. Unknown hosts and paths get 404.
pub(super) fn respond(host: &str, path: &str, cookies: Option<&str>) -> Response<Full<Bytes>> {
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
        (SHOP_HOST, "/site.js") => ok(JS, SITE_JS),
        (SHOP_HOST, "/cmp.js") => ok(JS, CMP_JS),
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
            respond("example.org", "/", None).status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            respond(SHOP_HOST, "/nope", None).status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn sid_only_when_absent() {
        assert!(respond(SHOP_HOST, "/", None)
            .headers()
            .contains_key(SET_COOKIE));
        let again = respond(SHOP_HOST, "/", Some("a=1; sid=abc"));
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
                let status = respond(&host, path, None).status();
                assert_ne!(status, StatusCode::NOT_FOUND, "{url}");
            }
        }
    }
}
