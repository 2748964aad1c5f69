//! Sitemaps (sitemaps.org): a `<urlset>` lists pages, a `<sitemapindex>` lists more
//! sitemaps; a plain-text sitemap lists one URL a line. Gzip is recognised by its magic
//! bytes (`1f 8b`), whatever the URL ends with: a `.gz` file the server already sent with
//! `Content-Encoding: gzip` arrives inflated.
//!
//! Bounded as the protocol bounds a file: at most [`MAX_URLS`] URLs and
//! [`MAX_UNCOMPRESSED`] bytes once inflated; the reader stops at either bound and says so
//! (a zip bomb inflates no further than the bound). A `<loc>` longer than
//! [`MAX_LOC_CHARS`] is skipped. Malformed XML stops the reading, keeping the URLs read
//! before it and saying why. Nothing here panics on input.

use flate2::read::GzDecoder;
use quick_xml::events::Event;
use quick_xml::Reader;
use std::cell::Cell;
use std::io::{BufReader, Read};
use std::rc::Rc;

/// URLs one sitemap file may list (sitemaps.org).
pub const MAX_URLS: usize = 50_000;
/// Bytes one sitemap file may hold, uncompressed (sitemaps.org: 50 MiB).
pub const MAX_UNCOMPRESSED: u64 = 50 * 1024 * 1024;
/// The longest URL kept (sitemaps.org: less than 2,048 characters).
pub const MAX_LOC_CHARS: usize = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SitemapKind {
    /// `<urlset>`: pages.
    UrlSet,
    /// `<sitemapindex>`: sitemaps.
    Index,
    /// One URL a line.
    Text,
}

/// What one sitemap file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sitemap {
    /// `None` when the file is not a sitemap at all.
    pub kind: Option<SitemapKind>,
    /// The `<loc>` values (or lines), in file order.
    pub locs: Vec<String>,
    /// Why the reading stopped early or found nothing (a bound, malformed XML, not a
    /// sitemap); the locs read before are kept.
    pub problem: Option<String>,
}

/// Read one sitemap file from the bytes fetched.
pub fn parse(bytes: &[u8]) -> Sitemap {
    parse_capped(bytes, MAX_UNCOMPRESSED)
}

/// [`parse`] with another bound on the inflated size (for tests).
fn parse_capped(bytes: &[u8], limit: u64) -> Sitemap {
    let over = Rc::new(Cell::new(false));
    let mut out = if bytes.starts_with(&[0x1f, 0x8b]) {
        read(Capped::new(GzDecoder::new(bytes), limit, over.clone()))
    } else {
        read(Capped::new(bytes, limit, over.clone()))
    };
    if over.get() {
        out.problem = Some(format!(
            "larger than {} bytes uncompressed: the rest is not read",
            limit
        ));
    }
    out
}

fn read<R: Read>(mut input: Capped<R>) -> Sitemap {
    // Peek at the first bytes to tell XML from text.
    let mut head = Vec::new();
    let mut first = [0u8; 512];
    let n = match input.read(&mut first) {
        Ok(n) => n,
        Err(e) => {
            return Sitemap {
                kind: None,
                locs: Vec::new(),
                problem: Some(format!("unreadable: {e}")),
            }
        }
    };
    head.extend_from_slice(&first[..n]);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let xml = head[start..].starts_with(b"<") || head[start..].starts_with("\u{feff}".as_bytes());
    let whole = std::io::Cursor::new(head).chain(input);
    if xml {
        read_xml(whole)
    } else {
        read_text(whole)
    }
}

fn read_text<R: Read>(input: R) -> Sitemap {
    let mut out = Sitemap {
        kind: Some(SitemapKind::Text),
        locs: Vec::new(),
        problem: None,
    };
    let mut text = Vec::new();
    let mut input = input;
    if let Err(e) = input.read_to_end(&mut text) {
        out.problem = Some(format!("unreadable: {e}"));
    }
    for line in String::from_utf8_lossy(&text).lines() {
        let line = line.trim();
        if !(line.starts_with("http://") || line.starts_with("https://")) {
            continue;
        }
        if out.locs.len() == MAX_URLS {
            out.problem = Some(format!("more than {MAX_URLS} URLs: the rest is not read"));
            break;
        }
        if line.chars().count() <= MAX_LOC_CHARS {
            out.locs.push(line.to_string());
        }
    }
    if out.locs.is_empty() && out.problem.is_none() {
        out.kind = None;
        out.problem = Some("not a sitemap: neither XML nor a list of URLs".into());
    }
    out
}

