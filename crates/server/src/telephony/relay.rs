//! Twilio ConversationRelay: the call as a WebSocket of text
//! (`GET /telephony/twilio/relay?call_id=...`).
//!
//! Twilio does the speech-to-text and text-to-speech; Frontdesk gets the caller's
//! words and answers with text tokens. In: `setup`, `prompt` (acted on only when
//! `last: true`), `interrupt`, `dtmf`, `error`. Out: `text` tokens (the reply, a
//! sentence at a time, the final one `last: true`), and `end` with `handoffData` when
//! the reply ends the call: Twilio then calls the `<Connect>` action, which speaks the
//! last words and transfers or hangs up (so the goodbye is never cut off by the end of
//! the session).
//!
//! With a model brain the reply streams: each sentence goes out as soon as the model
//! has written it ([`frontdesk_app::Live`]), and an `interrupt` during the turn cancels
//! the model's stream (what was spoken stands). An `interrupt` also makes the transcript truthful: the last agent line becomes what was
//! spoken before the caller cut in (`utteranceUntilInterrupt`) and is marked
//! `interrupted`. Keypad digits are gathered until `#` or a 2-second pause and taken as
//! one turn. The handshake is checked like every Twilio request: `X-Twilio-Signature`
//! over the WebSocket URL, with the call's workspace's token.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{OriginalUri, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use frontdesk_agent::speech::sentences;
use frontdesk_app::{CallService, Live};
use frontdesk_core::agent::Provider;
use frontdesk_core::call::{Call, Speaker};
use frontdesk_core::id::CallId;
use frontdesk_twilio::signature::verify;
use frontdesk_twilio::websocket_base;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::request::{CallQuery, header, public_base};
use crate::state::{AccountsState, CallsState, SettingsState, StoreState};
use crate::{ApiError, ServerSettings};

/// A pause after the last keypad digit that ends the entry.
const DIGIT_PAUSE: Duration = Duration::from_secs(2);

/// The WebSocket handshake: check the signature, then carry the call.
#[allow(clippy::too_many_arguments)]
pub(super) async fn connect(
    State(calls): CallsState,
    State(store): StoreState,
    State(accounts): AccountsState,
    State(settings): SettingsState,
    uri: OriginalUri,
    Query(query): Query<CallQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let refused = || {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_signature",
            "X-Twilio-Signature does not match this WebSocket URL; check FRONTDESK_PUBLIC_URL and the auth token",
        )
    };
    if header(&headers, "x-twilio-signature").is_none() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "invalid_signature",
            "the WebSocket handshake has no X-Twilio-Signature header; only Twilio may connect here",
        ));
    }
    // An unknown call is refused like a bad signature: no answer tells ids apart.
    let id = query
        .call_id
        .as_deref()
        .and_then(|i| CallId::parse(i).ok())
        .ok_or_else(refused)?;
    let call = store
        .call_by_id(&id)
        .await?
        .filter(|c| c.provider == Provider::Twilio)
        .ok_or_else(refused)?;
    let base = public_base(&settings, &headers);
    let path = uri.0.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let urls = [format!("{}{path}", websocket_base(&base)), format!("{base}{path}")];
    let token = accounts.token_for_workspace(&call.workspace_id).await?;
    // The same check as every Twilio webhook (an unknown algorithm is refused here too).
    match verify(
        &urls,
        &[],
        b"",
        header(&headers, "x-twilio-signature"),
        header(&headers, "x-twilio-webhooks-signature-settings"),
        token.as_deref(),
    ) {
        Ok(_) => {}
        // Any refusal reads the same (an unknown algorithm too): no answer tells call
        // ids apart.
        Err(_) => {
            tracing::warn!(call = %call.id, "rejected a ConversationRelay handshake: bad signature");
            return Err(refused());
        }
    }
    // Twilio's messages are small JSON texts; nothing bigger is read.
    Ok(upgrade
        .max_message_size(MAX_MESSAGE_BYTES)
        .max_frame_size(MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| carry(calls, call, socket, Timing::of(&settings)))
        .into_response())
}

/// Largest WebSocket message read from Twilio.
const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// A message from Twilio.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Incoming {
    Setup {
        #[serde(rename = "callSid", default)]
        call_sid: Option<String>,
    },
    Prompt {
        #[serde(rename = "voicePrompt", default)]
        voice_prompt: String,
        #[serde(default = "yes")]
        last: bool,
    },
    Interrupt {
        #[serde(rename = "utteranceUntilInterrupt", default)]
        utterance: String,
    },
    Dtmf {
        #[serde(default)]
        digit: String,
    },
    Error {
        #[serde(default)]
        description: String,
    },
    #[serde(other)]
    Other,
}

