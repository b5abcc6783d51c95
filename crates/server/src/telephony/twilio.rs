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

use axum::http::HeaderValue;
use axum::response::Response;
use frontdesk_agent::MESSAGE_FIELD;
use frontdesk_agent::brain::Reply;
use frontdesk_app::{CallService, Input, Progress, Step};
use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::agent::{NumberVoice, Provider, VoiceMode};
use frontdesk_core::call::Call;
use frontdesk_core::fields::FieldType;
use frontdesk_store::Store;
use frontdesk_twilio::twiml::{Attrs, Verb};
use frontdesk_twilio::{status as twilio_status, websocket_base};
use serde::Deserialize;
use serde_json::{Map, json};

use super::request::{TwilioRequest, UNKNOWN_CALL, find_call, say_and_hang_up, spoken, twiml, voice_of};
use crate::ApiError;

/// Middleware: `Server-Timing: app;dur=<ms>` on every telephony answer, the time the
/// server spent on it (signature, conversation, store), for latency measurements.
pub(super) async fn server_timing(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
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
const VOICEMAIL_PROMPT: &str = "I'm sorry, no one is available to take your call right now. Please leave a message after the tone, and press pound when you're done.";
const VOICEMAIL_THANKS: &str = "Thank you, your message has been recorded. Goodbye.";

/// The call a request is about ([`find_call`]), with its lock taken and read again
/// after taking it.
async fn locked_call(
    calls: &CallService,
    store: &dyn Store,
    req: &TwilioRequest,
) -> Result<Option<(frontdesk_app::CallGuard, Call)>, ApiError> {
    let Some(call) = find_call(store, req).await? else {
        return Ok(None);
    };
    Ok(Some(calls.locked(call).await?))
}

/// Runs `then` on the call a request is about, holding the call's lock: a call Frontdesk
/// does not know is an apology and a hang-up, and so is any failure after the signature
/// checked out (see [`spoken`]).
async fn on_call(
    req: &TwilioRequest,
    then: impl AsyncFnOnce(Call) -> Result<Response, ApiError>,
) -> Result<Response, ApiError> {
    let answer = async {
        let Some((_lock, call)) = locked_call(&req.calls, &*req.store, req).await? else {
            return Ok(say_and_hang_up(UNKNOWN_CALL));
        };
        then(call).await
    }
    .await;
    spoken(answer)
}

/// Where Twilio sends what the caller says next.
fn gather_url(base: &str, call: &Call) -> String {
    format!("{base}/telephony/twilio/gather?seq={}", call.turns.len())
}

/// `POST /telephony/twilio/voice`: a call comes in (or a call Frontdesk placed is
/// answered). Answers with the greeting inside a `<Gather>`, or connects
/// ConversationRelay.
pub(super) async fn voice(req: TwilioRequest) -> Result<Response, ApiError> {
    let (calls, store) = (&req.calls, &*req.store);
    let answer: Result<Response, ApiError> = async {
        let sid = req.require("CallSid")?.to_owned();
        if let Some((_lock, call)) = locked_call(calls, store, &req).await? {
            // Twilio asking again, or the answered leg of a call Frontdesk placed.
            let voice = voice_of(store, &call).await?;
            let step = if call.answered_at.is_none() && call.status.is_live() {
                calls.answer_placed(call, &sid).await?
            } else {
                CallService::current(call)
            };
            return answer(calls, &req.base, step, voice).await;
        }
        let to = req.require("To")?;
        let from = req.form.get("From").unwrap_or("anonymous").to_owned();
        let number = store
            .number_by_e164(to)
            .await?
            .filter(|n| n.provider == Provider::Twilio && req.allows(&n.workspace_id));
        let Some(number) = number else {
            tracing::warn!(to, "a Twilio call to a number no workspace set up for Twilio");
            return Ok(say_and_hang_up(NOT_IN_SERVICE));
        };
        let step = calls.answer_inbound(&number, &from, &sid).await?;
        if !req.allows(&step.call.workspace_id) {
            return Ok(say_and_hang_up(UNKNOWN_CALL));
        }
        answer(calls, &req.base, step, number.voice).await
    }
    .await;
    spoken(answer)
}

/// The first TwiML of a call: ConversationRelay for relay numbers, else the reply.
async fn answer(calls: &CallService, base: &str, step: Step, voice: NumberVoice) -> Result<Response, ApiError> {
    if voice.mode == VoiceMode::Relay && !step.reply.ended {
        let id = step.call.id.to_string();
        let ws_base = websocket_base(base);
        let cfg = calls.step_config(&step).await;
        let mut relay: Attrs = vec![
            ("url", format!("{ws_base}/telephony/twilio/relay?call_id={id}")),
            ("welcomeGreeting", step.reply.say.text().to_owned()),
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
    Ok(reply_twiml(calls, base, &step, voice).await)
}

/// The TwiML of a step's reply in gather mode, with the step's agent configuration.
async fn reply_twiml(calls: &CallService, base: &str, step: &Step, voice: NumberVoice) -> Response {
    let cfg = calls.step_config(step).await;
    twiml(&reply_verbs(base, &step.call, &step.reply, voice, &cfg))
}

/// The TwiML of an agent reply in gather mode.
pub fn reply_verbs(base: &str, call: &Call, reply: &Reply, voice: NumberVoice, cfg: &AgentConfig) -> Vec<Verb> {
    let mut verbs = Vec::new();
    if reply.ended {
        if !reply.say.is_empty() {
            verbs.push(Verb::Say(reply.say.text().to_owned()));
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
        say: reply.say.text().to_owned(),
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
pub(super) async fn gather(req: TwilioRequest) -> Result<Response, ApiError> {
    let (calls, store) = (&req.calls, &*req.store);
    on_call(&req, async |call| {
        if !call.status.is_live() || CallService::conversation_over(&call) {
            // Said goodbye already; Twilio's status callback will finish the record.
            return Ok(twiml(&[Verb::Hangup]));
        }
        let voice = voice_of(store, &call).await?;
        let form = &req.form;
        let text = form.get("SpeechResult").map(str::trim).filter(|t| !t.is_empty());
        let digits = form
            .get("Digits")
            .map(|d| d.trim_end_matches('#'))
            .filter(|d| !d.is_empty());
        let confidence = form
            .get("Confidence")
            .and_then(|c| c.parse::<f64>().ok())
            .filter(|c| c.is_finite() && text.is_some());
        let input = match text.or(digits) {
            Some(text) => Input::Speech { text, confidence },
            None => Input::Silence,
        };
        let step = calls.gathered(call, input, req.query.seq).await?;
        Ok(reply_twiml(calls, &req.base, &step, voice).await)
    })
    .await
}

/// `POST /telephony/twilio/dial`: how the transfer went (`DialCallStatus`). Answered:
/// hang up when the person does; not answered: take a voicemail.
pub(super) async fn dial(req: TwilioRequest) -> Result<Response, ApiError> {
    let calls = &req.calls;
    on_call(&req, async |call| {
        let status = req.form.get("DialCallStatus").unwrap_or("failed");
        let answered = matches!(status, "completed" | "answered");
        let voicemail = calls
            .transfer_result(call, status, answered, req.form.int("DialCallDuration"))
            .await?;
        if !voicemail {
            return Ok(twiml(&[Verb::Hangup]));
        }
        Ok(twiml(&[
            Verb::Say(VOICEMAIL_PROMPT.to_owned()),
            Verb::Record(record_attrs(&req.base)),
        ]))
    })
    .await
}

/// `POST /telephony/twilio/recording`: a voicemail was recorded (`RecordingUrl`,
/// `RecordingDuration`): it becomes the call's message.
pub(super) async fn recording(req: TwilioRequest) -> Result<Response, ApiError> {
    let (calls, store) = (&req.calls, &*req.store);
    on_call(&req, async |call| {
        let Some(url) = req.form.get("RecordingUrl") else {
            // Nothing was recorded.
            return Ok(twiml(&[Verb::Hangup]));
        };
        let voice = voice_of(store, &call).await?;
        let Some(step) = calls.recording(call, url, req.form.int("RecordingDuration")).await? else {
            return Ok(twiml(&[Verb::Hangup]));
        };
        if step.reply.ended {
            return Ok(say_and_hang_up(VOICEMAIL_THANKS));
        }
        Ok(reply_twiml(calls, &req.base, &step, voice).await)
    })
    .await
}

/// `POST /telephony/twilio/status`: the call's progress. A final status (completed,
/// busy, no-answer, failed, canceled) finishes the call, once.
pub(super) async fn status(req: TwilioRequest) -> Result<Response, ApiError> {
    let (calls, store) = (&req.calls, &*req.store);
    let Some((_lock, call)) = locked_call(calls, store, &req).await? else {
        tracing::warn!("a Twilio status callback for a call Frontdesk does not know");
        return Ok(twiml(&[]));
    };
    let sid = req.require("CallSid")?.to_owned();
    let reported = req.form.get("CallStatus").unwrap_or_default();
    let ended = twilio_status::final_status(reported);
    let mut details = Map::new();
    details.insert("call_status".into(), json!(reported));
    if ended.is_some()
        && let Some(a) = req.form.get("AnsweredBy")
    {
        details.insert("answered_by".into(), json!(a));
    }
    let progress = Progress {
        provider_call_id: sid,
        ended,
        ringing: twilio_status::is_ringing(reported),
        duration: req.form.int("CallDuration"),
        details,
    };
    calls.progress(call, progress).await?;
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
pub(super) async fn relay_action(req: TwilioRequest) -> Result<Response, ApiError> {
    let (calls, store) = (&req.calls, &*req.store);
    let answer: Result<Response, ApiError> = async {
        let Some(call) = find_call(store, &req).await? else {
            return Ok(say_and_hang_up(UNKNOWN_CALL));
        };
        let base = &req.base;
        let handoff: Option<Handoff> = req.form.get("HandoffData").and_then(|h| serde_json::from_str(h).ok());
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
            ..voice_of(store, &call).await?
        };
        let step = CallService::current(call);
        Ok(reply_twiml(calls, base, &step, voice).await)
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
}
