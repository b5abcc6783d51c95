//! Signing in and out, and the guard in front of every other dashboard page.
//!
//! A session is a server-side record found by the digest of a random token; the token
//! travels in the cookie `frontdesk_session` (HttpOnly, SameSite=Lax, Secure when the
//! public URL is https) and dies after 12 h without a request or at sign-out. Every
//! request that changes state carries the session's CSRF token, as the form field
//! `csrf` or the header `X-CSRF-Token`; without a valid one it gets the 403 page. The
//! sign-in form itself carries a token bound to a short-lived cookie (double submit).
//! Five wrong passwords for one user in 15 minutes lock its sign-in for 15 minutes
//! ([`frontdesk_core::user::locked_until`]).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Utc;
use frontdesk_core::id::{UserId, WorkspaceId};
use frontdesk_core::user::{Login, Password, SessionToken, locked_until, lockout_window, session_idle};
use frontdesk_store::Store;
use serde::Deserialize;

use super::{PageError, PageResult, render};
use crate::ServerSettings;
use crate::state::AppState;

/// The session cookie's name (SPEC section 7).
pub const SESSION_COOKIE: &str = "frontdesk_session";
/// The cookie the sign-in form's CSRF token is bound to.
const LOGIN_COOKIE: &str = "frontdesk_login";
/// The header scripts send the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The sign-in page (open to all).
pub(super) fn router() -> Router<AppState> {
    Router::new().route("/login", get(login_page).post(sign_in))
}

/// Sign-out (behind the session guard, like every form).
pub(super) fn guarded_router() -> Router<AppState> {
    Router::new().route("/logout", post(sign_out))
}

/// The signed-in user of a dashboard request.
#[derive(Debug, Clone)]
pub struct Signed {
    pub user_id: UserId,
    pub workspace_id: WorkspaceId,
    pub login: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// The session's token digest (to end it).
    digest: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Signed>().cloned().ok_or_else(|| {
            tracing::error!("a dashboard page ran without the session guard");
            PageError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page is missing its session guard",
            )
        })
    }
}

/// The value of cookie `name` in a request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

