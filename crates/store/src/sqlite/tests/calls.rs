//! Calls on SQLite: what only raw SQL on its tables can show.

use frontdesk_core::call::{Call, CallFilter};
use frontdesk_core::page::PageRequest;

use super::store;
use crate::conformance::{agent, full_call, insert, workspace};
use crate::sqlite::SqliteStore;
use crate::{Calls, StoreError};

/// A call's JSON columns that do not parse are reported, naming the column (the round
/// trip itself is the conformance suite's `call_json_round_trips_in_order`).
#[tokio::test]
async fn call_json_corruption_names_the_column() {
    let (s, _d) = store().await;
    let a = workspace(&s, "a").await;
    let ag = agent(&s, &a, "ag").await;
    let c = full_call(&a, &ag.id);
    insert(&s, &c).await;
    for col in ["turns", "custom_fields", "caller", "session"] {
        // Column names cannot be bound; each statement is a fixed string.
        let sql = match col {
            "turns" => "UPDATE calls SET turns = '[{\"speaker\": 1}]' WHERE id = ?",
            "custom_fields" => "UPDATE calls SET custom_fields = '[1, 2]' WHERE id = ?",
            "caller" => "UPDATE calls SET caller = 'not json' WHERE id = ?",
            _ => "UPDATE calls SET session = '{' WHERE id = ?",
        };
        sqlx::query(sql)
            .bind(c.id.as_str())
            .execute(&s.writer)
            .await
            .expect("corrupt the row");
        let Err(StoreError::Corrupt(msg)) = s.get_call(&a, &c.id).await else {
            panic!("corrupt {col} is reported");
        };
        assert!(msg.starts_with(&format!("{col}: ")), "{msg}");
        insert_over(&s, &c).await;
    }
    assert_eq!(
        s.list_calls(&a, &CallFilter::default(), &PageRequest::first(5))
            .await
            .unwrap()
            .data,
        vec![c]
    );
}

/// Puts a call's row back as it was.
async fn insert_over(s: &SqliteStore, c: &Call) {
    sqlx::query("DELETE FROM calls WHERE id = ?")
        .bind(c.id.as_str())
        .execute(&s.writer)
        .await
        .expect("delete the call");
    insert(s, c).await;
}
