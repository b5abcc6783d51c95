//! The dashboard (SPEC section 7): server-rendered pages for the business owner and
//! their developer, served by the same binary at `/`.
//!
//! Layout: [`session`] signs users in and out and guards every other page (session
//! cookie, CSRF token on every state-changing request, lock-out); one module per page
//! group below renders askama templates (`crates/server/templates`, compiled in) from
//! the store and the application layer, exactly as the `/v1` routes do. [`assets`]
//! serves the embedded stylesheet and script; nothing is fetched from elsewhere.
//!
//! A failure becomes an HTML page ([`PageError`]) with the status the API would give.

pub mod agents;
pub mod assets;
pub mod calls;
pub mod deliveries;
pub mod events;
pub mod overview;
pub mod session;
pub mod settings;
pub mod test_call;
pub mod view;
pub mod webhooks;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Response};

use crate::ApiError;
use crate::state::AppState;
pub use session::Signed;

/// Every dashboard route: the sign-in pages and assets open, the rest behind a session.
pub fn router(state: &AppState) -> Router<AppState> {
    let guarded = Router::new()
        .merge(overview::router())
        .merge(calls::router())
        .merge(webhooks::router())
        .merge(deliveries::router())
        .merge(events::router())
        .merge(agents::router())
        .merge(test_call::router())
        .merge(settings::router())
        .merge(session::guarded_router())
        .route_layer(from_fn_with_state(state.clone(), session::require_session));
    Router::new()
        .merge(session::router())
        .merge(assets::router())
        .merge(guarded)
        .layer(axum::middleware::map_response(security_headers))
}

/// Scripts only from this server's own files (no inline script can run, so injected
/// markup cannot either); no framing; forms post only here.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

async fn security_headers(mut res: Response) -> Response {
    use axum::http::{HeaderValue, header};
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    res
}

/// The version shown in the footer.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What every signed-in page shows around its content.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The signed-in user's name.
    pub login: String,
    /// The session's CSRF token, put in every form.
    pub csrf: String,
    /// Which navigation entry is the current page.
    pub nav: &'static str,
}

impl Chrome {
    pub fn new(signed: &Signed, nav: &'static str) -> Self {
        Self {
            login: signed.login.clone(),
            csrf: signed.csrf.clone(),
            nav,
        }
    }
}

/// A failure shown as a page.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn not_found(what: &str, id: &str) -> Self {
        ApiError::not_found(what, id).into()
    }
}

impl<E> From<E> for PageError
where
    ApiError: From<E>,
{
    fn from(e: E) -> Self {
        let e = ApiError::from(e);
        Self {
            status: e.status,
            message: e.message,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let page = ErrorPage {
            status: self.status.as_u16(),
            title,
            message: &self.message,
        };
        match page.render() {
            Ok(html) => (self.status, Html(html)).into_response(),
            Err(e) => {
                tracing::error!(error = %e, "could not render the error page");
                (self.status, self.message).into_response()
            }
        }
    }
}

/// Renders a page template, or the 500 page.
pub fn render<T: Template>(page: &T) -> Result<Html<String>, PageError> {
    page.render().map(Html).map_err(|e| {
        tracing::error!(error = %e, "could not render a dashboard page");
        ApiError::internal().into()
    })
}

/// The result of a page handler.
pub type PageResult = Result<Response, PageError>;
