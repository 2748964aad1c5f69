//! The decision, pure: from the facts the collector gathered in the page ([`Facts`]) and
//! the vocabulary ([`BannerWords`]), which element is the consent dialog and which of its
//! controls accepts, rejects, opens the settings or saves them, each with a confidence
//! (percent). Nothing here touches a browser.

use super::words::{tokens, BannerWords, Kind, Phrase};
use serde::{Deserialize, Serialize};

/// Below this confidence (percent) the heuristic does not act: the scenario is not
/// observed, with the reason, rather than judged on a guess.
pub const THRESHOLD: u8 = 60;

/// A label longer than this many words is prose, not a button.
const MAX_LABEL_WORDS: usize = 12;

/// What the collector (`collect.js`) returns.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Facts {
    #[serde(default)]
    pub viewport: Size,
    #[serde(default)]
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize)]
pub struct Size {
    pub w: f64,
    pub h: f64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize, Serialize)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// Where an element is, from the top document to it: one hop per document or shadow
/// root entered. Each hop is the child indices from that root (a `Document` or a
/// `ShadowRoot`) down to the element; the element of every hop but the last is a
/// same-origin frame (entered through its document) or a shadow host (through its open
/// shadow root).
pub type Path = Vec<Vec<u32>>;

/// A visible element that may be a dialog: fixed or sticky (itself or, in a frame, the
/// frame), or a `dialog` / `alertdialog` / `aria-modal` element.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Candidate {
    pub path: Path,
    /// `div#cookie-bar.bar` (tag, id or first classes).
    pub element: String,
    /// The frames and shadow roots it is in, outermost first (`iframe#cmp`,
    /// `shadow root of cmp-banner`); empty in the top document.
    #[serde(default)]
    pub within: Vec<String>,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub modal: bool,
    /// The position that puts it on screen: `fixed`, `sticky` (its own or an
    /// ancestor's, across frames and shadow hosts), or `static`.
    #[serde(default)]
    pub position: String,
    #[serde(default)]
    pub z: i64,
    #[serde(default)]
    pub rect: Rect,
    /// Its text, shadow roots included, whitespace collapsed (clipped).
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub controls: Vec<Control>,
}

/// A visible button, link or toggle inside a candidate.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct Control {
    pub path: Path,
    pub element: String,
    pub tag: String,
    #[serde(default)]
    pub role: String,
    /// An `<input>`'s type.
    #[serde(default, rename = "type")]
    pub input_type: String,
    /// Its label: visible text, else value, else `aria-label` / `title`.
    #[serde(default)]
    pub text: String,
    /// A checkbox or switch: is it on?
    #[serde(default)]
    pub checked: Option<bool>,
    #[serde(default)]
    pub disabled: bool,
}

/// What the decision reads of a page at most: the collector clips to the same bounds,
/// but it runs in the page, whose own scripts can change what it returns.
const MAX_CANDIDATES: usize = 80;
const MAX_CONTROLS: usize = 120;
const MAX_TEXT_CHARS: usize = 6000;
const MAX_LABEL_CHARS: usize = 200;
const MAX_PATH_STEPS: usize = 4096;

fn clip_chars(s: &mut String, max: usize) {
    if let Some((i, _)) = s.char_indices().nth(max) {
        s.truncate(i);
    }
}

fn clip_path(p: &mut Path) {
    p.truncate(64);
    let mut budget = MAX_PATH_STEPS;
    for hop in p.iter_mut() {
        hop.truncate(budget);
        budget -= hop.len();
    }
}

impl Facts {
    /// The facts within the collector's bounds, whatever the page made it return: the
    /// decision's cost and the record's size stay bounded on a hostile page.
    pub fn bounded(mut self) -> Self {
        self.candidates.truncate(MAX_CANDIDATES);
        for c in &mut self.candidates {
            clip_path(&mut c.path);
            clip_chars(&mut c.element, MAX_LABEL_CHARS);
            c.within.truncate(8);
            c.within
                .iter_mut()
                .for_each(|w| clip_chars(w, MAX_LABEL_CHARS));
            clip_chars(&mut c.role, MAX_LABEL_CHARS);
            clip_chars(&mut c.position, MAX_LABEL_CHARS);
            clip_chars(&mut c.text, MAX_TEXT_CHARS);
            c.controls.truncate(MAX_CONTROLS);
            for k in &mut c.controls {
                clip_path(&mut k.path);
                clip_chars(&mut k.element, MAX_LABEL_CHARS);
                clip_chars(&mut k.tag, MAX_LABEL_CHARS);
                clip_chars(&mut k.role, MAX_LABEL_CHARS);
                clip_chars(&mut k.input_type, MAX_LABEL_CHARS);
                clip_chars(&mut k.text, MAX_LABEL_CHARS);
            }
        }
        self
    }
}

impl Control {
    fn is_toggle(&self) -> bool {
        self.checked.is_some()
    }
}

