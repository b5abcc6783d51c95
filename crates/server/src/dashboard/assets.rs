//! The dashboard's stylesheet and scripts, compiled into the binary (no CDN, no build
//! step), served at `/static/{name}`.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

/// Name, content type, content.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/app.js"),
    ),
    (
        "webhook.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/webhook.js"),
    ),
    ("favicon.svg", "image/svg+xml", include_str!("../../static/favicon.svg")),
    (
        "test-call.js",
        "text/javascript; charset=utf-8",
        include_str!("../../static/test-call.js"),
    ),
];

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/static/{name}", get(asset))
}

async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == name) {
        Some((_, kind, body)) => (
            [
                (header::CONTENT_TYPE, *kind),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}