fn read_xml<R: Read>(input: R) -> Sitemap {
    let mut reader = Reader::from_reader(BufReader::new(input));
    reader.config_mut().trim_text(true);
    let mut out = Sitemap {
        kind: None,
        locs: Vec::new(),
        problem: None,
    };
    let mut buf = Vec::new();
    // Names of the open elements (local names, lower case), the root first.
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut loc: Option<String> = None;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                out.problem = Some(format!(
                    "malformed XML at byte {}: {e}",
                    reader.buffer_position()
                ));
                break;
            }
        };
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                if open.is_empty() {
                    out.kind = match name.as_slice() {
                        b"urlset" => Some(SitemapKind::UrlSet),
                        b"sitemapindex" => Some(SitemapKind::Index),
                        other => {
                            out.problem = Some(format!(
                                "not a sitemap: the root element is <{}>",
                                String::from_utf8_lossy(other)
                            ));
                            break;
                        }
                    };
                }
                if name == b"loc" && open.len() == 2 {
                    loc = Some(String::new());
                }
                open.push(name);
            }
            Event::End(_) => {
                let closed = open.pop();
                if let (Some(b"loc"), Some(l)) = (closed.as_deref(), loc.take()) {
                    let l = l.trim();
                    if out.locs.len() == MAX_URLS {
                        out.problem =
                            Some(format!("more than {MAX_URLS} URLs: the rest is not read"));
                        break;
                    }
                    if !l.is_empty() && l.chars().count() <= MAX_LOC_CHARS {
                        out.locs.push(l.to_string());
                    }
                }
            }
            Event::Empty(e) if open.is_empty() => {
                let name = e.local_name().as_ref().to_ascii_lowercase();
                out.kind = match name.as_slice() {
                    b"urlset" => Some(SitemapKind::UrlSet),
                    b"sitemapindex" => Some(SitemapKind::Index),
                    _ => None,
                };
                break;
            }
            Event::Text(t) => push_text(&mut loc, &t.decode().unwrap_or_default()),
            Event::CData(t) => push_text(&mut loc, &String::from_utf8_lossy(&t)),
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => Some(c.to_string()),
                    _ => r.decode().ok().and_then(|name| {
                        quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
                    }),
                };
                if let Some(s) = resolved {
                    push_text(&mut loc, &s);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if out.kind.is_none() && out.problem.is_none() {
        out.problem = Some("not a sitemap: no <urlset> or <sitemapindex>".into());
    }
    out
}

fn push_text(loc: &mut Option<String>, s: &str) {
    if let Some(l) = loc.as_mut() {
        // Stop growing a URL already too long to keep.
        if l.len() <= MAX_LOC_CHARS * 4 {
            l.push_str(s);
        }
    }
}

/// A reader that gives at most `limit` bytes, then reports end of input, remembering
/// that there was more.
struct Capped<R> {
    inner: R,
    left: u64,
    over: Rc<Cell<bool>>,
}

