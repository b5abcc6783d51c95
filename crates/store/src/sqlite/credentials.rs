//! Provider credentials and the provider-facing call queries, in SQLite.
//!
//! Credentials arrive sealed (the server encrypts the secret with its master key); this
//! module stores and finds them, nothing more.

use chrono::{DateTime, Utc};
use frontdesk_core::agent::Provider;
use frontdesk_core::call::Call;
use frontdesk_core::credentials::StoredCredentials;
use frontdesk_core::id::{CallId, WorkspaceId};

use super::SqliteStore;
use super::rows::{call_from_row, credentials_from_row, ms};
use crate::StoreResult;

impl SqliteStore {
    pub(super) async fn put_credentials_impl(&self, c: &StoredCredentials) -> StoreResult<StoredCredentials> {
        let mut tx = self.begin().await?;
        let row = sqlx::query(concat!(
            "INSERT INTO provider_credentials (",
            credentials_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (workspace_id, provider) DO UPDATE SET account_sid = ?3, sealed_secret = ?4, \
             secret_hint = ?5, updated_at = ?7 RETURNING ",
            credentials_columns!()
        ))
        .bind(c.workspace_id.as_str())
        .bind(c.provider.as_str())
        .bind(&c.account_sid)
        .bind(&c.sealed_secret)
        .bind(&c.secret_hint)
        .bind(ms(c.created_at))
        .bind(ms(c.updated_at))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        credentials_from_row(&row)
    }

    pub(super) async fn get_credentials_impl(
        &self,
        workspace: &WorkspaceId,
        provider: Provider,
    ) -> StoreResult<Option<StoredCredentials>> {
        sqlx::query(concat!(
            "SELECT ",
            credentials_columns!(),
            " FROM provider_credentials WHERE workspace_id = ? AND provider = ?"
        ))
        .bind(workspace.as_str())
        .bind(provider.as_str())
        .fetch_optional(&self.reader)
        .await?
        .map(|r| credentials_from_row(&r))
        .transpose()
    }

    pub(super) async fn credentials_by_account_impl(
        &self,
        provider: Provider,
        account_sid: &str,
    ) -> StoreResult<Vec<StoredCredentials>> {
        sqlx::query(concat!(
            "SELECT ",
            credentials_columns!(),
            " FROM provider_credentials WHERE provider = ? AND account_sid = ? ORDER BY created_at"
        ))
        .bind(provider.as_str())
        .bind(account_sid)
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(credentials_from_row)
        .collect()
    }

    pub(super) async fn delete_credentials_impl(
        &self,
        workspace: &WorkspaceId,
        provider: Provider,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let res = sqlx::query("DELETE FROM provider_credentials WHERE workspace_id = ? AND provider = ?")
            .bind(workspace.as_str())
            .bind(provider.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(res.rows_affected() > 0)
    }

    pub(super) async fn call_by_id_impl(&self, id: &CallId) -> StoreResult<Option<Call>> {
        sqlx::query(concat!("SELECT ", call_read_columns!(), " FROM calls WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await?
            .map(|r| call_from_row(&r))
            .transpose()
    }

    pub(super) async fn stale_live_calls_impl(
        &self,
        provider: Provider,
        updated_before: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Call>> {
        sqlx::query(concat!(
            "SELECT ",
            call_read_columns!(),
            " FROM calls WHERE provider = ? AND status IN ('queued', 'ringing', 'in_progress') \
             AND updated_at < ? ORDER BY updated_at LIMIT ?"
        ))
        .bind(provider.as_str())
        .bind(ms(updated_before))
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(call_from_row)
        .collect()
    }
}
