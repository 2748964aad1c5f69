//! A [`Notification`] laid out as JSON bodies: Slack's incoming-webhook shape (`text` +
//! `blocks`) and consentry's generic, versioned shape (docs/alerts.md). Layout only: what
//! a message says was decided in [`super::message`].

use super::message::{counts, Change, Notification, SiteChange};
use serde_json::{json, Value};

/// `schema` of the generic body.
pub const GENERIC_SCHEMA: &str = "consentry.notification";
/// `version` of the generic body: raised when a field changes meaning or goes away
/// (fields may be added within a version).
pub const GENERIC_VERSION: u32 = 1;

/// Slack allows 50 blocks a message; some are kept for the closing note.
const MAX_BLOCKS: usize = 45;
/// Slack cuts a section's text at 3,000 characters.
const MAX_SECTION: usize = 2_800;

/// The generic body (docs/alerts.md, "The generic message").
pub fn generic(n: &Notification) -> String {
    let doc = json!({
        "schema": GENERIC_SCHEMA,
        "version": GENERIC_VERSION,
        "id": n.id,
        "summary": n.headline(),
        "started_at": n.started_at,
        "fleet": n.fleet,
        "sites": n.sites,
    });
    doc.to_string()
}

/// Slack's incoming-webhook body: `text` (the notification line, and the whole message
/// for receivers without blocks) and `blocks`: a header, then per site a headline and
/// its findings, cut to Slack's limits with a note of what was left out.
pub fn slack(n: &Notification) -> String {
    let mut blocks: Vec<Value> = vec![json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": esc(&n.headline()) },
    })];
    let mut left_out = 0usize;
    for site in &n.sites {
        let mut site_blocks = vec![json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": site_headline(site) },
        })];
        for chunk in finding_chunks(site) {
            site_blocks.push(json!({
                "type": "section",
                "text": { "type": "mrkdwn", "text": chunk },
            }));
        }
        if let Some(report) = &site.report {
            site_blocks.push(json!({
                "type": "context",
                "elements": [{ "type": "mrkdwn", "text": format!("report: `{}`", code(report)) }],
            }));
        }
        if blocks.len() + site_blocks.len() > MAX_BLOCKS {
            left_out += 1;
            continue;
        }
        blocks.push(json!({ "type": "divider" }));
        blocks.extend(site_blocks);
    }
    if left_out > 0 {
        blocks.push(json!({
            "type": "context",
            "elements": [{ "type": "mrkdwn", "text": format!("{left_out} more site(s) left out: see the fleet summary") }],
        }));
    }
    json!({ "text": n.headline(), "blocks": blocks }).to_string()
}

fn site_headline(s: &SiteChange) -> String {
    let mut line = format!("*{}*", esc(&s.site));
    if let Some(id) = s.run_id {
        line.push_str(&format!(" (run {id})"));
    }
    if s.new + s.regressed > 0 {
        line.push_str(&format!(": {}", counts(s.new, s.regressed)));
    }
    if let Some(why) = &s.incomplete {
        line.push_str(&format!("\n:warning: incomplete: {}", esc(why)));
    }
    line
}

/// A site's findings as bullet lines, in sections of at most [`MAX_SECTION`] characters.
fn finding_chunks(s: &SiteChange) -> Vec<String> {
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut lines: Vec<String> = s
        .findings
        .iter()
        .map(|f| {
            let change = match f.change {
                Change::New => "new",
                Change::Regressed => "regressed",
            };
            let mut where_ = Vec::new();
            if let Some(sc) = &f.scenario {
                where_.push(format!("scenario `{}`", code(sc)));
            }
            if let Some(p) = &f.page {
                where_.push(format!("page `{}`", code(p)));
            }
            format!(
                "• *{}* {change} `{}` {} — {}{}\n   {}",
                f.severity,
                f.code,
                esc(&f.subject),
                where_.join(", "),
                if where_.is_empty() { "site-wide" } else { "" },
                esc(f.title),
            )
        })
        .collect();
    let listed = s.findings.len();
    if s.new + s.regressed > listed {
        lines.push(format!(
            "…and {} more in the report",
            s.new + s.regressed - listed
        ));
    }
    for line in lines {
        if !current.is_empty() && current.len() + line.len() + 1 > MAX_SECTION {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&line);
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// Slack's mrkdwn escapes: `&`, `<` and `>` (so no text becomes a link or a mention).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Text inside `…`: escaped, and without backticks that would end it.
fn code(s: &str) -> String {
    esc(&s.replace('`', "'"))
}
