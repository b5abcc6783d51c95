//! The call service: calls answered, carried turn by turn, placed, hung up and
//! finished, whatever carries the line (the simulator, Twilio's webhooks or its
//! ConversationRelay, the CLI).
//!
//! Every step loads the call from the store, runs the agent's brain on it (the protocol
//! of `frontdesk_agent::brain`: hear, what the turn needs, respond), runs the HTTP
//! tools (and, later, the model completions) the brain asks for, and writes
//! the updated call together with its events (and their webhook deliveries) in one
//! transaction through [`Dispatcher::emit_call`]. The call row's version guards against
//! two steps of one call racing ([`crate::conflict`] says what the loser does). Nothing
//! is kept in memory between turns but a cache of prepared agents (configuration and
//! brain), so any node can carry any call.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Utc};
use frontdesk_agent::Action;
use frontdesk_agent::brain::{
    Brain, BrainEvent, ChatMessage, Completion, Input as BrainInput, Need, Reply, Speech, State, Turn as BrainTurn,
};
use frontdesk_agent::{CallInfo, EndReason};
use frontdesk_core::agent::config::AgentConfig;
use frontdesk_core::agent::{Number, Provider};
use frontdesk_core::call::{Call, CallStatus, CallerInfo, Direction, Speaker, ToolCall, Turn};
use frontdesk_core::event::{EventType, NewEvent};
use frontdesk_core::id::{CallId, WorkspaceId};
use frontdesk_delivery::{Dispatcher, GuardedClient};
use frontdesk_store::{CallWrite, Store, StoreError};
use serde_json::{Map, Value, json};

use crate::agents::{Agents, Prepared};
use crate::conflict::{Outcome, retry};
use crate::engine::Engine;
use crate::events::{action_events, business, ended_events};
use crate::live::Live;
use crate::locks::{CallGuard, CallLocks};
use crate::models::{Ask, Models};
use crate::telephony::{Telephony, TelephonyError};
use crate::tools::{MIN_TOOL_TIME, TOOL_BUDGET, Tools};

/// What can go wrong carrying a call.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    NotFound(String),
    /// The call cannot take this step (it ended, or another turn got there first).
    #[error("{0}")]
    Conflict(String),
    /// Another write to the call got there first and this step ran no tool: nothing
    /// happened, and the same step can simply be taken again.
    #[error("{0}")]
    Raced(String),
    /// The telephony provider could not do what was asked.
    #[error(transparent)]
    Telephony(#[from] TelephonyError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A call not yet answered: `queued`, no conversation. Inbound when `outbound` is
/// `None`; else outbound with its purpose. `other` is the caller (or callee).
fn new_call(
    ws: &WorkspaceId,
    number: &Number,
    other: &str,
    outbound: Option<Option<String>>,
    provider_call_id: Option<String>,
    now: DateTime<Utc>,
) -> Call {
    let (direction, from, to, purpose) = match outbound {
        Some(purpose) => (Direction::Outbound, number.number.clone(), other.to_owned(), purpose),
        None => (Direction::Inbound, other.to_owned(), number.number.clone(), None),
    };
    Call {
        id: CallId::generate(),
        workspace_id: ws.clone(),
        agent_id: number.agent_id.clone(),
        direction,
        status: CallStatus::Queued,
        from,
        to,
        provider: number.provider,
        provider_call_id,
        caller: CallerInfo {
            phone: Some(other.to_owned()),
            name: None,
            email: None,
        },
        call_type: None,
        custom_fields: Map::new(),
        message: None,
        transferred_to: None,
        ai_summary: None,
        turns: Vec::new(),
        purpose,
        end_reason: None,
        tool_calls: Vec::new(),
        session: Value::Null,
        version: 0,
        started_at: now,
        answered_at: None,
        ended_at: None,
        updated_at: now,
        provider_details: Map::new(),
        duration: None,
        purged_at: None,
    }
}

/// The call is answered: the conversation starts (greeting, or the outbound
/// introduction), the call is `in_progress`, and `call.answered` is the event to send.
fn start_conversation(agent: &Prepared, call: &mut Call, now: DateTime<Utc>) -> (Reply, Vec<NewEvent>) {
    let info = CallInfo {
        call_id: call.id.to_string(),
        caller_number: call.caller.phone.clone(),
        business_number: call.business_number().to_owned(),
        today: now.date_naive(),
        outbound: call.direction == Direction::Outbound,
        purpose: call.purpose.clone(),
    };
    let (state, reply) = agent.brain.start(info);
    call.status = CallStatus::InProgress;
    call.answered_at = Some(now);
    call.updated_at = now;
    call.turns.push(Turn::new(Speaker::Agent, reply.say.text(), now));
    call.session = state.to_json();
    let event = NewEvent::new(
        EventType::CallAnswered,
        call.event_data(now, Map::new()),
        &business(&agent.cfg),
        now,
    );
    (reply, vec![event])
}

/// What a turn's first pass on the engine came to.
enum FirstPass {
    /// The turn needed nothing: the reply is composed and the call updated.
    Replied(Call, Reply),
    /// The turn needs tools (or a completion): they run, then the reply is composed.
    Needs(Call, Box<(State, BrainTurn)>, Need),
}

/// How a provider call finished, beyond its status.
#[derive(Debug, Clone, Default)]
pub struct Finish {
    /// The provider's figure for the call's length, in seconds.
    pub duration: Option<i64>,
    /// Added to the call's `provider_details`.
    pub details: Map<String, Value>,
    /// When it ended, if not now.
    pub ended_at: Option<DateTime<Utc>>,
    /// The `end_reason` when the conversation did not set one (default: the status).
    pub reason: Option<String>,
}

/// What stands for a voicemail in the call's `message`.
fn voicemail_note(recording_url: &str, seconds: Option<i64>) -> String {
    match seconds {
        Some(s) => format!("Voicemail ({s} s): {recording_url}"),
        None => format!("Voicemail: {recording_url}"),
    }
}

/// The outcome of a step: the call as stored, and what the receptionist said.
#[derive(Debug, Clone)]
pub struct Step {
    pub call: Call,
    pub reply: Reply,
    /// The agent configuration the step ran with (none when nothing ran).
    pub cfg: Option<Arc<AgentConfig>>,
}

/// What the caller gave in a turn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Input<'a> {
    /// Words (or keypad digits), with the speech-to-text confidence when the provider
    /// gave one. Empty words are silence.
    Speech { text: &'a str, confidence: Option<f64> },
    /// Nothing before the line stopped listening.
    Silence,
}

impl<'a> Input<'a> {
    /// What a caller typed or said; blank text is silence.
    #[must_use]
    pub fn text(text: &'a str) -> Self {
        if text.trim().is_empty() {
            Self::Silence
        } else {
            Self::Speech { text, confidence: None }
        }
    }
}

/// A provider's report on a call's progress (a status callback).
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// The provider's id for the call.
    pub provider_call_id: String,
    /// The final status, when the report is the call's end.
    pub ended: Option<CallStatus>,
    /// The phone is ringing (a queued call moves on to `ringing`).
    pub ringing: bool,
    /// The provider's figure for the call's length, in seconds (at the end).
    pub duration: Option<i64>,
    /// Added to the call's `provider_details`.
    pub details: Map<String, Value>,
}

