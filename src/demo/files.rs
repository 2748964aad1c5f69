//! Fixture sites made of files (`consentry demo-site --root DIR`): the real-CMP and
//! consent-signal fixtures of `fixtures/sites/` (docs/fixtures.md).
//!
//! Layout: `ROOT/<host>/<path>`, one directory per hostname the site and its vendors use
//! (`ROOT/www.tcf-shop.test/index.html`, `ROOT/connect.facebook.net/en_US/fbevents.js`).
//! Chromium reaches every host through `--host-resolver-rules`, as for the demo shop.
//!
//! - `/_fixtures/<file>` on any host is `ASSETS/<file>`: what `make fixtures` built from the
//!   pinned npm packages (CMP bundles, autoconsent, golden vectors), never committed.
//! - A directory answers with its `index.html`.
//! - `<file>.headers` beside a file adds response headers, one `Name: value` per line
//!   (e.g. `Set-Cookie`); lines starting with `#` are comments. A directory's sidecar
//!   (`<dir>.headers` beside the directory, and `ROOT/<host>.headers` for the whole host)
//!   applies to every path under it, whether the file exists or not; the sidecars of a
//!   path apply from the outermost to the file's own.
//! - The pseudo-header `Status: CODE` in a sidecar sets the response's status (the
//!   innermost one wins): `ROOT/<host>.headers` with `Status: 500` makes a host answer 500
//!   for everything; `Status: 302` with `Location: /` a redirect loop. `Status: hang`
//!   reads the request and never answers (the connection stays open until the client
//!   gives up or the server stops): a site that hangs.
//! - A missing path answers `204 No Content` (what beacon and pixel endpoints answer),
//!   except for pages, scripts, styles, JSON, XML, text and gzip files (sitemaps,
//!   robots.txt), which answer 404 so a broken fixture is visible. Every request is logged
//!   either way.
//! - Paths with `..`, backslashes or hidden segments (other than `.well-known`) are
//!   refused with 404.

use std::path::{Path, PathBuf};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Response, StatusCode};

/// A fixture site of files and the built assets it may use.
#[derive(Debug, Clone)]
pub struct FileSite {
    /// `<host>/<path>` files.
    pub root: PathBuf,
    /// What `/_fixtures/` serves (`fixtures/build`).
    pub assets: PathBuf,
}

impl FileSite {
    /// `fixtures/sites/<name>` with `fixtures/build`, under the project directory `project`.
    pub fn named(project: &Path, name: &str) -> FileSite {
        FileSite {
            root: project.join("fixtures/sites").join(name),
            assets: project.join("fixtures/build"),
        }
    }
}

impl FileSite {
    /// A generation of the agency fixture (`DIR/sites`, see [`super::agency`]) with
    /// `fixtures/build` under the project directory `project`.
    pub fn agency(project: &Path, dir: &Path) -> FileSite {
        FileSite {
            root: super::agency::sites_dir(dir),
            assets: project.join("fixtures/build"),
        }
    }
}

const ASSET_PREFIX: &str = "/_fixtures/";

/// What a file site answers to a request.
pub(super) enum Answer {
    /// This response, now.
    Now(Response<Full<Bytes>>),
    /// Nothing, ever (a sidecar said `Status: hang`).
    Hang,
}

pub(super) fn respond(site: &FileSite, host: &str, path: &str) -> Answer {
    let Some(file) = locate(site, host, path) else {
        return Answer::Now(status(StatusCode::NOT_FOUND, "not found\n"));
    };
    let file = if file.is_dir() {
        file.join("index.html")
    } else {
        file
    };
    let mut own = file.as_os_str().to_owned();
    own.push(".headers");
    let sidecars = Sidecars::read(site, host, path).and(&PathBuf::from(own));
    if sidecars.hang {
        return Answer::Hang;
    }
    let mut resp = match std::fs::read(&file) {
        Ok(body) => {
            let mut resp = Response::new(Full::new(Bytes::from(body)));
            resp.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&file)),
            );
            resp
        }
        Err(_) if must_exist(&file) => status(StatusCode::NOT_FOUND, "not found\n"),
        Err(_) => status(StatusCode::NO_CONTENT, ""),
    };
    for (name, value) in sidecars.headers {
        resp.headers_mut().append(name, value);
    }
    if let Some(code) = sidecars.status {
        *resp.status_mut() = code;
    }
    Answer::Now(resp)
}

