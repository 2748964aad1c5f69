//! HTML reports: one self-contained page (inline CSS, no JavaScript, no external
//! resource of any kind but a run's own screenshot files) for a single run
//! ([`HtmlReporter`]) and for the drift / LIA review pack ([`render_drift_html`]).
//! Printable (a print stylesheet), deterministic (no clock: same input, same bytes).
//!
//! Everything that comes from a page or a file goes through [`esc`]: control and bidi
//! characters made visible ([`crate::text::printable`]), then `& < > " '` escaped, in
//! text and attributes alike. URLs are text, never `href`s; the only links are
//! `#anchors` built by [`anchor`] from sanitized ids, and the run's own screenshot files
//! (`<img>` and a link to the full picture, paths percent-encoded by
//! [`crate::screenshots::url_ref`]: never a scheme, a host, a query or a fragment). The
//! page carries a restrictive Content-Security-Policy as well, so that even a rendering
//! bug could not run a script or fetch anything but images of the report's own origin.

mod drift;
mod run;
#[doc(hidden)]
#[cfg(any(test, feature = "demo"))]
pub mod sample;
mod svg;
mod vendor;

pub use drift::render_drift_html;
pub use run::HtmlReporter;

use crate::drift::{AckStatus, MismatchEvent, Objection, Status};
use std::fmt::Write as _;

/// The page's Content-Security-Policy: nothing may load or run but images of the page's
/// own origin (the screenshot files beside the report); only the inline stylesheet
/// applies (inline SVG needs no source).
pub const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

/// Longest page- or file-provided text kept in one cell (the JSON keeps full values).
pub const HTML_TEXT_MAX: usize = 600;

/// Page or file text, made safe as HTML text or attribute value: controls and bidi
/// controls visible, then `& < > " '` escaped.
pub fn esc(s: &str) -> String {
    escape_html(&crate::text::printable(s))
}

/// [`esc`] after cutting to `max` characters (the cut marked with `...`).
pub fn esc_clip(s: &str, max: usize) -> String {
    escape_html(&crate::text::printable_clipped(s, max))
}

/// [`esc_clip`] at [`HTML_TEXT_MAX`].
pub(crate) fn text(s: &str) -> String {
    esc_clip(s, HTML_TEXT_MAX)
}

/// `& < > " '` escaped; nothing else changed.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An id safe in `id="..."` and `href="#..."`: a generated prefix and index (unique),
/// then the ASCII letters, digits and `-` of `hint` (at most 40), nothing else.
pub(crate) fn anchor(prefix: &str, index: usize, hint: &str) -> String {
    let tail: String = hint
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    let tail = tail.trim_matches('-');
    if tail.is_empty() {
        format!("{prefix}-{index}")
    } else {
        format!("{prefix}-{index}-{tail}")
    }
}

