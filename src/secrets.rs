//! Secrets: `[site] secrets = ["LOGIN_PASSWORD", ...]` names environment variables whose
//! values a scenario uses (a login step, a token in a page URL) and which must never be
//! written anywhere: not to the database, not into any report, not to stderr, not into a
//! `validate` message.
//!
//! One door: every value is replaced by `[secret:NAME]` in
//! - the site's name, when the scenario file is loaded (it labels runs, files, findings);
//! - diagnostics, as they are printed;
//! - step descriptions, before they are cut for display (`Step::describe`);
//! - **every string of a visit's observation** ([`Secrets::redact_visit`]), before it is
//!   judged, stored, shown or counted in a progress line. The visit is walked through its
//!   serialised form, so a field added to the model later is covered without being listed.
//!
//! A value is matched in every form it takes in the places consentry reads: as written,
//! percent-encoded (form encoding, every byte, upper or lower hex, and the WHATWG URL
//! parser's own path, query and fragment sets, which leave `!` or `'` alone), escaped as
//! Rust's `{:?}` and as JSON do. A value cut by a clip (`…`) is redacted down to its
//! first three characters.

use crate::model::VisitObservation;
use serde::Serialize;
use std::borrow::Cow;

/// Shortest value that can be redacted without destroying unrelated text (a one-letter
/// "secret" would replace every such letter in every URL).
pub const MIN_SECRET_LEN: usize = 4;

/// The secret values of a scenario file. Serialises as the names only.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    /// (name, forms of the value, longest first), longest value first overall.
    entries: Vec<(String, Vec<String>)>,
}

impl Serialize for Secrets {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.entries.iter().map(|(n, _)| n))
    }
}