fn secure(settings: &ServerSettings) -> bool {
    settings
        .public_url
        .as_deref()
        .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/`, Secure when served over https.
fn set_cookie(name: &str, value: &str, max_age: Option<i64>, settings: &ServerSettings) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure(settings) {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Where to go after signing in: a local path only (never another site).
fn local_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') && !n.starts_with("/login") => {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Middleware for every page but sign-in: no live session → to `/login`; a request that
/// changes state without the session's CSRF token → the 403 page.
pub async fn require_session(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let token = cookie(req.headers(), SESSION_COOKIE).and_then(SessionToken::parse);
    let now = Utc::now();
    let session = match &token {
        Some(t) => match state.store.session(&t.digest(), now, now - session_idle()).await {
            Ok(s) => s,
            Err(e) => return PageError::from(e).into_response(),
        },
        None => None,
    };
    let (Some(token), Some(session)) = (token, session) else {
        let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let to = if req.method() == Method::GET && target != "/" {
            format!("/login?next={}", urlencode(target))
        } else {
            "/login".to_owned()
        };
        return Redirect::to(&to).into_response();
    };
    let req = if changes_state(req.method()) {
        match check_csrf(req, &token, state.settings.max_body_bytes).await {
            Ok(req) => req,
            Err(res) => return res,
        }
    } else {
        req
    };
    let mut req = req;
    req.extensions_mut().insert(Signed {
        user_id: session.user_id,
        workspace_id: session.workspace_id,
        login: session.login,
        csrf: token.csrf(),
        digest: token.digest(),
    });
    let mut res = next.run(req).await;
    // Pages show a workspace's data: never cached by the browser or a proxy.
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

fn changes_state(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn forbidden() -> Response {
    PageError::new(
        StatusCode::FORBIDDEN,
        "this form's security token is missing or stale; go back, reload the page and submit it again",
    )
    .into_response()
}

/// Checks the CSRF token in the header or, for a form, in its `csrf` field; the body is
/// read (within the body limit) and handed on unchanged.
async fn check_csrf(req: Request, token: &SessionToken, max_body: usize) -> Result<Request, Response> {
    if let Some(h) = req.headers().get(CSRF_HEADER) {
        return if token.csrf_matches(h.to_str().unwrap_or_default()) {
            Ok(req)
        } else {
            Err(forbidden())
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(forbidden());
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, max_body).await {
        Ok(b) => b,
        Err(_) => {
            return Err(PageError::new(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large").into_response());
        }
    };
    let presented = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    match presented {
        Some(p) if token.csrf_matches(&p) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(forbidden()),
    }
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    csrf: &'a str,
    next: &'a str,
    login: &'a str,
    error: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
struct NextParam {
    next: Option<String>,
}

fn login_form(
    status: StatusCode,
    settings: &ServerSettings,
    next: &str,
    login: &str,
    error: Option<&str>,
) -> PageResult {
    // A fresh token for each form, bound to a cookie that lives as long as the form may.
    let csrf = SessionToken::generate();
    let html = render(&LoginPage {
        csrf: csrf.expose(),
        next,
        login,
        error,
    })?;
    let mut res = (status, html).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, csrf.expose(), Some(3600), settings),
    );
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

async fn login_page(State(settings): State<Arc<ServerSettings>>, Query(q): Query<NextParam>) -> PageResult {
    login_form(StatusCode::OK, &settings, &local_next(q.next.as_deref()), "", None)
}

#[derive(Debug, Deserialize)]
struct SignIn {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

const WRONG: &str = "that name and password do not match; check both and try again";

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<SignIn>,
) -> PageResult {
    let settings = &state.settings;
    let next = local_next(form.next.as_deref());
    let bound = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if bound.is_empty() || !frontdesk_core::secret::constant_eq(bound.as_bytes(), form.csrf.as_bytes()) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "this sign-in form's security token is missing or stale (are cookies on?); open /login again and sign in",
        ));
    }
    let retry = |status: StatusCode, msg: &str| login_form(status, settings, &next, &form.login, Some(msg));
    let Ok(login) = Login::parse(&form.login) else {
        return retry(StatusCode::UNAUTHORIZED, WRONG);
    };
    let store: &dyn Store = &*state.store;
    let now = Utc::now();
    let user = store.user_by_login(&login).await?;
    let Some(user) = user else {
        // The same work and answer as a wrong password, so names cannot be probed.
        let _ = verify(Password::parse(&form.password).ok(), DUMMY_HASH.clone()).await;
        return retry(StatusCode::UNAUTHORIZED, WRONG);
    };
    let since = now - lockout_window();
    let failures = store.failed_sign_ins(&user.id, since).await?;
    if let Some(until) = locked_until(&failures, now) {
        return retry(StatusCode::TOO_MANY_REQUESTS, &locked_message(until, now));
    }
    let ok = verify(Password::parse(&form.password).ok(), user.password_hash.clone()).await;
    if !ok {
        let failures = store.record_failed_sign_in(&user.id, now, since).await?;
        if let Some(until) = locked_until(&failures, now) {
            tracing::warn!(login = %user.login, "dashboard sign-in locked after repeated wrong passwords");
            return retry(StatusCode::TOO_MANY_REQUESTS, &locked_message(until, now));
        }
        return retry(StatusCode::UNAUTHORIZED, WRONG);
    }
    store.clear_failed_sign_ins(&user.id).await?;
    let token = SessionToken::generate();
    store.create_session(&token.digest(), &user.id, now).await?;
    let mut res = Redirect::to(&next).into_response();
    let headers = res.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, token.expose(), None, settings),
    );
    headers.append(header::SET_COOKIE, set_cookie(LOGIN_COOKIE, "", Some(0), settings));
    Ok(res)
}

fn locked_message(until: chrono::DateTime<Utc>, now: chrono::DateTime<Utc>) -> String {
    let minutes = ((until - now).num_seconds() + 59) / 60;
    format!(
        "too many wrong passwords: sign-in for this user is locked for {} more minute{}; try again then, or ask an admin to run `frontdesk users reset-password`",
        minutes.max(1),
        if minutes == 1 { "" } else { "s" }
    )
}

/// An Argon2id hash of a password nobody knows, checked when the name is unknown.
static DUMMY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| Password::generate().hash());

/// Verifies off the async workers (Argon2id is slow on purpose).
async fn verify(password: Option<Password>, hash: String) -> bool {
    let Some(p) = password else { return false };
    tokio::task::spawn_blocking(move || p.verify(&hash))
        .await
        .unwrap_or(false)
}

async fn sign_out(State(state): State<AppState>, signed: Signed) -> PageResult {
    state.store.delete_session(&signed.digest).await?;
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), &state.settings),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(local_next(Some("/calls?status=completed")), "/calls?status=completed");
        assert_eq!(local_next(Some("//evil.example/")), "/");
        assert_eq!(local_next(Some("https://evil.example/")), "/");
        assert_eq!(local_next(Some("/\\evil.example")), "/");
        assert_eq!(local_next(Some("/login")), "/");
        assert_eq!(local_next(None), "/");
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; frontdesk_session=xyz; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
