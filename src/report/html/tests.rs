//! The HTML reports: hostile input stays text, nothing can run or load, the output is
//! deterministic, and the figures have the shape they claim.

use super::sample::{drift_pack, hostile_drift, hostile_run, HOSTILE};
use super::svg::{MAX_FINDING_ROWS, MAX_ROWS};
use super::*;
use crate::report::{reporter, Format, Reporter};
use scraper::{Html, Selector};

fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

/// Everything that makes a page inert, checked on the markup and on the parsed DOM.
fn assert_inert(html: &str) {
    let csp = format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">");
    assert!(html.contains(&csp), "CSP meta missing");
    assert!(html.contains("<meta name=\"referrer\" content=\"no-referrer\">"));
    // The CSP comes before anything a page provided.
    assert!(html.find(&csp) < html.find("<title>"));
    let lower = html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "raw <script in output");
    assert!(!lower.contains("href=\"javascript"), "javascript: link");
    assert_eq!(count(&lower, "<style>"), 1, "one stylesheet");
    assert_eq!(
        count(&lower, "</style>"),
        1,
        "a hostile </style> stayed text"
    );
    assert!(
        !html.contains('\u{1b}') && !html.contains('\u{202e}'),
        "raw ESC / bidi"
    );

    let doc = Html::parse_document(html);
    let sel = |s: &str| Selector::parse(s).expect("selector");
    assert_eq!(doc.select(&sel("script")).count(), 0, "script elements");
    assert_eq!(
        doc.select(&sel("iframe, object, embed, link, base, form, input"))
            .count(),
        0
    );
    // The only images are the run's screenshot files: a local path, percent-encoded
    // (no scheme, host, query or fragment), inside a link to the same file.
    let file_ref = |v: &str| {
        !v.is_empty()
            && !v.starts_with("//")
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/%".contains(&b))
    };
    let images: Vec<String> = doc
        .select(&sel("img"))
        .map(|img| img.value().attr("src").unwrap_or_default().to_string())
        .collect();
    for src in &images {
        assert!(file_ref(src), "<img> loads {src:?}");
        assert!(
            html.contains(&format!("<a href=\"{src}\"><img src=\"{src}\"")),
            "image {src:?} not linked to itself"
        );
    }
    for el in doc.select(&sel("*")) {
        for (name, value) in el.value().attrs() {
            assert!(
                !name.to_ascii_lowercase().starts_with("on"),
                "event handler attribute {name}={value:?} on <{}>",
                el.value().name()
            );
            assert!(
                name != "srcset" && (name != "src" || el.value().name() == "img"),
                "<{}> loads {value:?}",
                el.value().name()
            );
            if name == "href" && images.iter().any(|i| i == value) {
                continue;
            }
            if name == "href" || name == "xlink:href" {
                assert!(value.starts_with('#'), "non-anchor link {value:?}");
                let id = &value[1..];
                assert!(
                    id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
                    "unsanitized anchor {value:?}"
                );
                assert!(
                    html.contains(&format!("id=\"{id}\"")),
                    "dangling anchor {value:?}"
                );
            }
        }
    }
    let metas: Vec<_> = doc.select(&sel("meta[http-equiv]")).collect();
    assert_eq!(metas.len(), 1);
}

/// The hostile strings are on the page, as text.
fn assert_shown_as_text(html: &str) {
    let doc = Html::parse_document(html);
    let body: String = doc
        .select(&Selector::parse("body").expect("selector"))
        .flat_map(|b| b.text())
        .collect();
    assert!(
        body.contains("<script>document.title='PWNED'</script>"),
        "script shown as text"
    );
    assert!(body.contains("onerror=\"document.title='PWNED'\""));
    assert!(body.contains("javascript:alert(1)"));
    assert!(body.contains("abc\\u{202e}txt.exe"), "bidi made visible");
    assert!(body.contains("esc\\u{1b}[2Jcleared"), "ESC made visible");
    assert!(html.contains("&lt;script&gt;document.title=&#39;PWNED&#39;&lt;/script&gt;"));
}

#[test]
fn escape_html_escapes_the_five_characters_and_printable_runs_first() {
    assert_eq!(
        escape_html("a&b<c>d\"e'f"),
        "a&amp;b&lt;c&gt;d&quot;e&#39;f"
    );
    assert_eq!(esc("x\u{1b}[2J<\u{202e}"), "x\\u{1b}[2J&lt;\\u{202e}");
    assert_eq!(esc("line\nforged"), "line\\nforged");
    // Clipping happens before escaping: an entity is never cut in half.
    let clipped = esc_clip(&"<".repeat(50), 10);
    assert_eq!(clipped, format!("{}...", "&lt;".repeat(7)));
    assert_eq!(
        anchor("vendor", 3, HOSTILE[0]),
        "vendor-3-script-document-title--pwned---script"
    );
    assert_eq!(anchor("vendor", 0, "<>\"'"), "vendor-0");
}

