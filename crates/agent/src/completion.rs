//! A model completion, in the shape of OpenAI's chat completions API
//! (`POST /v1/chat/completions`), which OpenAI-compatible servers share.
//!
//! A brain that wants a model's words asks for a [`CompletionRequest`]
//! ([`crate::brain::Need::Completion`]); the application fills in the model it is
//! configured with (if the brain left it empty), sends the request as JSON, reads the
//! response into a [`CompletionResponse`], and hands its first choice back as a
//! [`Completion`] (or a [`CompletionError`]). Only the fields a receptionist needs are
//! typed; unknown response fields are ignored.

use frontdesk_core::agent::config::ToolSpec;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// The request body of a chat completion.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionRequest {
    /// The model; empty: the application's configured model.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    pub messages: Vec<ChatMessage>,
    /// Functions the model may call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolSchema>,
    /// `"auto"`, `"none"`, `"required"`, or `{"type": "function", "function": {"name":
    /// ...}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Server-sent events instead of one JSON body.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    /// Not sent: the completion's words go to the caller as they stream (a
    /// conversation turn), rather than only once it is whole (a summary).
    #[serde(skip)]
    pub speak: bool,
}

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// A tool's result, answering the assistant's tool call `tool_call_id`.
    Tool,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    /// The text; `None` for an assistant message that only calls tools.
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The assistant's tool calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a [`Role::Tool`] message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    fn text(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: Some(content.into()),
            name: None,
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::text(Role::System, content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::text(Role::User, content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::text(Role::Assistant, content)
    }

    /// A tool's result for the call `tool_call_id`.
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(tool_call_id.into()),
            ..Self::text(Role::Tool, content)
        }
    }
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSchema {
    /// Always `"function"`.
    #[serde(rename = "type")]
    pub kind: String,
    pub function: FunctionSchema,
}

/// A function's name, description and parameters (a JSON Schema object).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionSchema {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub parameters: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl ToolSchema {
    pub fn function(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self {
            kind: "function".into(),
            function: FunctionSchema {
                name: name.into(),
                description: description.into(),
                parameters,
                strict: None,
            },
        }
    }

    /// An agent's HTTP tool as a function: its parameters as string, number, integer
    /// or boolean properties (other types as strings), the required ones required.
    pub fn from_tool(t: &ToolSpec) -> Self {
        let mut properties = Map::new();
        for p in &t.parameters {
            let kind = match p.kind.as_str() {
                "number" | "integer" | "boolean" => p.kind.as_str(),
                _ => "string",
            };
            let mut prop = json!({ "type": kind });
            if !p.description.is_empty() {
                prop["description"] = Value::String(p.description.clone());
            }
            properties.insert(p.name.clone(), prop);
        }
        let required: Vec<&str> = t
            .parameters
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name.as_str())
            .collect();
        Self::function(
            t.tool_name.clone(),
            t.description.clone(),
            json!({ "type": "object", "properties": properties, "required": required }),
        )
    }
}

/// A function call the model asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    /// Always `"function"`.
    #[serde(rename = "type", default = "function_kind")]
    pub kind: String,
    pub function: FunctionCall,
}

fn function_kind() -> String {
    "function".into()
}

/// The function called and its arguments, a JSON object as text (as the model wrote
/// it: it may not parse).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    #[serde(default)]
    pub arguments: String,
}

impl FunctionCall {
    /// The arguments, when they are a JSON object.
    pub fn arguments_object(&self) -> Option<Map<String, Value>> {
        match serde_json::from_str(&self.arguments) {
            Ok(Value::Object(m)) => Some(m),
            _ => None,
        }
    }
}

/// Tokens a completion used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
}

/// The response body of a chat completion (the parts read).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionResponse {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub model: String,
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub usage: Option<Usage>,
}

/// One of the response's choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub index: u32,
    pub message: ChatMessage,
    /// `stop`, `length`, `tool_calls`, `content_filter`.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

impl CompletionResponse {
    /// The first choice, as handed back to the brain.
    pub fn into_completion(self) -> Option<Completion> {
        let usage = self.usage;
        self.choices.into_iter().next().map(|c| Completion {
            message: c.message,
            finish_reason: c.finish_reason,
            usage,
        })
    }
}

/// What a model answered: its message (text, tool calls, or both).
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub message: ChatMessage,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
}

/// Why a completion could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionError {
    /// For the log: what went wrong (no secrets, no response body beyond a line).
    pub message: String,
    /// No answer within the time the application gives a completion.
    pub timed_out: bool,
    /// A short, stable label for metrics and `brain_events` (`timeout`, `http_5xx`,
    /// `malformed`, `circuit_open`, `not_configured`, ...; `error` when unclassified).
    pub reason: &'static str,
    /// Text the model had already streamed (and the application may have spoken)
    /// before it failed; "" when none. Never asked for again.
    pub streamed: String,
}

impl CompletionError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            timed_out: false,
            reason: "error",
            streamed: String::new(),
        }
    }

    pub fn timeout() -> Self {
        Self {
            message: "no answer in time".into(),
            timed_out: true,
            reason: "timeout",
            streamed: String::new(),
        }
    }

    /// The same error with this reason label.
    #[must_use]
    pub fn with_reason(mut self, reason: &'static str) -> Self {
        self.reason = reason;
        self
    }

    /// The same error, saying what text had already streamed.
    #[must_use]
    pub fn with_streamed(mut self, streamed: impl Into<String>) -> Self {
        self.streamed = streamed.into();
        self
    }
}

