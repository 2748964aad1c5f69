//! Page discovery with the engine's browser: [`crate::crawl::discover`] over a fresh
//! browser context (of a pooled browser, as a scenario gets one; no consent action),
//! which fetches robots.txt and sitemaps
//! with `fetch()` from a page of their origin and renders pages for their links.
//!
//! One browser context per site's discovery, one tab, one request at a time; every request is
//! bounded in time (the page-load timeout, 30 s for a fetch) and raced against the
//! cancellation, and the browser is closed whatever happens.

use super::pool::{start_fresh, start_reused, Started};
use super::{cancelled, Cancel, Engine};
use crate::browser::Session;
use crate::crawl::{self, CrawlPlan, Fetch, Fetched, Limits, Render, Rendered, Target};
use crate::scenario::AuditSpec;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;
use std::time::{Duration, Instant};
use url::Url;

/// The most bytes taken from one fetch (a sitemap may be 50 MiB uncompressed; a gzipped
/// one is smaller).
const MAX_FETCH_BYTES: usize = 50 * 1024 * 1024;
/// A fetch that has not answered by then is a failure.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// A rendered page's HTML is read until two reads this far apart agree (scripts that
/// add links after the load event), for at most [`RENDER_SETTLE_MAX`].
const RENDER_SETTLE_STEP: Duration = Duration::from_millis(250);
const RENDER_SETTLE_MAX: Duration = Duration::from_secs(3);

/// GET `arguments[0]` from the page, without cookies: status, content type and the
/// body as base64 (at most `arguments[1]` bytes).
const FETCH_JS: &str = r#"
const [url, max, done] = arguments;
fetch(url, { credentials: 'omit', redirect: 'follow', cache: 'no-store' })
  .then(async (r) => {
    const buf = new Uint8Array(await r.arrayBuffer());
    const part = buf.subarray(0, max);
    let s = '';
    for (let i = 0; i < part.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, part.subarray(i, i + 0x8000));
    }
    done({ status: r.status, type: r.headers.get('content-type'), body: btoa(s) });
  })
  .catch((e) => done({ error: String(e) }));
"#;

#[derive(Deserialize)]
struct FetchAnswer {
    status: Option<u16>,
    #[serde(rename = "type")]
    content_type: Option<String>,
    body: Option<String>,
    error: Option<String>,
}

/// The browser's one tab, as a fetcher and a renderer.
struct Tab<'a> {
    session: &'a Session,
    page_load: Duration,
    cancel: Cancel,
}

impl Tab<'_> {
    /// Run `fut` unless cancelled first or past `limit`.
    async fn bounded<T>(
        &self,
        limit: Duration,
        what: &str,
        fut: impl std::future::Future<Output = Result<T, String>>,
    ) -> Result<T, String> {
        tokio::select! {
            r = tokio::time::timeout(limit, fut) => r.unwrap_or_else(|_| Err(format!("{what} did not finish within {}s", limit.as_secs()))),
            _ = cancelled(self.cancel.clone()) => Err("interrupted".to_string()),
        }
    }

    /// Make the tab show a document of `url`'s origin, so `fetch()` is a same-origin
    /// request: its robots.txt (small, and any answer will do) when the browser shows it
    /// as a document, else (served as a download, say) the origin's home page.
    async fn to_origin(&self, url: &Url) -> Result<(), String> {
        for path in ["/robots.txt", "/"] {
            if self.at_origin(url).await {
                return Ok(());
            }
            let doc = url.join(path).map_err(|e| e.to_string())?;
            self.session
                .client
                .goto(doc.as_str())
                .await
                .map_err(|e| format!("cannot open {doc}: {e}"))?;
        }
        if self.at_origin(url).await {
            return Ok(());
        }
        Err(format!(
            "no document of {} could be opened to fetch from",
            url.origin().ascii_serialization()
        ))
    }

    async fn at_origin(&self, url: &Url) -> bool {
        let here = self.session.client.current_url().await.ok();
        here.is_some_and(|h| h.origin() == url.origin())
    }

    async fn html(&self) -> Result<String, String> {
        let v = self
            .session
            .client
            .execute(
                "return document.readyState === 'complete' ? document.documentElement.outerHTML : null",
                vec![],
            )
            .await
            .map_err(|e| format!("cannot read the page: {e}"))?;
        Ok(v.as_str().map(str::to_string).unwrap_or_default())
    }
}