#[test]
fn html_run_report_escapes_every_hostile_field() {
    let r = hostile_run();
    let html = HtmlReporter.render(&r);
    assert_inert(&html);
    assert_shown_as_text(&html);
    let doc = Html::parse_document(&html);
    // The hostile screenshot path is shown, encoded, and cannot reach another host.
    let imgs: Vec<_> = doc
        .select(&Selector::parse("img").expect("selector"))
        .collect();
    assert!(!imgs.is_empty(), "the sample's screenshots are shown");
    for img in imgs {
        let src = img.value().attr("src").unwrap_or_default();
        assert!(src.starts_with("/evil.test/"), "{src}");
    }
    let title: String = doc
        .select(&Selector::parse("title").expect("selector"))
        .flat_map(|t| t.text())
        .collect();
    assert!(title.starts_with("Consent audit: <script>document.title='PWNED'</script>"));
    // Every hostile field reached the page: the message, the rule, the evidence URL...
    for field in [
        &r.findings[0].rule,
        &r.scenario_file,
        &r.visits[0].warnings[0],
    ] {
        assert!(html.contains(&esc_clip(field, HTML_TEXT_MAX)));
    }
    assert!(html.contains(&esc_clip(
        r.findings[0].evidence[0]
            .request_url
            .as_deref()
            .unwrap_or_default(),
        HTML_TEXT_MAX
    )));
}

#[test]
fn html_drift_pack_escapes_every_hostile_field() {
    let r = hostile_drift(8);
    let html = render_drift_html(&r);
    assert_inert(&html);
    assert_shown_as_text(&html);
    let h = esc_clip(&super::sample::hostile(), HTML_TEXT_MAX);
    // Vendor names, purposes, retention cookies, mismatches, acks, inventory, runs.
    assert!(
        count(&html, &h) > 40,
        "hostile text rendered in every section"
    );
    // SVG hover text is escaped too.
    assert!(html.contains("<title>") && !html.contains("<title><script"));
}

#[test]
fn html_is_deterministic() {
    let r = drift_pack(30);
    assert_eq!(render_drift_html(&r), render_drift_html(&r.clone()));
    let run = hostile_run();
    assert_eq!(HtmlReporter.render(&run), HtmlReporter.render(&run.clone()));
    let fixed = crate::report::tests::fixed_report();
    assert_eq!(HtmlReporter.render(&fixed), HtmlReporter.render(&fixed));
}

#[test]
fn formats_dispatch_to_html() {
    let fixed = crate::report::tests::fixed_report();
    let html = reporter(Format::Html).render(&fixed);
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_inert(&html);
    let drift = crate::report::drift::render_drift(Format::Html, &drift_pack(10));
    assert!(drift.starts_with("<!DOCTYPE html>") && drift.contains("LIA review pack: demo-shop"));
}

#[test]
fn html_run_report_has_verdict_scenarios_and_findings_by_severity() {
    let r = crate::report::tests::fixed_report();
    let html = HtmlReporter.render_with(&r, crate::report::Grouping::Ungrouped);
    assert!(html.contains(&text(&crate::report::verdict_text(&r))));
    assert!(html.contains("class=\"verdict incomplete\""));
    assert!(html.contains("NOT OBSERVED</span> step 2 click &quot;#old-cmp-reject&quot;"));
    assert_eq!(count(&html, "class=\"finding\""), r.findings.len());
    let high = html.find("id=\"sev-high\"").expect("high group");
    let medium = html.find("id=\"sev-medium\"").expect("medium group");
    assert!(high < medium, "most severe group first");
    assert!(
        html.contains("network did not settle within 15s"),
        "warnings"
    );
    assert!(html.contains("https://connect.facebook.net/en_US/fbevents.js"));
    assert!(html.contains(
        "<dt>Data</dt><dd>consentry 0.1.0, autoconsent 16.23.0, CMP profiles klaro,cookieconsent,consentry-tcf@0123456789abcdef</dd>"
    ));
}

