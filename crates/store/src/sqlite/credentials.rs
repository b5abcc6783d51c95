//! Provider credentials and the provider-facing call queries, in SQLite.
//!
//! Credentials arrive sealed (the server encrypts the secret with its master key); this
//! module stores and finds them, nothing more.

use frontdesk_core::agent::Provider;
use frontdesk_core::credentials::StoredCredentials;
use frontdesk_core::id::WorkspaceId;

use super::SqliteStore;
use crate::Credentials;
use crate::StoreResult;
use crate::rows::{credentials_from_row, ms};
use async_trait::async_trait;

#[async_trait]
impl Credentials for SqliteStore {
    async fn put_credentials(&self, c: &StoredCredentials) -> StoreResult<StoredCredentials> {
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

    async fn get_credentials(
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

    async fn credentials_by_account(
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

    async fn delete_credentials(&self, workspace: &WorkspaceId, provider: Provider) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let res = sqlx::query("DELETE FROM provider_credentials WHERE workspace_id = ? AND provider = ?")
            .bind(workspace.as_str())
            .bind(provider.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(res.rows_affected() > 0)
    }
}
