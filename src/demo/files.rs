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
//!   (e.g. `Set-Cookie`); lines starting with `#` are comments.
//! - A missing path answers `204 No Content` (what beacon and pixel endpoints answer),
//!   except for pages, scripts, styles and JSON, which answer 404 so a broken fixture is
//!   visible. Every request is logged either way.
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

const ASSET_PREFIX: &str = "/_fixtures/";

pub(super) fn respond(site: &FileSite, host: &str, path: &str) -> Response<Full<Bytes>> {
    let Some(file) = locate(site, host, path) else {
        return status(StatusCode::NOT_FOUND, "not found\n");
    };
    let file = if file.is_dir() {
        file.join("index.html")
    } else {
        file
    };
    match std::fs::read(&file) {
        Ok(body) => {
            let mut resp = Response::new(Full::new(Bytes::from(body)));
            resp.headers_mut().insert(
                hyper::header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&file)),
            );
            add_sidecar_headers(&mut resp, &file);
            resp
        }
        Err(_) if must_exist(&file) => status(StatusCode::NOT_FOUND, "not found\n"),
        Err(_) => status(StatusCode::NO_CONTENT, ""),
    }
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
        Some("html" | "js" | "mjs" | "css" | "json")
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
        _ => "application/octet-stream",
    }
}

fn add_sidecar_headers(resp: &mut Response<Full<Bytes>>, file: &Path) {
    let mut sidecar = file.as_os_str().to_owned();
    sidecar.push(".headers");
    let Ok(text) = std::fs::read_to_string(PathBuf::from(sidecar)) else {
        return;
    };
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            resp.headers_mut().append(name, value);
        }
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
}
