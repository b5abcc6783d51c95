//! The receptionist at work: calls started, carried turn by turn, and ended, whatever
//! the telephony (the simulator today, Twilio through the same calls).
//!
//! Every step loads the call from the store, runs the conversation engine
//! (`frontdesk_agent::Session`) on it, runs the HTTP tools the engine asks for, and writes
//! the updated call together with its events (and their webhook deliveries) in one
//! transaction through [`Dispatcher::emit_call`]. The call row's version guards against
//! two turns of one call racing. Nothing is kept in memory between turns but a cache of
//! parsed agent configurations, so any node can carry any call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use frontdesk_agent::{Action, CallInfo, EndReason, Heard, Reply, Session, ToolOutcome, ToolRequest, summarize};
use frontdesk_core::agent::config::{AgentConfig, ToolMethod};
use frontdesk_core::agent::{Agent, Number, Provider};
use frontdesk_core::call::{Call, CallStatus, CallerInfo, Direction, Speaker, ToolCall, Turn};
use frontdesk_core::event::{Business, EventType, NewEvent};
use frontdesk_core::fields::FieldType;
use frontdesk_core::id::{AgentId, CallId, WorkspaceId};
use frontdesk_core::template::{Encoding, Renderer};
use frontdesk_delivery::client::Outgoing;
use frontdesk_delivery::{Dispatcher, GuardedClient};
use frontdesk_store::{CallWrite, Store, StoreError};
use serde_json::{Map, Value, json};

use crate::engine::Engine;

/// Largest tool reply read.
const TOOL_REPLY_MAX: usize = 64 * 1024;

/// All the tools of one turn together get at most this long: a phone caller is
/// waiting, and Twilio gives a webhook 15 seconds before it apologises and hangs up.
const TOOL_BUDGET: Duration = Duration::from_secs(8);

/// A tool is not started with less time than this left in the turn's budget.
const MIN_TOOL_TIME: Duration = Duration::from_millis(250);

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
fn start_conversation(cfg: &AgentConfig, call: &mut Call, now: DateTime<Utc>) -> (Reply, Vec<NewEvent>) {
    let info = CallInfo {
        call_id: call.id.to_string(),
        caller_number: call.caller.phone.clone(),
        business_number: call.business_number().to_owned(),
        today: now.date_naive(),
        outbound: call.direction == Direction::Outbound,
        purpose: call.purpose.clone(),
    };
    let (session, reply) = Session::start(cfg, info);
    call.status = CallStatus::InProgress;
    call.answered_at = Some(now);
    call.updated_at = now;
    call.turns.push(Turn::new(Speaker::Agent, reply.say.clone(), now));
    call.session = serde_json::to_value(&session).unwrap_or(Value::Null);
    let event = NewEvent::new(
        EventType::CallAnswered,
        call.event_data(now, Map::new()),
        &business(cfg),
        now,
    );
    (reply, vec![event])
}