impl Fetch for Tab<'_> {
    async fn fetch(&self, url: &Url) -> Result<Fetched, String> {
        let limit = self.page_load + FETCH_TIMEOUT;
        self.bounded(limit, &format!("fetching {url}"), async {
            self.to_origin(url).await?;
            let v = self
                .session
                .client
                .execute_async(FETCH_JS, vec![json!(url.as_str()), json!(MAX_FETCH_BYTES)])
                .await
                .map_err(|e| format!("fetch failed: {e}"))?;
            let a: FetchAnswer =
                serde_json::from_value(v).map_err(|e| format!("fetch answered oddly: {e}"))?;
            if let Some(e) = a.error {
                return Err(e);
            }
            let body = base64::engine::general_purpose::STANDARD
                .decode(a.body.unwrap_or_default())
                .map_err(|e| format!("fetch answered bad base64: {e}"))?;
            Ok(Fetched {
                status: a.status.unwrap_or(0),
                content_type: a.content_type,
                body,
            })
        })
        .await
    }
}

impl Render for Tab<'_> {
    async fn render(&self, url: &Url) -> Result<Rendered, String> {
        let limit = self.page_load + RENDER_SETTLE_MAX + Duration::from_secs(5);
        self.bounded(limit, &format!("loading {url}"), async {
            self.session
                .client
                .goto(url.as_str())
                .await
                .map_err(|e| format!("page {url} could not be loaded: {e}"))?;
            let t = Instant::now();
            let mut last = self.html().await?;
            while t.elapsed() < RENDER_SETTLE_MAX {
                tokio::time::sleep(RENDER_SETTLE_STEP).await;
                let now = self.html().await?;
                if now == last && !now.is_empty() {
                    break;
                }
                last = now;
            }
            let at = self
                .session
                .client
                .current_url()
                .await
                .map_err(|e| format!("cannot read the page's URL: {e}"))?;
            Ok(Rendered {
                url: at,
                html: last,
            })
        })
        .await
    }
}

/// The pages `spec`'s scenarios visit: the listed pages, and with `[site] crawl` the
/// pages discovery samples ([`crate::crawl`], docs/crawl.md). Never fails: a browser
/// that does not start leaves the listed pages, with the reason in the plan.
pub async fn discover(engine: &Engine, spec: &AuditSpec, cancel: Cancel) -> CrawlPlan {
    discover_with(engine, spec, &Limits::default(), cancel).await
}

/// [`discover`] within `limits`.
pub async fn discover_with(
    engine: &Engine,
    spec: &AuditSpec,
    limits: &Limits,
    cancel: Cancel,
) -> CrawlPlan {
    let site = &spec.site;
    let settings = match &site.crawl {
        Some(s) => s.clone(),
        None => return crawl::listed_only(&site.base_url, &site.pages, None),
    };
    // A browser of the engine's pool with a fresh browser context (else a fresh
    // browser), as a scenario gets one: no page script, no consent action.
    let start = async {
        match &engine.pool {
            Some(pool) => {
                start_reused(
                    &engine.browser,
                    pool,
                    None,
                    &spec.browser,
                    None,
                    &engine.hasher,
                )
                .await
            }
            None => start_fresh(&engine.browser, &spec.browser, None, &engine.hasher).await,
        }
    };
    let started = tokio::select! {
        s = start => s,
        _ = cancelled(cancel.clone()) => {
            return crawl::listed_only(&site.base_url, &site.pages, Some("interrupted".into()));
        }
    };
    let Started {
        session,
        capture,
        next,
    } = match started {
        Ok(s) => s,
        Err(f) => {
            let why = format!("the browser for discovery could not start: {}", f.reason);
            return crawl::listed_only(&site.base_url, &site.pages, Some(why));
        }
    };
    let tab = Tab {
        session: &session,
        page_load: spec.browser.page_load_timeout,
        cancel: cancel.clone(),
    };
    let target = Target {
        base: &site.base_url,
        listed: &site.pages,
        first_party_domains: &site.first_party_domains,
    };
    let stop = {
        let cancel = cancel.clone();
        move || *cancel.borrow()
    };
    let plan = crawl::discover(target, &settings, limits, &tab, &tab, &stop).await;
    // Hand the browser back to the pool (its context disposed of), unless something
    // went wrong with it or the run is interrupted; else close it.
    let interrupted = *cancel.borrow();
    match &engine.pool {
        Some(pool) => {
            let (_, disposed) = capture.finish_context().await;
            if disposed.is_ok() && !interrupted {
                if let Some(extra) = pool.put(&spec.browser, session, next) {
                    let _ = extra.close().await;
                }
            } else {
                drop(next);
                let _ = session.close().await;
            }
        }
        None => {
            drop(capture.finish());
            drop(next);
            let _ = session.close().await;
        }
    }
    plan
}
