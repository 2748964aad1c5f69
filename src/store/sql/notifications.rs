//! Alert deliveries (docs/alerts.md): written once a run's notification was sent (or
//! given up on), read by tests and `consentry` front ends. Shared by both back ends
//! (src/store/sql/).

use super::row::{get, get_ts};
use super::{Db, DbRow};
use crate::store::codec::{self, DecodeResult};
use crate::store::{NotificationRecord, StoreError};

impl Db {
    pub(in crate::store) async fn record_notifications(
        &self,
        records: &[NotificationRecord],
    ) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        self.write("store notifications", move || {
            async move |tx| {
                for r in records {
                    super::query(
                        "INSERT INTO notifications (run_id, fleet_run_id, target, format, \
                         status, attempts, http_status, error, sent_at) \
                         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    )
                    .bind(r.run)
                    .bind(r.fleet_run)
                    .bind(&r.target)
                    .bind(&r.format)
                    .bind(if r.delivered { "delivered" } else { "failed" })
                    .bind(i64::from(r.attempts))
                    .bind(r.http_status.map(i64::from))
                    .bind(r.error.as_deref())
                    .bind(codec::ts(&r.sent_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(self.db_err("store notifications"))?;
                }
                Ok(())
            }
        })
        .await
    }

    pub(in crate::store) async fn notifications(
        &self,
        run: Option<crate::store::RunId>,
        fleet_run: Option<crate::store::FleetRunId>,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let rows = super::query(
            "SELECT * FROM notifications WHERE (? IS NULL OR run_id = ?) \
             AND (? IS NULL OR fleet_run_id = ?) ORDER BY id",
        )
        .bind(run)
        .bind(run)
        .bind(fleet_run)
        .bind(fleet_run)
        .fetch_all(&self.pool)
        .await
        .map_err(self.db_err("read notifications"))?;
        rows.iter()
            .map(|r| self.decode(decode_notification(r)))
            .collect()
    }
}

fn decode_notification(r: &DbRow) -> DecodeResult<NotificationRecord> {
    let status: String = get(r, "status")?;
    let attempts: i64 = get(r, "attempts")?;
    let http_status: Option<i64> = get(r, "http_status")?;
    Ok(NotificationRecord {
        run: get(r, "run_id")?,
        fleet_run: get(r, "fleet_run_id")?,
        target: get(r, "target")?,
        format: get(r, "format")?,
        delivered: match status.as_str() {
            "delivered" => true,
            "failed" => false,
            other => return Err(format!("column status: unknown delivery status {other:?}")),
        },
        attempts: u32::try_from(attempts)
            .map_err(|_| format!("column attempts: out of range: {attempts}"))?,
        http_status: http_status.and_then(|s| u16::try_from(s).ok()),
        error: get(r, "error")?,
        sent_at: get_ts(r, "sent_at")?,
    })
}
