//! Webhook endpoints in PostgreSQL.
//!
//! Each write is one statement whose new values are computed from the row as it is when
//! written (PostgreSQL re-reads a row changed by a concurrent writer before updating
//! it): an edit without `set_active` keeps a concurrent auto-disable, and a rotation
//! moves whichever secret is current at that moment to `previous`.

use chrono::{DateTime, Utc};
use frontdesk_core::id::{WebhookId, WorkspaceId};
use frontdesk_core::page::{Page, PageRequest};
use frontdesk_core::webhook::{Webhook, WebhookSecret, WebhookSpec};

use super::{PgStore, fetch_page, workspace_query};
use crate::StoreResult;
use crate::Webhooks;
use crate::rows::{ms, webhook_from_row};
use crate::secrets::{Secrets, webhook_headers_owner, webhook_secret_owner};
use async_trait::async_trait;

/// A spec's JSON columns: events, headers (sealed), body_template, numbers.
fn spec_json(
    spec: &WebhookSpec,
    secrets: &Secrets,
    workspace: &WorkspaceId,
    id: &WebhookId,
) -> StoreResult<(String, String, Option<String>, String)> {
    let events: Vec<&str> = spec.events.iter().map(|e| e.as_str()).collect();
    Ok((
        serde_json::Value::from(events).to_string(),
        secrets.seal_headers(&spec.headers, &webhook_headers_owner(workspace, id.as_str()))?,
        spec.body_template.as_ref().map(ToString::to_string),
        serde_json::Value::from(spec.numbers.clone()).to_string(),
    ))
}

#[async_trait]
impl Webhooks for PgStore {
    async fn create_webhook(
        &self,
        workspace: &WorkspaceId,
        spec: &WebhookSpec,
        secret: &WebhookSecret,
    ) -> StoreResult<Webhook> {
        let id = WebhookId::generate();
        let (events, headers, body_template, numbers) = spec_json(spec, &self.secrets, workspace, &id)?;
        let secret = self
            .secrets
            .seal(secret.expose(), &webhook_secret_owner(workspace, id.as_str()))?;
        let now = ms(Utc::now());
        let row = sqlx::query(concat!(
            "INSERT INTO webhooks (id, workspace_id, name, url, events, method, headers, body_template, numbers, \
             active, secret, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING ",
            webhook_columns!()
        ))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .bind(&spec.name)
        .bind(&spec.url)
        .bind(events)
        .bind(spec.method.as_str())
        .bind(headers)
        .bind(body_template)
        .bind(numbers)
        .bind(spec.active)
        .bind(secret)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        webhook_from_row(&row, &self.secrets)
    }

    async fn get_webhook(&self, workspace: &WorkspaceId, id: &WebhookId) -> StoreResult<Option<Webhook>> {
        self.get_in_workspace(
            concat!(
                "SELECT ",
                webhook_columns!(),
                " FROM webhooks WHERE id = $1 AND workspace_id = $2"
            ),
            id.as_str(),
            workspace,
            |r| webhook_from_row(r, &self.secrets),
        )
        .await
    }

    async fn list_webhooks(&self, workspace: &WorkspaceId, page: &PageRequest) -> StoreResult<Page<Webhook>> {
        let q = workspace_query(concat!("SELECT ", webhook_columns!(), " FROM webhooks"), workspace);
        fetch_page(
            q,
            &self.pool,
            page,
            |r| webhook_from_row(r, &self.secrets),
            |w| w.id.as_str(),
        )
        .await
    }

    async fn update_webhook(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
        spec: &WebhookSpec,
        set_active: bool,
    ) -> StoreResult<Option<Webhook>> {
        let (events, headers, body_template, numbers) = spec_json(spec, &self.secrets, workspace, id)?;
        // `active`, `disabled_reason` and `failing_since` change as
        // `frontdesk_core::webhook::health::edit` says, computed in the statement from the
        // row as it is when written (not as read before), so a concurrent auto-disable is
        // kept on any backend.
        sqlx::query(concat!(
            "UPDATE webhooks SET name = $1, url = $2, events = $3, method = $4, headers = $5, body_template = $6, \
             numbers = $7, updated_at = $9, \
             disabled_reason = CASE WHEN $12 AND $8 THEN NULL ELSE disabled_reason END, \
             failing_since = CASE WHEN $12 AND $8 AND NOT active THEN NULL ELSE failing_since END, \
             active = CASE WHEN $12 THEN $8 ELSE active END \
             WHERE id = $10 AND workspace_id = $11 RETURNING ",
            webhook_columns!()
        ))
        .bind(&spec.name)
        .bind(&spec.url)
        .bind(events)
        .bind(spec.method.as_str())
        .bind(headers)
        .bind(body_template)
        .bind(numbers)
        .bind(spec.active)
        .bind(ms(Utc::now()))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .bind(set_active)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| webhook_from_row(&r, &self.secrets))
        .transpose()
    }

    async fn delete_webhook(&self, workspace: &WorkspaceId, id: &WebhookId) -> StoreResult<bool> {
        self.delete_in_workspace(
            "DELETE FROM webhooks WHERE id = $1 AND workspace_id = $2",
            id.as_str(),
            workspace,
        )
        .await
    }

    async fn rotate_webhook_secret(
        &self,
        workspace: &WorkspaceId,
        id: &WebhookId,
        secret: &WebhookSecret,
        previous_until: DateTime<Utc>,
    ) -> StoreResult<Option<Webhook>> {
        sqlx::query(concat!(
            "UPDATE webhooks SET previous_secret = secret, previous_secret_until = $1, secret = $2, updated_at = $3 \
             WHERE id = $4 AND workspace_id = $5 RETURNING ",
            webhook_columns!()
        ))
        .bind(ms(previous_until))
        .bind(
            self.secrets
                .seal(secret.expose(), &webhook_secret_owner(workspace, id.as_str()))?,
        )
        .bind(ms(Utc::now()))
        .bind(id.as_str())
        .bind(workspace.as_str())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| webhook_from_row(&r, &self.secrets))
        .transpose()
    }
}
