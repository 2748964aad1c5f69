//! `audit --notify` (and a fleet file's `notify`): the targets checked before anything
//! runs, the alert stage run once the reports are written, its failures warned about
//! (docs/alerts.md). A failed delivery never changes the exit code.

use consentry::exit::ExitStatus;
use consentry::notify::{signer_for, Notification, SendPolicy, Target, SECRET_ENV};
use consentry::pipeline::{About, Notified, NotifyConfig};
use std::path::Path;

/// The alert configuration for `targets`, or exit 2 with the reason (a generic target
/// without a usable `CONSENTRY_NOTIFY_SECRET`).
pub(crate) fn config(targets: Vec<Target>) -> Result<NotifyConfig, ExitStatus> {
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
    db: &Path,
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
