//! `/webhooks`: Webhooks.

use axum::Router;
use axum::routing::get;

use super::{PageResult, Signed, stub};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/webhooks", get(page))
}

async fn page(signed: Signed) -> PageResult {
    stub(&signed, "webhooks", "Webhooks")
}