/// An outbound call, placed.
#[derive(Debug, Clone)]
pub struct Placed {
    pub call: Call,
    /// The agent's first words, when the line answered at once (the simulator).
    pub reply: Option<Reply>,
}

/// Starts, carries, places and finishes calls.
pub struct CallService {
    store: Arc<dyn Store>,
    dispatcher: Arc<Dispatcher>,
    tools: Tools,
    agents: Agents,
    locks: Arc<dyn CallLocks>,
    /// Where hearing and responding (and preparing agents) run: off the async workers,
    /// fair between tenants.
    engine: Arc<Engine>,
    lines: Vec<Arc<dyn Telephony>>,
    /// The agents' model endpoints (the `llm` and `hybrid` brains).
    #[allow(dead_code)]
    models: Arc<Models>,
}

impl CallService {
    /// A service over `store`, sending events through `dispatcher`, calling tools with
    /// `tools`, locking calls with `locks`, and carrying calls on `lines` (one per
    /// provider; a provider without one cannot place or end calls), asking models
    /// through `models`.
    pub fn new(
        store: Arc<dyn Store>,
        dispatcher: Arc<Dispatcher>,
        tools: GuardedClient,
        locks: Arc<dyn CallLocks>,
        lines: Vec<Arc<dyn Telephony>>,
        models: Arc<Models>,
    ) -> Self {
        let engine = Arc::new(Engine::default());
        Self {
            agents: Agents::new(store.clone(), engine.clone()),
            store,
            dispatcher,
            tools: Tools::new(tools),
            locks,
            engine,
            lines,
            models,
        }
    }

    /// The same service with tools switched off (each recorded as not called): the
    /// offline CLI.
    #[must_use]
    pub fn without_tools(mut self) -> Self {
        self.tools = Tools::off();
        self
    }

    /// The line of a provider, when this build carries calls on it.
    #[must_use]
    pub fn line(&self, provider: Provider) -> Option<&Arc<dyn Telephony>> {
        self.lines.iter().find(|l| l.line().provider == provider)
    }

    /// Whether a provider's calls are over when their conversation is (no final status
    /// comes from the provider).
    fn ends_with_conversation(&self, provider: Provider) -> bool {
        self.line(provider).is_some_and(|l| !l.line().finishes_calls)
    }

    /// Waits for, and takes, the lock of a call: everything that reads a provider call
    /// to change it holds this (then reads it fresh). Not reentrant.
    pub async fn lock(&self, id: &CallId) -> CallGuard {
        self.locks.lock(id).await
    }

    /// Takes the lock of a call just found, and reads the call again under it.
    pub async fn locked(&self, call: Call) -> Result<(CallGuard, Call), CallError> {
        let lock = self.locks.lock(&call.id).await;
        let fresh = self.store.get_call(&call.workspace_id, &call.id).await?;
        Ok((lock, fresh.unwrap_or(call)))
    }

    /// The agent's configuration, or a plain one when the agent is gone (a call's
    /// record outlives its agent).
    pub async fn config_or_fallback(&self, call: &Call) -> Arc<AgentConfig> {
        self.agent_or_fallback(call).await.cfg
    }

    async fn agent_or_fallback(&self, call: &Call) -> Prepared {
        self.agents.get_or_fallback(&call.workspace_id, &call.agent_id).await
    }

    /// The agent configuration a step ran with (read again for a step that ran nothing).
    pub async fn step_config(&self, step: &Step) -> Arc<AgentConfig> {
        match &step.cfg {
            Some(c) => c.clone(),
            None => self.config_or_fallback(&step.call).await,
        }
    }

