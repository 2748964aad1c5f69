//! `audit --notify` (and a fleet file's `notify`): the targets checked before anything
//! runs, the alert stage run once the reports are written, its failures warned about
//! (docs/alerts.md). A failed delivery never changes the exit code.

use consentry::exit::ExitStatus;
use consentry::notify::{signer_for, Notification, SendPolicy, Target, SECRET_ENV};
use consentry::pipeline::{About, Notified, NotifyConfig};

/// The alert configuration: the `--notify` URLs, which replace a fleet file's targets
/// when given. Exit 2 with the reason for a URL consentry cannot post to (named by its
/// place, never repeated: a webhook's URL is often its credential) or a generic target
/// without a usable `CONSENTRY_NOTIFY_SECRET`.
pub(crate) fn config(flags: &[String], from_file: &[Target]) -> Result<NotifyConfig, ExitStatus> {
    let mut targets = Vec::with_capacity(flags.len());
    for (i, url) in flags.iter().enumerate() {
        match Target::parse(url) {
            Ok(t) => targets.push(t),
            Err(e) => {
                consentry::stderr::line(format_args!(
                    "error: --notify (#{}): {e}; nothing was audited",
                    i + 1
                ));
                return Err(ExitStatus::InvalidInput);
            }
        }
    }
    if flags.is_empty() {
        targets = from_file.to_vec();
    }
    let secret = std::env::var(SECRET_ENV).ok();
    match signer_for(&targets, secret.as_deref()) {
        Ok(signer) => Ok(NotifyConfig {
            targets,
            signer,
            ..NotifyConfig::default()
        }),
        Err(e) => {
            consentry::stderr::line(format_args!("error: {e}; nothing was audited"));
            Err(ExitStatus::InvalidInput)
        }
    }
}

/// Post `notification` and warn on stderr about each delivery that failed. After an
/// interrupted run the bound is shorter ([`SendPolicy::INTERRUPTED`]).
pub(crate) async fn send(
    db: &consentry::store::DbLocation,
    about: Option<About>,
    notification: Option<&Notification>,
    cfg: &NotifyConfig,
    interrupted: bool,
) {
    let cfg = NotifyConfig {
        policy: Some(if interrupted {
            SendPolicy::INTERRUPTED
        } else {
            cfg.policy.unwrap_or(SendPolicy::DEFAULT)
        }),
        ..cfg.clone()
    };
    let Notified {
        deliveries,
        storage_error,
    } = consentry::pipeline::notify(db, about, notification, &cfg).await;
    for d in deliveries.iter().filter(|d| !d.delivered) {
        consentry::stderr::line(format_args!(
            "warning: alert to {} ({}) not delivered: {}",
            d.target,
            d.format.as_str(),
            consentry::text::printable(d.error.as_deref().unwrap_or("unknown error"))
        ));
    }
    if let Some(e) = storage_error {
        consentry::stderr::line(format_args!("warning: {}", consentry::text::printable(&e)));
    }
}
