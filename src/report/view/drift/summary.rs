//! The pack's head and summary: the window, the summary in lines of prose (terminal,
//! Markdown) and as cards (the HTML review pack).

use super::{counts_line, date};
use crate::drift::DriftReport;

/// The head and summary of a drift pack.
pub struct DriftSummary<'a> {
    pub site: &'a str,
    /// First day of the window, `2026-10-01`.
    pub since: String,
    /// End of the window (exclusive), `2026-12-31`.
    pub until: String,
    /// `30 (28 with every scenario observed)`.
    pub runs: String,
    /// The summary as lines of prose, one fact a line.
    pub lines: Vec<String>,
    /// The summary as cards, one number a card.
    pub cards: Vec<Card>,
}

/// A summary card: a label, a number, what it counts.
pub struct Card {
    pub key: &'static str,
    pub value: String,
    pub detail: String,
    /// The number asks for attention (the page marks the card).
    pub alert: bool,
}

impl<'a> DriftSummary<'a> {
    pub(super) fn of(r: &'a DriftReport) -> DriftSummary<'a> {
        DriftSummary {
            site: &r.site,
            since: date(&r.since),
            until: date(&r.until),
            runs: format!(
                "{} ({} with every scenario observed)",
                r.summary.runs, r.summary.complete_runs
            ),
            lines: lines(r),
            cards: cards(r),
        }
    }
}

fn lines(r: &DriftReport) -> Vec<String> {
    let s = &r.summary;
    let mut out = vec![
        format!(
            "{} run(s) in the window, {} complete{}",
            s.runs,
            s.complete_runs,
            match (s.first_run, s.last_run) {
                (Some(a), Some(b)) => format!(", from {} to {}", date(&a), date(&b)),
                _ => String::new(),
            }
        ),
        format!("Findings now: {}", counts_line(&s.current)),
        format!(
            "Legitimate-interest vendors: {}; objection honoured: {}",
            s.li_vendors,
            s.suppression.describe()
        ),
        format!(
            "Unauthorized fires: {}; cookies over their declared retention: {}",
            s.unauthorized_fires, s.retention_over
        ),
        format!(
            "Inventory: {} added, {} removed, {} changed; declaration changes: {}; unused acknowledgements: {}",
            s.inventory_added,
            s.inventory_removed,
            s.inventory_changed,
            s.declaration_changes,
            s.unused_acknowledgements
        ),
    ];
    if let Some(line) = coverage_line(r) {
        out.push(line);
    }
    out.push(format!(
        "Vantage: {} (only its runs are compared)",
        r.vantage
    ));
    if !r.versus.is_empty() {
        let sides: Vec<String> = r
            .versus
            .iter()
            .map(|s| match s.run_id {
                Some(id) => format!("vantage {} (run #{id})", s.vantage),
                None => format!("vantage {} (no run in the window)", s.vantage),
            })
            .collect();
        out.push(format!(
            "Side by side: the latest run of {}",
            sides.join(" and of ")
        ));
    }
    if s.runs > s.complete_runs {
        out.push(format!(
            "{} run(s) were not complete: what they could not observe is unverified, never resolved",
            s.runs - s.complete_runs
        ));
    }
    out
}

/// The latest page coverage, and how often the crawl planned new kinds of page
/// (docs/drift.md#page-coverage); `None` when no run of the window discovered pages.
fn coverage_line(r: &DriftReport) -> Option<String> {
    let latest = r.runs.iter().rev().find_map(|x| x.coverage.as_ref())?;
    let changed = r.runs.iter().filter(|x| x.crawl_changed).count();
    Some(format!(
        "Pages (latest run): {}; the crawl's templates changed in {changed} run(s)",
        super::inventory::coverage_text(latest)
    ))
}

fn card(key: &'static str, value: String, detail: &str, alert: bool) -> Card {
    Card {
        key,
        value,
        detail: detail.to_string(),
        alert,
    }
}

fn cards(r: &DriftReport) -> Vec<Card> {
    let s = &r.summary;
    let c = &s.current;
    let rate = match s.suppression.rate {
        Some(x) => format!("{:.0}%", (x * 100.0).floor()),
        None => "n/a".to_string(),
    };
    let mut cards = vec![
        card(
            "Open findings",
            c.open().to_string(),
            &format!(
                "{} new, {} regressed, {} persisting",
                c.new, c.regressed, c.persisting
            ),
            c.new + c.regressed > 0,
        ),
        card(
            "Resolved / unverified",
            format!("{} / {}", c.resolved, c.unverified),
            "unverified: could not be checked in the latest run",
            false,
        ),
        card(
            "Acknowledged",
            c.acknowledged.to_string(),
            "open findings under an active acknowledgement",
            false,
        ),
        card(
            "LI vendors",
            s.li_vendors.to_string(),
            "vendors with a legitimate-interest purpose",
            false,
        ),
        card(
            "Objection honoured",
            rate,
            &s.suppression.describe(),
            s.suppression.rate.is_some_and(|x| x < 1.0),
        ),
        card(
            "Unauthorized fires",
            s.unauthorized_fires.to_string(),
            "records the declared basis did not allow",
            s.unauthorized_fires > 0,
        ),
        card(
            "Retention over",
            s.retention_over.to_string(),
            "cookies over their declared retention",
            s.retention_over > 0,
        ),
        card(
            "Inventory drift",
            format!(
                "+{} −{} ~{}",
                s.inventory_added, s.inventory_removed, s.inventory_changed
            ),
            "added, removed, changed (hosts, vendors, cookies)",
            false,
        ),
        card(
            "Declaration changes",
            s.declaration_changes.to_string(),
            "runs whose scenario file or policy changed",
            false,
        ),
        card(
            "Unused acks",
            s.unused_acknowledgements.to_string(),
            "acknowledgements matching no finding",
            s.unused_acknowledgements > 0,
        ),
    ];
    if let Some(c) = r.runs.iter().rev().find_map(|x| x.coverage.as_ref()) {
        cards.push(card(
            "Pages",
            format!("{} / {}", c.pages, c.candidates),
            &format!(
                "pages audited / found in the latest run ({} of {} templates)",
                c.templates, c.templates_found
            ),
            c.stopped.is_some(),
        ));
    }
    cards
}