fn yes() -> bool {
    true
}

/// Carries one call until Twilio closes the socket (or the call ends).
/// The relay's silence timer: how long a silent caller is waited for, and how long an
/// agent's word takes to speak.
#[derive(Debug, Clone, Copy)]
struct Timing {
    silence: Duration,
    per_word: Duration,
}

impl Timing {
    fn of(settings: &ServerSettings) -> Self {
        Self {
            silence: settings.twilio.relay_silence,
            per_word: settings.twilio.relay_speaking_per_word,
        }
    }

    /// When a caller who says nothing after `words` words of the agent's is silent.
    fn due(self, words: usize) -> Instant {
        let speaking = self.per_word.saturating_mul(u32::try_from(words).unwrap_or(u32::MAX));
        Instant::now() + speaking + self.silence
    }
}

type Sink = futures_util::stream::SplitSink<WebSocket, Message>;
type Source = futures_util::stream::SplitStream<WebSocket>;

async fn carry(calls: Arc<CallService>, call: Call, socket: WebSocket, timing: Timing) {
    let (mut out, mut inbound) = socket.split();
    let id = call.id.clone();
    let mut digits = String::new();
    let mut digits_due: Option<Instant> = None;
    // Messages that arrived while a turn was being answered, taken in order after it.
    let mut backlog: VecDeque<Incoming> = VecDeque::new();
    // Twilio sends nothing while nobody speaks, nor when it has finished speaking: a
    // caller who says nothing for `twilio_relay_silence` after the agent's words have
    // been spoken (their length estimated) is a silent turn, under the rule of every
    // channel.
    let greeting = call
        .turns
        .iter()
        .rev()
        .find(|t| t.speaker == Speaker::Agent)
        .map_or(0, |t| t.text.split_whitespace().count());
    let mut silence_due = Some(timing.due(greeting));
    loop {
        let msg = if let Some(m) = backlog.pop_front() {
            m
        } else {
            let due = match (digits_due, silence_due) {
                (Some(d), _) => Some((d, true)),
                (None, Some(s)) => Some((s, false)),
                (None, None) => None,
            };
            let next = match due {
                Some((due, digits_pending)) => match tokio::time::timeout_at(due.into(), inbound.next()).await {
                    Ok(m) => m,
                    Err(_) => {
                        // Keypad digits with a pause after them are an entry; otherwise the
                        // caller said nothing.
                        let entry = if digits_pending {
                            digits_due = None;
                            std::mem::take(&mut digits)
                        } else {
                            String::new()
                        };
                        let Some(words) = say_turn(&calls, &mut out, &mut inbound, &mut backlog, &call, &entry).await
                        else {
                            break;
                        };
                        silence_due = Some(timing.due(words));
                        continue;
                    }
                },
                None => inbound.next().await,
            };
            let text = match next {
                Some(Ok(Message::Text(t))) => t,
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => continue,
            };
            match serde_json::from_str(text.as_str()) {
                Ok(m) => m,
                Err(e) => {
                    tracing::debug!(call = %id, error = %e, "an unreadable ConversationRelay message");
                    continue;
                }
            }
        };
        match msg {
            Incoming::Setup { call_sid } => {
                // The call was stored with its CallSid when `/voice` (or the Calls API)
                // named it; the setup only confirms it.
                if call_sid.as_deref() != call.provider_call_id.as_deref() {
                    tracing::warn!(call = %id, ?call_sid, "ConversationRelay setup names another CallSid");
                }
            }
            Incoming::Prompt { voice_prompt, last } => {
                // The caller is speaking: not silence.
                silence_due = None;
                if last {
                    let Some(words) =
                        say_turn(&calls, &mut out, &mut inbound, &mut backlog, &call, &voice_prompt).await
                    else {
                        break;
                    };
                    silence_due = Some(timing.due(words));
                }
            }
            Incoming::Interrupt { utterance } => {
                // The caller cut in; their words follow as a prompt (if none does, the
                // line is silent again).
                silence_due = Some(timing.due(0));
                if let Err(e) = calls.interrupted(&call.workspace_id, &call.id, &utterance).await {
                    tracing::warn!(call = %id, error = %e, "could not record an interruption");
                }
            }
            Incoming::Dtmf { digit } => {
                silence_due = None;
                if digit == "#" {
                    digits_due = None;
                    let entry = std::mem::take(&mut digits);
                    let mut words = 0;
                    if !entry.is_empty() {
                        let Some(w) = say_turn(&calls, &mut out, &mut inbound, &mut backlog, &call, &entry).await
                        else {
                            break;
                        };
                        words = w;
                    }
                    silence_due = Some(timing.due(words));
                } else {
                    digits.push_str(&digit);
                    digits_due = Some(Instant::now() + DIGIT_PAUSE);
                }
            }
            Incoming::Error { description } => {
                tracing::warn!(call = %id, %description, "ConversationRelay reported an error");
            }
            Incoming::Other => {}
        }
    }
}

