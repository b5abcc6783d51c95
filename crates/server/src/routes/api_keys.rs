//! `/v1/api-keys`: list, create (the secret is shown once), get and revoke the keys of
//! the caller's workspace.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use frontdesk_core::api_key::{ApiKey, ApiKeyName, ApiKeySecret};
use frontdesk_core::id::ApiKeyId;
use frontdesk_core::page::PageRequest;
use frontdesk_store::NewApiKey;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{List, found};
use crate::ApiError;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::{ApiJson, ApiQuery};
use crate::idempotency::SecretFields;
use crate::state::{AppState, StoreState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_keys, create_key))
        .routes(routes!(get_key, revoke_key))
}

/// An API key, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    #[schema(example = "key_01JD3Q2W8M6Y7Z0ABCDEF12345")]
    pub id: String,
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    #[schema(example = "fd_live_AbC1")]
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyView {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id.to_string(),
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new API key, with its secret: shown this once only.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub api_key: ApiKeyView,
    /// The secret key. Store it now: it cannot be shown again.
    #[schema(example = "fd_live_AbC1...")]
    pub key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKey {
    /// A label, for example `crm-sync`.
    pub name: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

impl ListParams {
    pub fn page(&self, prefix: &str) -> Result<PageRequest, ApiError> {
        super::page(self.limit, self.cursor.as_deref(), prefix)
    }
}

fn parse_id(id: &str) -> Result<ApiKeyId, ApiError> {
    super::path_id(id, ApiKeyId::parse, "API key")
}

/// List the workspace's API keys, newest first.
#[utoipa::path(get, path = "/v1/api-keys", tag = "api-keys", params(ListParams),
    responses((status = 200, body = List<ApiKeyView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn list_keys(
    State(store): StoreState,
    caller: Caller,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<List<ApiKeyView>>, ApiError> {
    let page = store
        .list_api_keys(Some(&caller.workspace_id), &params.page(ApiKeyId::PREFIX)?)
        .await?;
    Ok(Json(List {
        data: page.data.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Create an API key. The response holds the secret, shown this once only.
#[utoipa::path(post, path = "/v1/api-keys", tag = "api-keys", request_body = CreateApiKey,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first response for 24 h")),
    responses((status = 201, body = CreatedApiKey), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_key(
    State(store): StoreState,
    caller: Caller,
    ApiJson(body): ApiJson<CreateApiKey>,
) -> Result<(StatusCode, Extension<SecretFields>, Json<CreatedApiKey>), ApiError> {
    let name = ApiKeyName::parse(&body.name).map_err(|e| ApiError::invalid(&e))?;
    let secret = ApiKeySecret::generate();
    let key = store
        .create_api_key(&caller.workspace_id, &NewApiKey::new(&name, &secret))
        .await?;
    Ok((
        StatusCode::CREATED,
        Extension(SecretFields(&["key"])),
        Json(CreatedApiKey {
            api_key: key.into(),
            key: secret.expose().to_owned(),
        }),
    ))
}

/// Get one API key.
#[utoipa::path(get, path = "/v1/api-keys/{id}", tag = "api-keys", params(("id" = String, Path)),
    responses((status = 200, body = ApiKeyView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_key(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ApiKeyView>, ApiError> {
    let key_id = parse_id(&id)?;
    let key = found(store.get_api_key(&caller.workspace_id, &key_id).await?, "API key", &id)?;
    Ok(Json(key.into()))
}

/// Revoke an API key. It stops working at once; revoking twice is harmless.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api-keys", params(("id" = String, Path)),
    responses((status = 200, body = ApiKeyView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_key(
    State(store): StoreState,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ApiKeyView>, ApiError> {
    let key_id = parse_id(&id)?;
    let key = found(
        store.revoke_api_key(Some(&caller.workspace_id), &key_id).await?,
        "API key",
        &id,
    )?;
    Ok(Json(key.into()))
}