impl Secrets {
    /// From (name, value) pairs; values shorter than [`MIN_SECRET_LEN`] are the caller's
    /// to refuse (they are ignored here).
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> Secrets {
        let mut entries: Vec<(String, Vec<String>)> = pairs
            .into_iter()
            .filter(|(_, v)| v.chars().count() >= MIN_SECRET_LEN)
            .map(|(name, value)| {
                let mut forms = Vec::new();
                for form in forms_of(&value) {
                    if !form.is_empty() && !forms.contains(&form) {
                        forms.push(form);
                    }
                }
                forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
                (name, forms)
            })
            .collect();
        entries.sort_by_key(|(_, forms)| std::cmp::Reverse(forms.first().map_or(0, String::len)));
        Secrets { entries }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Add `other`'s values (a proxy's credentials, `[vantage]`), longest value first
    /// overall as [`Secrets::new`] orders them.
    pub fn merge(&mut self, other: Secrets) {
        for entry in other.entries {
            if !self.entries.iter().any(|(n, _)| *n == entry.0) {
                self.entries.push(entry);
            }
        }
        self.entries
            .sort_by_key(|(_, forms)| std::cmp::Reverse(forms.first().map_or(0, String::len)));
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// `text` with every secret value replaced by `[secret:NAME]`, in every form, and the
    /// start of a value that a clip cut (`…` right after it) too.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for (name, forms) in &self.entries {
            for form in forms {
                if out.contains(form.as_str()) {
                    out = Cow::Owned(out.replace(form.as_str(), &format!("[secret:{name}]")));
                }
            }
        }
        if out.contains(CLIP_MARK) {
            if let Some(cut) = self.redact_cut(&out) {
                out = Cow::Owned(cut);
            }
        }
        out
    }

    /// `text` without the start of a value it ends with (at least [`MIN_CUT`] characters,
    /// the longest match of any form), and the value's name.
    fn cut_value_before<'t>(&self, text: &'t str) -> Option<(&'t str, &str)> {
        self.entries
            .iter()
            .flat_map(|(name, forms)| forms.iter().map(move |f| (name, f)))
            .filter_map(|(name, form)| {
                let k = form
                    .char_indices()
                    .map(|(k, _)| k)
                    .filter(|&k| form[..k].chars().count() >= MIN_CUT)
                    .rev()
                    .find(|&k| text.ends_with(&form[..k]))?;
                Some((k, name.as_str()))
            })
            .max_by_key(|(k, _)| *k)
            .map(|(k, name)| (&text[..text.len() - k], name))
    }

    /// A clipped text whose cut fell inside a value (`...tok-Zq7…`): the part before the
    /// mark that begins a form of a value (at least [`MIN_CUT`] characters) is replaced.
    fn redact_cut(&self, text: &str) -> Option<String> {
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut rest = text;
        while let Some(i) = rest.find(CLIP_MARK) {
            let (before, after) = rest.split_at(i);
            match self.cut_value_before(before) {
                Some((kept, name)) => {
                    out.push_str(kept);
                    out.push_str(&format!("[secret:{name}]"));
                    changed = true;
                }
                None => out.push_str(before),
            }
            out.push_str(CLIP_MARK);
            rest = &after[CLIP_MARK.len()..];
        }
        out.push_str(rest);
        changed.then_some(out)
    }

    fn redact_in_place(&self, s: &mut String) {
        if let Cow::Owned(r) = self.redact(s) {
            *s = r;
        }
    }

    fn redact_opt(&self, s: &mut Option<String>) {
        if let Some(s) = s {
            self.redact_in_place(s);
        }
    }

    /// Redact every string of a visit's observation, whatever field holds it: the
    /// observation is walked in its serialised form (the banner screenshots' PNG bytes,
    /// which are not serialised, are kept aside and put back). Fails only if the
    /// observation cannot be rebuilt from its own serialisation; the caller must then not
    /// keep it.
    pub fn redact_visit(&self, obs: &mut VisitObservation) -> Result<(), String> {
        if self.is_empty() {
            return Ok(());
        }
        let mut tree =
            serde_json::to_value(&*obs).map_err(|e| format!("cannot walk the visit: {e}"))?;
        if !self.redact_tree(&mut tree) {
            return Ok(());
        }
        let pngs: Vec<Vec<u8>> = obs
            .screenshots
            .iter_mut()
            .map(|s| std::mem::take(&mut s.png))
            .collect();
        let mut redacted: VisitObservation = serde_json::from_value(tree)
            .map_err(|e| format!("cannot rebuild the redacted visit: {e}"))?;
        for (shot, png) in redacted.screenshots.iter_mut().zip(pngs) {
            shot.png = png;
        }
        *obs = redacted;
        Ok(())
    }

    /// Redact every string and object key of a JSON tree; true when something changed.
    pub fn redact_tree(&self, v: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        match v {
            Value::String(s) => match self.redact(s) {
                Cow::Owned(r) => {
                    *s = r;
                    true
                }
                Cow::Borrowed(_) => false,
            },
            Value::Array(items) => {
                // Every item, not only up to the first change.
                let mut changed = false;
                for x in items {
                    changed |= self.redact_tree(x);
                }
                changed
            }
            Value::Object(map) => {
                let mut changed = false;
                let keys: Vec<String> = map.keys().cloned().collect();
                for k in keys {
                    let Some(mut val) = map.remove(&k) else {
                        continue;
                    };
                    changed |= self.redact_tree(&mut val);
                    let key = self.redact(&k).into_owned();
                    changed |= key != k;
                    map.insert(key, val);
                }
                changed
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => false,
        }
    }

    /// Redact diagnostics' messages and hints.
    pub fn redact_diagnostics(&self, diags: &mut crate::diag::Diagnostics) {
        if self.is_empty() {
            return;
        }
        for d in &mut diags.0 {
            self.redact_in_place(&mut d.message);
            self.redact_opt(&mut d.hint);
        }
    }
}

/// The clip mark of [`crate::text::clip_for_evidence`] and the other clips.
const CLIP_MARK: &str = "\u{2026}";

