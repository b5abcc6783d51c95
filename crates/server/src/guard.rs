//! Request bodies bounded in size and in time, before any handler sees them.
//!
//! - A body whose declared `Content-Length` is over the limit is answered 413 at once,
//!   nothing of it read.
//! - Any other body (chunked, say) is cut off at the limit ([`Limited`]): whoever reads
//!   it gets [`LengthLimitError`], which the extractors answer 413.
//! - A body not fully received within the body deadline fails with [`BodyTimeout`]
//!   (408): a client dripping a byte at a time cannot hold a request open.
//! - The limit is [`crate::ServerSettings::max_body_bytes`], and less for the telephony
//!   webhooks (Twilio's forms are a few kilobytes).
//!
//! Answers that refuse a body close the connection, so the server does not wait for
//! the rest of it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONNECTION, CONTENT_LENGTH};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{LengthLimitError, Limited};
use tokio::time::{Instant, Sleep};

use crate::ApiError;
use frontdesk_twilio::form::MAX_FORM_BYTES;

/// Size and time limits on request bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimits {
    /// Largest body, in bytes.
    pub max_bytes: usize,
    /// Time a client has to send the whole body.
    pub timeout: Duration,
}

impl BodyLimits {
    /// The largest body a request to `path` may carry.
    #[must_use]
    pub fn max_for(&self, path: &str) -> usize {
        if path.starts_with("/telephony/") {
            self.max_bytes.min(MAX_FORM_BYTES)
        } else {
            self.max_bytes
        }
    }
}

/// The body did not arrive within the body deadline.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct BodyTimeout;

/// Middleware: refuses declared oversize bodies at once and bounds every other body.
pub async fn bound_bodies(State(limits): State<BodyLimits>, req: Request, next: Next) -> Response {
    let max = limits.max_for(req.uri().path());
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return closing(too_large(max).into_response());
    }
    let req = req.map(|body| Body::new(Limited::new(Deadline::new(body, limits.timeout), max)));
    let res = next.run(req).await;
    if matches!(
        res.status(),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::REQUEST_TIMEOUT
    ) {
        closing(res)
    } else {
        res
    }
}

fn closing(mut res: Response) -> Response {
    res.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    res
}

/// The 413 for a body over `max` bytes.
#[must_use]
pub fn too_large(max: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!(
            "the request body is larger than the {max} bytes this route accepts (FRONTDESK_MAX_BODY_BYTES); send a smaller body"
        ),
    )
}

/// The 413 for a body found over the limit while reading it.
#[must_use]
pub fn body_over_limit() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is larger than this route accepts (FRONTDESK_MAX_BODY_BYTES); send a smaller body",
    )
}

/// What went wrong reading a body: 413 over the limit, 408 too slow, else 400.
#[must_use]
pub fn read_error(e: &(dyn std::error::Error + 'static)) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<LengthLimitError>() {
            return body_over_limit();
        }
        if c.is::<BodyTimeout>() {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body did not arrive in time (FRONTDESK_REQUEST_BODY_TIMEOUT); send it at once",
            );
        }
        cause = c.source();
    }
    ApiError::bad_request("invalid_body", format!("the request body could not be read: {e}"))
}

/// A body that fails with [`BodyTimeout`] once its deadline passes.
struct Deadline {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
}

impl Deadline {
    fn new(inner: Body, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Box::pin(tokio::time::sleep_until(Instant::now() + timeout)),
        }
    }
}

impl http_body::Body for Deadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(Into::into))),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyTimeout)))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