impl<R: Read> Capped<R> {
    fn new(inner: R, limit: u64, over: Rc<Cell<bool>>) -> Self {
        Capped {
            inner,
            left: limit,
            over,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            let mut probe = [0u8; 1];
            if self.inner.read(&mut probe)? > 0 {
                self.over.set(true);
            }
            return Ok(0);
        }
        let want = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    pub(crate) fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    const URLSET: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://a.test/p/1</loc><lastmod>2026-01-01</lastmod></url>
  <url><loc>
     https://a.test/search?q=a&amp;page=2
  </loc></url>
  <url><loc><![CDATA[https://a.test/c]]></loc></url>
  <url><image:image xmlns:image="x"><image:loc>https://a.test/img.png</image:loc></image:image></url>
</urlset>"#;

    #[test]
    fn reads_a_urlset_with_entities_and_cdata() {
        let s = parse(URLSET.as_bytes());
        assert_eq!(s.kind, Some(SitemapKind::UrlSet));
        assert_eq!(
            s.locs,
            [
                "https://a.test/p/1",
                "https://a.test/search?q=a&page=2",
                "https://a.test/c"
            ]
        );
        assert_eq!(s.problem, None);
    }

    #[test]
    fn reads_an_index_gzipped() {
        let index = r#"<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
            <sitemap><loc>https://a.test/s1.xml.gz</loc></sitemap>
            <sitemap><loc>https://a.test/s2.xml</loc></sitemap></sitemapindex>"#;
        let s = parse(&gzip(index.as_bytes()));
        assert_eq!(s.kind, Some(SitemapKind::Index));
        assert_eq!(
            s.locs,
            ["https://a.test/s1.xml.gz", "https://a.test/s2.xml"]
        );
    }

    #[test]
    fn text_sitemaps_and_non_sitemaps() {
        let s = parse(b"https://a.test/a\nnot a url\r\nhttps://a.test/b\n");
        assert_eq!(s.kind, Some(SitemapKind::Text));
        assert_eq!(s.locs, ["https://a.test/a", "https://a.test/b"]);
        let html = parse(b"<!doctype html><html><body>404</body></html>");
        assert_eq!(html.kind, None);
        assert!(html.problem.unwrap().contains("<html>"));
        assert_eq!(parse(b"").kind, None);
        assert_eq!(
            parse(&[0x1f, 0x8b, 1, 2, 3]).kind,
            None,
            "a broken gzip says so"
        );
    }

    #[test]
    fn malformed_xml_keeps_what_was_read() {
        let s =
            parse(b"<urlset><url><loc>https://a.test/1</loc></url><url><loc>https://a.test/2</lo");
        assert_eq!(s.locs, ["https://a.test/1"]);
        let s = parse(b"<urlset><url><loc>https://a.test/1</loc></url></oops></urlset>");
        assert_eq!(s.locs, ["https://a.test/1"]);
        assert!(s.problem.unwrap().contains("malformed"));
    }

    #[test]
    fn stops_at_the_url_bound() {
        let mut x = String::from("<urlset>");
        for i in 0..MAX_URLS + 5 {
            x.push_str(&format!("<url><loc>https://a.test/{i}</loc></url>"));
        }
        x.push_str("</urlset>");
        let s = parse(x.as_bytes());
        assert_eq!(s.locs.len(), MAX_URLS);
        assert!(s.problem.unwrap().contains("more than 50000 URLs"));
    }

    #[test]
    fn a_zip_bomb_inflates_no_further_than_the_bound() {
        // 8 MiB of zeros inside a urlset, compressed to a few KiB, read with a 1 MiB bound.
        let mut x = b"<urlset><url><loc>https://a.test/1</loc></url><!--".to_vec();
        x.extend(std::iter::repeat_n(b'0', 8 * 1024 * 1024));
        x.extend(b"--></urlset>");
        let bomb = gzip(&x);
        assert!(bomb.len() < 64 * 1024);
        let s = parse_capped(&bomb, 1024 * 1024);
        assert_eq!(s.locs, ["https://a.test/1"]);
        assert!(s.problem.unwrap().contains("larger than 1048576 bytes"));
        assert_eq!(parse(&bomb).problem, None, "within 50 MiB it is read whole");
    }

    #[test]
    fn overlong_locs_are_skipped() {
        let long = format!("https://a.test/{}", "x".repeat(MAX_LOC_CHARS));
        let x = format!(
            "<urlset><url><loc>{long}</loc></url><url><loc>https://a.test/ok</loc></url></urlset>"
        );
        assert_eq!(parse(x.as_bytes()).locs, ["https://a.test/ok"]);
    }
}
