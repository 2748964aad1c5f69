//! Alerts (docs/alerts.md): after a run, tell people what changed without their opening a
//! report. Three stages, one way:
//!
//! ```text
//! finished run(s): AuditReport ─▶ message::Notification   (pure: what is new or regressed,
//!                                                           incomplete runs; every string
//!                                                           through one door, `message::clean`)
//!                               ─▶ render::{slack, generic} (pure: JSON bodies)
//!                               ─▶ send::deliver            (HTTP(S) POST, signature, retries
//!                                                           with backoff, bounded) ─▶ Delivery
//! ```
//!
//! Nothing here touches the store or decides an exit code: the pipeline stores each
//! [`send::Delivery`] and a failed delivery is only a warning.

pub mod message;
pub mod render;
pub mod send;

pub use message::{ChangedFinding, Notification, SiteChange, SiteInput};
pub use send::{deliver, Delivery, SendPolicy, Signer};

use url::Url;

/// The environment variable holding the secret that signs generic messages.
pub const SECRET_ENV: &str = "CONSENTRY_NOTIFY_SECRET";
/// The shortest secret accepted (a guessable secret makes the signature worthless).
pub const MIN_SECRET_LEN: usize = 16;

/// The shape a target receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Slack's incoming-webhook JSON: `text` and `blocks` (also read by Mattermost,
    /// Rocket.Chat and other Slack-compatible receivers). Not signed: a Slack webhook's
    /// URL is its secret.
    Slack,
    /// consentry's own JSON (docs/alerts.md, `schema` / `version`), signed with
    /// HMAC-SHA-256 (`X-Consentry-Signature`).
    Generic,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Slack => "slack",
            Format::Generic => "generic",
        }
    }
}

/// Where a notification goes and in which shape.
#[derive(Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL posted to (`slack+` already taken off).
    pub url: Url,
    pub format: Format,
}

impl std::fmt::Debug for Target {
    // The URL of a webhook is often its credential: never printed whole.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("url", &self.label())
            .field("format", &self.format)
            .finish()
    }
}

/// Slack's incoming webhooks' host: its URLs get the Slack shape without `slack+`.
const SLACK_HOST: &str = "hooks.slack.com";

impl Target {
    /// A `--notify` URL or a fleet file's `notify` entry. The shape: `slack+https://…`
    /// (or `slack+http://…`), or any URL on `hooks.slack.com`, gets Slack's; every other
    /// `http(s)://` URL gets the generic, signed one. Credentials in the URL are refused
    /// (they would travel in clear in logs and the store); so is a fragment.
    pub fn parse(s: &str) -> Result<Target, String> {
        let (forced_slack, rest) = match s.strip_prefix("slack+") {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let url = Url::parse(rest).map_err(|e| format!("not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "scheme `{}` is not supported: use https:// (or http://), optionally as slack+https://",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("the URL has no host".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "credentials in the URL are not supported: generic targets are authenticated by the signature (CONSENTRY_NOTIFY_SECRET)"
                    .into(),
            );
        }
        if url.fragment().is_some() {
            return Err("a fragment (#…) is never sent: remove it".into());
        }
        let slack = forced_slack || url.host_str() == Some(SLACK_HOST);
        Ok(Target {
            url,
            format: if slack {
                Format::Slack
            } else {
                Format::Generic
            },
        })
    }

    /// The URL as it may be shown and stored: scheme, host, port and the first path
    /// segment, then `/…` when there is more (a webhook's path is often its token); no
    /// query, no credentials.
    pub fn label(&self) -> String {
        let mut out = format!(
            "{}://{}",
            self.url.scheme(),
            self.url.host_str().unwrap_or("")
        );
        if let Some(port) = self.url.port() {
            out.push_str(&format!(":{port}"));
        }
        let mut segments = self
            .url
            .path_segments()
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty());
        if let Some(first) = segments.next() {
            out.push('/');
            out.push_str(first);
            if segments.next().is_some() {
                out.push_str("/…");
            }
        }
        out
    }
}

/// Check a generic target's signing secret (`CONSENTRY_NOTIFY_SECRET`): needed as soon as
/// one target is generic (an unsigned alert cannot be told from a forged one, so none is
/// sent), and at least [`MIN_SECRET_LEN`] bytes long.
pub fn signer_for(targets: &[Target], secret: Option<&str>) -> Result<Option<Signer>, String> {
    if !targets.iter().any(|t| t.format == Format::Generic) {
        return Ok(None);
    }
    match secret.filter(|s| !s.is_empty()) {
        None => Err(format!(
            "--notify: generic targets are signed, and {SECRET_ENV} is not set: set it to a random secret of at least {MIN_SECRET_LEN} characters shared with the receiver (docs/alerts.md), or use a slack+https:// target"
        )),
        Some(s) if s.len() < MIN_SECRET_LEN => Err(format!(
            "{SECRET_ENV} is {} characters long: at least {MIN_SECRET_LEN} are needed (e.g. `openssl rand -hex 32`)",
            s.len()
        )),
        Some(s) => Ok(Some(Signer::new(s.as_bytes()))),
    }
}

#[cfg(test)]
mod tests;
