//! What every request from Twilio goes through before a handler sees it: the
//! signature ([`frontdesk_twilio::signature::verify`], the one check for Voice webhooks
//! and the ConversationRelay handshake alike), the form, the URL it called, and the
//! call it is about. Also the TwiML answer helpers shared by the handlers.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, OriginalUri, Query};
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_app::CallService;
use frontdesk_app::accounts::{SpeaksFor, TwilioAccounts};
use frontdesk_core::agent::{NumberVoice, Provider};
use frontdesk_core::call::Call;
use frontdesk_core::id::{CallId, WorkspaceId};
use frontdesk_store::Store;
use frontdesk_twilio::form::{Form, FormError, parse_form};
use frontdesk_twilio::signature::{SignatureError, verify};
use frontdesk_twilio::twiml::{Verb, render};
use serde::Deserialize;

use crate::extract::body_error;
use crate::{ApiError, ServerSettings};

pub(crate) const UNKNOWN_CALL: &str =
    "Sorry, something went wrong on our side and I lost track of this call. Please call back. Goodbye.";

/// The query of the URLs Frontdesk gives Twilio: `call_id` for calls it placed (and
/// the relay), `seq` on a `<Gather>` action (how many transcript lines the call had
/// when it was asked).
#[derive(Debug, Default, Deserialize)]
pub struct CallQuery {
    pub call_id: Option<String>,
    pub seq: Option<usize>,
}

/// The answer to a refused signature: 403, saying what to check.
pub(crate) fn refused(e: SignatureError, what_to_check: &str) -> ApiError {
    let message = match e {
        SignatureError::Mismatch => format!("{e}; {what_to_check}"),
        other => other.to_string(),
    };
    ApiError::new(StatusCode::FORBIDDEN, "invalid_signature", message)
}

/// A request from Twilio whose signature checked out: its form, the workspaces the
/// signing token speaks for, the query of the URL it called, and the base URL of the
/// links in the answer; with the parts of the state its handlers use (the call service
/// and the store).
pub struct TwilioRequest {
    pub calls: Arc<CallService>,
    pub store: Arc<dyn Store>,
    pub form: Form,
    pub speaks_for: SpeaksFor,
    pub query: CallQuery,
    pub base: String,
}

impl TwilioRequest {
    /// A form value Twilio always sends.
    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.form.get(name).ok_or_else(|| {
            ApiError::bad_request(
                "invalid_form",
                format!("the form has no `{name}`; Twilio always sends it, so this request did not come from Twilio's Voice webhooks"),
            )
        })
    }

    /// Whether the signing token speaks for this workspace.
    pub fn allows(&self, ws: &WorkspaceId) -> bool {
        self.speaks_for.includes(ws)
    }
}

impl<S> FromRequest<S> for TwilioRequest
where
    S: Send + Sync,
    Arc<TwilioAccounts>: FromRef<S>,
    Arc<ServerSettings>: FromRef<S>,
    Arc<CallService>: FromRef<S>,
    Arc<dyn Store>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let accounts = Arc::<TwilioAccounts>::from_ref(state);
        let settings = Arc::<ServerSettings>::from_ref(state);
        let (parts, body) = req.into_parts();
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .cloned()
            .unwrap_or_else(|| OriginalUri(parts.uri.clone()));
        let headers = parts.headers.clone();
        let body = Bytes::from_request(axum::extract::Request::from_parts(parts, body), state)
            .await
            .map_err(body_error)?;
        // Who is asking comes first: without a signature nothing else is looked at.
        if headers.get("x-twilio-signature").is_none() {
            return Err(refused(SignatureError::Missing, ""));
        }
        let ct = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        if ct.split(';').next().unwrap_or_default().trim() != "application/x-www-form-urlencoded" {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Twilio webhooks are form-encoded; send `Content-Type: application/x-www-form-urlencoded`",
            ));
        }
        let form = Form::new(parse_form(&body).map_err(form_error)?);
        let base = public_base(&settings, &headers);
        let url = format!("{base}{}", uri.0.path_and_query().map_or("/", |p| p.as_str()));
        let account = form
            .params()
            .iter()
            .find(|(k, _)| k == "AccountSid")
            .map(|(_, v)| v.as_str());
        let candidates = accounts.candidates(account).await?;
        let signed = verify(
            std::slice::from_ref(&url),
            form.params(),
            &body,
            header(&headers, "x-twilio-signature"),
            header(&headers, "x-twilio-webhooks-signature-settings"),
            candidates.iter().map(|c| c.token.as_str()),
        );
        let speaks_for = match signed {
            Ok(i) => candidates[i].speaks_for.clone(),
            Err(e) => {
                if e == SignatureError::Mismatch {
                    tracing::warn!(%url, "rejected a Twilio request: bad signature");
                }
                return Err(refused(
                    e,
                    "check that FRONTDESK_PUBLIC_URL is the URL configured in Twilio \
                     and that the account's auth token is the one stored (PUT /v1/credentials/twilio or FRONTDESK_TWILIO_AUTH_TOKEN)",
                ));
            }
        };
        // The query only after the signature: an outsider learns nothing from it.
        let Query(query) = Query::<CallQuery>::try_from_uri(&uri.0)
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
        Ok(Self {
            calls: Arc::<CallService>::from_ref(state),
            store: Arc::<dyn Store>::from_ref(state),
            form,
            speaks_for,
            query,
            base,
        })
    }
}