impl std::fmt::Display for CompletionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CompletionError {}

/// One server-sent event of a streamed chat completion (`"stream": true`): the
/// `chat.completion.chunk` object. Its first choice carries a [`Delta`]; the last
/// chunk may carry only `usage` (no choices) or, from some servers, an `error`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompletionChunk {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<ChunkChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// An error the server reports inside the stream (vLLM, OpenAI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// One choice of a chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub delta: Delta,
    /// Set on the choice's last chunk: `stop`, `length`, `tool_calls`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
}

/// What a chunk adds to the assistant's message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// `null` reads as none (llama-cpp-python sends `"tool_calls": null`).
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub tool_calls: Vec<ToolCallDelta>,
}

/// A field that some servers send as `null` where OpenAI leaves it out.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A piece of a tool call: the first piece of call `index` carries its id and
/// function name, the later ones pieces of its arguments.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ToolCallDelta {
    /// Which of the message's tool calls this piece belongs to (absent from some
    /// servers that send each call whole).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<FunctionCallDelta>,
}

/// A piece of a function call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FunctionCallDelta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_has_the_openai_shape() {
        let req = CompletionRequest {
            messages: vec![
                ChatMessage::system("You are a receptionist."),
                ChatMessage::user("Hi"),
                ChatMessage {
                    tool_calls: vec![ToolCall {
                        id: "call_1".into(),
                        kind: "function".into(),
                        function: FunctionCall {
                            name: "lookup".into(),
                            arguments: "{\"x\":1}".into(),
                        },
                    }],
                    content: None,
                    ..ChatMessage::assistant("")
                },
                ChatMessage::tool("call_1", "{\"ok\":true}"),
            ],
            tools: vec![ToolSchema::function("lookup", "Looks up", json!({"type": "object"}))],
            tool_choice: Some(json!("auto")),
            ..CompletionRequest::default()
        };
        let v = serde_json::to_value(&req).expect("json");
        assert_eq!(
            v,
            json!({
                "messages": [
                    {"role": "system", "content": "You are a receptionist."},
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": null, "tool_calls": [
                        {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"x\":1}"}}
                    ]},
                    {"role": "tool", "content": "{\"ok\":true}", "tool_call_id": "call_1"}
                ],
                "tools": [{"type": "function", "function": {"name": "lookup", "description": "Looks up", "parameters": {"type": "object"}}}],
                "tool_choice": "auto"
            })
        );
    }

    #[test]
    fn reads_a_response() {
        let body = json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_9", "type": "function", "function": {"name": "lookup", "arguments": "{\"name\":\"Ann\"}"}}
            ]}, "finish_reason": "tool_calls", "logprobs": null}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
        });
        let r: CompletionResponse = serde_json::from_value(body).expect("reads");
        let c = r.into_completion().expect("a choice");
        assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(c.usage.map(|u| u.total_tokens), Some(15));
        let call = &c.message.tool_calls[0];
        assert_eq!(call.function.arguments_object().expect("object")["name"], "Ann");
    }

    #[test]
    fn tools_become_functions() {
        let t: ToolSpec = serde_json::from_value(json!({
            "type": "http", "tool_name": "book", "description": "Books", "http_method": "POST",
            "url": "https://x.example/book", "timeout_ms": 1000,
            "parameters": [{"name": "when", "description": "date"}, {"name": "n", "type": "integer", "required": false}]
        }))
        .expect("tool");
        let f = serde_json::to_value(ToolSchema::from_tool(&t)).expect("json");
        assert_eq!(f["function"]["parameters"]["required"], json!(["when"]));
        assert_eq!(f["function"]["parameters"]["properties"]["n"]["type"], "integer");
    }

    #[test]
    fn reads_nulls_as_nothing() {
        // llama-cpp-python's first chunk of a streamed tool call.
        let c: CompletionChunk = serde_json::from_value(json!({"choices": [{"index": 0, "finish_reason": null,
            "logprobs": null, "delta": {"role": "assistant", "content": null, "function_call": null, "tool_calls": null}}]}))
        .unwrap();
        assert_eq!(c.choices[0].delta.role, Some(Role::Assistant));
        assert!(c.choices[0].delta.tool_calls.is_empty());
        let c: CompletionChunk = serde_json::from_value(json!({"choices": null})).unwrap();
        assert!(c.choices.is_empty());
    }

    #[test]
    fn reads_a_streamed_chunk() {
        let c: CompletionChunk = serde_json::from_value(json!({
            "id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": 1, "id": "call_2", "type": "function", "function": {"name": "book", "arguments": ""}}
            ]}, "finish_reason": null}]
        }))
        .expect("reads");
        let call = &c.choices[0].delta.tool_calls[0];
        assert_eq!(call.index, Some(1));
        assert_eq!(call.function.as_ref().and_then(|f| f.name.as_deref()), Some("book"));
        let usage_only: CompletionChunk =
            serde_json::from_value(json!({"choices": [], "usage": {"total_tokens": 3}})).expect("reads");
        assert_eq!(usage_only.usage.map(|u| u.total_tokens), Some(3));
    }
}
