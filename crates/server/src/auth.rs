//! API key authentication for `/v1`.
//!
//! `Authorization: Bearer fd_live_...` is hashed and looked up by digest; a missing,
//! malformed, unknown or revoked key is a 401. The caller's workspace and key travel on
//! in the request's extensions as [`Caller`], which handlers take as an extractor.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::HeaderValue;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use frontdesk_core::api_key::ApiKeySecret;
use frontdesk_core::id::{ApiKeyId, WorkspaceId};
use frontdesk_store::Store;

use crate::ApiError;

/// How stale `last_used_at` may get before a request refreshes it.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::seconds(60);

/// The authenticated caller of a `/v1` request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub workspace_id: WorkspaceId,
    pub key_id: ApiKeyId,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            tracing::error!("a /v1 handler ran without the auth middleware");
            ApiError::internal()
        })
    }
}

/// Middleware: authenticates the request or answers 401.
pub async fn require_api_key(State(store): State<Arc<dyn Store>>, mut req: Request, next: Next) -> Response {
    let header = req.headers().get(AUTHORIZATION).cloned();
    match authenticate(&store, header).await {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

async fn authenticate(store: &Arc<dyn Store>, header: Option<HeaderValue>) -> Result<Caller, ApiError> {
    let header = header.ok_or_else(|| {
        ApiError::unauthorized("no API key was sent; send the header `Authorization: Bearer <your API key>`")
    })?;
    let value = header.to_str().unwrap_or_default().trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header must be `Bearer <your API key>`",
        ));
    }
    let secret = ApiKeySecret::parse(token.trim()).map_err(|_| {
        ApiError::unauthorized("the API key is malformed; keys look like `fd_live_` followed by letters and digits")
    })?;
    let key = store.api_key_by_digest(&secret.digest()).await?.ok_or_else(|| {
        ApiError::unauthorized(
            "the API key is not valid; check that it was copied whole, or create one with `frontdesk keys create`",
        )
    })?;
    if let Some(at) = key.revoked_at {
        return Err(ApiError::unauthorized(format!(
            "this API key was revoked at {}; use another key",
            at.to_rfc3339()
        )));
    }
    let now = Utc::now();
    if key.last_used_at.is_none_or(|t| now - t > TOUCH_EVERY) {
        let store = store.clone();
        let id = key.id.clone();
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(&id, now).await {
                tracing::warn!(error = %e, key_id = %id, "could not record API key use");
            }
        });
    }
    Ok(Caller {
        workspace_id: key.workspace_id,
        key_id: key.id,
    })
}
