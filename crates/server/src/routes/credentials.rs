//! `/v1/credentials/twilio`: the workspace's Twilio account SID and auth token.
//!
//! The auth token is sealed with the server's master key before it is stored and is
//! never returned (only its last four characters). Without `FRONTDESK_MASTER_KEY` the
//! server refuses to store credentials rather than keep them in clear.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use frontdesk_app::accounts::CredentialsError;
use frontdesk_core::ValidationError;
use frontdesk_core::agent::Provider;
use frontdesk_core::credentials::{AccountSid, StoredCredentials};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::ApiError;
use crate::auth::Caller;
use crate::error::ErrorBody;
use crate::extract::ApiJson;
use crate::state::{AccountsState, AppState, StoreState};

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_twilio, put_twilio, delete_twilio))
}

/// Twilio credentials as stored (the token is never shown).
#[derive(Debug, Serialize, ToSchema)]
pub struct CredentialsView {
    #[schema(example = "twilio")]
    pub provider: String,
    #[schema(example = "AC0123456789abcdef0123456789abcdef")]
    pub account_sid: String,
    /// The auth token's last four characters.
    #[schema(example = "...9f3a")]
    pub auth_token_hint: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<StoredCredentials> for CredentialsView {
    fn from(c: StoredCredentials) -> Self {
        Self {
            provider: c.provider.as_str().to_owned(),
            account_sid: c.account_sid,
            auth_token_hint: c.secret_hint,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutTwilio {
    /// `AC` followed by 32 hexadecimal digits.
    pub account_sid: String,
    /// The account's auth token (Twilio console, Account Info).
    pub auth_token: String,
}

/// The workspace's Twilio credentials (without the token).
#[utoipa::path(get, path = "/v1/credentials/twilio", tag = "credentials",
    responses((status = 200, body = CredentialsView), (status = 404, body = ErrorBody)))]
async fn get_twilio(State(store): StoreState, caller: Caller) -> Result<Json<CredentialsView>, ApiError> {
    store
        .get_credentials(&caller.workspace_id, Provider::Twilio)
        .await?
        .map(|c| Json(c.into()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "this workspace has no Twilio credentials; store them with PUT /v1/credentials/twilio",
            )
        })
}

/// Store (or replace) the workspace's Twilio credentials, encrypted at rest.
#[utoipa::path(put, path = "/v1/credentials/twilio", tag = "credentials", request_body = PutTwilio,
    responses((status = 200, body = CredentialsView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_twilio(
    State(accounts): AccountsState,
    caller: Caller,
    ApiJson(body): ApiJson<PutTwilio>,
) -> Result<Json<CredentialsView>, ApiError> {
    let sid = AccountSid::parse(&body.account_sid).map_err(|e| ApiError::invalid(&e))?;
    let token = body.auth_token.trim();
    if token.len() < 16 || token.chars().any(char::is_whitespace) {
        return Err(ApiError::invalid(&ValidationError::new(
            "auth_token",
            "a Twilio auth token is 32 characters without spaces; copy it from the Twilio console (Account Info)",
        )));
    }
    let stored = accounts
        .store_credentials(&caller.workspace_id, sid.as_str(), token)
        .await
        .map_err(|e| match e {
            CredentialsError::NoMasterKey => ApiError::new(StatusCode::CONFLICT, "master_key_required", e.to_string()),
            CredentialsError::Store(s) => s.into(),
            CredentialsError::Seal(m) => {
                tracing::error!(error = %m, "could not seal credentials");
                ApiError::internal()
            }
        })?;
    Ok(Json(stored.into()))
}

/// Forget the workspace's Twilio credentials.
#[utoipa::path(delete, path = "/v1/credentials/twilio", tag = "credentials",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_twilio(State(store): StoreState, caller: Caller) -> Result<StatusCode, ApiError> {
    if store.delete_credentials(&caller.workspace_id, Provider::Twilio).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "this workspace has no Twilio credentials",
        ))
    }
}
