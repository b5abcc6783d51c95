//! Test support for every crate that tests against a store: a fresh PostgreSQL
//! database per test ([`TestDb`], from `FRONTDESK_TEST_POSTGRES_URL`; dropped when the
//! test ends). Without the variable, [`TestDb::create`] says the test was skipped and
//! returns `None`.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use crate::postgres::PgStore;
use crate::{Bootstrap, Secrets};

const URL_VAR: &str = "FRONTDESK_TEST_POSTGRES_URL";

/// The server's URL, or `None` (said on stdout) without one.
pub fn test_url() -> Option<String> {
    let url = std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty());
    if url.is_none() {
        println!("skipped: {URL_VAR} is not set");
    }
    url
}

/// A database created for one test, dropped (its connections ended) when the guard is.
pub struct TestDb {
    url: String,
    admin: PgConnectOptions,
    name: String,
}

impl TestDb {
    /// A new empty database, or `None` (said on stdout) without a server to use.
    pub async fn create() -> Option<Self> {
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
        let url = database_url(&url, &name);
        Some(Self { url, admin, name })
    }

    /// The database's URL (for `frontdesk_store::open`, or a server).
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every row of every table, as text: to show that a secret is not stored in clear.
    pub async fn dump(&self) -> String {
        let mut conn = PgConnection::connect_with(&self.admin.clone().database(&self.name))
            .await
            .expect("connect to the test database");
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
                .fetch_all(&mut conn)
                .await
                .expect("list tables");
        let mut out = String::new();
        for t in tables {
            let rows: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!("SELECT t::text FROM \"{t}\" t")))
                .fetch_all(&mut conn)
                .await
                .expect("read a table");
            for r in rows {
                out.push_str(&r);
                out.push('\n');
            }
        }
        out
    }

    /// A store (a pool of its own: one node) on this database, not migrated.
    pub async fn store(&self) -> PgStore {
        self.store_with(Secrets::default()).await
    }

    /// A store sealing with these secrets, not migrated.
    pub async fn store_with(&self, secrets: Secrets) -> PgStore {
        PgStore::connect_with(self.admin.clone().database(&self.name), secrets)
            .await
            .expect("open the test database")
    }

    /// A migrated store on this database.
    pub async fn migrated(&self) -> PgStore {
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

/// `url` with its database replaced by `name` (the query kept).
fn database_url(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_urls() {
        assert_eq!(
            super::database_url("postgres://postgres@127.0.0.1:5432/test", "fd_1"),
            "postgres://postgres@127.0.0.1:5432/fd_1"
        );
        assert_eq!(
            super::database_url("postgres://u:p@h/test?sslmode=disable", "fd_2"),
            "postgres://u:p@h/fd_2?sslmode=disable"
        );
        assert_eq!(super::database_url("postgres://h", "fd_3"), "postgres://h/fd_3");
    }
}