/// `#3–#7, #9`: run ids, consecutive ones as ranges.
pub(crate) fn id_ranges(ids: &[i64]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < ids.len() {
        let mut j = i;
        while j + 1 < ids.len() && ids[j + 1] == ids[j] + 1 {
            j += 1;
        }
        if j > i {
            parts.push(format!("#{}–#{}", ids[i], ids[j]));
        } else {
            parts.push(format!("#{}", ids[i]));
        }
        i = j + 1;
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// `<code>` around escaped text.
pub(crate) fn code(s: &str) -> String {
    format!("<code>{}</code>", text(s))
}

/// Optional text, `-` when absent.
pub(crate) fn opt(s: Option<&str>) -> String {
    s.map(text).unwrap_or_else(|| "-".to_string())
}

pub(crate) fn date(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

pub(crate) fn datetime(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A status word, colored, the word itself always shown (never color-only).
pub(crate) fn badge(class: &str, word: &str) -> String {
    format!("<span class=\"b b-{class}\">{}</span>", escape_html(word))
}

pub(crate) fn status_badge(s: Status) -> String {
    badge(s.as_str(), s.as_str())
}

pub(crate) fn objection_badge(o: Objection) -> String {
    let class = match o {
        Objection::Honoured => "ok",
        Objection::NotHonoured => "bad",
        Objection::Unverified => "unverified",
        Objection::NotChecked | Objection::Absent => "muted",
    };
    badge(class, o.as_str())
}

pub(crate) fn event_badge(e: MismatchEvent) -> String {
    let class = match e {
        MismatchEvent::Opened => "new",
        MismatchEvent::Regressed => "regressed",
        MismatchEvent::Resolved => "resolved",
        MismatchEvent::Acknowledged => "ack",
        MismatchEvent::Reopened => "regressed",
    };
    badge(class, e.as_str())
}

pub(crate) fn ack_badge(s: AckStatus) -> String {
    let class = match s {
        AckStatus::Active => "ack",
        AckStatus::Expired => "bad",
        AckStatus::Unused => "muted",
        AckStatus::Pending => "unverified",
    };
    badge(class, s.as_str())
}

pub(crate) fn severity_badge(sev: &str) -> String {
    let class = match sev {
        "critical" => "sev-critical",
        "high" => "sev-high",
        "medium" => "sev-medium",
        "low" => "sev-low",
        _ => "sev-info",
    };
    format!("<span class=\"b b-{class}\">{}</span>", text(sev))
}

/// An HTML table built from already-escaped cells.
pub(crate) struct Table {
    out: String,
}

impl Table {
    pub(crate) fn new(class: &str, header: &[&str]) -> Table {
        let mut out = format!("<table class=\"{class}\"><thead><tr>");
        for h in header {
            let _ = write!(out, "<th>{}</th>", escape_html(h));
        }
        out.push_str("</tr></thead><tbody>\n");
        Table { out }
    }

    pub(crate) fn row<S: AsRef<str>>(&mut self, cells: &[S]) {
        self.row_class("", cells);
    }

    pub(crate) fn row_class<S: AsRef<str>>(&mut self, class: &str, cells: &[S]) {
        if class.is_empty() {
            self.out.push_str("<tr>");
        } else {
            let _ = write!(self.out, "<tr class=\"{class}\">");
        }
        for c in cells {
            let _ = write!(self.out, "<td>{}</td>", c.as_ref());
        }
        self.out.push_str("</tr>\n");
    }

    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</tbody></table>\n");
        self.out
    }
}

/// A whole page: doctype, CSP, referrer policy, the stylesheet, then `body` (already
/// escaped HTML). `title` is page text and is escaped here.
pub(crate) fn page(title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + CSS.len() + 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    let _ = writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
    );
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"consentry\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc_clip(title, 200));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    out.push_str(body);
    out.push_str("</body>\n</html>\n");
    out
}

/// The one stylesheet: screen and print. System fonts only (nothing to fetch).
pub(crate) const CSS: &str = r#"
:root{--fg:#1b1f24;--muted:#5c6670;--line:#d0d7de;--bg:#fff;--soft:#f6f8fa;
--new:#e8590c;--regressed:#b02525;--persisting:#e0a000;--unverified:#6b7fd7;--resolved:#2b8a3e;--nodata:#eceff2;--ack:#495057;--decl:#7b2cbf}
*{box-sizing:border-box}
html{-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1240px;padding:24px 28px 48px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:19px;margin:32px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--line)}
h3{font-size:16px;margin:22px 0 8px}
h4{font-size:14px;margin:16px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
p{margin:6px 0}
code{font:12.5px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);padding:0 3px;border-radius:3px;overflow-wrap:anywhere}
.sub{color:var(--muted);margin:0 0 12px}
.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:10px 0 0}
.meta dt{color:var(--muted)}
.meta dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:6px 0 12px;font-size:13px}
th,td{border:1px solid var(--line);padding:4px 7px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:var(--soft);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.hl td{background:#fff4f4}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:10px;margin:10px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 12px;background:var(--soft);break-inside:avoid}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums}
.card .d{font-size:12px;color:var(--muted)}
.card.alert{border-color:var(--regressed);background:#fff4f4}
.card.alert .v{color:var(--regressed)}
.b{display:inline-block;padding:0 6px;border-radius:9px;font-size:12px;font-weight:600;line-height:18px;white-space:nowrap;border:1px solid transparent}
.b-new{background:var(--new);color:#fff}
.b-regressed,.b-bad{background:var(--regressed);color:#fff}
.b-persisting{background:var(--persisting);color:#1b1f24}
.b-unverified{background:var(--unverified);color:#fff}
.b-resolved,.b-ok{background:var(--resolved);color:#fff}
.b-ack{background:#fff;color:var(--ack);border-color:var(--ack)}
.b-muted{background:var(--nodata);color:var(--muted)}
.b-li{background:#fff;color:var(--decl);border-color:var(--decl)}
.b-sev-critical{background:#6a040f;color:#fff}.b-sev-high{background:var(--regressed);color:#fff}
.b-sev-medium{background:var(--persisting);color:#1b1f24}.b-sev-low{background:#a5b4c4;color:#1b1f24}.b-sev-info{background:var(--nodata);color:var(--muted)}
.verdict{border-left:5px solid var(--resolved);background:#f0faf2;padding:10px 14px;margin:14px 0;font-weight:600}
.verdict.fail{border-color:var(--regressed);background:#fff4f4}
.verdict.incomplete{border-color:var(--persisting);background:#fff9e6}
.note{color:var(--muted);font-size:13px}
.warn{color:var(--regressed);font-weight:600}
.toc{columns:3 220px;margin:6px 0 0;padding-left:20px}
.toc li{break-inside:avoid}
nav a,.toc a{color:#0b5cad;text-decoration:none}
section.vendor{border:1px solid var(--line);border-radius:8px;padding:4px 16px 10px;margin:16px 0;break-inside:auto}
section.vendor h3{margin-top:12px}
table.matrix{width:auto}
.pair{display:flex;flex-wrap:wrap;gap:8px 24px;align-items:flex-start}.pair h3{margin:6px 0}
table.matrix td.m{text-align:center;font:600 13px/1.2 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;min-width:96px;white-space:nowrap}
.m-before-choice{background:#b02525;color:#fff}
.m-after-refusal{background:#e8590c;color:#fff}
.m-over-retention{background:#f5c542;color:#1b1f24}
.m-fired{background:#d3ecd9;color:#1b1f24}
.m-silent{background:#fff;color:var(--muted)}
.m-not-observed{background:repeating-linear-gradient(45deg,#eceff2,#eceff2 4px,#fff 4px,#fff 8px);color:var(--muted)}
.legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin:4px 0 10px;padding:0;list-style:none;font-size:12.5px}
.legend .m{display:inline-block;min-width:26px;text-align:center;border:1px solid var(--line);border-radius:3px;font:600 12px/18px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin-right:4px}
.finding{border:1px solid var(--line);border-radius:6px;padding:6px 14px;margin:10px 0;break-inside:avoid}
.figure{margin:8px 0 4px;overflow-x:auto}
.figure svg{display:block;max-width:100%;height:auto}
svg text{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
ul.plain{margin:4px 0;padding-left:18px}
.shots{display:grid;grid-template-columns:repeat(2,minmax(0,480px));gap:12px;margin:6px 0 14px}
figure.shot{margin:0;border:1px solid var(--line);border-radius:6px;padding:6px;background:var(--soft);break-inside:avoid}
figure.shot img{display:block;width:100%;height:auto;border:1px solid var(--line);background:#fff}
figure.shot figcaption{font-size:12px;color:var(--muted);margin-top:4px;overflow-wrap:anywhere}
figure.shot.missing{display:flex;align-items:center;justify-content:center;min-height:120px}
@media print{
body{max-width:none;padding:0;font-size:11px}
h2{break-after:avoid;margin-top:18px}h3,h4{break-after:avoid}
table{font-size:10.5px}tr{break-inside:avoid}th{overflow-wrap:normal;hyphens:auto}
nav.toc-nav{display:none}
table.matrix td.m{min-width:0;padding:3px 5px;font-size:10px}table.matrix th{padding:3px 5px}table.matrix code{overflow-wrap:normal;font-size:9.5px}
section.vendor{break-inside:avoid;border:none;border-top:2px solid var(--line);border-radius:0;padding:0}
.figure{overflow:visible}
a{color:inherit;text-decoration:none}
@page{size:A4;margin:14mm 12mm}
}
"#;

#[cfg(test)]
mod tests;