/// A candidate judged a consent dialog.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DialogMatch {
    pub index: usize,
    /// `div#cookie-bar (fixed, in iframe#cmp)`.
    pub element: String,
    /// The dialog words found in its text, each once.
    pub words: Vec<String>,
    pub confidence: u8,
}

/// A control recognised by its label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlMatch {
    pub path: Path,
    pub element: String,
    pub text: String,
    pub kind: Kind,
    pub phrase: String,
    pub language: String,
    pub confidence: u8,
}

/// What to do on the first layer for the action wanted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum FirstLayer {
    /// Click this button (accept, or reject).
    Click(DialogMatch, ControlMatch),
    /// Reject wanted, none on the first layer: open the settings with this button.
    OpenSettings(DialogMatch, ControlMatch),
    /// Reject wanted: the dialog has neither a reject nor a settings button (why).
    NoReject(DialogMatch, String),
    /// Nothing to do with enough confidence: why.
    NotFound(String),
}

/// What to do on the second layer (after the settings button).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum SecondLayer {
    /// A reject button there.
    Reject(DialogMatch, ControlMatch),
    /// Switch these toggles off, then save.
    Save {
        dialog: DialogMatch,
        toggles: Vec<Control>,
        save: ControlMatch,
    },
    NotFound(String),
}

/// The action the heuristic is asked to perform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    Accept,
    Reject,
}

/// Does `phrase` occur in `words`, whole words in order? With `prefix`, each word of the
/// phrase need only start a word of the text (dialog words: `cookie` in `cookies`).
fn occurs(words: &[String], phrase: &[String], prefix: bool) -> bool {
    if phrase.is_empty() || phrase.len() > words.len() {
        return false;
    }
    words.windows(phrase.len()).any(|w| {
        w.iter().zip(phrase).all(|(a, b)| {
            if prefix {
                a.starts_with(b.as_str())
            } else {
                a == b
            }
        })
    })
}

/// The dialog words of a text, each phrase once, in vocabulary order.
fn dialog_words<'w>(text: &str, words: &'w BannerWords) -> Vec<&'w Phrase> {
    let toks = tokens(text);
    let mut out: Vec<&Phrase> = Vec::new();
    for p in words.of(Kind::Dialog) {
        if occurs(&toks, &p.tokens, true) && !out.iter().any(|q| q.text == p.text) {
            out.push(p);
        }
    }
    out
}

/// What a control's label means: the longest phrase it contains decides; two phrases of
/// different kinds of the same length leave it unclassified (ambiguous).
pub fn classify(c: &Control, words: &BannerWords) -> Option<ControlMatch> {
    if c.disabled || c.is_toggle() {
        return None;
    }
    let toks = tokens(&c.text);
    if toks.is_empty() || toks.len() > MAX_LABEL_WORDS {
        return None;
    }
    let mut best: Option<&Phrase> = None;
    let mut tie = false;
    for p in words.phrases.iter().filter(|p| p.kind != Kind::Dialog) {
        if !occurs(&toks, &p.tokens, false) {
            continue;
        }
        match best {
            Some(b) if p.tokens.len() < b.tokens.len() => {}
            Some(b) if p.tokens.len() == b.tokens.len() => tie |= b.kind != p.kind,
            _ => {
                best = Some(p);
                tie = false;
            }
        }
    }
    let p = best.filter(|_| !tie)?;
    let mut confidence: i32 = if p.tokens == toks {
        100
    } else if toks.len() <= 6 {
        85
    } else {
        65
    };
    // A link is more often "read our privacy policy" than a choice.
    if c.tag == "a" && c.role != "button" {
        confidence -= 10;
    }
    Some(ControlMatch {
        path: c.path.clone(),
        element: c.element.clone(),
        text: c.text.clone(),
        kind: p.kind,
        phrase: p.text.clone(),
        language: p.language.clone(),
        confidence: confidence.clamp(0, 100) as u8,
    })
}

/// How sure are we that `c` is a consent dialog (its words; `None`: no dialog word)?
pub fn judge_dialog(index: usize, c: &Candidate, words: &BannerWords) -> Option<DialogMatch> {
    let found = dialog_words(&c.text, words);
    if found.is_empty() {
        return None;
    }
    let mut score: i32 = match found.len() {
        1 => 45,
        2 => 60,
        _ => 70,
    };
    if c.position == "fixed" || c.position == "sticky" {
        score += 15;
    }
    if c.modal || c.role == "dialog" || c.role == "alertdialog" {
        score += 10;
    }
    if c.z > 0 {
        score += 5;
    }
    // A fixed wrapper around the whole page: its words may be the footer's.
    if tokens(&c.text).len() > 400 {
        score -= 25;
    }
    let mut element = format!("{} ({}", c.element, c.position);
    if !c.within.is_empty() {
        element.push_str(&format!(", in {}", c.within.join(" > ")));
    }
    element.push(')');
    Some(DialogMatch {
        index,
        element,
        words: found.iter().map(|p| p.text.clone()).collect(),
        confidence: score.clamp(0, 100) as u8,
    })
}