async fn send_text(out: &mut Sink, token: &str, last: bool) -> bool {
    let msg = json!({"type": "text", "token": token, "last": last});
    out.send(Message::Text(msg.to_string().into())).await.is_ok()
}

/// What streamed out of a turn before its reply was whole.
#[derive(Default)]
struct Streamed {
    /// Text received and not yet a whole sentence.
    pending: String,
    /// Sentences sent, in order.
    sent: Vec<String>,
}

impl Streamed {
    /// Takes a delta; sends every sentence it completes (each with its trailing
    /// space, as the rest of the reply follows). Returns false when the socket is gone.
    async fn take(&mut self, out: &mut Sink, delta: &str, started: Instant) -> bool {
        self.pending.push_str(delta);
        let parts: Vec<String> = sentences(&self.pending).into_iter().map(str::to_owned).collect();
        if parts.len() < 2 {
            return true;
        }
        let (whole, rest) = parts.split_at(parts.len() - 1);
        for sentence in whole {
            if !send_text(out, &format!("{sentence} "), false).await {
                return false;
            }
            if self.sent.is_empty() {
                metrics::histogram!("frontdesk_relay_first_token_seconds").record(started.elapsed().as_secs_f64());
            }
            self.sent.push(sentence.clone());
        }
        self.pending = rest.first().cloned().unwrap_or_default();
        true
    }

    /// The reply's sentences not yet sent (the streamed ones are its first).
    fn rest(&self, reply: &[String]) -> Vec<String> {
        let n = self.sent.len();
        if reply.len() >= n && reply[..n] == self.sent[..] {
            reply[n..].to_vec()
        } else {
            // The reply was composed otherwise (the rules took the turn after words
            // streamed): what was spoken is not spoken again.
            reply.iter().filter(|s| !self.sent.contains(s)).cloned().collect()
        }
    }
}

