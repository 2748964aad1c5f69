//! The alert stage of an audit (docs/alerts.md): once the run's reports are written,
//! post its [`Notification`] to every target and store how each delivery ended. A
//! delivery that fails is returned for a warning and stored; it never fails the audit.

use crate::notify::{Delivery, Notification, SendPolicy, Signer, Target};
use crate::store::{DbLocation, FleetRunId, NotificationRecord, RunId, Store};

/// Where alerts go and how they are sent.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    pub targets: Vec<Target>,
    /// Signs generic messages (`CONSENTRY_NOTIFY_SECRET`; see [`crate::notify::signer_for`]).
    pub signer: Option<Signer>,
    pub policy: Option<SendPolicy>,
    pub roots: crate::tls::Roots,
}

/// What the notification was about.
#[derive(Debug, Clone, Copy)]
pub enum About {
    Run(RunId),
    FleetRun(FleetRunId),
}

/// How the alert stage ended.
#[derive(Debug, Default)]
pub struct Notified {
    /// One per target (empty: nothing to say, or no target).
    pub deliveries: Vec<Delivery>,
    /// The deliveries could not be stored.
    pub storage_error: Option<String>,
}

/// Post `notification` (if any) to `cfg`'s targets and store the deliveries in the
/// database at `db` (about run or fleet run `about`, when it was stored).
pub async fn notify(
    db: &DbLocation,
    about: Option<About>,
    notification: Option<&Notification>,
    cfg: &NotifyConfig,
) -> Notified {
    let Some(n) = notification.filter(|_| !cfg.targets.is_empty()) else {
        return Notified::default();
    };
    let deliveries = crate::notify::deliver(
        &cfg.targets,
        n,
        cfg.signer.as_ref(),
        &cfg.policy.unwrap_or(SendPolicy::DEFAULT),
        &cfg.roots,
    )
    .await;
    let Some(about) = about else {
        return Notified {
            deliveries,
            storage_error: None,
        };
    };
    let (run, fleet_run) = match about {
        About::Run(id) => (Some(id), None),
        About::FleetRun(id) => (None, Some(id)),
    };
    let records: Vec<NotificationRecord> = deliveries
        .iter()
        .map(|d| NotificationRecord {
            run,
            fleet_run,
            target: d.target.clone(),
            format: d.format.as_str().to_string(),
            delivered: d.delivered,
            attempts: d.attempts,
            http_status: d.http_status,
            error: d.error.clone(),
            sent_at: d.finished_at,
        })
        .collect();
    let storage_error = match Store::open(db.clone()).await {
        Ok(store) => {
            let r = store.writer().record_notifications(&records).await;
            store.close().await;
            r.err()
                .map(|e| format!("could not store the alert deliveries: {e}"))
        }
        Err(e) => Some(format!("could not store the alert deliveries: {e}")),
    };
    Notified {
        deliveries,
        storage_error,
    }
}
