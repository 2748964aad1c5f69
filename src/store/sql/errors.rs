//! How a back end's failures become [`StoreError`]s, each naming the database (its file,
//! or its URL without the password), the retry of a write transaction that found the
//! database busy, and the test hook that fakes a run's process. Shared by both back ends
//! (src/store/sql/).

use super::{Conn, Db};
use crate::store::codec::DecodeResult;
use crate::store::{RunId, StoreError};
use std::path::PathBuf;

impl Db {
    /// The one write transaction ([`Db::write_once`]: this back end's `BEGIN`, `f`,
    /// commit, rolled back on any error of `f`), tried again, whole, while it fails
    /// because the database is busy ([`StoreError::is_busy`]), as [`Db::retry`] says.
    /// `f` makes the transaction's body afresh for each attempt; `op` names the commit in
    /// errors.
    pub(in crate::store) async fn write<T, G>(
        &self,
        op: &'static str,
        f: impl Fn() -> G,
    ) -> Result<T, StoreError>
    where
        G: AsyncFnOnce(&mut Conn) -> Result<T, StoreError>,
    {
        let first = std::time::Instant::now();
        let mut retry = 0;
        loop {
            match self.write_once(op, f()).await {
                Err(e) if e.is_busy() => match self.retry.pause(retry, first.elapsed()) {
                    Some(pause) => {
                        tokio::time::sleep(pause).await;
                        retry += 1;
                    }
                    None => return Err(e),
                },
                done => return done,
            }
        }
    }

    pub(in crate::store) fn path_buf(&self) -> PathBuf {
        self.path.as_ref().clone()
    }

    pub(in crate::store) fn db_err(
        &self,
        op: &'static str,
    ) -> impl Fn(sqlx::Error) -> StoreError + '_ {
        move |cause| StoreError::Query {
            path: self.path_buf(),
            op,
            cause,
        }
    }

    /// A foreign-key failure on a row referencing `runs` means the run does not exist.
    pub(in crate::store) fn fk_err(
        &self,
        e: sqlx::Error,
        run: RunId,
        op: &'static str,
    ) -> StoreError {
        match &e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => self.unknown_run(run),
            _ => self.db_err(op)(e),
        }
    }

    pub(in crate::store) fn unknown_run(&self, run: RunId) -> StoreError {
        StoreError::UnknownRun {
            path: self.path_buf(),
            run,
        }
    }

    pub(in crate::store) fn invalid<T>(&self, r: Result<T, String>) -> Result<T, StoreError> {
        r.map_err(|detail| StoreError::Invalid {
            path: self.path_buf(),
            detail,
        })
    }

    pub(in crate::store) fn decode<T>(&self, r: DecodeResult<T>) -> Result<T, StoreError> {
        r.map_err(|detail| StoreError::Corrupt {
            path: self.path_buf(),
            detail,
        })
    }

    /// Test hook: pretend process `pid` started run `run`.
    pub(in crate::store) async fn set_run_pid(
        &self,
        run: RunId,
        pid: i64,
    ) -> Result<(), StoreError> {
        super::query("UPDATE runs SET pid = ? WHERE id = ?")
            .bind(pid)
            .bind(run)
            .execute(&self.pool)
            .await
            .map_err(self.db_err("set run pid"))?;
        Ok(())
    }
}
