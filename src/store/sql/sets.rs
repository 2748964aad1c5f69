//! What repeats from night to night, stored once (schema 16, docs/storage.md, "History
//! layout"): a run's declared map (`declaration_sets`), a visit's inventory
//! (`inventory_sets`) and a finding's identity (`finding_keys`), each found again by the
//! SHA-256 `digest` of its canonical content. A writer looks its digest up and reuses the
//! row, or inserts it (`ON CONFLICT (digest) DO NOTHING`, then looks again: a concurrent
//! writer of the same content on PostgreSQL may have won). Called inside the write
//! transactions of `write.rs` and `rows.rs`, never on their own.
//!
//! The canonical content: every field of every row in order, as text, fields ended by
//! 0x1f, rows by 0x1e, `NULL` as 0x01. The sets migration 16 converted carry no digest
//! (SQL has no SHA-256 there); they are never reused, which costs one set per site and
//! scenario after the migration, nothing else.

use super::Conn;
use super::{insert_rows, Db};
use crate::analysis::finding::Finding;
use crate::inventory::{Declaration, VisitInventory};
use crate::store::codec::{Col, Insert};
use crate::store::StoreError;
use sha2::{Digest, Sha256};

const DECLARATION_ITEMS: Insert = Insert {
    into: "INSERT INTO declaration_items",
    columns: &[
        "set_id",
        "seq",
        "vendor",
        "vendor_name",
        "purpose",
        "basis",
        "strictly_necessary",
        "tcf_purpose",
    ],
};
const INVENTORY_ITEMS: Insert = Insert {
    into: "INSERT INTO inventory_items",
    columns: &[
        "set_id",
        "seq",
        "kind",
        "item",
        "vendor",
        "lifetime_secs",
        "declared_secs",
        "over_retention",
        "detail",
    ],
};

/// The canonical content's digest (module docs).
#[derive(Default)]
struct Canon(Sha256);

impl Canon {
    fn field(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(s) => self.0.update(s.as_bytes()),
            None => self.0.update([1u8]),
        }
        self.0.update([0x1f]);
        self
    }
    fn int(&mut self, v: Option<i64>) -> &mut Self {
        self.field(v.map(|v| v.to_string()).as_deref())
    }
    fn row(&mut self) {
        self.0.update([0x1e]);
    }
    /// 128 bits in hex: no collision among the sets of any fleet, half the bytes.
    fn hex(self) -> String {
        crate::text::hex_prefix(&self.0.finalize(), 16)
    }
}