    /// Answers a call: a new inbound call from `from` on the business number `number`,
    /// or the answered leg of an outbound call (`outbound` with its purpose).
    pub async fn answer(
        &self,
        ws: &WorkspaceId,
        number: &Number,
        other: &str,
        outbound: Option<Option<String>>,
        provider_call_id: Option<String>,
    ) -> Result<Step, CallError> {
        let agent = self.agents.get(ws, &number.agent_id).await?;
        let now = Utc::now();
        let mut call = new_call(ws, number, other, outbound, provider_call_id, now);
        let (reply, events) = start_conversation(&agent, &mut call, now);
        self.dispatcher.emit_call(ws, CallWrite::Insert(&call), &events).await?;
        Ok(Step {
            call,
            reply,
            cfg: Some(agent.cfg),
        })
    }

    /// A provider's inbound call rings a number: answered, once. When a concurrent
    /// request answered the same provider call a moment ago, where that call stands.
    pub async fn answer_inbound(&self, number: &Number, from: &str, provider_call_id: &str) -> Result<Step, CallError> {
        let ws = &number.workspace_id;
        match self
            .answer(ws, number, from, None, Some(provider_call_id.to_owned()))
            .await
        {
            Err(CallError::Store(StoreError::Conflict(_))) => {
                let again = self
                    .store
                    .call_by_provider_id(number.provider, provider_call_id)
                    .await?;
                again
                    .map(Self::current)
                    .ok_or_else(|| CallError::NotFound(format!("call {provider_call_id} is not stored")))
            }
            other => other,
        }
    }

    /// One caller turn (the simulator, the CLI): blank text is silence.
    pub async fn turn(&self, ws: &WorkspaceId, id: &CallId, text: &str) -> Result<Step, CallError> {
        let call = self.load(ws, id).await?;
        self.hear(call, Input::text(text)).await
    }

    /// One caller turn on a call just read, under the conflict policy: a turn that lost
    /// the race having done nothing is taken again on the call as it now stands.
    pub async fn hear(&self, call: Call, input: Input<'_>) -> Result<Step, CallError> {
        retry(call, |call| self.take_turn(call, input, None)).await
    }

    /// A caller turn spoken as it is composed (see [`Live`]): the model's words go to
    /// `live.text` as they stream, and `live.cancel` cuts the model off.
    pub async fn turn_live(&self, ws: &WorkspaceId, id: &CallId, text: &str, live: &Live) -> Result<Step, CallError> {
        let call = self.load(ws, id).await?;
        retry(call, |call| self.take_turn(call, Input::text(text), Some(live))).await
    }

    /// A provider's turn (Twilio's `<Gather>`): `seq` is how many transcript lines the
    /// call had when the provider was asked to listen; a late duplicate (the provider
    /// sending it twice) and a turn another request already took get where the call
    /// stands, not a second turn.
    pub async fn gathered(&self, call: Call, input: Input<'_>, seq: Option<usize>) -> Result<Step, CallError> {
        let (ws, id) = (call.workspace_id.clone(), call.id.clone());
        let result = retry(call, |call| async move {
            if seq.is_some_and(|n| n != call.turns.len()) {
                return Ok(Outcome::Done(Self::current(call)));
            }
            self.take_turn(call, input, None).await
        })
        .await;
        match result {
            Err(CallError::Conflict(_)) => Ok(Self::current(self.load(&ws, &id).await?)),
            other => other,
        }
    }

    /// One try of a caller's turn (words, or silence when there are none), as the
    /// conflict policy takes it.
    async fn take_turn(&self, call: Call, input: Input<'_>, live: Option<&Live>) -> Result<Outcome<Step>, CallError> {
        let (ws, id) = (call.workspace_id.clone(), call.id.clone());
        let result = match input {
            Input::Speech { text, confidence } if !text.trim().is_empty() => {
                self.turn_once(call, text, confidence, live).await
            }
            _ => self.silence_once(call).await,
        };
        self.again_when_raced(result, &ws, &id).await
    }

    /// [`Outcome::Raced`] with the fresh call when a step lost the race having done
    /// nothing.
    async fn again_when_raced(
        &self,
        result: Result<Step, CallError>,
        ws: &WorkspaceId,
        id: &CallId,
    ) -> Result<Outcome<Step>, CallError> {
        match result {
            Err(CallError::Raced(_)) => Ok(Outcome::Raced(Box::new(self.load(ws, id).await?))),
            other => other.map(Outcome::Done),
        }
    }

    /// One try of a caller turn; a stale copy loses the version race
    /// ([`CallError::Raced`] when nothing else was done).
    async fn turn_once(
        &self,
        call: Call,
        text: &str,
        confidence: Option<f64>,
        live: Option<&Live>,
    ) -> Result<Step, CallError> {
        let (mut call, agent, mut state) = self.live(call).await?;
        call.turns.push(Turn {
            confidence,
            ..Turn::new(Speaker::Caller, text.trim(), Utc::now())
        });
        let ws = call.workspace_id.clone();
        let ends_with_conversation = self.ends_with_conversation(call.provider);
        let brain = agent.brain.clone();
        let input = BrainInput::Speech {
            text: text.to_owned(),
            confidence,
        };
        let now = Utc::now();
        // One trip to the engine when the turn needs nothing (the usual turn): hear,
        // respond.
        let pass = self
            .engine
            .run(&ws, move || {
                let mut turn = brain.hear(&mut state, input);
                match brain.next(&mut state, &mut turn) {
                    Need::Nothing => {
                        let reply = brain.respond(&mut state, turn);
                        Self::apply(&mut call, &*brain, &state, now, ends_with_conversation);
                        FirstPass::Replied(call, reply)
                    }
                    need => FirstPass::Needs(call, Box::new((state, turn)), need),
                }
            })
            .await;
        match pass {
            FirstPass::Replied(call, reply) => self.record(call, &agent, reply, &Map::new(), false, now).await,
            FirstPass::Needs(call, pending, need) => {
                let (state, turn) = *pending;
                self.finish(call, &agent, state, turn, Map::new(), Some(need), live)
                    .await
            }
        }
    }

