//! Twilio Voice webhooks: `/telephony/twilio/{voice,gather,dial,recording,status}` and
//! the ConversationRelay `<Connect>` action (`POST /telephony/twilio/relay`).
//!
//! Every request is form-encoded, as Twilio sends it, and checked against
//! `X-Twilio-Signature` before anything is read from the store or written
//! ([`TwilioForm::verify`]); a missing or bad signature is a 403 and nothing is recorded.
//! The URL signed is `FRONTDESK_PUBLIC_URL` + path + query (or `http://{Host}` when no
//! public URL is configured). Answers are TwiML; a problem the caller would hear about
//! (a number nobody configured, a call Frontdesk does not know) is a polite spoken
//! message and a hang-up, never an error page.
//!
//! Gather mode: each agent reply is a `<Say>` inside a `<Gather input="speech">` whose
//! action is `/gather`; a transfer is `<Dial>` (action `/dial`: an unanswered transfer
//! becomes a voicemail); a recorded message is `<Record>` (action `/recording`). The
//! conversation ending does not end the call record: Twilio's final status callback
//! does, with Twilio's duration, and sends `call.ended` and `transcript.ready` once.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Query, State};
use axum::http::header::{CONTENT_TYPE, HOST};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use frontdesk_agent::{MESSAGE_FIELD, Reply};
use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::agent::{NumberVoice, Provider, VoiceMode};
use frontdesk_core::call::{Call, CallStatus};
use frontdesk_core::fields::FieldType;
use frontdesk_core::id::{CallId, WorkspaceId};
use frontdesk_store::StoreError;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::accounts::{SpeaksFor, candidates_for_account};
use super::signature::{Algorithm, Signed};
use super::twiml::{Attrs, Verb, render};
use crate::ApiError;
use crate::extract::body_error;
use crate::receptionist::{CallError, CallLock, Finish, Receptionist, Step};
use crate::state::AppState;

/// The routes Twilio calls (no API key: the signature authenticates them).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/telephony/twilio/voice", post(voice))
        .route("/telephony/twilio/gather", post(gather))
        .route("/telephony/twilio/dial", post(dial))
        .route("/telephony/twilio/recording", post(recording))
        .route("/telephony/twilio/status", post(status))
        .route("/telephony/twilio/relay", post(relay_action).get(super::relay::connect))
        .layer(axum::middleware::from_fn(server_timing))
}

/// Middleware: `Server-Timing: app;dur=<ms>` on every telephony answer, the time the
/// server spent on it (signature, conversation, store), for latency measurements.
async fn server_timing(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let started = std::time::Instant::now();
    let mut res = next.run(req).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.3}")) {
        res.headers_mut().insert("server-timing", v);
    }
    res
}

/// Longest voicemail, in seconds.
const VOICEMAIL_SECONDS: &str = "120";
/// How long a transfer rings before it counts as unanswered, in seconds.
const DIAL_TIMEOUT: &str = "20";

const NOT_IN_SERVICE: &str =
    "Sorry, the number you have called is not in service. Please check the number and try again. Goodbye.";
const UNKNOWN_CALL: &str =
    "Sorry, something went wrong on our side and I lost track of this call. Please call back. Goodbye.";
const VOICEMAIL_PROMPT: &str = "I'm sorry, no one is available to take your call right now. Please leave a message after the tone, and press pound when you're done.";
const VOICEMAIL_THANKS: &str = "Thank you, your message has been recorded. Goodbye.";

/// The query of the URLs Frontdesk gives Twilio: `call_id` for calls it placed (and
/// the relay), `seq` on a `<Gather>` action (how many transcript lines the call had
/// when it was asked).
#[derive(Debug, Default, Deserialize)]
pub struct CallQuery {
    pub call_id: Option<String>,
    pub seq: Option<usize>,
}

/// The call a request is about ([`find_call`]), with its lock taken and read again
/// after taking it.
async fn locked_call(
    state: &AppState,
    form: &TwilioForm,
    query: &CallQuery,
) -> Result<Option<(CallLock, Call)>, ApiError> {
    let Some(call) = find_call(state, form, query).await? else {
        return Ok(None);
    };
    let lock = state.receptionist.lock(&call.id).await;
    let fresh = state.store.get_call(&call.workspace_id, &call.id).await?;
    Ok(Some((lock, fresh.unwrap_or(call))))
}

