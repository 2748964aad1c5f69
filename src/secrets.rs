//! Secrets: `[site] secrets = ["LOGIN_PASSWORD", ...]` names environment variables whose
//! values a scenario uses (a login step, a token in a page URL) and which must never be
//! written anywhere: not to the database, not into any report, not to stderr, not into a
//! `validate` message. Every such value, as written and percent-encoded (the form it
//! takes inside URLs), is replaced by `[secret:NAME]` at the boundaries: diagnostics as
//! they are printed, each visit's observation before it is judged, stored or shown.

use crate::model::{StepStatus, VisitObservation, VisitStatus};
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
                let mut forms = vec![value.clone()];
                for encoded in [
                    url::form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>(),
                    percent_encode_all(&value),
                ] {
                    if !forms.contains(&encoded) {
                        forms.push(encoded);
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

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// `text` with every secret value replaced by `[secret:NAME]`.
    pub fn redact<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let mut out = Cow::Borrowed(text);
        for (name, forms) in &self.entries {
            for form in forms {
                if out.contains(form.as_str()) {
                    out = Cow::Owned(out.replace(form.as_str(), &format!("[secret:{name}]")));
                }
            }
        }
        out
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

    /// Redact every text a visit observed or reported.
    pub fn redact_visit(&self, obs: &mut VisitObservation) {
        if self.is_empty() {
            return;
        }
        for r in &mut obs.requests {
            self.redact_in_place(&mut r.url);
            self.redact_in_place(&mut r.page);
            self.redact_opt(&mut r.initiator);
            self.redact_opt(&mut r.error);
        }
        for w in &mut obs.cookie_writes {
            self.redact_in_place(&mut w.name);
            self.redact_in_place(&mut w.domain);
            self.redact_opt(&mut w.path);
            self.redact_in_place(&mut w.page);
            self.redact_opt(&mut w.expiry_unparsed);
            match &mut w.source {
                crate::model::CookieSource::Header { request_url } => {
                    self.redact_in_place(request_url)
                }
                crate::model::CookieSource::Script { document_url } => {
                    self.redact_in_place(document_url)
                }
            }
        }
        for c in &mut obs.cookies {
            self.redact_in_place(&mut c.name);
            self.redact_in_place(&mut c.domain);
            self.redact_in_place(&mut c.path);
        }
        for s in &mut obs.storage_writes {
            self.redact_in_place(&mut s.origin);
            self.redact_in_place(&mut s.key);
            self.redact_in_place(&mut s.page);
        }
        for shot in &mut obs.screenshots {
            self.redact_in_place(&mut shot.page);
        }
        for sig in &mut obs.signals {
            self.redact_in_place(&mut sig.page);
            match &mut sig.source {
                crate::signals::SignalSource::Request { url }
                | crate::signals::SignalSource::WellKnown { url } => self.redact_in_place(url),
                crate::signals::SignalSource::Cookie { name, domain } => {
                    self.redact_in_place(name);
                    self.redact_in_place(domain);
                }
                crate::signals::SignalSource::PageApi { .. }
                | crate::signals::SignalSource::Visit => {}
            }
            if let crate::signals::SignalData::Gpc(g) = &mut sig.data {
                g.for_each_text(&mut |t| self.redact_in_place(t));
            }
        }
        for e in &mut obs.page_errors {
            self.redact_in_place(&mut e.message);
            self.redact_opt(&mut e.source);
            self.redact_in_place(&mut e.page);
        }
        for step in &mut obs.steps {
            self.redact_in_place(&mut step.description);
            if let StepStatus::Failed(f) = &mut step.status {
                self.redact_in_place(&mut f.reason);
            }
        }
        if let VisitStatus::Incomplete(f) = &mut obs.status {
            self.redact_in_place(&mut f.reason);
        }
        for w in &mut obs.warnings {
            self.redact_in_place(w);
        }
        // A settle says where it ran, e.g. "after loading URL".
        for settle in &mut obs.timings.settles {
            self.redact_in_place(&mut settle.why);
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

/// Every byte outside the unreserved set percent-encoded (`%21` for `!`): the other way
/// browsers and scripts put values into URLs.
fn percent_encode_all(s: &str) -> String {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    const RESERVED: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    utf8_percent_encode(s, RESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_their_url_forms_are_replaced() {
        let s = Secrets::new([
            ("PASS".to_string(), "s3cr3t p@ss!".to_string()),
            ("TOKEN".to_string(), "tok_0123456789".to_string()),
            ("SHORT".to_string(), "ab".to_string()),
        ]);
        assert_eq!(s.names().collect::<Vec<_>>(), vec!["PASS", "TOKEN"]);
        assert_eq!(
            s.redact("https://x.test/login?t=tok_0123456789&p=s3cr3t+p%40ss%21"),
            "https://x.test/login?t=[secret:TOKEN]&p=[secret:PASS]"
        );
        assert_eq!(
            s.redact("typed s3cr3t p@ss! into #pw"),
            "typed [secret:PASS] into #pw"
        );
        assert_eq!(s.redact("p=s3cr3t%20p%40ss%21"), "p=[secret:PASS]");
        assert_eq!(s.redact("nothing here: ab"), "nothing here: ab");
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"["PASS","TOKEN"]"#);
    }
}