/// Shortest start of a value redacted before a clip mark: a cut that leaves fewer
/// characters of a value leaves them (redacting one or two letters before every `…` would
/// mangle unrelated evidence).
pub const MIN_CUT: usize = 3;

/// Every form a value takes where consentry reads text.
fn forms_of(value: &str) -> Vec<String> {
    let mut forms = vec![
        value.to_string(),
        url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>(),
        percent_encode_all(value, false),
        percent_encode_all(value, true),
        value.escape_debug().to_string(),
        value.escape_default().to_string(),
    ];
    if let Ok(json) = serde_json::to_string(value) {
        forms.push(json.trim_matches('"').to_string());
    }
    // The WHATWG URL parser's own encodings (a browser's and the `url` crate's): the path,
    // query and fragment sets leave characters such as `!` and `'` as they are.
    let mut in_urls = vec![value.to_string()];
    if let Ok(u) = url::Url::parse(&format!("https://h.invalid/{value}?{value}#{value}")) {
        in_urls.push(u.path().trim_start_matches('/').to_string());
        in_urls.extend(u.query().map(str::to_string));
        in_urls.extend(u.fragment().map(str::to_string));
    }
    // A script that sends the page's URL on (`encodeURIComponent(location.href)`, a
    // tracker's `dl=` parameter) encodes those forms once more.
    for form in &in_urls {
        forms.push(encode_uri_component(form));
    }
    forms.extend(in_urls);
    forms
}