/// The rows of a visit's inventory set: the vendors that acted (kind `vendor`), then its
/// items, in order.
pub(super) fn inventory_rows(inv: &VisitInventory) -> Vec<[Col<'_>; 7]> {
    let vendors = inv.vendors.iter().map(|a| {
        [
            "vendor".into(),
            a.vendor.as_str().into(),
            Col::Text(None),
            Col::Int(None),
            Col::Int(None),
            false.into(),
            Col::Text(None),
        ]
    });
    let items = inv.items.iter().map(|i| {
        [
            Col::from(<&'static str>::from(i.kind)),
            i.item.as_str().into(),
            i.vendor.as_deref().into(),
            i.lifetime_secs.into(),
            i.declared_secs.into(),
            i.over_retention.into(),
            i.detail.as_deref().into(),
        ]
    });
    vendors.chain(items).collect()
}

fn digest_rows<const N: usize>(rows: &[[Col<'_>; N]]) -> String {
    let mut c = Canon::default();
    for row in rows {
        for col in row {
            match col {
                Col::Int(v) => c.int(*v),
                Col::Bool(b) => c.field(Some(if *b { "1" } else { "0" })),
                Col::Text(t) => c.field(t.as_deref()),
            };
        }
        c.row();
    }
    c.hex()
}

/// A finding's identity: what `finding_keys` holds, in its column order.
fn key_cols(f: &Finding) -> [Col<'_>; 8] {
    [
        f.fingerprint.as_str().into(),
        f.code.as_str().into(),
        f.severity.as_str().into(),
        f.site.as_str().into(),
        f.scenario.as_deref().into(),
        f.subject.as_str().into(),
        f.vendor.as_deref().into(),
        f.rule.as_str().into(),
    ]
}

/// A finding's key in `finding_keys`: its id and the message stored with it.
pub(super) struct FindingKey {
    pub id: i64,
    pub message: Option<String>,
}

impl Db {
    /// The id of the row of `table` (a set table of ours) with `digest`, if any.
    async fn by_digest(
        &self,
        tx: &mut Conn,
        table: &'static str,
        digest: &str,
    ) -> Result<Option<i64>, StoreError> {
        // `table` is one of our own table names, never input.
        let sql = format!("SELECT id FROM {table} WHERE digest = ?");
        super::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(digest)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db_err("read a stored set"))
    }

    /// The set of `table` with `digest`: `(id, false)` when stored already, else a new
    /// one, `(id, true)`, whose items the caller inserts.
    async fn intern_set(
        &self,
        tx: &mut Conn,
        table: &'static str,
        digest: &str,
    ) -> Result<(i64, bool), StoreError> {
        if let Some(id) = self.by_digest(tx, table, digest).await? {
            return Ok((id, false));
        }
        let sql = format!(
            "INSERT INTO {table} (digest) VALUES (?) ON CONFLICT (digest) DO NOTHING RETURNING id"
        );
        let created: Option<i64> = super::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(digest)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db_err("store a set"))?;
        match created {
            Some(id) => Ok((id, true)),
            None => self
                .by_digest(tx, table, digest)
                .await?
                .map(|id| (id, false))
                .ok_or_else(|| self.unknown_set(table)),
        }
    }

    fn unknown_set(&self, table: &'static str) -> StoreError {
        StoreError::Invalid {
            path: self.path_buf(),
            detail: format!("{table}: a set vanished while it was stored"),
        }
    }

    /// The declaration set of `declarations` (each (vendor, purpose) once, the first
    /// kept, in order), stored if new.
    pub(super) async fn declaration_set(
        &self,
        tx: &mut Conn,
        declarations: &[Declaration],
    ) -> Result<i64, StoreError> {
        let mut seen = std::collections::HashSet::new();
        let rows: Vec<[Col; 6]> = declarations
            .iter()
            .filter(|d| seen.insert((d.vendor.as_str(), d.purpose.as_str())))
            .map(|d| {
                [
                    d.vendor.as_str().into(),
                    d.vendor_name.as_str().into(),
                    d.purpose.as_str().into(),
                    d.basis.as_str().into(),
                    d.strictly_necessary.into(),
                    d.tcf_purpose.map(i64::from).into(),
                ]
            })
            .collect();
        let (id, created) = self
            .intern_set(tx, "declaration_sets", &digest_rows(&rows))
            .await?;
        if created {
            self.insert_set_items(tx, &DECLARATION_ITEMS, id, rows)
                .await?;
        }
        Ok(id)
    }

    /// The inventory set of a visit, stored if new.
    pub(super) async fn inventory_set(
        &self,
        tx: &mut Conn,
        inv: &VisitInventory,
    ) -> Result<i64, StoreError> {
        let rows = inventory_rows(inv);
        let (id, created) = self
            .intern_set(tx, "inventory_sets", &digest_rows(&rows))
            .await?;
        if created {
            self.insert_set_items(tx, &INVENTORY_ITEMS, id, rows)
                .await?;
        }
        Ok(id)
    }

    async fn insert_set_items<const N: usize>(
        &self,
        tx: &mut Conn,
        insert: &Insert,
        set: i64,
        rows: Vec<[Col<'_>; N]>,
    ) -> Result<(), StoreError> {
        let rows: Vec<Vec<Col>> = rows
            .into_iter()
            .enumerate()
            .map(|(seq, row)| {
                let seq = i64::try_from(seq).unwrap_or(i64::MAX);
                [set.into(), seq.into()].into_iter().chain(row).collect()
            })
            .collect();
        insert_rows(tx, insert, &rows)
            .await
            .map_err(self.db_err(insert.into))
    }

    /// The key of `f` in `finding_keys`, stored (with `f`'s message) if new.
    pub(super) async fn finding_key(
        &self,
        tx: &mut Conn,
        f: &Finding,
    ) -> Result<FindingKey, StoreError> {
        let cols = key_cols(f);
        let digest = digest_rows(std::slice::from_ref(&cols));
        let read = async |tx: &mut Conn| {
            super::query_as::<(i64, Option<String>)>(
                "SELECT id, message FROM finding_keys WHERE digest = ?",
            )
            .bind(&digest)
            .fetch_optional(&mut *tx)
            .await
            .map_err(self.db_err("read a finding key"))
        };
        if let Some((id, message)) = read(tx).await? {
            return Ok(FindingKey { id, message });
        }
        let created: Option<i64> = super::query_scalar(
            "INSERT INTO finding_keys (digest, fingerprint, code, severity, site, scenario, \
             subject, vendor, rule, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (digest) DO NOTHING RETURNING id",
        )
        .bind(&digest)
        .bind(f.fingerprint.as_str())
        .bind(f.code.as_str())
        .bind(f.severity.as_str())
        .bind(f.site.as_str())
        .bind(f.scenario.as_deref())
        .bind(f.subject.as_str())
        .bind(f.vendor.as_deref())
        .bind(f.rule.as_str())
        .bind(f.message.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(self.db_err("store a finding key"))?;
        match created {
            Some(id) => Ok(FindingKey {
                id,
                message: Some(f.message.clone()),
            }),
            None => match read(tx).await? {
                Some((id, message)) => Ok(FindingKey { id, message }),
                None => Err(self.unknown_set("finding_keys")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{InventoryItem, ItemKind, VendorActivity};

    fn inv(lifetime: Option<i64>) -> VisitInventory {
        VisitInventory {
            vendors: vec![VendorActivity {
                vendor: "ga".into(),
                requests: 3,
                ..VendorActivity::default()
            }],
            items: vec![InventoryItem {
                kind: ItemKind::Cookie,
                item: "_ga@example.com".into(),
                vendor: Some("ga".into()),
                lifetime_secs: lifetime,
                declared_secs: Some(10),
                over_retention: false,
                detail: None,
            }],
        }
    }

    #[test]
    fn equal_content_has_one_digest_and_any_change_another() {
        let a = digest_rows(&inventory_rows(&inv(Some(5))));
        assert_eq!(a, digest_rows(&inventory_rows(&inv(Some(5)))));
        assert_eq!(a.len(), 32);
        // A lifetime, a session cookie (NULL), a count only: NULL differs from "", and
        // the counts are not part of the set (they go to `run_vendors`).
        assert_ne!(a, digest_rows(&inventory_rows(&inv(Some(6)))));
        assert_ne!(a, digest_rows(&inventory_rows(&inv(None))));
        let mut more = inv(Some(5));
        more.vendors[0].requests = 9;
        assert_eq!(a, digest_rows(&inventory_rows(&more)));
        // Field boundaries count: ("ab", "c") is not ("a", "bc").
        let one = [["ab".into(), "c".into()]];
        let two = [["a".into(), "bc".into()]];
        assert_ne!(digest_rows::<2>(&one), digest_rows::<2>(&two));
    }
}