/// The dialogs with their recognised controls, most likely first (confidence, then the
/// smaller text: the banner rather than a wrapper around it).
fn dialogs(facts: &Facts, words: &BannerWords) -> Vec<(DialogMatch, Vec<ControlMatch>)> {
    let mut out: Vec<(DialogMatch, Vec<ControlMatch>, usize)> = facts
        .candidates
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let d = judge_dialog(i, c, words)?;
            let controls: Vec<ControlMatch> = c
                .controls
                .iter()
                .filter_map(|x| classify(x, words))
                .collect();
            (!controls.is_empty()).then_some((d, controls, c.text.len()))
        })
        .collect();
    out.sort_by(|a, b| b.0.confidence.cmp(&a.0.confidence).then(a.2.cmp(&b.2)));
    out.into_iter().map(|(d, c, _)| (d, c)).collect()
}

fn best_of(controls: &[ControlMatch], kind: Kind) -> Option<&ControlMatch> {
    controls
        .iter()
        .filter(|c| c.kind == kind)
        .max_by_key(|c| c.confidence)
}

/// The confidence of acting on `c` in `d`: the weaker of the two.
pub fn combined(d: &DialogMatch, c: &ControlMatch) -> u8 {
    d.confidence.min(c.confidence)
}

/// The first layer: the dialog and the button for `want` (reject: the settings button
/// when there is no reject button beside accept).
pub fn first_layer(facts: &Facts, words: &BannerWords, want: Want) -> FirstLayer {
    let found = dialogs(facts, words);
    let Some((dialog, controls)) = found.first() else {
        return FirstLayer::NotFound(format!(
            "heuristic: no consent dialog found ({} fixed or dialog element(s) looked at, none with consent words and a button of the vocabulary)",
            facts.candidates.len()
        ));
    };
    let kind = match want {
        Want::Accept => Kind::Accept,
        Want::Reject => Kind::Reject,
    };
    let sure = |c: &ControlMatch| combined(dialog, c) >= THRESHOLD;
    let unsure = |c: &ControlMatch, what: &str| {
        FirstLayer::NotFound(format!(
            "heuristic: {what} {:?} in the consent dialog {} found with confidence {}% only (below {THRESHOLD}%)",
            c.text,
            dialog.element,
            combined(dialog, c)
        ))
    };
    if let Some(b) = best_of(controls, kind) {
        return if sure(b) {
            FirstLayer::Click(dialog.clone(), b.clone())
        } else {
            unsure(b, kind.as_str())
        };
    }
    if want == Want::Reject {
        if let Some(s) = best_of(controls, Kind::Settings) {
            return if sure(s) {
                FirstLayer::OpenSettings(dialog.clone(), s.clone())
            } else {
                unsure(s, "settings")
            };
        }
        return FirstLayer::NoReject(
            dialog.clone(),
            format!(
                "heuristic: the consent dialog {} has no reject button and no settings button (its buttons: {})",
                dialog.element,
                labels(controls)
            ),
        );
    }
    FirstLayer::NotFound(format!(
        "heuristic: the consent dialog {} has no {} button (its buttons: {})",
        dialog.element,
        kind.as_str(),
        labels(controls)
    ))
}

/// The second layer (the settings opened): a reject button, else every checked toggle
/// switched off and a save button.
pub fn second_layer(facts: &Facts, words: &BannerWords) -> SecondLayer {
    let found = dialogs(facts, words);
    for (dialog, controls) in &found {
        if let Some(r) = best_of(controls, Kind::Reject) {
            if combined(dialog, r) >= THRESHOLD {
                return SecondLayer::Reject(dialog.clone(), r.clone());
            }
        }
        if let Some(s) = best_of(controls, Kind::Save) {
            if combined(dialog, s) >= THRESHOLD {
                let toggles = facts
                    .candidates
                    .get(dialog.index)
                    .map(|c| {
                        c.controls
                            .iter()
                            .filter(|t| t.checked == Some(true) && !t.disabled)
                            .cloned()
                            .collect()
                    })
                    .unwrap_or_default();
                return SecondLayer::Save {
                    dialog: dialog.clone(),
                    toggles,
                    save: s.clone(),
                };
            }
        }
    }
    let seen = found
        .first()
        .map(|(d, c)| format!("the dialog {} offers {}", d.element, labels(c)))
        .unwrap_or_else(|| "no consent dialog is on screen".to_string());
    SecondLayer::NotFound(format!(
        "heuristic: no reject button and no save button in the settings layer ({seen})"
    ))
}

fn labels(controls: &[ControlMatch]) -> String {
    let l: Vec<String> = controls
        .iter()
        .map(|c| format!("{:?} ({})", c.text, c.kind.as_str()))
        .collect();
    if l.is_empty() {
        "none recognised".into()
    } else {
        l.join(", ")
    }
}

/// Is the dialog at `path` with this text still on screen in `facts`?
pub fn still_shown(facts: &Facts, path: &Path, text: &str) -> bool {
    facts
        .candidates
        .iter()
        .any(|c| &c.path == path && c.text == text)
}
