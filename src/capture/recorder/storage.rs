//! Web Storage writes as the browser saw them (`DOMStorage.domStorageItemAdded` and
//! `domStorageItemUpdated`), whatever the page wrote them with: `setItem`, a property or
//! bracket assignment, `Object.assign`, another realm's `Storage.prototype.setItem`.
//!
//! These events are the record of what was written; the page hook reports no storage
//! writes (it saw only `setItem`, with the page's word for the origin, and reported a
//! write the browser then refused). A write the browser refused (over its quota) sends no
//! event, so it is not recorded. Removals (`domStorageItemRemoved`, `domStorageItemsCleared`)
//! write no value and are not recorded, as before.
//!
//! The events carry no timestamp: a write's time is when its event arrived (DevTools sends
//! it as the write is made, before the script goes on), which is what the engine gives it
//! its consent phase from.

use super::super::events::DomStorageItemWritten;
use super::page::MAX_HOOK_REPORTS_PER_DOCUMENT;
use super::Recorder;
use crate::model::{StorageArea, StorageWrite};
use chrono::Utc;

/// The origin of a storage area: its `securityOrigin`, or the origin its storage key starts
/// with (`https://a.test/^0https://top.test` for a partitioned area: `https://a.test`).
pub(crate) fn storage_origin(id: &super::super::events::StorageId) -> String {
    if let Some(o) = id.security_origin.as_deref().filter(|o| !o.is_empty()) {
        return o.to_string();
    }
    let key = id.storage_key.as_deref().unwrap_or_default();
    let origin = key.split('^').next().unwrap_or_default();
    origin.trim_end_matches('/').to_string()
}

impl Recorder {
    /// The browser stored a Web Storage item: one write, bounded per target and origin
    /// like the hook's reports per document (beyond, counted in the hook tally's `dropped`).
    pub(super) fn on_storage_written(&mut self, session: Option<&str>, w: DomStorageItemWritten) {
        let now = Utc::now();
        let origin = storage_origin(&w.storage_id);
        let area = if w.storage_id.is_local_storage {
            StorageArea::Local
        } else {
            StorageArea::Session
        };
        let key = (session.unwrap_or_default().to_string(), origin.clone());
        let count = self.storage_counts.entry(key).or_default();
        *count = count.saturating_add(1);
        if *count > MAX_HOOK_REPORTS_PER_DOCUMENT {
            self.hook.tally.dropped = self.hook.tally.dropped.saturating_add(1);
            return;
        }
        let write = StorageWrite {
            area,
            origin,
            key: w.key,
            value_hash: self.hasher.hash(&w.new_value),
            time: now,
            page: self.page.clone(),
            state: self.consent(),
        };
        self.storage_writes.push(write);
    }
}
