//! The consent vocabulary (`data/banner-words.toml`, compiled in; extended by the file a
//! scenario names with `[cmp] banner_words`): per language, the words that make an
//! element a consent dialog and the labels of its accept / reject / settings / save
//! buttons. Checked when loaded, every problem at its `file:line:col`.

use crate::diag::Diagnostic;
use crate::toml_check::{read_source, Checker};
use serde::Serialize;
use std::path::Path;

/// The bundled word lists: where they live in the source tree, and their text.
pub const BUNDLED: (&str, &str) = (
    "data/banner-words.toml",
    include_str!("../../../data/banner-words.toml"),
);

/// What a phrase of the vocabulary says about the element it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The element's text is about consent (a dialog word).
    Dialog,
    /// A button that accepts every purpose.
    Accept,
    /// A button that refuses every non-necessary purpose.
    Reject,
    /// A button that opens the second layer.
    Settings,
    /// A button that saves the second layer's choice.
    Save,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Dialog,
        Kind::Accept,
        Kind::Reject,
        Kind::Settings,
        Kind::Save,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Dialog => "dialog",
            Kind::Accept => "accept",
            Kind::Reject => "reject",
            Kind::Settings => "settings",
            Kind::Save => "save",
        }
    }
}

/// One phrase: its language, what it means, and its words (normalised, [`tokens`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phrase {
    pub language: String,
    pub kind: Kind,
    pub text: String,
    pub tokens: Vec<String>,
}

/// The whole vocabulary, every language at once (a banner's language is not guessed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct BannerWords {
    pub phrases: Vec<Phrase>,
    /// The files it was read from, bundled first (`data/banner-words.toml`, then the
    /// scenario's `banner_words` file).
    pub sources: Vec<String>,
}

impl BannerWords {
    /// The bundled vocabulary. Its file is checked by a unit test, so this cannot fail in
    /// a released binary; a broken edit in a checkout is reported, not panicked on.
    pub fn bundled() -> Result<BannerWords, Vec<Diagnostic>> {
        let mut w = BannerWords::default();
        let diags = w.add(Path::new(BUNDLED.0), BUNDLED.1);
        if diags.is_empty() {
            Ok(w)
        } else {
            Err(diags)
        }
    }

    /// The bundled vocabulary extended by the file at `path`.
    pub fn with_file(path: &Path) -> Result<BannerWords, Vec<Diagnostic>> {
        let mut w = BannerWords::bundled()?;
        let src = read_source(path).map_err(|d| vec![d])?;
        let diags = w.add(path, &src);
        if diags.is_empty() {
            Ok(w)
        } else {
            Err(diags)
        }
    }

    /// Add the phrases of one file; its problems are returned (nothing of a file with
    /// problems is added).
    pub fn add(&mut self, file: &Path, src: &str) -> Vec<Diagnostic> {
        let mut ck = Checker::new(file, src, None);
        let Some(doc) = ck.parse() else {
            return ck.into_diagnostics().0;
        };
        let langs: Vec<String> = doc
            .get_ref()
            .keys()
            .map(|k| k.get_ref().to_string())
            .collect();
        let known: Vec<&str> = langs.iter().map(String::as_str).collect();
        let root = ck.root(&doc, &known);
        let kinds: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        let mut added = Vec::new();
        for (lang, span, v) in root.entries() {
            let ok_code =
                (2..=3).contains(&lang.len()) && lang.chars().all(|c| c.is_ascii_lowercase());
            if !ok_code {
                ck.error(
                    &span,
                    format!("`{lang}` is not a language code"),
                    "name each table by its ISO 639-1 code in lower case: [en], [de], [pl], ...",
                );
                continue;
            }
            let Some(t) = ck.table(v, &format!("[{lang}]"), &kinds) else {
                continue;
            };
            for kind in Kind::ALL {
                let Some(list) = t.get(kind.as_str()) else {
                    continue;
                };
                let what = format!("`{}` in [{lang}]", kind.as_str());
                let Some(items) = ck.strings(list, &what) else {
                    continue;
                };
                for s in items {
                    let text = s.get_ref();
                    let toks = tokens(text);
                    if toks.is_empty() {
                        ck.error(
                            &s.span(),
                            format!("{what} has a phrase with no word: {text:?}"),
                            "write words, or leave the phrase out",
                        );
                        continue;
                    }
                    if *text != text.to_lowercase() {
                        ck.error(
                            &s.span(),
                            format!("{what}: {text:?} is not lower case"),
                            "write phrases in lower case: labels are compared in lower case",
                        );
                        continue;
                    }
                    let dup = added
                        .iter()
                        .chain(self.phrases.iter())
                        .find(|p: &&Phrase| p.language == lang && p.tokens == toks);
                    match dup {
                        Some(p) if p.kind == kind && !self.phrases.contains(p) => {
                            ck.error(
                                &s.span(),
                                format!("{what}: {text:?} is listed twice"),
                                "list each phrase once",
                            );
                            continue;
                        }
                        Some(p) if p.kind == kind => continue, // already bundled: nothing to add
                        Some(p) if kind != Kind::Dialog && p.kind != Kind::Dialog => {
                            ck.error(
                                &s.span(),
                                format!(
                                    "{what}: {text:?} is also a `{}` phrase of [{lang}]",
                                    p.kind.as_str()
                                ),
                                "a button label means one thing: keep it in one list",
                            );
                            continue;
                        }
                        _ => {}
                    }
                    added.push(Phrase {
                        language: lang.to_string(),
                        kind,
                        text: text.clone(),
                        tokens: toks,
                    });
                }
            }
        }
        let diags = ck.into_diagnostics().0;
        if diags.iter().all(|d| d.level != crate::diag::Level::Error) {
            self.phrases.extend(added);
            self.sources.push(file.display().to_string());
        }
        diags
    }

    /// The phrases of one kind.
    pub fn of(&self, kind: Kind) -> impl Iterator<Item = &Phrase> {
        self.phrases.iter().filter(move |p| p.kind == kind)
    }

    /// Languages present, in file order, each once.
    pub fn languages(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.phrases {
            if !out.contains(&p.language.as_str()) {
                out.push(&p.language);
            }
        }
        out
    }
}

/// A text's words: lower case, split at everything that is not a letter or digit
/// (`"Cookie-Einstellungen"` is `cookie`, `einstellungen`; `"J'accepte"` is `j`,
/// `accepte`).
pub fn tokens(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}
