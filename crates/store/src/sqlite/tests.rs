//! The SQLite store: the conformance suite, each test on a fresh database file, and what
//! only SQLite has (the file's contents, raw SQL on its tables).

use tempfile::TempDir;

use super::SqliteStore;
use crate::Bootstrap;

/// A fresh, migrated store in a folder created on the way (with the guard that removes
/// it).
async fn store() -> (SqliteStore, TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/nested/fd.db", dir.path().display());
    let s = SqliteStore::open(&url, crate::Secrets::default()).await.expect("open");
    assert!(s.migrate().await.expect("migrate") >= 1);
    assert_eq!(s.migrate().await.expect("migrate again"), 0);
    (s, dir)
}

/// The whole store contract, on SQLite.
mod conformance {
    use std::sync::Arc;

    use crate::Store;

    crate::conformance_tests!(|| async {
        let (s, dir) = super::store().await;
        (Arc::new(s) as Arc<dyn Store>, dir)
    });
}

mod calls;
mod secrets;
