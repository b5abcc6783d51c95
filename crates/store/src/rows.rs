//! Reading rows back into domain records, for every backend.
//!
//! Both backends store the same shapes (ids and enums as text, times as integer
//! milliseconds since the epoch, JSON as text, so a JSON object keeps its key order), so
//! one set of mapping functions reads them, over [`Cols`]: what a row of either database
//! gives a column as. The column lists are macros (`concat!` needs literals: sqlx takes
//! static SQL).

use chrono::{DateTime, Utc};
use frontdesk_core::agent::{Agent, Number, Provider};
use frontdesk_core::api_key::ApiKey;
use frontdesk_core::id::{AgentId, ApiKeyId, NumberId, WorkspaceId};
use frontdesk_core::workspace::Workspace;
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::secrets::{Secrets, webhook_headers_owner, webhook_secret_owner};
use crate::{StoreError, StoreResult};

/// A row's columns as the mapping functions read them.
pub(crate) trait Cols {
    fn text(&self, col: &str) -> StoreResult<String>;
    fn opt_text(&self, col: &str) -> StoreResult<Option<String>>;
    fn int(&self, col: &str) -> StoreResult<i64>;
    fn opt_int(&self, col: &str) -> StoreResult<Option<i64>>;
    /// A yes/no column: SQLite's `INTEGER` 0/1, PostgreSQL's `BOOLEAN`.
    fn flag(&self, col: &str) -> StoreResult<bool>;
}

/// The columns every backend reads alike.
macro_rules! cols_by_try_get {
    () => {
        fn text(&self, col: &str) -> StoreResult<String> {
            Ok(self.try_get(col)?)
        }
        fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
            Ok(self.try_get(col)?)
        }
        fn int(&self, col: &str) -> StoreResult<i64> {
            Ok(self.try_get(col)?)
        }
        fn opt_int(&self, col: &str) -> StoreResult<Option<i64>> {
            Ok(self.try_get(col)?)
        }
    };
}

impl Cols for SqliteRow {
    cols_by_try_get!();
    fn flag(&self, col: &str) -> StoreResult<bool> {
        Ok(self.try_get::<i64, _>(col)? != 0)
    }
}

impl Cols for PgRow {
    cols_by_try_get!();
    fn flag(&self, col: &str) -> StoreResult<bool> {
        Ok(self.try_get(col)?)
    }
}

/// The columns [`api_key_from_row`] reads, as a literal for `concat!` (sqlx only takes
/// static SQL).
macro_rules! api_key_columns {
    () => {
        "id, workspace_id, name, prefix, created_at, last_used_at, revoked_at"
    };
}

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("timestamp {ms}")))
}

/// Now, at the millisecond precision the database keeps.
pub(crate) fn now_ms() -> StoreResult<DateTime<Utc>> {
    from_ms(ms(Utc::now()))
}

pub(crate) fn opt_ms(v: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    v.map(from_ms).transpose()
}