pub(crate) fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn form_error(e: FormError) -> ApiError {
    match e {
        FormError::TooManyParameters(_) => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_many_parameters", e.to_string())
        }
        FormError::Malformed(_) => ApiError::bad_request("invalid_form", e.to_string()),
    }
}

/// The URL Twilio reaches this server at: `FRONTDESK_PUBLIC_URL`, or `http://{Host}`.
pub fn public_base(settings: &ServerSettings, headers: &HeaderMap) -> String {
    match &settings.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => format!("http://{}", header(headers, HOST.as_str()).unwrap_or("localhost")),
    }
}

/// A TwiML answer.
pub fn twiml(verbs: &[Verb]) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("text/xml; charset=utf-8"))],
        render(verbs),
    )
        .into_response()
}

/// After the signature checked out, a caller is on the line: a failure is an apology
/// and a hang-up (logged), never an error page read out by Twilio.
/// A malformed request (400) stays an error: no call is behind it.
pub(crate) fn spoken(answer: Result<Response, ApiError>) -> Result<Response, ApiError> {
    match answer {
        Err(e) if e.status == StatusCode::BAD_REQUEST => Err(e),
        Err(e) => {
            tracing::warn!(status = %e.status, error = %e.message, "a Twilio call could not go on");
            Ok(say_and_hang_up(UNKNOWN_CALL))
        }
        ok => ok,
    }
}

pub(crate) fn say_and_hang_up(text: &str) -> Response {
    twiml(&[Verb::Say(text.to_owned()), Verb::Hangup])
}

/// The call a Twilio request is about: by CallSid, else (calls Frontdesk placed) by the
/// `call_id` in the URL. Only Twilio calls the signing token speaks for.
pub(crate) async fn find_call(store: &dyn Store, req: &TwilioRequest) -> Result<Option<Call>, ApiError> {
    let sid = req.require("CallSid")?;
    let mut call = store.call_by_provider_id(Provider::Twilio, sid).await?;
    if call.is_none()
        && let Some(id) = req.query.call_id.as_deref().and_then(|i| CallId::parse(i).ok())
    {
        call = store
            .call_by_id(&id)
            .await?
            .filter(|c| c.provider == Provider::Twilio && c.provider_call_id.as_deref().is_none_or(|p| p == sid));
    }
    Ok(call.filter(|c| req.allows(&c.workspace_id)))
}

/// How the call's number carries calls.
pub(crate) async fn voice_of(store: &dyn Store, call: &Call) -> Result<NumberVoice, ApiError> {
    Ok(store
        .number_by_e164(call.business_number())
        .await?
        .filter(|n| n.workspace_id == call.workspace_id)
        .map(|n| n.voice)
        .unwrap_or_default())
}