/// A request from Twilio whose signature checked out: its form, the query of the URL
/// it called, and the base URL of the links in the answer.
pub struct TwilioRequest {
    pub form: TwilioForm,
    pub query: CallQuery,
    pub base: String,
}

impl FromRequest<AppState> for TwilioRequest {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, ApiError> {
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
        let form = TwilioForm::verify(state, &headers, &uri, &body).await?;
        // The query only after the signature: an outsider learns nothing from it.
        let Query(query) = Query::<CallQuery>::try_from_uri(&uri.0)
            .map_err(|e| ApiError::bad_request("invalid_query", e.body_text()))?;
        Ok(Self {
            form,
            query,
            base: public_base(state, &headers),
        })
    }
}

/// Where Twilio sends what the caller says next.
fn gather_url(base: &str, call: &Call) -> String {
    format!("{base}/telephony/twilio/gather?seq={}", call.turns.len())
}

/// A form request from Twilio whose signature checked out.
#[derive(Debug)]
pub struct TwilioForm {
    params: Vec<(String, String)>,
    /// The workspaces the signing token speaks for.
    speaks_for: SpeaksFor,
}

impl TwilioForm {
    /// Reads a Twilio form request and checks its signature.
    pub async fn verify(
        state: &AppState,
        headers: &HeaderMap,
        uri: &OriginalUri,
        body: &Bytes,
    ) -> Result<Self, ApiError> {
        // Who is asking comes first: without a signature nothing else is looked at.
        let Some(sig) = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok()) else {
            return Err(forbidden(
                "the request has no X-Twilio-Signature header; only Twilio may call this URL",
            ));
        };
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
        let params = parse_form(body)?;
        let url = format!(
            "{}{}",
            public_base(state, headers),
            uri.0.path_and_query().map_or("/", |p| p.as_str())
        );
        let Some(algorithm) = Algorithm::from_settings(
            headers
                .get("x-twilio-webhooks-signature-settings")
                .and_then(|v| v.to_str().ok()),
        ) else {
            return Err(forbidden(
                "the signature algorithm named in X-Twilio-Webhooks-Signature-Settings is not supported",
            ));
        };
        let account = params.iter().find(|(k, _)| k == "AccountSid").map(|(_, v)| v.as_str());
        if let Some(signed) = Signed::new(&url, &params, body) {
            for c in candidates_for_account(state, account).await? {
                if signed.matches(&c.token, sig, algorithm) {
                    return Ok(Self {
                        params,
                        speaks_for: c.speaks_for,
                    });
                }
            }
        }
        tracing::warn!(%url, "rejected a Twilio request: bad signature");
        Err(forbidden(
            "X-Twilio-Signature does not match; check that FRONTDESK_PUBLIC_URL is the URL configured in Twilio \
             and that the account's auth token is the one stored (PUT /v1/credentials/twilio or FRONTDESK_TWILIO_AUTH_TOKEN)",
        ))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, name: &str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| {
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

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "invalid_signature", message)
}

/// Most parameters a Twilio form may carry (Twilio sends a few dozen).
pub const MAX_FORM_PARAMS: usize = 256;

/// Largest body a Twilio webhook may have (Twilio's are a few kilobytes).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Parses an `application/x-www-form-urlencoded` body strictly: UTF-8, well-formed
/// percent escapes, UTF-8 after decoding.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    let bad = |why: &str| ApiError::bad_request("invalid_form", format!("the form body is malformed: {why}"));
    // Counted before anything is decoded: a form of more pairs is refused at once.
    let pairs = body.iter().filter(|b| **b == b'&').count() + 1;
    if pairs > MAX_FORM_PARAMS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_parameters",
            format!(
                "the form has {pairs} parameters; Twilio sends a few dozen, and at most {MAX_FORM_PARAMS} are read"
            ),
        ));
    }
    let text = std::str::from_utf8(body).map_err(|_| bad("it is not UTF-8"))?;
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(bad("a `%` is not followed by two hexadecimal digits"));
        }
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(bytes)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if params
        .iter()
        .any(|(k, v)| k.contains('\u{FFFD}') || v.contains('\u{FFFD}'))
    {
        return Err(bad("a value is not UTF-8 once decoded"));
    }
    Ok(params)
}

/// The URL Twilio reaches this server at: `FRONTDESK_PUBLIC_URL`, or `http://{Host}`.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    match &state.settings.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => format!(
            "http://{}",
            headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("localhost")
        ),
    }
}