    /// The caller said nothing before the line stopped listening (one try).
    async fn silence_once(&self, call: Call) -> Result<Step, CallError> {
        self.step(call, BrainInput::Silence, Map::new()).await
    }

    /// A step of a live call that is not the caller's words (silence, a recording, a
    /// hang-up): hear it, run what it needs, respond, store.
    async fn step(&self, call: Call, input: BrainInput, message_extra: Map<String, Value>) -> Result<Step, CallError> {
        let (call, agent, mut state) = self.live(call).await?;
        let turn = agent.brain.hear(&mut state, input);
        self.finish(call, &agent, state, turn, message_extra, None, None).await
    }

    /// A voicemail recorded on a call (`recording_url`, `seconds` long): it stands for
    /// the caller's message (`message.collected` carries `recording_url` and
    /// `recording_duration`). On a call already finished (the caller hung up to end the
    /// recording and the final status came first), or finished meanwhile, the recording
    /// still becomes the message, and there is no step (`None`).
    pub async fn recording(
        &self,
        call: Call,
        recording_url: &str,
        seconds: Option<i64>,
    ) -> Result<Option<Step>, CallError> {
        if !call.status.is_live() {
            self.late_voicemail(call, recording_url, seconds).await?;
            return Ok(None);
        }
        let (ws, id) = (call.workspace_id.clone(), call.id.clone());
        let (w, i) = (&ws, &id);
        let result = retry(call, |call| async move {
            let result = self.voicemail_once(call, recording_url, seconds).await;
            self.again_when_raced(result, w, i).await
        })
        .await;
        match result {
            Ok(step) => Ok(Some(step)),
            Err(CallError::Conflict(_) | CallError::Raced(_)) => {
                // Finished meanwhile: keep the message all the same.
                if let Some(c) = self.store.get_call(&ws, &id).await?
                    && !c.status.is_live()
                {
                    self.late_voicemail(c, recording_url, seconds).await?;
                }
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn voicemail_once(&self, call: Call, recording_url: &str, seconds: Option<i64>) -> Result<Step, CallError> {
        if call.message.as_deref().is_some_and(|m| m.contains(recording_url)) && call.status.is_live() {
            // The provider sent the same recording again.
            return Ok(Self::current(call));
        }
        let note = voicemail_note(recording_url, seconds);
        let mut extra = Map::new();
        extra.insert("recording_url".into(), json!(recording_url));
        extra.insert("recording_duration".into(), json!(seconds));
        self.step(call, BrainInput::RecordedMessage(note), extra).await
    }

    /// Ends a live call's conversation: the caller hung up, or the API hung it up.
    pub async fn hang_up(&self, ws: &WorkspaceId, id: &CallId, reason: EndReason) -> Result<Step, CallError> {
        let call = self.load(ws, id).await?;
        self.step(call, BrainInput::HangUp(reason), Map::new()).await
    }

    /// Hangs up a live call through the API. A call whose provider reports its end
    /// (Twilio) is hung up holding its lock (the provider's callbacks wait): not yet
    /// answered, the provider cancels it and the record is finished here; answered, the
    /// conversation ends here (`api_hangup`, end-of-call tools), then the provider ends
    /// the line and its final status finishes the record. Any other call ends with its
    /// conversation.
    pub async fn end_call(&self, ws: &WorkspaceId, id: &CallId) -> Result<Call, CallError> {
        let call = self.load(ws, id).await?;
        let line = match self.line(call.provider) {
            Some(l) if l.line().finishes_calls && call.status.is_live() => l.clone(),
            _ => return Ok(self.hang_up(ws, id, EndReason::ApiHangup).await?.call),
        };
        let _lock = self.locks.lock(id).await;
        let call = self.load(ws, id).await?;
        if !call.status.is_live() {
            return Ok(call);
        }
        // The account first: a workspace without credentials changes nothing.
        if call.provider_call_id.is_some() {
            line.check(ws).await.or_else(|e| match e {
                TelephonyError::PublicUrlRequired => Ok(()),
                e => Err(e),
            })?;
        }
        if call.answered_at.is_none() {
            line.end(&call).await?;
            let mut details = Map::new();
            details.insert("call_status".into(), Value::String("canceled".into()));
            let fin = Finish {
                duration: Some(0),
                details,
                ..Finish::default()
            };
            return self.complete(call, CallStatus::Canceled, fin).await;
        }
        let ended = match self.hang_up(ws, id, EndReason::ApiHangup).await {
            Ok(step) => step.call,
            Err(CallError::Conflict(_) | CallError::Raced(_)) => self.load(ws, id).await?,
            Err(e) => return Err(e),
        };
        line.end(&call).await?;
        Ok(ended)
    }

    /// Where a call stands, as a step: the agent's last words and what it awaits (a
    /// provider that asks again for the same step gets the same answer).
    pub fn current(call: Call) -> Step {
        let state = State::from_json(call.session.clone()).ok();
        let say = call
            .turns
            .iter()
            .rev()
            .find(|t| t.speaker == Speaker::Agent)
            .map(|t| t.text.clone())
            .unwrap_or_default();
        let reply = Reply {
            say: Speech::from(say),
            awaiting_field: state.as_ref().and_then(|s| s.awaiting_field().map(str::to_owned)),
            ended: state.as_ref().is_some_and(State::ended) || !call.status.is_live(),
            transferred_to: call.transferred_to.clone(),
            actions: Vec::new(),
        };
        Step { call, reply, cfg: None }
    }

    /// Whether the conversation of a call has ended (the call itself may still be
    /// live, waiting for the provider's final status).
    #[must_use]
    pub fn conversation_over(call: &Call) -> bool {
        State::from_json(call.session.clone()).is_ok_and(|s| s.ended())
    }

    /// Places an outbound call from `line` (its agent talks) to `to`. A line that
    /// answers at once (the simulator) starts the conversation now. Otherwise the call
    /// is stored `queued` first (so the provider's first callback finds it), then
    /// placed; a refusal records it `failed` (with `call.ended`) and is the error.
    pub async fn place(
        &self,
        ws: &WorkspaceId,
        line: &Number,
        to: &str,
        purpose: Option<String>,
    ) -> Result<Placed, CallError> {
        let tel = self.line(line.provider).cloned().ok_or_else(|| {
            TelephonyError::CannotPlace(format!(
                "{} uses provider `{}`, which cannot place calls in this build; call from a `sim` number",
                line.number,
                line.provider.as_str()
            ))
        })?;
        tel.check(ws).await?;
        if tel.line().answers_at_once {
            let step = self.answer(ws, line, to, Some(purpose), None).await?;
            return Ok(Placed {
                call: step.call,
                reply: Some(step.reply),
            });
        }
        let call = new_call(ws, line, to, Some(purpose), None, Utc::now());
        self.dispatcher.emit_call(ws, CallWrite::Insert(&call), &[]).await?;
        match tel.dial(&call).await {
            Ok(sid) => {
                let call = self
                    .amend(call, |c| {
                        if c.provider_call_id.is_some() {
                            return false;
                        }
                        c.provider_call_id = Some(sid.clone());
                        true
                    })
                    .await?;
                Ok(Placed { call, reply: None })
            }
            Err(e) => {
                // Recorded as failed, with call.ended, unless the provider's own callbacks
                // (the request may have gone through after all) finished it first.
                let detail = match &e {
                    TelephonyError::Rejected { detail, .. } | TelephonyError::Unavailable { detail, .. } => {
                        detail.clone()
                    }
                    other => other.to_string(),
                };
                let mut details = Map::new();
                details.insert("error".into(), Value::String(detail));
                let fin = Finish {
                    duration: Some(0),
                    details,
                    reason: Some("provider_error".into()),
                    ..Finish::default()
                };
                if let Err(err) = self.complete(call, CallStatus::Failed, fin).await {
                    tracing::warn!(error = %err, "could not record a failed placement");
                }
                Err(e.into())
            }
        }
    }

    /// Changes a call without a conversation step (provider ids and details, statuses
    /// before the answer, the transcript after an interruption), under the conflict
    /// policy. `change` returns false to leave the call as it is. No events.
    pub async fn amend(&self, call: Call, change: impl Fn(&mut Call) -> bool) -> Result<Call, CallError> {
        let change = &change;
        retry(call, |mut call| async move {
            if !change(&mut call) {
                return Ok(Outcome::Done(call));
            }
            call.updated_at = Utc::now();
            self.write(call, &[]).await
        })
        .await
    }

    /// The callee answered an outbound call placed with [`CallService::place`]: the
    /// conversation starts (the agent introduces itself and the purpose) and
    /// `call.answered` is sent. Asked again for a call already answered, it answers
    /// where the call stands.
    pub async fn answer_placed(&self, call: Call, provider_call_id: &str) -> Result<Step, CallError> {
        retry(call, |mut call| async move {
            if call.answered_at.is_some() || !call.status.is_live() {
                return Ok(Outcome::Done(Self::current(call)));
            }
            let agent = self.agents.get(&call.workspace_id, &call.agent_id).await?;
            let now = Utc::now();
            let (reply, events) = start_conversation(&agent, &mut call, now);
            call.provider_call_id.get_or_insert_with(|| provider_call_id.to_owned());
            Ok(match self.write(call, &events).await? {
                Outcome::Done(call) => Outcome::Done(Step {
                    call,
                    reply,
                    cfg: Some(agent.cfg),
                }),
                Outcome::Raced(fresh) => Outcome::Raced(fresh),
            })
        })
        .await
    }

    /// A provider's status report: a final status finishes the call (once, see
    /// [`CallService::complete`]); progress records the provider's id and status, and
    /// moves a queued call to `ringing`.
    pub async fn progress(&self, call: Call, p: Progress) -> Result<(), CallError> {
        let sid = p.provider_call_id.clone();
        match p.ended {
            Some(status) => {
                let call = if call.provider_call_id.is_none() {
                    self.amend(call, |c| {
                        c.provider_call_id = Some(sid.clone());
                        true
                    })
                    .await?
                } else {
                    call
                };
                let fin = Finish {
                    duration: p.duration,
                    details: p.details,
                    ..Finish::default()
                };
                self.complete(call, status, fin).await?;
            }
            None => {
                self.amend(call, |c| {
                    if !c.status.is_live() {
                        return false;
                    }
                    if c.provider_call_id.is_none() {
                        c.provider_call_id = Some(sid.clone());
                    }
                    if c.status == CallStatus::Queued && p.ringing {
                        c.status = CallStatus::Ringing;
                    }
                    c.provider_details.extend(p.details.clone());
                    true
                })
                .await?;
            }
        }
        Ok(())
    }

    /// How a transfer went (`status` as the provider says it, `answered` whether a
    /// person took it): recorded on the call. Returns whether to take a voicemail (the
    /// transfer was not answered and the call goes on).
    pub async fn transfer_result(
        &self,
        call: Call,
        status: &str,
        answered: bool,
        duration: Option<i64>,
    ) -> Result<bool, CallError> {
        let live = call.status.is_live();
        self.amend(call, |c| {
            c.provider_details.insert("dial_status".into(), json!(status));
            c.provider_details.insert("dial_duration".into(), json!(duration));
            true
        })
        .await?;
        Ok(!answered && live)
    }

    /// The caller cut in: the last agent line becomes what was actually spoken (marked
    /// `interrupted`). Holds the call's lock.
    pub async fn interrupted(&self, ws: &WorkspaceId, id: &CallId, spoken: &str) -> Result<(), CallError> {
        let _lock = self.locks.lock(id).await;
        let Some(current) = self.store.get_call(ws, id).await? else {
            return Ok(());
        };
        let spoken = spoken.trim().to_owned();
        self.amend(current, |c| {
            let Some(turn) = c.turns.iter_mut().rev().find(|t| t.speaker == Speaker::Agent) else {
                return false;
            };
            if turn.interrupted && (turn.text == spoken || spoken.is_empty()) {
                return false;
            }
            // The provider did not say how far it got: keep the line, marked.
            if !spoken.is_empty() {
                turn.text = spoken.clone();
            }
            turn.interrupted = true;
            true
        })
        .await?;
        Ok(())
    }

    /// The provider says the call is over (`status`: completed, busy, no_answer,
    /// failed, canceled): the call is finished with the provider's duration and
    /// `call.ended` (and, for an answered call, `transcript.ready`) is sent. A
    /// conversation still going ends as a caller hang-up first: the tools due at the end
    /// run and what they collect is sent. Exactly once: a call already finished is
    /// returned as it is, and a concurrent duplicate loses the version race and then
    /// finds the call finished.
    pub async fn complete(&self, call: Call, status: CallStatus, fin: Finish) -> Result<Call, CallError> {
        // Tools run by a pass whose write lost are not run again by the next.
        let ran_all: Mutex<Vec<ToolCall>> = Mutex::new(Vec::new());
        let (ran, fin) = (&ran_all, &fin);
        retry(call, |mut call| async move {
            let ran_all = ran;
            if !call.status.is_live() {
                return Ok(Outcome::Done(call));
            }
            let agent = self.agent_or_fallback(&call).await;
            let business = business(&agent.cfg);
            let mut events = Vec::new();
            let mut actions = Vec::new();
            if let Ok(mut state) = State::from_json(call.session.clone()) {
                // A conversation still going ends as a hang-up (one that ended is left
                // as it is); tools due at the end (or left waiting when a turn's budget
                // ran out) run now.
                let mut turn = agent
                    .brain
                    .hear(&mut state, BrainInput::HangUp(EndReason::CallerHangup));
                let ran = ran.lock().map(|r| r.clone()).unwrap_or_default();
                let names: Vec<&str> = ran.iter().map(|r| r.tool.as_str()).collect();
                for name in agent.brain.tools_ran(&mut state, &names) {
                    if let Some(r) = ran.iter().find(|r| r.tool == name) {
                        call.tool_calls.push(r.clone());
                    }
                }
                let before = call.tool_calls.len();
                self.run_needs(&mut call, &*agent.brain, &mut state, &mut turn, None, None)
                    .await;
                if let Ok(mut all) = ran_all.lock() {
                    all.extend(call.tool_calls[before..].iter().cloned());
                }
                let (done, reply) = self.respond(call, &agent, state, turn, Utc::now()).await;
                call = done;
                actions = reply.actions;
            }
            let now = Utc::now();
            call.status = if call.answered_at.is_some() && status != CallStatus::Failed {
                CallStatus::Completed
            } else {
                status
            };
            let ended = fin
                .ended_at
                .unwrap_or(now)
                .max(call.answered_at.unwrap_or(call.started_at));
            call.ended_at = Some(ended);
            call.updated_at = now;
            call.duration = fin.duration.or(call.duration);
            call.provider_details.extend(fin.details.clone());
            if call.end_reason.is_none() {
                call.end_reason = Some(fin.reason.clone().unwrap_or_else(|| status.as_str().to_owned()));
            }
            events.extend(action_events(&call, &actions, &business, now, &Map::new()));
            events.extend(ended_events(&call, &business, now));
            self.write(call, &events).await
        })
        .await
    }

    /// A voicemail that arrived after its call was finished (the caller hung up to end
    /// the recording, and the final status callback came first): the recording still
    /// becomes the call's message and `message.collected` is sent.
    pub async fn late_voicemail(
        &self,
        call: Call,
        recording_url: &str,
        seconds: Option<i64>,
    ) -> Result<Call, CallError> {
        let note = voicemail_note(recording_url, seconds);
        let note = &note;
        retry(call, |mut call| async move {
            if call.message.as_deref().is_some_and(|m| m.contains(recording_url)) {
                return Ok(Outcome::Done(call));
            }
            let cfg = self.config_or_fallback(&call).await;
            let now = Utc::now();
            let message = match &call.message {
                Some(old) => format!("{old} {note}"),
                None => note.clone(),
            };
            call.message = Some(message.clone());
            call.updated_at = now;
            let mut extra = Map::new();
            extra.insert("recording_url".into(), json!(recording_url));
            extra.insert("recording_duration".into(), json!(seconds));
            let events = action_events(&call, &[Action::Message(message)], &business(&cfg), now, &extra);
            self.write(call, &events).await
        })
        .await
    }

    /// Finishes provider calls whose final status never came (a number without a
    /// status callback, a lost callback): an ended conversation after 2 minutes of
    /// quiet, a transferred call after 4 hours, a conversation that stopped mid-way
    /// after 30 minutes, a call never answered after 10 minutes. Returns how many.
    pub async fn sweep(&self, provider: Provider, now: DateTime<Utc>) -> Result<usize, CallError> {
        let stale = self
            .store
            .stale_live_calls(provider, now - chrono::Duration::minutes(2), 500)
            .await?;
        let mut finished = 0;
        for call in stale {
            let idle = now - call.updated_at;
            let state = State::from_json(call.session.clone()).ok();
            let (limit, status) = match (&state, call.answered_at) {
                (_, None) => (chrono::Duration::minutes(10), CallStatus::NoAnswer),
                (Some(s), Some(_)) if s.end_reason() == Some(EndReason::Transferred) => {
                    (chrono::Duration::hours(4), CallStatus::Completed)
                }
                (Some(s), Some(_)) if s.ended() => (chrono::Duration::minutes(2), CallStatus::Completed),
                _ => (chrono::Duration::minutes(30), CallStatus::Completed),
            };
            if idle < limit {
                continue;
            }
            let mut details = Map::new();
            details.insert(
                "finished_by".into(),
                json!("frontdesk: no final status callback arrived; check the number's status callback URL"),
            );
            // It ended, as far as anyone can tell, when it last moved.
            let fin = Finish {
                ended_at: Some(call.updated_at),
                details,
                ..Finish::default()
            };
            // Still as stale once nobody else works on it?
            let _lock = self.locks.lock(&call.id).await;
            match self.store.get_call(&call.workspace_id, &call.id).await? {
                Some(fresh) if fresh.version == call.version => {}
                _ => continue,
            }
            match self.complete(call, status, fin).await {
                Ok(_) => finished += 1,
                Err(e) => tracing::warn!(error = %e, "could not finish a stale call"),
            }
        }
        Ok(finished)
    }

    /// Writes a call (and `events`) over its stored version: [`Outcome::Done`] with the
    /// copy's version bumped, or [`Outcome::Raced`] with the stored call when another
    /// write got there first.
    async fn write(&self, mut call: Call, events: &[NewEvent]) -> Result<Outcome<Call>, CallError> {
        match self
            .dispatcher
            .emit_call(&call.workspace_id.clone(), CallWrite::Update(&call), events)
            .await
        {
            Ok(_) => {
                call.version += 1;
                Ok(Outcome::Done(call))
            }
            Err(StoreError::Conflict(_)) => {
                let fresh = self
                    .store
                    .get_call(&call.workspace_id, &call.id)
                    .await?
                    .ok_or_else(|| CallError::NotFound(format!("call {} no longer exists", call.id)))?;
                Ok(Outcome::Raced(Box::new(fresh)))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A call of the workspace, as stored.
    pub async fn get(&self, ws: &WorkspaceId, id: &CallId) -> Result<Call, CallError> {
        self.load(ws, id).await
    }

    async fn load(&self, ws: &WorkspaceId, id: &CallId) -> Result<Call, CallError> {
        self.store
            .get_call(ws, id)
            .await?
            .ok_or_else(|| CallError::NotFound(format!("no call with id `{id}` exists in this workspace")))
    }

    /// A call just read, checked live, with its agent and conversation.
    async fn live(&self, call: Call) -> Result<(Call, Prepared, State), CallError> {
        let id = &call.id;
        if !call.status.is_live() {
            return Err(CallError::Conflict(format!(
                "call {id} has ended ({}); start a new call",
                call.status
            )));
        }
        let agent = self.agents.get(&call.workspace_id, &call.agent_id).await?;
        let state = State::from_json(call.session.clone())
            .map_err(|e| CallError::Store(StoreError::Corrupt(format!("session of call {id}: {e}"))))?;
        Ok((call, agent, state))
    }

    /// Runs what the turn needs (`first`, when the engine already asked), composes the
    /// reply, and stores the call with its events.
    #[allow(clippy::too_many_arguments, reason = "one step's parts, passed along once")]
    async fn finish(
        &self,
        mut call: Call,
        agent: &Prepared,
        mut state: State,
        mut turn: BrainTurn,
        message_extra: Map<String, Value>,
        first: Option<Need>,
        live: Option<&Live>,
    ) -> Result<Step, CallError> {
        let tools_ran = self
            .run_needs(&mut call, &*agent.brain, &mut state, &mut turn, first, live)
            .await;
        let now = Utc::now();
        let (call, reply) = self.respond(call, agent, state, turn, now).await;
        self.record(call, agent, reply, &message_extra, tools_ran, now).await
    }

    /// Stores a step's outcome: the agent's words on the transcript, the call, and the
    /// events of what happened, in one write (see [`Dispatcher::emit_call`]).
    async fn record(
        &self,
        mut call: Call,
        agent: &Prepared,
        reply: Reply,
        message_extra: &Map<String, Value>,
        tools_ran: bool,
        now: DateTime<Utc>,
    ) -> Result<Step, CallError> {
        if !reply.say.is_empty() {
            call.turns.push(Turn::new(Speaker::Agent, reply.say.text(), now));
        }
        let business = business(&agent.cfg);
        let mut events = action_events(&call, &reply.actions, &business, now, message_extra);
        // A call whose provider does not report its end is over when the conversation
        // is; a provider's call is over when the provider says so (its final status
        // sends these).
        if !call.status.is_live() {
            events.extend(ended_events(&call, &business, now));
        }
        let result = self
            .dispatcher
            .emit_call(&call.workspace_id.clone(), CallWrite::Update(&call), &events)
            .await;
        match result {
            Ok(_) => {}
            Err(StoreError::Conflict(_)) => {
                let msg = format!(
                    "another turn of call {} was taken at the same time; send turns one after the other",
                    call.id
                );
                return Err(if tools_ran {
                    CallError::Conflict(msg)
                } else {
                    CallError::Raced(msg)
                });
            }
            Err(e) => return Err(e.into()),
        }
        call.version += 1;
        Ok(Step {
            call,
            reply,
            cfg: Some(agent.cfg.clone()),
        })
    }

    /// Runs what the turn needs (`first`, when the engine already asked; then what the
    /// results make it need) within the turn's budget: tools not started in time are
    /// handed back to the brain as deferred (they wait for a later turn or the call's
    /// end). Returns whether any tool ran.
    async fn run_needs(
        &self,
        call: &mut Call,
        brain: &dyn Brain,
        state: &mut State,
        turn: &mut BrainTurn,
        first: Option<Need>,
        live: Option<&Live>,
    ) -> bool {
        let deadline = Instant::now() + TOOL_BUDGET;
        let mut ran = false;
        let mut need = match first {
            Some(n) => n,
            None => brain.next(state, turn),
        };
        loop {
            match need {
                Need::Nothing => break,
                Need::Tools(requests) => {
                    for (i, req) in requests.iter().enumerate() {
                        let left = deadline.saturating_duration_since(Instant::now());
                        if left < MIN_TOOL_TIME {
                            let waiting: Vec<&str> = requests[i..].iter().map(|r| r.id.as_str()).collect();
                            brain.defer_tools(state, turn, &waiting);
                            break;
                        }
                        let (outcome, record) = self.tools.run(req, left).await;
                        ran = true;
                        call.tool_calls.push(record);
                        brain.tool_result(state, turn, &req.id, outcome);
                    }
                }
                Need::Completion(request) => {
                    let ask = Ask {
                        text: if request.speak {
                            live.and_then(|l| l.text.clone())
                        } else {
                            None
                        },
                        cancel: live.map(|l| l.cancel.clone()),
                    };
                    let answer = self.models.complete(brain.config(), request, ask).await;
                    // An endpoint skipped (its breaker open) or none configured is
                    // counted, not noted: the `rules` event that follows says why.
                    for f in answer
                        .fallbacks
                        .iter()
                        .filter(|f| !matches!(f.reason, "circuit_open" | "not_configured"))
                    {
                        state.note(BrainEvent::new(
                            "fallback",
                            Some(f.reason),
                            Some(&f.endpoint).filter(|e| !e.is_empty()).map(String::as_str),
                            Some(&f.detail),
                        ));
                    }
                    if answer.interrupted {
                        state.note(BrainEvent::new("interrupted", None, answer.endpoint.as_deref(), None));
                    }
                    let result = match answer.result {
                        // Words already spoken stand: the turn is what was said.
                        Err(e) if !e.streamed.trim().is_empty() => Ok(Completion {
                            message: ChatMessage::assistant(e.streamed.clone()),
                            finish_reason: Some(e.reason.to_owned()),
                            usage: None,
                        }),
                        other => other,
                    };
                    brain.completion_result(state, turn, result);
                }
            }
            need = brain.next(state, turn);
        }
        ran
    }

    /// Composes the reply to the turn and copies the conversation's outcome onto the
    /// call (the summary too, when the conversation ended), on the engine.
    async fn respond(
        &self,
        mut call: Call,
        agent: &Prepared,
        mut state: State,
        turn: BrainTurn,
        now: DateTime<Utc>,
    ) -> (Call, Reply) {
        let brain = agent.brain.clone();
        let ws = call.workspace_id.clone();
        let ends_with_conversation = self.ends_with_conversation(call.provider);
        self.engine
            .run(&ws, move || {
                let reply = brain.respond(&mut state, turn);
                Self::apply(&mut call, &*brain, &state, now, ends_with_conversation);
                (call, reply)
            })
            .await
    }

    /// Copies the conversation's outcome onto the call record (a call whose provider
    /// does not report its end is over when the conversation is).
    fn apply(call: &mut Call, brain: &dyn Brain, state: &State, now: DateTime<Utc>, ends_with_conversation: bool) {
        let view = brain.view(state);
        call.custom_fields = view.fields;
        call.call_type = view.call_type;
        call.message = view.message;
        call.transferred_to = view.transferred_to;
        call.caller.name = view.caller_name;
        call.caller.email = view.caller_email;
        call.updated_at = now;
        if view.ended {
            call.end_reason = view.end_reason.map(|r| r.as_str().to_owned());
            call.ai_summary = Some(brain.summary(state));
            if ends_with_conversation && call.status.is_live() {
                call.status = CallStatus::Completed;
                call.ended_at = Some(now);
            }
        }
        call.session = state.to_json();
    }
}

#[cfg(test)]
pub(crate) fn sample_call() -> Call {
    use frontdesk_core::agent::NumberVoice;
    use frontdesk_core::id::NumberId;
    let ws = WorkspaceId::generate();
    let number = Number {
        id: NumberId::generate(),
        workspace_id: ws.clone(),
        number: "+15550100000".into(),
        agent_id: frontdesk_core::id::AgentId::generate(),
        provider: Provider::Sim,
        voice: NumberVoice::default(),
        created_at: Utc::now(),
    };
    new_call(&ws, &number, "+15551234567", None, None, Utc::now())
}