/// JavaScript's `encodeURIComponent`: every byte but `A-Z a-z 0-9 - _ . ! ~ * ' ( )`
/// percent-encoded, upper-case hex.
fn encode_uri_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b'!' | b'~' | b'*' | b'\'' | b'(' | b')'
            )
        {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Every byte outside the unreserved set percent-encoded (`%21` for `!`): the other way
/// browsers and scripts put values into URLs.
fn percent_encode_all(s: &str, lower: bool) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const RESERVED: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    let upper = utf8_percent_encode(s, RESERVED).to_string();
    if !lower {
        return upper;
    }
    // The same escapes with lower-case hex digits (`%2f`): only the two digits after
    // each `%` change, the value's own letters stay as they are.
    let mut out = String::with_capacity(upper.len());
    let mut hex_left = 0;
    for c in upper.chars() {
        if hex_left > 0 {
            out.push(c.to_ascii_lowercase());
            hex_left -= 1;
        } else {
            if c == '%' {
                hex_left = 2;
            }
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ConsentAction, Screenshot};

    const NASTY: &str = "Sp ace!\"q\\z-9Kw";

    fn secrets() -> Secrets {
        Secrets::new([
            ("PASS".to_string(), "s3cr3t p@ss!".to_string()),
            ("TOKEN".to_string(), "tok_0123456789".to_string()),
            ("NASTY".to_string(), NASTY.to_string()),
            ("SHORT".to_string(), "ab".to_string()),
        ])
    }

    #[test]
    fn values_and_their_url_forms_are_replaced() {
        let s = secrets();
        assert_eq!(
            s.names().collect::<Vec<_>>(),
            vec!["NASTY", "PASS", "TOKEN"]
        );
        assert_eq!(
            s.redact("https://x.test/login?t=tok_0123456789&p=s3cr3t+p%40ss%21"),
            "https://x.test/login?t=[secret:TOKEN]&p=[secret:PASS]"
        );
        assert_eq!(
            s.redact("typed s3cr3t p@ss! into #pw"),
            "typed [secret:PASS] into #pw"
        );
        assert_eq!(s.redact("p=s3cr3t%20p%40ss%21"), "p=[secret:PASS]");
        assert_eq!(
            s.redact("p=s3cr3t%20p%40ss%21".to_lowercase().as_str()),
            "p=[secret:PASS]"
        );
        assert_eq!(s.redact("nothing here: ab"), "nothing here: ab");
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"["NASTY","PASS","TOKEN"]"#
        );
    }

    /// The forms a browser's URL parser, Rust's `{:?}` and JSON give a value with a space,
    /// `!`, `"` and `\`: none of them leaves the value readable.
    #[test]
    fn every_form_of_a_value_with_space_bang_quote_backslash_is_replaced() {
        let s = secrets();
        let url =
            url::Url::parse(&format!("https://x.test/{NASTY}?q={NASTY}#{NASTY}")).expect("url");
        let texts = [
            url.as_str().to_string(),
            format!("{NASTY:?}"),
            serde_json::to_string(NASTY).expect("json"),
            format!("{}", NASTY.escape_default()),
            url::form_urlencoded::byte_serialize(NASTY.as_bytes()).collect::<String>(),
            // A tracker's `dl=` parameter: encodeURIComponent of the page's URL.
            format!("https://t.test/p?dl={}", encode_uri_component(url.as_str())),
        ];
        for text in texts {
            let out = s.redact(&text);
            assert!(out.contains("[secret:NASTY]"), "{text} -> {out}");
            for piece in ["Sp ace", "Sp%20ace", "Sp+ace", "9Kw"] {
                assert!(!out.contains(piece), "{text} -> {out}");
            }
        }
    }

    #[test]
    fn a_value_cut_by_a_clip_is_redacted_to_its_first_characters() {
        let s = secrets();
        assert_eq!(
            s.redact("error: token tok_01234…"),
            "error: token [secret:TOKEN]…"
        );
        assert_eq!(
            s.redact("a tok…, b tok_0123456789"),
            "a [secret:TOKEN]…, b [secret:TOKEN]"
        );
        // Fewer than MIN_CUT characters of a value are left (and so is unrelated text).
        assert_eq!(s.redact("ends with to…"), "ends with to…");
        assert_eq!(s.redact("plain text…"), "plain text…");
    }

    /// The visit is walked whole: every string field of every record kind, the ones a
    /// later change may add included, comes out redacted, and nothing else changes (the
    /// screenshot bytes, which are not serialised, are kept).
    #[test]
    fn a_visit_is_redacted_in_every_field_and_otherwise_unchanged() {
        let s = secrets();
        let tok = "tok_0123456789";
        let mut obs = crate::analysis::tests::scenario(&format!("login {tok}"))
            .page(&format!("https://shop.test/?t={tok}"))
            .req(&format!(
                "https://www.google-analytics.com/g/collect?cid={tok}&gcs=G100"
            ))
            .write(&format!("sid_{tok}"), Some(1))
            .stored(&format!("sid_{tok}"), Some(1))
            .act(ConsentAction::AcceptAll)
            .incomplete(&format!("step failed near {tok}"))
            .cmp_action(ConsentAction::AcceptAll, crate::cmp::Readback::NoReader)
            .build();
        obs.warnings.push(format!("warned about {}", NASTY));
        obs.screenshots.push(Screenshot {
            step: 0,
            action: ConsentAction::AcceptAll,
            when: crate::model::screenshot::ShotWhen::Before,
            time: obs.started_at,
            page: format!("https://shop.test/?t={tok}"),
            width: 1,
            height: 1,
            bytes: 3,
            capture_ms: 1,
            action_failed: false,
            path: None,
            png: vec![1, 2, 3],
        });
        let before = serde_json::to_string(&obs).expect("json");
        assert!(before.contains(tok));
        s.redact_visit(&mut obs).expect("redact");
        let after = serde_json::to_string(&obs).expect("json");
        let expected = before.replace(tok, "[secret:TOKEN]").replace(
            &serde_json::to_string(NASTY)
                .expect("json")
                .trim_matches('"')
                .to_string(),
            "[secret:NASTY]",
        );
        assert_eq!(after, expected);
        assert_eq!(obs.screenshots[0].png, vec![1, 2, 3]);
    }
}