/// One caller turn over the socket: how many words the agent answered, or `None` when
/// the session is over. The model's words go out a sentence at a time as they stream;
/// an `interrupt` meanwhile cancels the model and keeps what was spoken; other
/// messages that arrive meanwhile wait in `backlog`.
async fn say_turn(
    calls: &Arc<CallService>,
    out: &mut Sink,
    inbound: &mut Source,
    backlog: &mut VecDeque<Incoming>,
    call: &Call,
    text: &str,
) -> Option<usize> {
    let started = Instant::now();
    let (tx, mut deltas) = mpsc::unbounded_channel::<String>();
    let cancel = CancellationToken::new();
    let live = Live {
        text: Some(tx),
        cancel: cancel.clone(),
    };
    let task = {
        let (calls, ws, id, text) = (
            calls.clone(),
            call.workspace_id.clone(),
            call.id.clone(),
            text.to_owned(),
        );
        tokio::spawn(async move {
            let lock = calls.lock(&id).await;
            let result = calls.turn_live(&ws, &id, &text, &live).await;
            drop(lock);
            result
        })
    };
    tokio::pin!(task);
    let mut streamed = Streamed::default();
    let mut interrupted: Option<String> = None;
    let (mut socket_open, mut deltas_open, mut gone) = (true, true, false);
    let joined = loop {
        tokio::select! {
            joined = &mut task => break joined,
            delta = deltas.recv(), if deltas_open => match delta {
                Some(d) if interrupted.is_none() && !gone => {
                    if !streamed.take(out, &d, started).await {
                        gone = true;
                        cancel.cancel();
                    }
                }
                Some(_) => {}
                None => deltas_open = false,
            },
            msg = inbound.next(), if socket_open => match msg {
                Some(Ok(Message::Text(t))) => match serde_json::from_str::<Incoming>(t.as_str()) {
                    Ok(Incoming::Interrupt { utterance }) => {
                        cancel.cancel();
                        interrupted = Some(utterance);
                    }
                    Ok(other) => backlog.push_back(other),
                    Err(_) => {}
                },
                Some(Ok(Message::Close(_)) | Err(_)) | None => {
                    socket_open = false;
                    gone = true;
                    cancel.cancel();
                }
                Some(Ok(_)) => {}
            },
        }
    };
    // Deltas sent before the turn ended.
    while let Ok(d) = deltas.try_recv() {
        if interrupted.is_none() && !gone && !streamed.take(out, &d, started).await {
            gone = true;
        }
    }
    let result = match joined {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(call = %call.id, error = %e, "a relay turn's task failed");
            return None;
        }
    };
    if gone {
        return None;
    }
    if let Some(utterance) = interrupted {
        // The caller cut in: the transcript keeps what was spoken; their words follow.
        if result.is_ok()
            && let Err(e) = calls.interrupted(&call.workspace_id, &call.id, &utterance).await
        {
            tracing::warn!(call = %call.id, error = %e, "could not record an interruption");
        }
        return Some(0);
    }
    let step = match result {
        Ok(s) => s,
        Err(e) => {
            // The caller hears something rather than silence, and can say it again.
            tracing::warn!(call = %call.id, error = %e, "a relay turn failed");
            let sorry = "Sorry, could you say that again?";
            return send_text(out, sorry, true)
                .await
                .then(|| sorry.split_whitespace().count());
        }
    };
    let reply = step.reply;
    let rest = streamed.rest(reply.say.sentences());
    if reply.ended {
        let reason = if reply.transferred_to.is_some() {
            "transfer"
        } else {
            step.call.end_reason.as_deref().unwrap_or("completed")
        };
        // The `<Connect>` action speaks what was not streamed already.
        let handoff = json!({
            "reason": reason,
            "say": rest.join(" "),
            "transfer_to": reply.transferred_to,
            "call_id": step.call.id.as_str(),
        });
        let end = json!({"type": "end", "handoffData": handoff.to_string()});
        if streamed.sent.is_empty() {
            metrics::histogram!("frontdesk_relay_first_token_seconds").record(started.elapsed().as_secs_f64());
        }
        let _ = out.send(Message::Text(end.to_string().into())).await;
        return None;
    }
    // The rest of the reply, a sentence at a time (each but the last with its trailing
    // space), so speech starts on the first while the rest follows.
    if rest.is_empty() && !send_text(out, "", true).await {
        return None;
    }
    for (i, sentence) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let token = if last { sentence.clone() } else { format!("{sentence} ") };
        if !send_text(out, &token, last).await {
            return None;
        }
        if i == 0 && streamed.sent.is_empty() {
            metrics::histogram!("frontdesk_relay_first_token_seconds").record(started.elapsed().as_secs_f64());
        }
    }
    Some(reply.say.text().split_whitespace().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn silence_counts_after_the_words_are_spoken() {
        let timing = Timing {
            silence: Duration::from_secs(10),
            per_word: Duration::from_millis(400),
        };
        let now = Instant::now();
        let due = timing.due(25);
        // 25 words take about 10 s to speak; then 10 s of silence.
        assert!(due >= now + Duration::from_secs(20), "{:?}", due - now);
        assert!(due < now + Duration::from_secs(21), "{:?}", due - now);
        assert!(timing.due(0) < now + Duration::from_secs(11));
    }

    #[test]
    fn reads_twilio_messages() {
        let m: Incoming =
            serde_json::from_str(r#"{"type":"prompt","voicePrompt":"hi","lang":"en-US","last":false}"#).unwrap();
        assert!(matches!(m, Incoming::Prompt { last: false, .. }));
        let m: Incoming = serde_json::from_str(
            r#"{"type":"interrupt","utteranceUntilInterrupt":"Thanks for","durationUntilInterruptMs":"460"}"#,
        )
        .unwrap();
        assert!(matches!(m, Incoming::Interrupt { utterance } if utterance == "Thanks for"));
        let m: Incoming = serde_json::from_str(r#"{"type":"info","x":1}"#).unwrap();
        assert!(matches!(m, Incoming::Other));
    }
}
