//! The PostgreSQL store: the conformance suite, each test on a database of its own, and
//! what only several writers show: two stores (two pools, as two nodes) on one database,
//! their calls running truly at once on a multi-threaded runtime.
//!
//! The tests need a server: `FRONTDESK_TEST_POSTGRES_URL` names a database to connect
//! to (CI: `postgres://postgres@127.0.0.1:5432/test`); each test creates
//! `fd_test_<unique>` beside it and drops it at the end. Without the variable every
//! test says `skipped: FRONTDESK_TEST_POSTGRES_URL is not set` and passes.

use std::sync::Arc;

pub(super) use crate::testing::TestDb;
use crate::testing::test_url;
use crate::{Bootstrap, Secrets, Store};

/// The variable naming the server's database to connect to.
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

mod migration;
mod nodes;
mod secrets;