/// What a turn's first pass on the engine came to.
enum FirstPass {
    /// No tool was ready: the reply is composed and the call updated.
    Replied(Call, Reply),
    /// Tools are ready (marked called): they run, then the reply is composed.
    Tools(Call, Box<(Session, Heard)>, Vec<ToolRequest>),
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

fn kept_changing(call: &Call) -> CallError {
    CallError::Conflict(format!("call {} kept changing; try again", call.id))
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

/// Parsed agent configurations by agent, with the `updated_at` they were parsed at.
type ConfigCache = HashMap<AgentId, (DateTime<Utc>, Arc<AgentConfig>)>;

/// Starts and carries calls.
pub struct Receptionist {
    store: Arc<dyn Store>,
    dispatcher: Arc<Dispatcher>,
    tools: GuardedClient,
    agents: Mutex<ConfigCache>,
    /// One lock per provider call being worked on, so that a turn, a status callback
    /// and a hang-up of the same call take turns on this node (tools never run twice
    /// because two requests saw the same state).
    locks: Mutex<HashMap<CallId, Arc<tokio::sync::Mutex<()>>>>,
    /// Where hearing and responding run: off the async workers, fair between tenants.
    engine: Engine,
}

/// Held while a provider call is worked on; see [`Receptionist::lock`].
pub type CallLock = tokio::sync::OwnedMutexGuard<()>;

impl Receptionist {
    pub fn new(store: Arc<dyn Store>, dispatcher: Arc<Dispatcher>, tools: GuardedClient) -> Self {
        Self {
            store,
            dispatcher,
            tools,
            agents: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
            engine: Engine::default(),
        }
    }

    /// Waits for, and takes, the lock of a provider call: everything that reads a
    /// Twilio call to change it holds this (then reads it fresh). Not reentrant. The
    /// simulator does not use it (its racing turns get a conflict, as documented).
    pub async fn lock(&self, id: &CallId) -> CallLock {
        let m = {
            let mut locks = self.locks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if locks.len() > 1_000 {
                locks.retain(|_, m| Arc::strong_count(m) > 1);
            }
            locks.entry(id.clone()).or_default().clone()
        };
        m.lock_owned().await
    }

    /// The parsed configuration of an agent (cached until the agent changes).
    /// The configuration is read (and parsed, up to 256 KiB of JSON) only when it changed
    /// since it was cached: every other turn checks its `updated_at` alone.
    pub async fn config(&self, ws: &WorkspaceId, id: &AgentId) -> Result<Arc<AgentConfig>, CallError> {
        let gone = || CallError::NotFound(format!("agent {id} no longer exists"));
        let updated_at = self.store.agent_updated_at(ws, id).await?.ok_or_else(gone)?;
        if let Some(cfg) = self.cached(id, updated_at) {
            return Ok(cfg);
        }
        let agent = self.store.get_agent(ws, id).await?.ok_or_else(gone)?;
        Ok(self.parsed(&agent))
    }

    fn cached(&self, id: &AgentId, updated_at: DateTime<Utc>) -> Option<Arc<AgentConfig>> {
        let cache = self.agents.lock().ok()?;
        cache
            .get(id)
            .filter(|(at, _)| *at == updated_at)
            .map(|(_, cfg)| cfg.clone())
    }

    fn parsed(&self, agent: &Agent) -> Arc<AgentConfig> {
        if let Some(cfg) = self.cached(&agent.id, agent.updated_at) {
            return cfg;
        }
        // Stored configurations were validated on the way in; one that no longer parses
        // (an older format) still answers calls, plainly, rather than fail them.
        let cfg = Arc::new(AgentConfig::parse(&agent.config).map_or_else(|_| fallback_config(), |p| p.config));
        if let Ok(mut cache) = self.agents.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(agent.id.clone(), (agent.updated_at, cfg.clone()));
        }
        cfg
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
        let cfg = self.config(ws, &number.agent_id).await?;
        let now = Utc::now();
        let mut call = new_call(ws, number, other, outbound, provider_call_id, now);
        let (reply, events) = start_conversation(&cfg, &mut call, now);
        self.dispatcher.emit_call(ws, CallWrite::Insert(&call), &events).await?;
        Ok(Step {
            call,
            reply,
            cfg: Some(cfg),
        })
    }

    /// One caller turn.
    pub async fn turn(&self, ws: &WorkspaceId, id: &CallId, text: &str) -> Result<Step, CallError> {
        let call = self.load(ws, id).await?;
        self.turn_on(call, text, None).await
    }

    /// One caller turn on a call the caller has just read, with the speech-to-text
    /// confidence when the provider gave one. A stale copy loses the version race
    /// ([`CallError::Raced`] when nothing else was done): read it again and retry.
    pub async fn turn_on(&self, call: Call, text: &str, confidence: Option<f64>) -> Result<Step, CallError> {
        let (mut call, cfg, mut session) = self.live(call).await?;
        call.turns.push(Turn {
            confidence,
            ..Turn::new(Speaker::Caller, text.trim(), Utc::now())
        });
        let ws = call.workspace_id.clone();
        let (c, text) = (cfg.clone(), text.to_owned());
        let now = Utc::now();
        // One trip to the engine when no tool is ready (the usual turn): hear, respond.
        let pass = self
            .engine
            .run(&ws, move || {
                let heard = session.hear(&c, &text);
                let ready = session.ready_tools(&c);
                if !ready.is_empty() {
                    return FirstPass::Tools(call, Box::new((session, heard)), ready);
                }
                let reply = session.respond(&c, heard);
                Self::apply(&mut call, &c, &session, now);
                FirstPass::Replied(call, reply)
            })
            .await;
        match pass {
            FirstPass::Replied(call, reply) => self.record(call, &cfg, reply, &Map::new(), false, now).await,
            FirstPass::Tools(call, pending, ready) => {
                let (session, heard) = *pending;
                self.finish(call, &cfg, session, heard, Map::new(), ready).await
            }
        }
    }

    /// The caller said nothing before the telephony stopped listening: ask again once,
    /// then close. On a call the caller has just read, as [`Receptionist::turn_on`].
    pub async fn silence_on(&self, call: Call) -> Result<Step, CallError> {
        let (call, cfg, mut session) = self.live(call).await?;
        let heard = session.silence(&cfg);
        self.finish(call, &cfg, session, heard, Map::new(), Vec::new()).await
    }

    /// A voicemail: the recording stands for the caller's message (`message.collected`
    /// carries `recording_url` and `recording_duration` besides the message).
    pub async fn voicemail(
        &self,
        ws: &WorkspaceId,
        id: &CallId,
        recording_url: &str,
        seconds: Option<i64>,
    ) -> Result<Step, CallError> {
        let (call, cfg, mut session) = self.load_live(ws, id).await?;
        if call.message.as_deref().is_some_and(|m| m.contains(recording_url)) {
            // Twilio sent the same recording again.
            return Ok(Self::current(call));
        }
        let note = voicemail_note(recording_url, seconds);
        let heard = session.recorded_message(&note);
        let mut extra = Map::new();
        extra.insert("recording_url".into(), json!(recording_url));
        extra.insert("recording_duration".into(), json!(seconds));
        self.finish(call, &cfg, session, heard, extra, Vec::new()).await
    }

    /// Ends a live call: the caller hung up, or the API hung it up.
    pub async fn hang_up(&self, ws: &WorkspaceId, id: &CallId, reason: EndReason) -> Result<Step, CallError> {
        let (call, cfg, mut session) = self.load_live(ws, id).await?;
        let heard = session.hang_up(reason);
        self.finish(call, &cfg, session, heard, Map::new(), Vec::new()).await
    }

    /// Where a call stands, as a step: the agent's last words and what it awaits (a
    /// provider that asks again for the same step gets the same answer).
    pub fn current(call: Call) -> Step {
        let session: Option<Session> = serde_json::from_value(call.session.clone()).ok();
        let say = call
            .turns
            .iter()
            .rev()
            .find(|t| t.speaker == Speaker::Agent)
            .map(|t| t.text.clone())
            .unwrap_or_default();
        let reply = Reply {
            say,
            awaiting_field: session.as_ref().and_then(|s| s.awaiting.clone()),
            ended: session.as_ref().is_some_and(Session::ended) || !call.status.is_live(),
            transferred_to: call.transferred_to.clone(),
            actions: Vec::new(),
        };
        Step { call, reply, cfg: None }
    }

    /// Whether the conversation of a call has ended (the call itself may still be
    /// live, waiting for the provider's final status).
    #[must_use]
    pub fn conversation_over(call: &Call) -> bool {
        serde_json::from_value::<Session>(call.session.clone()).is_ok_and(|s| s.ended())
    }

    /// Places an outbound call on a provider: the call is stored `queued`, not yet
    /// answered (no conversation, no events) until the provider reports back.
    pub async fn place(
        &self,
        ws: &WorkspaceId,
        number: &Number,
        to: &str,
        purpose: Option<String>,
    ) -> Result<Call, CallError> {
        let call = new_call(ws, number, to, Some(purpose), None, Utc::now());
        self.dispatcher.emit_call(ws, CallWrite::Insert(&call), &[]).await?;
        Ok(call)
    }

    /// Changes a call without a conversation step (provider ids and details, statuses
    /// before the answer, the transcript after an interruption), retrying when a
    /// concurrent step got there first. `change` returns false to leave the call as it
    /// is. No events.
    pub async fn amend(&self, mut call: Call, change: impl Fn(&mut Call) -> bool) -> Result<Call, CallError> {
        for _ in 0..5 {
            if !change(&mut call) {
                return Ok(call);
            }
            call.updated_at = Utc::now();
            if self.write_or_reload(&mut call, &[]).await? {
                return Ok(call);
            }
        }
        Err(kept_changing(&call))
    }

    /// The callee answered an outbound call placed with [`Receptionist::place`]: the
    /// conversation starts (the agent introduces itself and the purpose) and
    /// `call.answered` is sent. Asked again for a call already answered, it answers
    /// where the call stands.
    pub async fn answer_placed(&self, mut call: Call, provider_call_id: &str) -> Result<Step, CallError> {
        for _ in 0..5 {
            if call.answered_at.is_some() || !call.status.is_live() {
                return Ok(Self::current(call));
            }
            let cfg = self.config(&call.workspace_id, &call.agent_id).await?;
            let now = Utc::now();
            let (reply, events) = start_conversation(&cfg, &mut call, now);
            call.provider_call_id.get_or_insert_with(|| provider_call_id.to_owned());
            if self.write_or_reload(&mut call, &events).await? {
                return Ok(Step {
                    call,
                    reply,
                    cfg: Some(cfg),
                });
            }
        }
        Err(kept_changing(&call))
    }

    /// The provider says the call is over (`status`: completed, busy, no_answer,
    /// failed, canceled): the call is finished with the provider's duration and
    /// `call.ended` (and, for an answered call, `transcript.ready`) is sent. A
    /// conversation still going ends as a caller hang-up first: the tools due at the end
    /// run and what they collect is sent. Exactly once: a call already finished is
    /// returned as it is, and a concurrent duplicate loses the version race and then
    /// finds the call finished.
    pub async fn complete(&self, mut call: Call, status: CallStatus, fin: Finish) -> Result<Call, CallError> {
        // Tools run by a pass whose write lost are not run again by the next.
        let mut ran: Vec<ToolCall> = Vec::new();
        for _ in 0..5 {
            if !call.status.is_live() {
                return Ok(call);
            }
            let cfg = self.config_or_fallback(&call).await;
            let business = business(&cfg);
            let mut events = Vec::new();
            let mut actions = Vec::new();
            if let Ok(mut session) = serde_json::from_value::<Session>(call.session.clone()) {
                // A conversation still going ends as a hang-up; tools due at the end
                // (or left waiting when a turn's budget ran out) run now.
                let mut heard = if session.ended() {
                    Heard::default()
                } else {
                    session.hang_up(EndReason::CallerHangup)
                };
                for r in &ran {
                    if !session.tools_called.contains(&r.tool) {
                        session.tools_called.push(r.tool.clone());
                        call.tool_calls.push(r.clone());
                    }
                }
                let before = call.tool_calls.len();
                self.run_tools(&mut call, &cfg, &mut session, &mut heard, Vec::new())
                    .await;
                ran.extend(call.tool_calls[before..].iter().cloned());
                let (done, reply) = self.respond(call, &cfg, session, heard, Utc::now()).await;
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
            if self.write_or_reload(&mut call, &events).await? {
                return Ok(call);
            }
        }
        Err(kept_changing(&call))
    }

    /// A voicemail that arrived after its call was finished (the caller hung up to end
    /// the recording, and the final status callback came first): the recording still
    /// becomes the call's message and `message.collected` is sent.
    pub async fn late_voicemail(
        &self,
        mut call: Call,
        recording_url: &str,
        seconds: Option<i64>,
    ) -> Result<Call, CallError> {
        let note = voicemail_note(recording_url, seconds);
        for _ in 0..5 {
            if call.message.as_deref().is_some_and(|m| m.contains(recording_url)) {
                return Ok(call);
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
            if self.write_or_reload(&mut call, &events).await? {
                return Ok(call);
            }
        }
        Err(kept_changing(&call))
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
            let session: Option<Session> = serde_json::from_value(call.session.clone()).ok();
            let (limit, status) = match (&session, call.answered_at) {
                (_, None) => (chrono::Duration::minutes(10), CallStatus::NoAnswer),
                (Some(s), Some(_)) if s.end_reason == Some(EndReason::Transferred) => {
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
            let _lock = self.lock(&call.id).await;
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

    /// Writes a call (and `events`) over its stored version. `true`: written, and the
    /// copy's version bumped; `false`: another write got there first, and `call` is
    /// now the stored call, to try again on.
    async fn write_or_reload(&self, call: &mut Call, events: &[NewEvent]) -> Result<bool, CallError> {
        match self
            .dispatcher
            .emit_call(&call.workspace_id.clone(), CallWrite::Update(call), events)
            .await
        {
            Ok(_) => {
                call.version += 1;
                Ok(true)
            }
            Err(StoreError::Conflict(_)) => {
                *call = self
                    .store
                    .get_call(&call.workspace_id, &call.id)
                    .await?
                    .ok_or_else(|| CallError::NotFound(format!("call {} no longer exists", call.id)))?;
                Ok(false)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The agent's configuration, or a plain one when the agent is gone (a call's
    /// record outlives its agent).
    pub async fn config_or_fallback(&self, call: &Call) -> Arc<AgentConfig> {
        match self.config(&call.workspace_id, &call.agent_id).await {
            Ok(c) => c,
            Err(_) => Arc::new(fallback_config()),
        }
    }

    async fn load(&self, ws: &WorkspaceId, id: &CallId) -> Result<Call, CallError> {
        self.store
            .get_call(ws, id)
            .await?
            .ok_or_else(|| CallError::NotFound(format!("no call with id `{id}` exists in this workspace")))
    }

    async fn load_live(&self, ws: &WorkspaceId, id: &CallId) -> Result<(Call, Arc<AgentConfig>, Session), CallError> {
        let call = self.load(ws, id).await?;
        self.live(call).await
    }

    /// A call just read, checked live, with its agent and conversation.
    async fn live(&self, call: Call) -> Result<(Call, Arc<AgentConfig>, Session), CallError> {
        let (ws, id) = (&call.workspace_id, &call.id);
        if !call.status.is_live() {
            return Err(CallError::Conflict(format!(
                "call {id} has ended ({}); start a new call",
                call.status
            )));
        }
        let cfg = self.config(ws, &call.agent_id).await?;
        let session: Session = serde_json::from_value(call.session.clone())
            .map_err(|e| CallError::Store(StoreError::Corrupt(format!("session of call {id}: {e}"))))?;
        Ok((call, cfg, session))
    }

    /// Runs the tools the step made ready (`ready`, when the engine already asked),
    /// picks the reply, and stores the call with its events.
    async fn finish(
        &self,
        mut call: Call,
        cfg: &Arc<AgentConfig>,
        mut session: Session,
        mut heard: Heard,
        message_extra: Map<String, Value>,
        ready: Vec<ToolRequest>,
    ) -> Result<Step, CallError> {
        let tools_ran = self.run_tools(&mut call, cfg, &mut session, &mut heard, ready).await;
        let now = Utc::now();
        let (call, reply) = self.respond(call, cfg, session, heard, now).await;
        self.record(call, cfg, reply, &message_extra, tools_ran, now).await
    }

    /// Stores a step's outcome: the agent's words on the transcript, the call, and the
    /// events of what happened, in one write (see [`Dispatcher::emit_call`]).
    async fn record(
        &self,
        mut call: Call,
        cfg: &Arc<AgentConfig>,
        reply: Reply,
        message_extra: &Map<String, Value>,
        tools_ran: bool,
        now: DateTime<Utc>,
    ) -> Result<Step, CallError> {
        if !reply.say.is_empty() {
            call.turns.push(Turn::new(Speaker::Agent, reply.say.clone(), now));
        }
        let business = business(cfg);
        let mut events = action_events(&call, &reply.actions, &business, now, message_extra);
        // A simulated call is over when the conversation is; a provider's call is
        // over when the provider says so (its status callback sends these).
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
            cfg: Some(cfg.clone()),
        })
    }

    /// Runs the tools the step made ready (`first`, when the engine already asked; and
    /// those their results make ready), within the turn's budget; returns whether any
    /// ran.
    async fn run_tools(
        &self,
        call: &mut Call,
        cfg: &AgentConfig,
        session: &mut Session,
        heard: &mut Heard,
        first: Vec<ToolRequest>,
    ) -> bool {
        let deadline = Instant::now() + TOOL_BUDGET;
        let mut ran = false;
        let mut ready = first;
        'rounds: loop {
            if ready.is_empty() {
                ready = session.ready_tools(cfg);
            }
            if ready.is_empty() {
                break;
            }
            for (i, req) in ready.iter().enumerate() {
                let left = deadline.saturating_duration_since(Instant::now());
                if left < MIN_TOOL_TIME {
                    // The turn's budget is spent: these wait for the next turn (or the
                    // end of the call) instead of being skipped for good.
                    let waiting: Vec<&str> = ready[i..].iter().map(|r| r.tool.tool_name.as_str()).collect();
                    session.tools_called.retain(|t| !waiting.contains(&t.as_str()));
                    break 'rounds;
                }
                let (outcome, record) = self.run_tool(req, left).await;
                ran = true;
                call.tool_calls.push(record);
                session.tool_result(cfg, outcome, heard);
            }
            ready = Vec::new();
        }
        ran
    }

    /// Composes the reply to what was heard and copies the session's outcome onto the
    /// call (the summary too, when the conversation ended), on the engine.
    async fn respond(
        &self,
        mut call: Call,
        cfg: &Arc<AgentConfig>,
        mut session: Session,
        heard: Heard,
        now: DateTime<Utc>,
    ) -> (Call, Reply) {
        let cfg = cfg.clone();
        let ws = call.workspace_id.clone();
        self.engine
            .run(&ws, move || {
                let reply = session.respond(&cfg, heard);
                Self::apply(&mut call, &cfg, &session, now);
                (call, reply)
            })
            .await
    }

    /// Copies the session's outcome onto the call record.
    fn apply(call: &mut Call, cfg: &AgentConfig, session: &Session, now: DateTime<Utc>) {
        call.custom_fields = session.fields.clone();
        call.call_type = session.call_type.clone();
        call.message = session.message.clone();
        call.transferred_to = session.transferred_to.clone();
        let text = |v: Option<Value>| v.and_then(|v| v.as_str().map(str::to_owned));
        call.caller.name = text(session.first_of(cfg, &FieldType::Name));
        call.caller.email = text(session.first_of(cfg, &FieldType::Email));
        call.updated_at = now;
        if session.ended() {
            call.end_reason = session.end_reason.map(|r| r.as_str().to_owned());
            call.ai_summary = Some(summarize(cfg, session));
            if call.provider == Provider::Sim && call.status.is_live() {
                call.status = CallStatus::Completed;
                call.ended_at = Some(now);
            }
        }
        call.session = serde_json::to_value(session).unwrap_or(Value::Null);
    }

    /// Calls one HTTP tool. Never fails the call: every problem becomes the record's
    /// error and an empty outcome.
    async fn run_tool(&self, req: &ToolRequest, budget: Duration) -> (ToolOutcome, ToolCall) {
        let t = &req.tool;
        let at = Utc::now();
        let started = Instant::now();
        let mut renderer = Renderer::new(&req.vars);
        let url = renderer.render(&t.url, Encoding::UrlComponent).unwrap_or_default();
        let mut headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (
                "User-Agent".to_owned(),
                concat!("Frontdesk/", env!("CARGO_PKG_VERSION")).to_owned(),
            ),
        ];
        for (k, v) in &t.headers {
            headers.push((k.clone(), renderer.render(v, Encoding::Header).unwrap_or_default()));
        }
        let body = match (&t.body_template, t.http_method) {
            (_, ToolMethod::Get) => Vec::new(),
            (Some(tpl), _) => renderer.render_json(tpl).unwrap_or_default().into_bytes(),
            (None, _) => {
                // No template: the parameters, by name.
                let params: Map<String, Value> = t
                    .parameters
                    .iter()
                    .map(|p| (p.name.clone(), req.vars.get(&p.name).cloned().unwrap_or(Value::Null)))
                    .collect();
                Value::Object(params).to_string().into_bytes()
            }
        };
        let method = reqwest_method(t.http_method);
        let out = Outgoing {
            method,
            url,
            headers,
            body,
        };
        let timeout = Duration::from_millis(t.timeout_ms).min(budget);
        let sent = tokio::time::timeout(timeout, self.tools.send_capped(out, TOOL_REPLY_MAX)).await;
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let mut record = ToolCall {
            tool: t.tool_name.clone(),
            at,
            status: None,
            ok: false,
            latency_ms,
            error: None,
        };
        let outcome = match sent {
            Err(_) => {
                record.error = Some(format!("no reply within {} ms", timeout.as_millis()));
                ToolOutcome::default()
            }
            Ok(Err(e)) => {
                record.error = Some(e.message);
                ToolOutcome::default()
            }
            Ok(Ok(res)) => {
                record.status = Some(res.status);
                if (200..300).contains(&res.status) {
                    record.ok = true;
                    read_outcome(&res.body_prefix)
                } else {
                    record.error = Some(format!("HTTP {}", res.status));
                    ToolOutcome::default()
                }
            }
        };
        metrics::counter!("frontdesk_tool_calls_total", "ok" => record.ok.to_string()).increment(1);
        (outcome, record)
    }
}

/// The events a step's actions send (`data.collected`, `message.collected` with
/// `message_extra`, `call.transferred`).
fn action_events(
    call: &Call,
    actions: &[Action],
    business: &Business,
    now: DateTime<Utc>,
    message_extra: &Map<String, Value>,
) -> Vec<NewEvent> {
    let mut events = Vec::new();
    for a in actions {
        let extra = match a {
            Action::Collected { field, value } => {
                Some((EventType::DataCollected, json!({"field": field, "value": value})))
            }
            Action::Message(m) => {
                let mut data = message_extra.clone();
                data.insert("message".into(), json!(m));
                Some((EventType::MessageCollected, Value::Object(data)))
            }
            Action::Transfer { to, reason } => Some((
                EventType::CallTransferred,
                json!({"transferred_to": to, "reason": reason}),
            )),
            Action::CallType(_) | Action::End(_) => None,
        };
        if let Some((kind, Value::Object(extra))) = extra {
            events.push(NewEvent::new(kind, call.event_data(now, extra), business, now));
        }
    }
    events
}

/// `call.ended`, and `transcript.ready` for a call that was answered: what a call's end
/// sends.
fn ended_events(call: &Call, business: &Business, now: DateTime<Utc>) -> Vec<NewEvent> {
    let transcript = call.transcript();
    let mut ended = Map::new();
    ended.insert("transcript".into(), json!(transcript));
    ended.insert("ai_summary".into(), json!(call.ai_summary));
    ended.insert("message".into(), json!(call.message));
    ended.insert("transferred_to".into(), json!(call.transferred_to));
    ended.insert("end_reason".into(), json!(call.end_reason));
    let mut events = vec![NewEvent::new(
        EventType::CallEnded,
        call.event_data(now, ended),
        business,
        now,
    )];
    if call.answered_at.is_some() {
        let mut ready = Map::new();
        ready.insert("transcript".into(), json!(transcript));
        ready.insert("turns".into(), serde_json::to_value(&call.turns).unwrap_or(Value::Null));
        events.push(NewEvent::new(
            EventType::TranscriptReady,
            call.event_data(now, ready),
            business,
            now,
        ));
    }
    events
}

/// A tool's JSON reply: `say` to speak, other keys as fields. Anything else is ignored.
fn read_outcome(body: &str) -> ToolOutcome {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(mut m)) => {
            let say = m.remove("say").and_then(|s| s.as_str().map(str::to_owned));
            ToolOutcome { say, fields: m }
        }
        _ => ToolOutcome::default(),
    }
}

fn reqwest_method(m: ToolMethod) -> reqwest::Method {
    match m {
        ToolMethod::Get => reqwest::Method::GET,
        ToolMethod::Post => reqwest::Method::POST,
        ToolMethod::Put => reqwest::Method::PUT,
        ToolMethod::Patch => reqwest::Method::PATCH,
        ToolMethod::Delete => reqwest::Method::DELETE,
    }
}

/// The business details events carry for templates.
pub fn business(cfg: &AgentConfig) -> Business {
    Business {
        owner_name: cfg.business.owner_name.clone(),
        website: cfg.business.website.clone(),
        booking_url: cfg.business.booking_url.clone(),
    }
}

fn fallback_config() -> AgentConfig {
    AgentConfig {
        name: "Receptionist".into(),
        business: Default::default(),
        greeting: "Thanks for calling, how can I help you today?".into(),
        data_to_collect: Vec::new(),
        call_types: Vec::new(),
        transfer: None,
        knowledge: Vec::new(),
        tools: Vec::new(),
        closing: "Thanks for calling. Goodbye!".into(),
        brain: Default::default(),
    }
}

/// Whether a provider can place calls in this build.
pub fn can_place(provider: Provider) -> bool {
    matches!(provider, Provider::Sim | Provider::Twilio)
}