/// The file a request maps to, or `None` for a path that may not be served.
fn locate(site: &FileSite, host: &str, path: &str) -> Option<PathBuf> {
    let (base, rest) = match path.strip_prefix(ASSET_PREFIX) {
        Some(rest) => (site.assets.clone(), rest),
        None => {
            if host.is_empty() || !safe_segment(host) {
                return None;
            }
            (site.root.join(host), path.trim_start_matches('/'))
        }
    };
    let mut file = base;
    for seg in rest.split('/').filter(|s| !s.is_empty()) {
        if !safe_segment(seg) {
            return None;
        }
        file.push(seg);
    }
    Some(file)
}

fn safe_segment(seg: &str) -> bool {
    seg != ".."
        && !seg.contains('\\')
        && !seg.contains('\0')
        && (!seg.starts_with('.') || seg == ".well-known")
}

fn must_exist(file: &Path) -> bool {
    matches!(
        file.extension().and_then(|e| e.to_str()),
        Some("html" | "js" | "mjs" | "css" | "json" | "xml" | "txt" | "gz")
    )
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        Some("xml") => "application/xml",
        Some("txt") => "text/plain; charset=utf-8",
        Some("gz") => "application/gzip",
        _ => "application/octet-stream",
    }
}

/// What the sidecars of a path say: headers to add, a status, or a hang.
#[derive(Default)]
struct Sidecars {
    headers: Vec<(HeaderName, HeaderValue)>,
    status: Option<StatusCode>,
    hang: bool,
}

impl Sidecars {
    /// The sidecars of the host and of every directory on `path` (outermost first); the
    /// file's own sidecar is added once the file is known ([`Sidecars::and`]). Asset
    /// paths (`/_fixtures/`) get the host's sidecar only.
    fn read(site: &FileSite, host: &str, path: &str) -> Sidecars {
        let mut found = Sidecars::default();
        if host.is_empty() || !safe_segment(host) {
            return found;
        }
        let mut dir = site.root.join(host);
        found = found.and(&site.root.join(format!("{host}.headers")));
        if path.starts_with(ASSET_PREFIX) {
            return found;
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // Every segment but the last is a directory on the way; the last one is the file
        // (or a directory answered by its index.html), whose own sidecar comes last.
        for seg in segments.iter().take(segments.len().saturating_sub(1)) {
            if !safe_segment(seg) {
                return found;
            }
            found = found.and(&dir.join(format!("{seg}.headers")));
            dir.push(seg);
        }
        if let Some(last) = segments.last() {
            if safe_segment(last) && dir.join(last).is_dir() {
                found = found.and(&dir.join(format!("{last}.headers")));
            }
        }
        found
    }

    /// These sidecars and the one at `file` (read if it exists), which wins on `Status`.
    fn and(mut self, file: &Path) -> Sidecars {
        let Ok(text) = std::fs::read_to_string(file) else {
            return self;
        };
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("status") {
                let code = value.split_whitespace().next().unwrap_or_default();
                if code.eq_ignore_ascii_case("hang") {
                    self.hang = true;
                } else if let Ok(code) = code.parse::<u16>() {
                    if let Ok(code) = StatusCode::from_u16(code) {
                        self.status = Some(code);
                        self.hang = false;
                    }
                }
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                self.headers.push((name, value));
            }
        }
        self
    }
}