/// The public base URL as a WebSocket URL (`https` -> `wss`, `http` -> `ws`).
pub fn websocket_base(base: &str) -> String {
    if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
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
fn spoken(answer: Result<Response, ApiError>) -> Result<Response, ApiError> {
    match answer {
        Err(e) if e.status == StatusCode::BAD_REQUEST => Err(e),
        Err(e) => {
            tracing::warn!(status = %e.status, error = %e.message, "a Twilio call could not go on");
            Ok(say_and_hang_up(UNKNOWN_CALL))
        }
        ok => ok,
    }
}

fn say_and_hang_up(text: &str) -> Response {
    twiml(&[Verb::Say(text.to_owned()), Verb::Hangup])
}

/// The call a Twilio request is about: by CallSid, else (calls Frontdesk placed) by the
/// `call_id` in the URL. Only Twilio calls the signing token speaks for.
async fn find_call(state: &AppState, form: &TwilioForm, query: &CallQuery) -> Result<Option<Call>, ApiError> {
    let sid = form.require("CallSid")?;
    let mut call = state.store.call_by_provider_id(Provider::Twilio, sid).await?;
    if call.is_none()
        && let Some(id) = query.call_id.as_deref().and_then(|i| CallId::parse(i).ok())
    {
        call = state
            .store
            .call_by_id(&id)
            .await?
            .filter(|c| c.provider == Provider::Twilio && c.provider_call_id.as_deref().is_none_or(|p| p == sid));
    }
    Ok(call.filter(|c| form.allows(&c.workspace_id)))
}

/// How the call's number carries calls.
async fn voice_of(state: &AppState, call: &Call) -> Result<NumberVoice, ApiError> {
    Ok(state
        .store
        .number_by_e164(call.business_number())
        .await?
        .filter(|n| n.workspace_id == call.workspace_id)
        .map(|n| n.voice)
        .unwrap_or_default())
}

/// `POST /telephony/twilio/voice`: a call comes in (or a call Frontdesk placed is
/// answered). Answers with the greeting inside a `<Gather>`, or connects
/// ConversationRelay.
async fn voice(
    State(state): State<AppState>,
    TwilioRequest { form, query, base }: TwilioRequest,
) -> Result<Response, ApiError> {
    let answer: Result<Response, ApiError> = async {
        let sid = form.require("CallSid")?.to_owned();
        if let Some((_lock, call)) = locked_call(&state, &form, &query).await? {
            // Twilio asking again, or the answered leg of a call Frontdesk placed.
            let voice = voice_of(&state, &call).await?;
            let step = if call.answered_at.is_none() && call.status.is_live() {
                state.receptionist.answer_placed(call, &sid).await?
            } else {
                Receptionist::current(call)
            };
            return answer(&state, &base, step, voice).await;
        }
        let to = form.require("To")?;
        let from = form.get("From").unwrap_or("anonymous").to_owned();
        let number = state
            .store
            .number_by_e164(to)
            .await?
            .filter(|n| n.provider == Provider::Twilio && form.allows(&n.workspace_id));
        let Some(number) = number else {
            tracing::warn!(to, "a Twilio call to a number no workspace set up for Twilio");
            return Ok(say_and_hang_up(NOT_IN_SERVICE));
        };
        let step = match state
            .receptionist
            .answer(&number.workspace_id, &number, &from, None, Some(sid.clone()))
            .await
        {
            Ok(step) => step,
            Err(CallError::Store(StoreError::Conflict(_))) => {
                // The same call, answered by a concurrent request a moment ago.
                let again = state.store.call_by_provider_id(Provider::Twilio, &sid).await?;
                match again.filter(|c| form.allows(&c.workspace_id)) {
                    Some(call) => Receptionist::current(call),
                    None => return Ok(say_and_hang_up(UNKNOWN_CALL)),
                }
            }
            Err(e) => return Err(e.into()),
        };
        answer(&state, &base, step, number.voice).await
    }
    .await;
    spoken(answer)
}

/// The first TwiML of a call: ConversationRelay for relay numbers, else the reply.
async fn answer(state: &AppState, base: &str, step: Step, voice: NumberVoice) -> Result<Response, ApiError> {
    if voice.mode == VoiceMode::Relay && !step.reply.ended {
        let id = step.call.id.to_string();
        let ws_base = websocket_base(base);
        let cfg = step_config(state, &step).await;
        let mut relay: Attrs = vec![
            ("url", format!("{ws_base}/telephony/twilio/relay?call_id={id}")),
            ("welcomeGreeting", step.reply.say.clone()),
            ("language", "en-US".to_owned()),
            ("interruptible", "any".to_owned()),
            ("dtmfDetection", "true".to_owned()),
        ];
        let hints = hints(&cfg, None);
        if !hints.is_empty() {
            relay.push(("hints", hints));
        }
        return Ok(twiml(&[Verb::Relay {
            connect: vec![
                ("action", format!("{base}/telephony/twilio/relay?call_id={id}")),
                ("method", "POST".to_owned()),
            ],
            relay,
        }]));
    }
    Ok(reply_twiml(state, base, &step, voice).await)
}

/// The TwiML of a step's reply in gather mode, with the step's agent configuration.
async fn reply_twiml(state: &AppState, base: &str, step: &Step, voice: NumberVoice) -> Response {
    let cfg = step_config(state, step).await;
    twiml(&reply_verbs(base, &step.call, &step.reply, voice, &cfg))
}

/// The agent configuration a step ran with (read again for a step that ran nothing).
async fn step_config(state: &AppState, step: &Step) -> std::sync::Arc<AgentConfig> {
    match &step.cfg {
        Some(c) => c.clone(),
        None => state.receptionist.config_or_fallback(&step.call).await,
    }
}

/// The TwiML of an agent reply in gather mode.
pub fn reply_verbs(base: &str, call: &Call, reply: &Reply, voice: NumberVoice, cfg: &AgentConfig) -> Vec<Verb> {
    let mut verbs = Vec::new();
    if reply.ended {
        if !reply.say.is_empty() {
            verbs.push(Verb::Say(reply.say.clone()));
        }
        match reply.transferred_to.as_ref().or(call.transferred_to.as_ref()) {
            Some(to) => verbs.push(Verb::Dial {
                attrs: vec![
                    ("action", format!("{base}/telephony/twilio/dial")),
                    ("method", "POST".to_owned()),
                    ("timeout", DIAL_TIMEOUT.to_owned()),
                ],
                number: to.clone(),
            }),
            None => verbs.push(Verb::Hangup),
        }
        return verbs;
    }
    if reply.awaiting_field.as_deref() == Some(MESSAGE_FIELD) && voice.record_messages {
        verbs.push(Verb::Say(format!(
            "{} Please leave it after the tone, and press pound when you're done.",
            reply.say
        )));
        verbs.push(Verb::Record(record_attrs(base)));
        // Twilio goes on to the next verb when nothing was recorded: treat it as silence.
        verbs.push(Verb::Redirect(gather_url(base, call)));
        return verbs;
    }
    let kind = reply
        .awaiting_field
        .as_deref()
        .and_then(|f| cfg.field(f))
        .map(|f| &f.kind);
    let keypad = matches!(kind, Some(FieldType::Phone | FieldType::Number));
    let mut attrs: Attrs = vec![
        ("input", if keypad { "dtmf speech" } else { "speech" }.to_owned()),
        ("action", gather_url(base, call)),
        ("method", "POST".to_owned()),
        ("speechTimeout", "auto".to_owned()),
        ("language", "en-US".to_owned()),
        ("actionOnEmptyResult", "true".to_owned()),
    ];
    if keypad {
        attrs.push(("finishOnKey", "#".to_owned()));
    }
    let hints = hints(cfg, kind);
    if !hints.is_empty() {
        attrs.push(("hints", hints));
    }
    verbs.push(Verb::Gather {
        attrs,
        say: reply.say.clone(),
    });
    verbs
}

fn record_attrs(base: &str) -> Attrs {
    vec![
        ("action", format!("{base}/telephony/twilio/recording")),
        ("method", "POST".to_owned()),
        ("maxLength", VOICEMAIL_SECONDS.to_owned()),
        ("playBeep", "true".to_owned()),
        ("finishOnKey", "#".to_owned()),
    ]
}

/// Speech hints for what the agent waits for: Twilio's class tokens for numbers,
/// dates and money, the spoken parts of an email address, an enum's options; before
/// any field, the call types' keywords and the transfer triggers.
pub fn hints(cfg: &AgentConfig, kind: Option<&FieldType>) -> String {
    let words: Vec<String> = match kind {
        Some(FieldType::Phone) => vec!["$FULLPHONENUM".into(), "$OOV_CLASS_DIGIT_SEQUENCE".into()],
        Some(FieldType::Number) => vec!["$OPERAND".into(), "$OOV_CLASS_DIGIT_SEQUENCE".into()],
        Some(FieldType::Money) => vec!["$MONEY".into()],
        Some(FieldType::Date) => vec!["$MONTH".into(), "$DAY".into(), "$YEAR".into()],
        Some(FieldType::Time) => vec!["$TIME".into()],
        Some(FieldType::Email) => [
            "at",
            "dot",
            "dot com",
            "gmail dot com",
            "outlook dot com",
            "yahoo dot com",
            "icloud dot com",
            "underscore",
            "dash",
        ]
        .map(str::to_owned)
        .to_vec(),
        Some(FieldType::Boolean) => vec!["yes".into(), "no".into()],
        Some(FieldType::Enum { options }) => options.clone(),
        Some(FieldType::Name | FieldType::String) => Vec::new(),
        None => cfg
            .call_types
            .iter()
            .flat_map(|t| t.keywords.iter().cloned())
            .chain(cfg.transfer.iter().flat_map(|t| t.triggers.iter().cloned()))
            .collect(),
    };
    let mut seen: Vec<String> = Vec::new();
    for w in words {
        let w = w.replace(',', " ").trim().to_owned();
        if !w.is_empty() && !seen.contains(&w) && seen.len() < 100 {
            seen.push(w);
        }
    }
    seen.join(",")
}

/// `POST /telephony/twilio/gather`: what the caller said (`SpeechResult`, with
/// `Confidence`), keys pressed (`Digits`), or nothing (silence).
async fn gather(
    State(state): State<AppState>,
    TwilioRequest { form, query, base }: TwilioRequest,
) -> Result<Response, ApiError> {
    let answer: Result<Response, ApiError> = async {
        let Some((_lock, mut call)) = locked_call(&state, &form, &query).await? else {
            return Ok(say_and_hang_up(UNKNOWN_CALL));
        };
        if !call.status.is_live() || Receptionist::conversation_over(&call) {
            // Said goodbye already; Twilio's status callback will finish the record.
            return Ok(twiml(&[Verb::Hangup]));
        }
        let voice = voice_of(&state, &call).await?;
        let text = form.get("SpeechResult").map(str::trim).filter(|t| !t.is_empty());
        let digits = form
            .get("Digits")
            .map(|d| d.trim_end_matches('#'))
            .filter(|d| !d.is_empty());
        let confidence = form
            .get("Confidence")
            .and_then(|c| c.parse::<f64>().ok())
            .filter(|c| c.is_finite() && text.is_some());
        let said = text.or(digits);
        let mut step = None;
        for _ in 0..3 {
            // The `<Gather>` this answers was made when the call had `seq` lines: a
            // request for an older one (Twilio sending it twice) is answered with where
            // the call stands, and not taken as a second turn.
            if query.seq.is_some_and(|n| n != call.turns.len()) {
                break;
            }
            let result = match said {
                Some(t) => state.receptionist.turn_on(call.clone(), t, confidence).await,
                None => state.receptionist.silence_on(call.clone()).await,
            };
            match result {
                Ok(s) => {
                    step = Some(s);
                    break;
                }
                // Another node (or a write that does not lock) changed the call and
                // nothing was done: read it again and take the turn on the new state.
                Err(CallError::Raced(_)) => {
                    call = state
                        .store
                        .get_call(&call.workspace_id, &call.id)
                        .await?
                        .ok_or_else(|| ApiError::not_found("call", call.id.as_str()))?;
                }
                Err(CallError::Conflict(_)) => break,
                Err(e) => return Err(e.into()),
            }
        }
        let step = match step {
            Some(s) => s,
            None => {
                let fresh = state.store.get_call(&call.workspace_id, &call.id).await?;
                Receptionist::current(fresh.unwrap_or(call))
            }
        };
        Ok(reply_twiml(&state, &base, &step, voice).await)
    }
    .await;
    spoken(answer)
}

/// `POST /telephony/twilio/dial`: how the transfer went (`DialCallStatus`). Answered:
/// hang up when the person does; not answered: take a voicemail.
async fn dial(
    State(state): State<AppState>,
    TwilioRequest { form, query, base }: TwilioRequest,
) -> Result<Response, ApiError> {
    let answer: Result<Response, ApiError> = async {
        let Some((_lock, call)) = locked_call(&state, &form, &query).await? else {
            return Ok(say_and_hang_up(UNKNOWN_CALL));
        };
        let status = form.get("DialCallStatus").unwrap_or("failed").to_owned();
        let duration: Option<i64> = form.get("DialCallDuration").and_then(|d| d.parse().ok());
        let live = call.status.is_live();
        state
            .receptionist
            .amend(call, |c| {
                c.provider_details.insert("dial_status".into(), json!(status));
                c.provider_details.insert("dial_duration".into(), json!(duration));
                true
            })
            .await?;
        if matches!(status.as_str(), "completed" | "answered") || !live {
            return Ok(twiml(&[Verb::Hangup]));
        }
        Ok(twiml(&[
            Verb::Say(VOICEMAIL_PROMPT.to_owned()),
            Verb::Record(record_attrs(&base)),
        ]))
    }
    .await;
    spoken(answer)
}

/// `POST /telephony/twilio/recording`: a voicemail was recorded (`RecordingUrl`,
/// `RecordingDuration`): it becomes the call's message.
async fn recording(
    State(state): State<AppState>,
    TwilioRequest { form, query, base }: TwilioRequest,
) -> Result<Response, ApiError> {
    let answer: Result<Response, ApiError> = async {
        let Some((_lock, call)) = locked_call(&state, &form, &query).await? else {
            return Ok(say_and_hang_up(UNKNOWN_CALL));
        };
        let Some(url) = form.get("RecordingUrl") else {
            // Nothing was recorded.
            return Ok(twiml(&[Verb::Hangup]));
        };
        let seconds: Option<i64> = form.get("RecordingDuration").and_then(|d| d.parse().ok());
        if !call.status.is_live() {
            // The caller hung up to end the recording and the status callback came first.
            state.receptionist.late_voicemail(call, url, seconds).await?;
            return Ok(twiml(&[Verb::Hangup]));
        }
        let voice = voice_of(&state, &call).await?;
        let mut result = Err(CallError::Raced(String::new()));
        for _ in 0..3 {
            result = state
                .receptionist
                .voicemail(&call.workspace_id, &call.id, url, seconds)
                .await;
            if !matches!(result, Err(CallError::Raced(_))) {
                break;
            }
        }
        let step = match result {
            Ok(step) => step,
            Err(CallError::Conflict(_) | CallError::Raced(_)) => {
                // Finished meanwhile: keep the message all the same.
                if let Some(c) = state.store.get_call(&call.workspace_id, &call.id).await?
                    && !c.status.is_live()
                {
                    state.receptionist.late_voicemail(c, url, seconds).await?;
                }
                return Ok(twiml(&[Verb::Hangup]));
            }
            Err(e) => return Err(e.into()),
        };
        if step.reply.ended {
            return Ok(say_and_hang_up(VOICEMAIL_THANKS));
        }
        Ok(reply_twiml(&state, &base, &step, voice).await)
    }
    .await;
    spoken(answer)
}

/// `POST /telephony/twilio/status`: the call's progress. A final status (completed,
/// busy, no-answer, failed, canceled) finishes the call, once.
async fn status(
    State(state): State<AppState>,
    TwilioRequest { form, query, .. }: TwilioRequest,
) -> Result<Response, ApiError> {
    let Some((_lock, call)) = locked_call(&state, &form, &query).await? else {
        tracing::warn!("a Twilio status callback for a call Frontdesk does not know");
        return Ok(twiml(&[]));
    };
    let sid = form.require("CallSid")?.to_owned();
    let reported = form.get("CallStatus").unwrap_or_default().to_owned();
    let final_status = match reported.as_str() {
        "completed" => Some(CallStatus::Completed),
        "busy" => Some(CallStatus::Busy),
        "no-answer" => Some(CallStatus::NoAnswer),
        "failed" => Some(CallStatus::Failed),
        "canceled" => Some(CallStatus::Canceled),
        _ => None,
    };
    match final_status {
        Some(s) => {
            let duration: Option<i64> = form.get("CallDuration").and_then(|d| d.parse().ok());
            let mut details = Map::new();
            details.insert("call_status".into(), json!(reported));
            if let Some(a) = form.get("AnsweredBy") {
                details.insert("answered_by".into(), json!(a));
            }
            let call = if call.provider_call_id.is_none() {
                state
                    .receptionist
                    .amend(call, |c| {
                        c.provider_call_id = Some(sid.clone());
                        true
                    })
                    .await?
            } else {
                call
            };
            let fin = Finish {
                duration,
                details,
                ..Finish::default()
            };
            state.receptionist.complete(call, s, fin).await?;
        }
        None => {
            state
                .receptionist
                .amend(call, |c| {
                    if !c.status.is_live() {
                        return false;
                    }
                    if c.provider_call_id.is_none() {
                        c.provider_call_id = Some(sid.clone());
                    }
                    if c.status == CallStatus::Queued && matches!(reported.as_str(), "initiated" | "ringing") {
                        c.status = CallStatus::Ringing;
                    }
                    c.provider_details
                        .insert("call_status".into(), Value::String(reported.clone()));
                    true
                })
                .await?;
        }
    }
    Ok(twiml(&[]))
}

/// What the relay session handed over when it ended (`HandoffData`).
#[derive(Debug, Default, Deserialize)]
pub struct Handoff {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub say: Option<String>,
    #[serde(default)]
    pub transfer_to: Option<String>,
}

/// `POST /telephony/twilio/relay`: the `<Connect>` action, after a ConversationRelay
/// session ends. Speaks the last words and transfers or hangs up; a session that broke
/// off with the conversation still going carries on in gather mode.
async fn relay_action(
    State(state): State<AppState>,
    TwilioRequest { form, query, base }: TwilioRequest,
) -> Result<Response, ApiError> {
    let answer: Result<Response, ApiError> = async {
        let Some(call) = find_call(&state, &form, &query).await? else {
            return Ok(say_and_hang_up(UNKNOWN_CALL));
        };
        let handoff: Option<Handoff> = form.get("HandoffData").and_then(|h| serde_json::from_str(h).ok());
        let mut verbs = Vec::new();
        if let Some(h) = handoff {
            if let Some(say) = h.say.filter(|s| !s.is_empty()) {
                verbs.push(Verb::Say(say));
            }
            match h.transfer_to.or_else(|| call.transferred_to.clone()) {
                Some(to) if h.reason.as_deref() == Some("transfer") => verbs.push(Verb::Dial {
                    attrs: vec![
                        ("action", format!("{base}/telephony/twilio/dial")),
                        ("method", "POST".to_owned()),
                        ("timeout", DIAL_TIMEOUT.to_owned()),
                    ],
                    number: to,
                }),
                _ => verbs.push(Verb::Hangup),
            }
            return Ok(twiml(&verbs));
        }
        // No handoff: the session broke off. Carry on where the call stands, in gather mode.
        if !call.status.is_live() {
            return Ok(twiml(&[Verb::Hangup]));
        }
        let voice = NumberVoice {
            mode: VoiceMode::Gather,
            ..voice_of(&state, &call).await?
        };
        let step = Receptionist::current(call);
        Ok(reply_twiml(&state, &base, &step, voice).await)
    }
    .await;
    spoken(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> AgentConfig {
        AgentConfig::parse(&frontdesk_core::agent::demo_agent_config())
            .expect("the demo agent parses")
            .config
    }

    #[test]
    fn hints_follow_the_awaited_field() {
        let cfg = demo();
        assert_eq!(
            hints(&cfg, Some(&FieldType::Phone)),
            "$FULLPHONENUM,$OOV_CLASS_DIGIT_SEQUENCE"
        );
        assert!(hints(&cfg, Some(&FieldType::Email)).starts_with("at,dot,dot com,gmail dot com"));
        assert_eq!(hints(&cfg, Some(&FieldType::Name)), "");
        let options = FieldType::Enum {
            options: vec!["kitchen remodel".into(), "bath, tile".into(), "kitchen remodel".into()],
        };
        assert_eq!(hints(&cfg, Some(&options)), "kitchen remodel,bath  tile");
        // Before any field: what callers say to pick a call type or ask for a person.
        let opening = hints(&cfg, None);
        for w in ["appointment", "message", "human", "operator"] {
            assert!(opening.split(',').any(|h| h == w), "{opening}");
        }
    }

    #[test]
    fn forms_are_read_strictly() {
        let p = parse_form(b"CallSid=CA1&SpeechResult=I%27d+like+a+quote&Empty=").unwrap();
        assert_eq!(p[1], ("SpeechResult".into(), "I'd like a quote".into()));
        assert_eq!(p[2], ("Empty".into(), String::new()));
        for bad in [&b"a=%zz"[..], b"a=%4", b"a=%FF%FE", b"\xff=1"] {
            let e = parse_form(bad).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
        }
    }
}
