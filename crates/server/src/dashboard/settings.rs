//! `/settings/api-keys` (generate, shown once with a copy button; list; revoke) and
//! `/settings/users` (the workspace's users; add one, its password shown once).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::Utc;
use frontdesk_core::api_key::{ApiKeyName, ApiKeySecret};
use frontdesk_core::id::ApiKeyId;
use frontdesk_core::page::PageRequest;
use frontdesk_core::user::{Login, Password};
use frontdesk_store::{NewApiKey, Store, StoreError};
use serde::Deserialize;

use super::view::{Time, query};
use super::{Chrome, PageError, PageResult, Signed, render};
use crate::state::{AppState, StoreState};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/api-keys", get(api_keys).post(create_key))
        .route("/settings/api-keys/{id}/revoke", post(revoke_key))
        .route("/settings/users", get(users).post(create_user))
}

pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub created: Time,
    pub last_used: Option<Time>,
    pub revoked: Option<Time>,
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ApiKeysPage {
    chrome: Chrome,
    keys: Vec<KeyRow>,
    next: Option<String>,
    /// A key just made: (name, secret), shown this once.
    created: Option<(String, String)>,
    error: Option<String>,
    name: String,
}

#[derive(Debug, Default, Deserialize)]
struct Cursor {
    cursor: Option<String>,
}

async fn key_page(
    store: &dyn Store,
    signed: &Signed,
    cursor: Option<&str>,
    created: Option<(String, String)>,
    error: Option<String>,
    name: String,
) -> Result<ApiKeysPage, PageError> {
    let page = PageRequest::parse(Some(50), cursor, ApiKeyId::PREFIX)
        .map_err(|e| PageError::new(StatusCode::BAD_REQUEST, e.to_string()))?;
    let p = store.list_api_keys(Some(&signed.workspace_id), &page).await?;
    Ok(ApiKeysPage {
        chrome: Chrome::new(signed, "api-keys"),
        keys: p
            .data
            .into_iter()
            .map(|k| KeyRow {
                id: k.id.to_string(),
                name: k.name,
                prefix: k.prefix,
                created: Time::of(k.created_at),
                last_used: Time::maybe(k.last_used_at),
                revoked: Time::maybe(k.revoked_at),
            })
            .collect(),
        next: p.next_cursor.map(|c| query(&[("cursor", &c)])),
        created,
        error,
        name,
    })
}

async fn api_keys(State(store): StoreState, signed: Signed, Query(q): Query<Cursor>) -> PageResult {
    let page = key_page(&*store, &signed, q.cursor.as_deref(), None, None, String::new()).await?;
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
struct NewKey {
    #[serde(default)]
    name: String,
}

async fn create_key(State(store): StoreState, signed: Signed, Form(form): Form<NewKey>) -> PageResult {
    let name = match ApiKeyName::parse(&form.name) {
        Ok(n) => n,
        Err(e) => {
            let page = key_page(&*store, &signed, None, None, Some(e.message), form.name).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let secret = ApiKeySecret::generate();
    let key = store
        .create_api_key(&signed.workspace_id, &NewApiKey::new(&name, &secret))
        .await?;
    let created = Some((key.name, secret.expose().to_owned()));
    let page = key_page(&*store, &signed, None, created, None, String::new()).await?;
    Ok(render(&page)?.into_response())
}

async fn revoke_key(State(store): StoreState, signed: Signed, Path(id): Path<String>) -> PageResult {
    let key_id = ApiKeyId::parse(&id).map_err(|_| PageError::not_found("API key", &id))?;
    store
        .revoke_api_key(Some(&signed.workspace_id), &key_id)
        .await?
        .ok_or_else(|| PageError::not_found("API key", &id))?;
    Ok(Redirect::to("/settings/api-keys").into_response())
}

pub struct UserRow {
    pub login: String,
    pub created: Time,
    pub me: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<UserRow>,
    /// A user just added: (name, password), shown this once.
    created: Option<(String, String)>,
    error: Option<String>,
    login: String,
}

async fn users_page(
    store: &dyn Store,
    signed: &Signed,
    created: Option<(String, String)>,
    error: Option<String>,
    login: String,
) -> Result<UsersPage, PageError> {
    let users = store.list_users(&signed.workspace_id).await?;
    Ok(UsersPage {
        chrome: Chrome::new(signed, "users"),
        users: users
            .into_iter()
            .map(|u| UserRow {
                me: u.id == signed.user_id,
                login: u.login,
                created: Time::of(u.created_at),
            })
            .collect(),
        created,
        error,
        login,
    })
}

async fn users(State(store): StoreState, signed: Signed) -> PageResult {
    Ok(render(&users_page(&*store, &signed, None, None, String::new()).await?)?.into_response())
}

#[derive(Debug, Deserialize)]
struct NewUser {
    #[serde(default)]
    login: String,
}

async fn create_user(State(store): StoreState, signed: Signed, Form(form): Form<NewUser>) -> PageResult {
    let refuse = async |message: String| -> PageResult {
        let page = users_page(&*store, &signed, None, Some(message), form.login.clone()).await?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
    };
    let login = match Login::parse(&form.login) {
        Ok(l) => l,
        Err(e) => return refuse(e.message).await,
    };
    let password = Password::generate();
    let p = password.clone();
    let hashed = tokio::task::spawn_blocking(move || p.hash())
        .await
        .map_err(|_| PageError::new(StatusCode::INTERNAL_SERVER_ERROR, "could not hash the password"))?;
    match store.create_user(&signed.workspace_id, &login, &hashed).await {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => {
            return refuse(format!("the name `{}` is taken; choose another", login.as_str())).await;
        }
        Err(e) => return Err(e.into()),
    }
    tracing::info!(by = %signed.login, login = %login.as_str(), at = %Utc::now(), "dashboard user added");
    let created = Some((login.as_str().to_owned(), password.expose().to_owned()));
    Ok(render(&users_page(&*store, &signed, created, None, String::new()).await?)?.into_response())
}