#[test]
fn drift_pack_reading_order_and_content() {
    let r = drift_pack(30);
    let html = render_drift_html(&r);
    assert_inert(&html);
    let pos = |id: &str| {
        html.find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no section {id}"))
    };
    let order = [
        "summary",
        "timeline",
        "vendors",
        "findings",
        "inventory",
        "declarations",
        "acknowledgements",
        "runs",
    ];
    for w in order.windows(2) {
        assert!(pos(w[0]) < pos(w[1]), "{} before {}", w[0], w[1]);
    }
    // Legitimate-interest vendor first, with its objection record.
    assert!(pos("vendor-0-scorecard") < pos("vendor-1-hotjar"));
    assert!(html
        .contains("Objection honoured <span class=\"b b-bad\">NO</span> in 7 run(s): #108–#114"));
    assert!(html.contains("Unauthorized records in 15 of 30 runs: #101–#115 (3 each)"));
    assert_eq!(
        count(&html, "class=\"ocell\""),
        30,
        "one strip cell per run"
    );
    assert!(html.contains("<span class=\"b b-bad\">NO</span>"));
    // Retention with human durations; the resolution that coincided with a policy change.
    assert!(
        html.contains("<td>395d</td><td>730d</td><td>335d</td>"),
        "retention row"
    );
    assert!(html.contains("the resolution coincided with a policy change"));
    assert!(html.contains("policy changed in this run"));
    // Acknowledgements: expired with owner and location, unused.
    assert!(html.contains("<span class=\"b b-bad\">expired</span>"));
    assert!(html.contains("<span class=\"b b-muted\">unused</span>"));
    assert!(html.contains("acknowledgements.toml:4:1") && html.contains("dpo@demo-shop.test"));
    // Header: the window and the run ids it was generated from; no wall clock.
    assert!(html.contains("#101–#130"));
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert!(!html.contains(&today) || r.until.format("%Y-%m-%d").to_string() == today);
}

fn cells(html: &str) -> usize {
    count(html, "<rect class=\"cell ")
}

#[test]
fn timeline_has_one_cell_per_row_and_run() {
    let r = drift_pack(30);
    let html = render_drift_html(&r);
    assert_eq!(cells(&html), r.lifecycles.len() * r.runs.len());
    let acked: usize = r
        .lifecycles
        .iter()
        .flat_map(|l| &l.timeline)
        .filter(|s| s.acknowledged)
        .count();
    assert!(acked > 0);
    assert_eq!(
        count(&html, "class=\"ackmark\""),
        acked,
        "acknowledged cells hatched"
    );
    let decl = r.runs.iter().filter(|x| x.declaration_changed).count();
    assert_eq!(count(&html, "<g class=\"decl\">"), decl);
    for st in ["new", "persisting", "resolved", "regressed", "unverified"] {
        assert!(
            html.contains(&format!("class=\"cell s-{st}\"")),
            "{st} drawn"
        );
        assert!(
            html.contains(&format!("</svg> {st} &#160;")),
            "{st} in the legend"
        );
    }
}

/// `n` findings, each of its own vendor.
fn many_findings(runs: usize, n: usize) -> crate::drift::DriftReport {
    let mut r = drift_pack(runs);
    let template = r.lifecycles[0].clone();
    r.lifecycles = (0..n)
        .map(|i| {
            let mut l = template.clone();
            l.fingerprint = format!("fp{i}");
            l.subject = format!("subject{i}");
            l.vendor = Some(format!("vendor{i:02}"));
            l
        })
        .collect();
    r
}

#[test]
fn timeline_switches_to_vendor_rows_and_caps_rows() {
    // Over MAX_FINDING_ROWS findings: one row per vendor (here: 3 vendors).
    let mut r = many_findings(12, MAX_FINDING_ROWS + 5);
    for (i, l) in r.lifecycles.iter_mut().enumerate() {
        l.vendor = Some(["meta", "hotjar", "scorecard"][i % 3].to_string());
    }
    let html = render_drift_html(&r);
    assert_eq!(cells(&html), 3 * 12);
    assert!(html.contains("one row per vendor"));
    assert!(html.contains("meta (12 findings)"));
    // Over MAX_ROWS vendors: capped, and the page says how many are not drawn.
    let r = many_findings(12, MAX_ROWS + 7);
    let html = render_drift_html(&r);
    assert_eq!(cells(&html), MAX_ROWS * 12);
    assert!(html.contains("7 more rows not drawn"));
}

#[test]
fn a_year_of_daily_runs_stays_legible_and_reasonably_small() {
    for n in [90usize, 365] {
        let r = drift_pack(n);
        let html = render_drift_html(&r);
        assert_eq!(cells(&html), r.lifecycles.len() * n);
        // Date labels: thinned (a handful, not one per run).
        let labels = count(&html, "font-size=\"10.5\" text-anchor=\"middle\"");
        assert!((8..=20).contains(&labels), "{n} runs: {labels} date labels");
        assert!(html.len() < 3_000_000, "{n} runs: {} bytes", html.len());
    }
}

#[test]
fn empty_pack_renders() {
    let mut r = drift_pack(3);
    r.runs.clear();
    r.lifecycles.clear();
    r.vendors.clear();
    r.inventory.clear();
    r.declaration_changes.clear();
    r.acknowledgements.clear();
    let html = render_drift_html(&r);
    assert_inert(&html);
    assert!(html.contains("No findings in the window: nothing to draw."));
    assert_eq!(cells(&html), 0);
}