pub(crate) fn id<T>(
    row: &impl Cols,
    col: &str,
    parse: fn(&str) -> Result<T, frontdesk_core::ValidationError>,
) -> StoreResult<T> {
    let s: String = row.text(col)?;
    parse(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn workspace_from_row(row: &impl Cols) -> StoreResult<Workspace> {
    Ok(Workspace {
        id: id(row, "id", WorkspaceId::parse)?,
        name: row.text("name")?,
        created_at: from_ms(row.int("created_at")?)?,
    })
}

pub(crate) fn api_key_from_row(row: &impl Cols) -> StoreResult<ApiKey> {
    Ok(ApiKey {
        id: id(row, "id", ApiKeyId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        name: row.text("name")?,
        prefix: row.text("prefix")?,
        created_at: from_ms(row.int("created_at")?)?,
        last_used_at: opt_ms(row.opt_int("last_used_at")?)?,
        revoked_at: opt_ms(row.opt_int("revoked_at")?)?,
    })
}

/// The columns [`agent_from_row`] reads.
macro_rules! agent_columns {
    () => {
        "id, workspace_id, name, config, created_at, updated_at"
    };
}

/// The columns [`number_from_row`] reads.
macro_rules! number_columns {
    () => {
        "id, workspace_id, number, agent_id, provider, voice_mode, record_messages, created_at"
    };
}

/// An agent, its sealed tool headers opened.
pub(crate) fn agent_from_row(row: &impl Cols, secrets: &Secrets) -> StoreResult<Agent> {
    let agent_id = id(row, "id", AgentId::parse)?;
    let workspace_id = id(row, "workspace_id", WorkspaceId::parse)?;
    let config = secrets.open_agent(json_col(row, "config")?, &workspace_id, agent_id.as_str())?;
    Ok(Agent {
        id: agent_id,
        workspace_id,
        name: row.text("name")?,
        config,
        created_at: from_ms(row.int("created_at")?)?,
        updated_at: from_ms(row.int("updated_at")?)?,
    })
}

pub(crate) fn number_from_row(row: &impl Cols) -> StoreResult<Number> {
    Ok(Number {
        id: id(row, "id", NumberId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        number: row.text("number")?,
        agent_id: id(row, "agent_id", AgentId::parse)?,
        provider: provider(row)?,
        voice: frontdesk_core::agent::NumberVoice {
            mode: {
                let m: String = row.text("voice_mode")?;
                frontdesk_core::agent::VoiceMode::parse(&m).map_err(|e| StoreError::Corrupt(e.to_string()))?
            },
            record_messages: row.flag("record_messages")?,
        },
        created_at: from_ms(row.int("created_at")?)?,
    })
}

/// The columns [`credentials_from_row`] reads.
macro_rules! credentials_columns {
    () => {
        "workspace_id, provider, account_sid, sealed_secret, secret_hint, created_at, updated_at"
    };
}

pub(crate) fn credentials_from_row(row: &impl Cols) -> StoreResult<frontdesk_core::credentials::StoredCredentials> {
    Ok(frontdesk_core::credentials::StoredCredentials {
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        provider: provider(row)?,
        account_sid: row.text("account_sid")?,
        sealed_secret: row.text("sealed_secret")?,
        secret_hint: row.text("secret_hint")?,
        created_at: from_ms(row.int("created_at")?)?,
        updated_at: from_ms(row.int("updated_at")?)?,
    })
}

fn provider(row: &impl Cols) -> StoreResult<Provider> {
    let provider: String = row.text("provider")?;
    Provider::parse(&provider).ok_or_else(|| StoreError::Corrupt(format!("provider `{provider}`")))
}

/// The columns [`webhook_from_row`] reads.
macro_rules! webhook_columns {
    () => {
        "id, workspace_id, name, url, events, method, headers, body_template, numbers, active, secret, \
         previous_secret, previous_secret_until, disabled_reason, failing_since, created_at, updated_at"
    };
}

/// The columns [`event_from_row`] reads.
macro_rules! event_columns {
    () => {
        "id, workspace_id, event, call_id, number, payload, context, created_at"
    };
}

/// The columns [`delivery_from_row`] reads.
macro_rules! delivery_columns {
    () => {
        "id, workspace_id, webhook_id, event_id, event, status, attempts, next_attempt_at, last_status_code, \
         last_error, created_at, updated_at"
    };
}

pub(crate) fn json_col<T: serde::de::DeserializeOwned>(row: &impl Cols, col: &str) -> StoreResult<T> {
    let s: String = row.text(col)?;
    serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

fn event_type(row: &impl Cols, col: &str) -> StoreResult<frontdesk_core::event::EventType> {
    let s: String = row.text(col)?;
    frontdesk_core::event::EventType::parse(&s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// A webhook, its sealed secrets and headers opened.
pub(crate) fn webhook_from_row(row: &impl Cols, secrets: &Secrets) -> StoreResult<frontdesk_core::webhook::Webhook> {
    use frontdesk_core::webhook::{HttpMethod, Webhook, WebhookSecret, WebhookSpec};
    let webhook_id = id(row, "id", frontdesk_core::id::WebhookId::parse)?;
    let workspace_id = id(row, "workspace_id", WorkspaceId::parse)?;
    let secret_owner = webhook_secret_owner(&workspace_id, webhook_id.as_str());
    let events: Vec<String> = json_col(row, "events")?;
    let events = events
        .iter()
        .map(|e| frontdesk_core::event::EventType::parse(e))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let method: String = row.text("method")?;
    let body_template: Option<String> = row.opt_text("body_template")?;
    let secret = |s: String| {
        WebhookSecret::parse(&secrets.open(&s, &secret_owner)?).map_err(|e| StoreError::Corrupt(e.to_string()))
    };
    let headers: String = row.text("headers")?;
    let headers = secrets.open_headers(&headers, &webhook_headers_owner(&workspace_id, webhook_id.as_str()))?;
    let previous: Option<String> = row.opt_text("previous_secret")?;
    let previous_until: Option<i64> = row.opt_int("previous_secret_until")?;
    let previous_secret = match (previous, previous_until) {
        (Some(s), Some(until)) => Some((secret(s)?, from_ms(until)?)),
        _ => None,
    };
    Ok(Webhook {
        id: webhook_id,
        workspace_id,
        spec: WebhookSpec {
            name: row.text("name")?,
            url: row.text("url")?,
            events,
            method: HttpMethod::parse(&method).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            headers,
            body_template: body_template
                .map(|t| serde_json::from_str(&t))
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("body_template: {e}")))?,
            numbers: json_col(row, "numbers")?,
            active: row.flag("active")?,
        },
        secret: secret(row.text("secret")?)?,
        previous_secret,
        disabled_reason: row.opt_text("disabled_reason")?,
        failing_since: opt_ms(row.opt_int("failing_since")?)?,
        created_at: from_ms(row.int("created_at")?)?,
        updated_at: from_ms(row.int("updated_at")?)?,
    })
}

pub(crate) fn event_from_row(row: &impl Cols) -> StoreResult<crate::StoredEvent> {
    Ok(crate::StoredEvent {
        id: id(row, "id", frontdesk_core::id::EventId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        event: event_type(row, "event")?,
        call_id: row.opt_text("call_id")?,
        number: row.opt_text("number")?,
        payload: row.text("payload")?,
        context: json_col(row, "context")?,
        created_at: from_ms(row.int("created_at")?)?,
    })
}

pub(crate) fn delivery_from_row(row: &impl Cols) -> StoreResult<crate::Delivery> {
    let status: String = row.text("status")?;
    let code: Option<i64> = row.opt_int("last_status_code")?;
    Ok(crate::Delivery {
        id: id(row, "id", frontdesk_core::id::DeliveryId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        webhook_id: id(row, "webhook_id", frontdesk_core::id::WebhookId::parse)?,
        event_id: id(row, "event_id", frontdesk_core::id::EventId::parse)?,
        event: event_type(row, "event")?,
        status: crate::DeliveryStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("status `{status}`")))?,
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(0),
        next_attempt_at: opt_ms(row.opt_int("next_attempt_at")?)?,
        last_status_code: code.and_then(|c| u16::try_from(c).ok()),
        last_error: row.opt_text("last_error")?,
        created_at: from_ms(row.int("created_at")?)?,
        updated_at: from_ms(row.int("updated_at")?)?,
    })
}

/// The columns [`attempt_from_row`] reads (and, in this order, the ones an attempt's
/// INSERT writes after `delivery_id`: see [`AttemptRow`]).
macro_rules! attempt_columns {
    () => {
        "attempted_at, status_code, latency_ms, response_body, error, notes, request_method, request_url, \
         request_headers, request_body, response_headers"
    };
}

pub(crate) fn attempt_from_row(row: &impl Cols) -> StoreResult<crate::Attempt> {
    let code: Option<i64> = row.opt_int("status_code")?;
    let headers = |col: &str| -> StoreResult<Option<Vec<(String, String)>>> {
        row.opt_text(col)?
            .map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
            .transpose()
    };
    let request = match row.opt_text("request_method")? {
        None => None,
        Some(method) => Some(crate::SentRequest {
            method,
            url: row.opt_text("request_url")?.unwrap_or_default(),
            headers: headers("request_headers")?.unwrap_or_default(),
            body: row.opt_text("request_body")?.unwrap_or_default(),
        }),
    };
    Ok(crate::Attempt {
        attempted_at: from_ms(row.int("attempted_at")?)?,
        status_code: code.and_then(|c| u16::try_from(c).ok()),
        latency_ms: u32::try_from(row.int("latency_ms")?).unwrap_or(0),
        response_body: row.opt_text("response_body")?,
        error: row.opt_text("error")?,
        notes: row.opt_text("notes")?,
        request,
        response_headers: headers("response_headers")?,
    })
}

/// An attempt as its INSERT binds it: the values of [`attempt_columns`], in order.
pub(crate) struct AttemptRow {
    pub attempted_at: i64,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub notes: Option<String>,
    pub request_method: Option<String>,
    pub request_url: Option<String>,
    pub request_headers: Option<String>,
    pub request_body: Option<String>,
    pub response_headers: Option<String>,
}

impl AttemptRow {
    pub(crate) fn of(a: &crate::Attempt) -> StoreResult<Self> {
        let json = |h: &Vec<(String, String)>| {
            serde_json::to_string(h).map_err(|e| StoreError::Corrupt(format!("attempt headers: {e}")))
        };
        let r = a.request.as_ref();
        Ok(Self {
            attempted_at: ms(a.attempted_at),
            status_code: a.status_code.map(i64::from),
            latency_ms: i64::from(a.latency_ms),
            response_body: a.response_body.clone(),
            error: a.error.clone(),
            notes: a.notes.clone(),
            request_method: r.map(|r| r.method.clone()),
            request_url: r.map(|r| r.url.clone()),
            request_headers: r.map(|r| json(&r.headers)).transpose()?,
            request_body: r.map(|r| r.body.clone()),
            response_headers: a.response_headers.as_ref().map(json).transpose()?,
        })
    }

    /// About how many bytes the row carries (to bound one INSERT's size).
    fn weight(a: &crate::Attempt) -> usize {
        a.request
            .as_ref()
            .map_or(0, |r| r.body.len() + r.url.len() + 64 * r.headers.len())
            + a.response_body.as_ref().map_or(0, String::len)
            + 256
    }
}

/// The most bytes of attempts one INSERT carries: request bodies can be large (up to a
/// rendered template's limit), and a batch holds hundreds.
const INSERT_BYTES: usize = 4 * 1024 * 1024;

/// Splits `results` into INSERT-sized runs: at most `rows` each, and about
/// [`INSERT_BYTES`] unless one attempt alone is larger.
pub(crate) fn attempt_chunks<'a>(
    results: &'a [&'a crate::AttemptResult],
    rows: usize,
) -> impl Iterator<Item = &'a [&'a crate::AttemptResult]> {
    let mut rest = results;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut n = 0;
        let mut bytes = 0;
        while n < rest.len() && n < rows {
            let w = AttemptRow::weight(&rest[n].attempt);
            if n > 0 && bytes + w > INSERT_BYTES {
                break;
            }
            bytes += w;
            n += 1;
        }
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// The columns [`call_from_row`] reads (and, in this order, the ones a call's INSERT
/// writes).
macro_rules! call_columns {
    () => {
        "id, workspace_id, agent_id, direction, status, from_number, to_number, provider, provider_call_id, \
         caller, call_type, custom_fields, message, transferred_to, ai_summary, turns, purpose, end_reason, \
         tool_calls, session, version, started_at, answered_at, ended_at, updated_at, provider_details, \
         duration_seconds"
    };
}

/// The columns [`call_from_row`] reads: those a call is written with, and when it was
/// purged (set by the retention purge only).
macro_rules! call_read_columns {
    () => {
        concat!(call_columns!(), ", purged_at")
    };
}

pub(crate) fn call_from_row(row: &impl Cols) -> StoreResult<frontdesk_core::call::Call> {
    use frontdesk_core::call::{Call, CallStatus, Direction};
    let direction: String = row.text("direction")?;
    let status: String = row.text("status")?;
    Ok(Call {
        id: id(row, "id", frontdesk_core::id::CallId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        agent_id: id(row, "agent_id", AgentId::parse)?,
        direction: Direction::parse(&direction).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        status: CallStatus::parse(&status).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        from: row.text("from_number")?,
        to: row.text("to_number")?,
        provider: provider(row)?,
        provider_call_id: row.opt_text("provider_call_id")?,
        caller: json_col(row, "caller")?,
        call_type: row.opt_text("call_type")?,
        custom_fields: json_col(row, "custom_fields")?,
        message: row.opt_text("message")?,
        transferred_to: row.opt_text("transferred_to")?,
        ai_summary: row.opt_text("ai_summary")?,
        turns: json_col(row, "turns")?,
        purpose: row.opt_text("purpose")?,
        end_reason: row.opt_text("end_reason")?,
        tool_calls: json_col(row, "tool_calls")?,
        session: json_col(row, "session")?,
        version: row.int("version")?,
        started_at: from_ms(row.int("started_at")?)?,
        answered_at: opt_ms(row.opt_int("answered_at")?)?,
        ended_at: opt_ms(row.opt_int("ended_at")?)?,
        updated_at: from_ms(row.int("updated_at")?)?,
        provider_details: json_col(row, "provider_details")?,
        duration: row.opt_int("duration_seconds")?,
        purged_at: opt_ms(row.opt_int("purged_at")?)?,
    })
}

pub(crate) fn user_from_row(row: &impl Cols) -> StoreResult<frontdesk_core::user::User> {
    Ok(frontdesk_core::user::User {
        id: id(row, "id", frontdesk_core::id::UserId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        login: row.text("login")?,
        password_hash: row.text("password_hash")?,
        created_at: from_ms(row.int("created_at")?)?,
    })
}

pub(crate) fn session_from_row(row: &impl Cols) -> StoreResult<frontdesk_core::user::Session> {
    Ok(frontdesk_core::user::Session {
        user_id: id(row, "user_id", frontdesk_core::id::UserId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        login: row.text("login")?,
        created_at: from_ms(row.int("created_at")?)?,
        last_seen_at: from_ms(row.int("last_seen_at")?)?,
    })
}

/// A call as the overview counts it (columns `started_at, call_type, status`).
pub(crate) fn call_point_from_row(row: &impl Cols) -> StoreResult<frontdesk_core::report::CallPoint> {
    let status: String = row.text("status")?;
    Ok(frontdesk_core::report::CallPoint {
        started_at: from_ms(row.int("started_at")?)?,
        call_type: row.opt_text("call_type")?,
        status: frontdesk_core::call::CallStatus::parse(&status).map_err(|e| StoreError::Corrupt(e.to_string()))?,
    })
}

/// An attempt as the overview counts it (columns `attempted_at, status_code, latency_ms`).
pub(crate) fn attempt_point_from_row(row: &impl Cols) -> StoreResult<frontdesk_core::report::AttemptPoint> {
    let code: Option<i64> = row.opt_int("status_code")?;
    Ok(frontdesk_core::report::AttemptPoint {
        attempted_at: from_ms(row.int("attempted_at")?)?,
        status_code: code.and_then(|c| u16::try_from(c).ok()),
        latency_ms: u32::try_from(row.int("latency_ms")?).unwrap_or(0),
    })
}

/// A `LIKE` pattern (escape character `\`) that finds `text` anywhere: the text's own
/// `%`, `_` and `\` match only themselves.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A knowledge document (columns `id, workspace_id, agent_id, title, format, content,
/// chunks, created_at`).
pub(crate) fn document_from_row(row: &impl Cols) -> StoreResult<frontdesk_core::knowledge::Document> {
    let format = row.text("format")?;
    Ok(frontdesk_core::knowledge::Document {
        id: id(row, "id", frontdesk_core::id::DocumentId::parse)?,
        workspace_id: id(row, "workspace_id", WorkspaceId::parse)?,
        agent_id: id(row, "agent_id", AgentId::parse)?,
        title: row.text("title")?,
        format: frontdesk_core::knowledge::Format::parse(&format).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        content: row.text("content")?,
        chunks: serde_json::from_str(&row.text("chunks")?)
            .map_err(|e| StoreError::Corrupt(format!("document chunks: {e}")))?,
        created_at: from_ms(row.int("created_at")?)?,
    })
}
