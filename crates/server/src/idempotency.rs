//! `Idempotency-Key` on POST: the same key with the same request within 24 hours
//! answers the first response again and creates nothing new.
//!
//! Keys are scoped to the workspace. The request's method, path, query and body are
//! hashed: the same key with a different request is a 422; a key whose first request is
//! still running is a 409. Responses with a 5xx status are not kept (the retry runs
//! again); everything else is. A replayed response carries `Idempotent-Replayed: true`.
//!
//! A kept response may hold a secret shown once (a new API key, a webhook secret). With
//! a master key the store keeps it sealed; without one, the fields a handler marks with
//! [`SecretFields`] are withheld from the kept copy (`null`, and named in `withheld`),
//! so no secret rests in clear for the 24 hours a key is remembered.

use std::sync::Arc;

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use frontdesk_store::{IdempotencyBegin, Store, StoredResponse};
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::{ApiError, ServerSettings};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// How long a key is remembered.
pub const TTL: chrono::Duration = chrono::Duration::hours(24);
/// A first request still marked running after this long is taken to have died.
const STALE_AFTER: chrono::Duration = chrono::Duration::minutes(1);
/// Largest response kept for replay.
const MAX_STORED_RESPONSE: usize = 4 * 1024 * 1024;

/// The top-level fields of a response that hold a secret shown once.
#[derive(Debug, Clone, Copy)]
pub struct SecretFields(pub &'static [&'static str]);

/// A JSON object with `fields` set to `null` and listed in `withheld`.
fn withhold(body: &[u8], fields: &[&str]) -> Vec<u8> {
    let Ok(serde_json::Value::Object(mut m)) = serde_json::from_slice(body) else {
        return body.to_vec();
    };
    let mut withheld = Vec::new();
    for f in fields {
        if let Some(v) = m.get_mut(*f) {
            *v = serde_json::Value::Null;
            withheld.push(serde_json::Value::from(*f));
        }
    }
    m.insert("withheld".into(), serde_json::Value::Array(withheld));
    serde_json::to_vec(&m).unwrap_or_else(|_| body.to_vec())
}

/// What the idempotency middleware uses: the store, and the server's settings (body
/// limit; whether kept responses are sealed).
#[derive(Clone)]
pub struct IdempotencyState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<ServerSettings>,
}

/// Middleware (after auth): applies idempotency to POST requests that carry the header.
pub async fn idempotent(State(state): State<IdempotencyState>, req: Request, next: Next) -> Response {
    if req.method() != Method::POST || !req.headers().contains_key(HEADER) {
        return next.run(req).await;
    }
    run(state, req, next).await.unwrap_or_else(IntoResponse::into_response)
}

fn validate_key(raw: &HeaderValue) -> Result<String, ApiError> {
    let key = raw.to_str().ok().map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 255 visible ASCII characters, for example a UUID",
        ));
    }
    Ok(key.to_owned())
}

async fn run(state: IdempotencyState, req: Request, next: Next) -> Result<Response, ApiError> {
    let key = validate_key(&req.headers()[HEADER])?;
    let caller = req
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(ApiError::internal)?;
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, state.settings.max_body_bytes)
        .await
        .map_err(|e| crate::guard::read_error(&e))?;
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update(b"\n");
    hasher.update(parts.uri.path_and_query().map_or("", |p| p.as_str()));
    hasher.update(b"\n");
    hasher.update(&bytes);
    let digest = hex::encode(hasher.finalize());

    let ws = &caller.workspace_id;
    let begin = state
        .store
        .idempotency_begin(ws, &key, &digest, Utc::now(), TTL, STALE_AFTER)
        .await;
    match begin? {
        IdempotencyBegin::InProgress => Err(ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still being processed; retry in a moment",
        )),
        IdempotencyBegin::Mismatch => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "this Idempotency-Key was already used with a different request; use a new key for a new request",
        )),
        IdempotencyBegin::Completed(stored) => Ok(replay(stored)),
        IdempotencyBegin::Started => {
            let res = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            Ok(finish(&state, &caller, &key, res).await)
        }
    }
}

async fn finish(state: &IdempotencyState, caller: &Caller, key: &str, res: Response) -> Response {
    let ws = &caller.workspace_id;
    if res.status().is_server_error() || res.status() == StatusCode::TOO_MANY_REQUESTS {
        if let Err(e) = state.store.idempotency_abandon(ws, key).await {
            tracing::warn!(error = %e, "could not release an idempotency key");
        }
        return res;
    }
    let (parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_STORED_RESPONSE).await else {
        tracing::error!("a response was too large to keep for idempotent replay");
        let _ = state.store.idempotency_abandon(ws, key).await;
        return ApiError::internal().into_response();
    };
    let kept = match parts.extensions.get::<SecretFields>() {
        Some(secret) if state.settings.master_key.is_none() => withhold(&bytes, secret.0),
        _ => bytes.to_vec(),
    };
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        content_type: parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        body: kept,
    };
    if let Err(e) = state.store.idempotency_complete(ws, key, &stored).await {
        tracing::warn!(error = %e, "could not store a response for idempotent replay");
    }
    Response::from_parts(parts, Body::from(bytes))
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut res = (status, stored.body).into_response();
    if let Some(ct) = stored.content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        res.headers_mut().insert(CONTENT_TYPE, ct);
    }
    res.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_withheld_by_name() {
        let body = br#"{"id":"key_1","key":"fd_live_abc","name":"x"}"#;
        let kept: serde_json::Value = serde_json::from_slice(&withhold(body, &["key"])).unwrap();
        assert_eq!(
            kept,
            serde_json::json!({"id": "key_1", "key": null, "name": "x", "withheld": ["key"]})
        );
        assert_eq!(withhold(b"not json", &["key"]), b"not json");
    }
}