fn status(code: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *resp.status_mut() = code;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> (tempfile::TempDir, FileSite) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("sites");
        let assets = dir.path().join("build");
        std::fs::create_dir_all(root.join("www.a.test/.well-known")).unwrap();
        std::fs::create_dir_all(&assets).unwrap();
        std::fs::write(root.join("www.a.test/index.html"), "<p>hi</p>").unwrap();
        std::fs::write(root.join("www.a.test/.well-known/gpc.json"), "{}").unwrap();
        std::fs::write(root.join("www.a.test/p.gif"), "GIF").unwrap();
        std::fs::write(
            root.join("www.a.test/p.gif.headers"),
            "# a vendor cookie\nSet-Cookie: id=1; Max-Age=60\n",
        )
        .unwrap();
        std::fs::write(assets.join("cmp.js"), "//cmp").unwrap();
        (dir, FileSite { root, assets })
    }

    /// The response a request gets at once (a test failure for a hang).
    fn respond(s: &FileSite, host: &str, path: &str) -> Response<Full<Bytes>> {
        match super::respond(s, host, path) {
            Answer::Now(r) => r,
            Answer::Hang => panic!("{host}{path} hangs"),
        }
    }

    #[test]
    fn files_assets_sidecars_and_misses() {
        let (_dir, s) = site();
        let r = respond(&s, "www.a.test", "/");
        assert_eq!(r.status(), StatusCode::OK);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let r = respond(&s, "www.a.test", "/p.gif");
        assert_eq!(r.headers()["set-cookie"], "id=1; Max-Age=60");
        assert_eq!(
            respond(&s, "any.test", "/_fixtures/cmp.js").status(),
            StatusCode::OK
        );
        assert_eq!(
            respond(&s, "www.a.test", "/.well-known/gpc.json").status(),
            StatusCode::OK
        );
        assert_eq!(
            respond(&s, "www.a.test", "/collect").status(),
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            respond(&s, "www.a.test", "/gone.js").status(),
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn escapes_are_refused() {
        let (_dir, s) = site();
        for path in [
            "/../sites/www.a.test/index.html",
            "/_fixtures/../sites",
            "/.git/config",
            "/a\\b",
        ] {
            assert_eq!(
                respond(&s, "www.a.test", path).status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
        assert_eq!(respond(&s, "..", "/").status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn directory_and_host_sidecars_status_and_hang() {
        let (dir, s) = site();
        let root = dir.path().join("sites");
        std::fs::create_dir_all(root.join("www.a.test/shop/item")).unwrap();
        std::fs::write(root.join("www.a.test/shop/item/index.html"), "<p>item</p>").unwrap();
        std::fs::write(root.join("www.a.test/shop.headers"), "X-Area: shop\n").unwrap();
        std::fs::write(
            root.join("www.a.test/shop/item.headers"),
            "X-Area: item\nStatus: 410 Gone\n",
        )
        .unwrap();
        // A directory's sidecar covers what is under it, outermost first; the innermost
        // status wins; a missing file under it gets them too.
        let r = respond(&s, "www.a.test", "/shop/item");
        assert_eq!(r.status(), StatusCode::GONE);
        let areas: Vec<_> = r.headers().get_all("x-area").iter().collect();
        assert_eq!(areas, ["shop", "item"]);
        let r = respond(&s, "www.a.test", "/shop/none.gif");
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(r.headers()["x-area"], "shop");
        // Other paths of the host are untouched.
        assert!(respond(&s, "www.a.test", "/p.gif")
            .headers()
            .get("x-area")
            .is_none());

        // A host's sidecar: every path, assets included, existing or not.
        std::fs::create_dir_all(root.join("www.down.test")).unwrap();
        std::fs::write(root.join("www.down.test/index.html"), "<p>down</p>").unwrap();
        std::fs::write(root.join("www.down.test.headers"), "Status: 500\n").unwrap();
        for path in [
            "/",
            "/index.html",
            "/missing.js",
            "/x/y",
            "/_fixtures/cmp.js",
        ] {
            assert_eq!(
                respond(&s, "www.down.test", path).status(),
                StatusCode::INTERNAL_SERVER_ERROR,
                "{path}"
            );
        }
        std::fs::write(
            root.join("www.loop.test.headers"),
            "Status: 302\nLocation: /\n",
        )
        .unwrap();
        let r = respond(&s, "www.loop.test", "/");
        assert_eq!(r.status(), StatusCode::FOUND);
        assert_eq!(r.headers()["location"], "/");

        std::fs::write(root.join("www.hang.test.headers"), "Status: hang\n").unwrap();
        for path in ["/", "/robots.txt", "/_fixtures/cmp.js"] {
            assert!(
                matches!(super::respond(&s, "www.hang.test", path), Answer::Hang),
                "{path}"
            );
        }
        // An inner numeric status overrides an outer hang.
        std::fs::create_dir_all(root.join("www.hang.test/up")).unwrap();
        std::fs::write(root.join("www.hang.test/up.headers"), "Status: 200\n").unwrap();
        assert_eq!(
            respond(&s, "www.hang.test", "/up/ping.gif").status(),
            StatusCode::OK
        );
        // Garbage status lines are ignored, like malformed headers.
        std::fs::write(root.join("www.a.test/p.gif.headers"), "Status: soon\n").unwrap();
        assert_eq!(respond(&s, "www.a.test", "/p.gif").status(), StatusCode::OK);
    }

    #[test]
    fn sitemaps_and_robots_are_typed_and_must_exist() {
        let (dir, s) = site();
        let root = dir.path().join("sites/www.a.test");
        std::fs::write(root.join("robots.txt"), "User-agent: *\n").unwrap();
        std::fs::write(root.join("sitemap.xml"), "<urlset/>").unwrap();
        std::fs::write(root.join("s.xml.gz"), [0x1f, 0x8b]).unwrap();
        for (path, ty) in [
            ("/robots.txt", "text/plain; charset=utf-8"),
            ("/sitemap.xml", "application/xml"),
            ("/s.xml.gz", "application/gzip"),
        ] {
            assert_eq!(
                respond(&s, "www.a.test", path).headers()["content-type"],
                ty
            );
        }
        for path in ["/nope.xml", "/nope.txt", "/nope.xml.gz"] {
            assert_eq!(
                respond(&s, "www.a.test", path).status(),
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }
}
