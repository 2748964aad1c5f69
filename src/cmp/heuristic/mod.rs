//! Heuristic banner handling: accept or reject on a consent dialog no autoconsent rule
//! and no CMP profile knows (docs/heuristic.md).
//!
//! Three parts, data flowing one way:
//! 1. `collect.js` ([`COLLECT_JS`]), run in the page, gathers the facts: every visible
//!    fixed, sticky or dialog element (top document, same-origin frames, open shadow
//!    roots) with its text, position, z-index, size and place, and the buttons, links and
//!    toggles inside it ([`Facts`]). It decides nothing.
//! 2. [`decide`] (pure Rust) scores the candidates against the vocabulary
//!    ([`words::BannerWords`], `data/banner-words.toml` plus the scenario's own file) and
//!    chooses the dialog and the button, each with a confidence; below [`THRESHOLD`] it
//!    chooses nothing.
//! 3. The engine (`engine::heuristic`) clicks the chosen element by its path
//!    ([`ACT_JS`]), and records the action as [`crate::cmp::Method::Heuristic`].

pub mod decide;
pub mod words;

#[cfg(test)]
mod tests;

pub use decide::{
    classify, first_layer, second_layer, still_shown, Candidate, Control, ControlMatch,
    DialogMatch, Facts, FirstLayer, SecondLayer, Want, THRESHOLD,
};
pub use words::{BannerWords, Kind};

use crate::model::cmp::{HeuristicAction, HeuristicClick};

/// The collector, a WebDriver script body returning [`Facts`] as JSON.
pub const COLLECT_JS: &str = include_str!("collect.js");
/// The click, a WebDriver script body: `arguments[0]` the path, `arguments[1]` the
/// label expected; returns `{ok: true}` or `{error}`.
pub const ACT_JS: &str = include_str!("act.js");

/// One click of a heuristic action, for the record.
pub fn click_record(c: &ControlMatch, confidence: u8) -> HeuristicClick {
    HeuristicClick {
        button: c.kind.as_str().to_string(),
        element: c.element.clone(),
        text: c.text.clone(),
        phrase: c.phrase.clone(),
        language: c.language.clone(),
        confidence,
    }
}

/// A toggle switched off on the second layer, for the record.
pub fn toggle_record(c: &Control) -> HeuristicClick {
    HeuristicClick {
        button: "toggle off".to_string(),
        element: c.element.clone(),
        text: c.text.clone(),
        phrase: String::new(),
        language: String::new(),
        confidence: 100,
    }
}

/// The record of a heuristic action started on `dialog`.
pub fn action_record(dialog: &DialogMatch) -> HeuristicAction {
    HeuristicAction {
        confidence: dialog.confidence,
        dialog: dialog.element.clone(),
        words: dialog.words.clone(),
        clicks: Vec::new(),
        reject_missing: false,
    }
}
