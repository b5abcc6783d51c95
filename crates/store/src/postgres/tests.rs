//! The PostgreSQL store: the conformance suite, each test on a database of its own, and
//! what only several writers show: two stores (two pools, as two nodes) on one database,
//! their calls running truly at once on a multi-threaded runtime.
//!
//! The tests need a server: `FRONTDESK_TEST_POSTGRES_URL` names a database to connect
//! to (CI: `postgres://postgres@127.0.0.1:5432/test`); each test creates
//! `fd_test_<unique>` beside it and drops it at the end. Without the variable every
//! test says `skipped: FRONTDESK_TEST_POSTGRES_URL is not set` and passes.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use super::PgStore;
use crate::{Bootstrap, Secrets, Store};

/// The variable naming the server's database to connect to.
const URL_VAR: &str = "FRONTDESK_TEST_POSTGRES_URL";

/// The server's URL, or `None` (said on stdout) without one.
fn test_url() -> Option<String> {
    let url = std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty());
    if url.is_none() {
        println!("skipped: {URL_VAR} is not set");
    }
    url
}

/// A database created for one test, dropped (its connections ended) when the guard is.
pub(super) struct TestDb {
    admin: PgConnectOptions,
    name: String,
}

impl TestDb {
    /// A new empty database, or `None` (said on stdout) without a server to use.
    pub(super) async fn create() -> Option<Self> {
        let url = test_url()?;
        let admin = PgConnectOptions::from_str(&url).expect("FRONTDESK_TEST_POSTGRES_URL is a PostgreSQL URL");
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "fd_test_{}_{}_{}",
            std::process::id(),
            nanos,
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = PgConnection::connect_with(&admin)
            .await
            .expect("connect to FRONTDESK_TEST_POSTGRES_URL");
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create the test database");
        conn.close().await.expect("close");
        Some(Self { admin, name })
    }

    /// A store (a pool of its own: one node) on this database, not migrated.
    pub(super) async fn store(&self) -> PgStore {
        self.store_with(Secrets::default()).await
    }

    /// A store sealing with these secrets, not migrated.
    pub(super) async fn store_with(&self, secrets: Secrets) -> PgStore {
        PgStore::connect_with(self.admin.clone().database(&self.name), secrets)
            .await
            .expect("open the test database")
    }

    /// A migrated store on this database.
    pub(super) async fn migrated(&self) -> PgStore {
        let s = self.store().await;
        s.migrate().await.expect("migrate");
        s
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on a future: a thread
        // with a runtime of its own drops the database.
        let (admin, name) = (self.admin.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            rt.block_on(async {
                let mut conn = PgConnection::connect_with(&admin).await?;
                sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await?;
                conn.close().await
            })
            .map_err(|e| e.to_string())
        })
        .join();
        if let Ok(Err(e)) | Err(e) = dropped.map_err(|_| "panicked".to_owned()) {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

/// A fresh, migrated store on a database of its own (with the guard that drops it).
pub(super) async fn fresh() -> Option<(Arc<dyn Store>, TestDb)> {
    let db = TestDb::create().await?;
    let s = db.store().await;
    assert!(s.migrate().await.expect("migrate") >= 1);
    assert_eq!(s.migrate().await.expect("migrate again"), 0);
    Some((Arc::new(s), db))
}

/// `open` takes `postgres://` and `postgresql://` URLs.
#[tokio::test]
async fn open_takes_postgres_urls() {
    let Some(url) = test_url() else { return };
    for scheme in ["postgres://", "postgresql://"] {
        let url = format!(
            "{scheme}{}",
            url.split_once("://").map_or(url.as_str(), |(_, rest)| rest)
        );
        let store = crate::open(&url, Secrets::default()).await.expect("open");
        store.ping().await.expect("ping");
    }
}

/// The whole store contract, on PostgreSQL.
mod conformance {
    crate::conformance_tests!(super::fresh);
}

mod nodes;
mod secrets;
