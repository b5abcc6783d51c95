//! HTTP tools: the calls an agent makes to the business's systems during a call, and
//! the budget they run within (a phone caller is waiting).
//!
//! A tool never fails a call: every problem becomes the tool call's recorded error and
//! an empty outcome. Tools go through the same SSRF guard as webhooks.

use std::time::{Duration, Instant};

use chrono::Utc;
use frontdesk_agent::{ToolOutcome, ToolRequest};
use frontdesk_core::agent::config::ToolMethod;
use frontdesk_core::call::ToolCall;
use frontdesk_core::template::{Encoding, Renderer};
use frontdesk_delivery::GuardedClient;
use frontdesk_delivery::client::Outgoing;
use serde_json::{Map, Value};

/// Largest tool reply read.
pub const TOOL_REPLY_MAX: usize = 64 * 1024;

/// All the tools of one turn together get at most this long: a phone caller is
/// waiting, and Twilio gives a webhook 15 seconds before it apologises and hangs up.
pub const TOOL_BUDGET: Duration = Duration::from_secs(8);

/// A tool is not started with less time than this left in the turn's budget.
pub const MIN_TOOL_TIME: Duration = Duration::from_millis(250);

/// Runs HTTP tools (or, switched off, records each as not called).
pub struct Tools {
    client: Option<GuardedClient>,
}

/// What a tool call records when tools are switched off.
pub const TOOLS_OFF: &str = "tools are not called offline";

impl Tools {
    #[must_use]
    pub fn new(client: GuardedClient) -> Self {
        Self { client: Some(client) }
    }

    /// Tools switched off (the offline CLI): each is recorded as not called.
    #[must_use]
    pub fn off() -> Self {
        Self { client: None }
    }

    /// Calls one HTTP tool. Never fails the call: every problem becomes the record's
    /// error and an empty outcome.
    pub async fn run(&self, req: &ToolRequest, budget: Duration) -> (ToolOutcome, ToolCall) {
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
        let Some(client) = &self.client else {
            let record = ToolCall {
                tool: t.tool_name.clone(),
                at,
                status: None,
                ok: false,
                latency_ms: 0,
                error: Some(TOOLS_OFF.to_owned()),
            };
            return (ToolOutcome::default(), record);
        };
        let sent = tokio::time::timeout(timeout, client.send_capped(out, TOOL_REPLY_MAX)).await;
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
