//! Chunks of a streamed completion into one [`Completion`]: the text deltas joined,
//! tool calls put together by `index` (id and name from their first piece, the
//! arguments from all pieces in order, calls of several indexes interleaved), the
//! `finish_reason`, the usage. At the end the completion is checked: every tool call
//! named, with arguments that are a JSON object, and something there at all.

use std::collections::BTreeMap;

use frontdesk_agent::completion::{ChatMessage, Completion, CompletionChunk, FunctionCall, Role, ToolCall, Usage};

use crate::error::{LlmError, excerpt};

/// A tool call being put together.
#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// What one chunk brought.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// Text to hand on ("" when none).
    pub text: String,
    /// A first token arrived with this chunk or before (text or a tool-call piece).
    pub token: bool,
}

/// The completion so far.
#[derive(Debug, Default)]
pub struct Assembler {
    text: String,
    calls: BTreeMap<u32, PartialCall>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    token: bool,
}

impl Assembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the model has begun a tool call.
    pub fn tool_started(&self) -> bool {
        !self.calls.is_empty()
    }

    /// Whether a `finish_reason` has arrived.
    pub fn finished(&self) -> bool {
        self.finish_reason.is_some()
    }

    /// One event's data (a JSON chunk; `[DONE]` is the caller's business).
    pub fn push(&mut self, data: &str) -> Result<Step, LlmError> {
        let chunk: CompletionChunk = serde_json::from_str(data)
            .map_err(|e| LlmError::Malformed(format!("a chunk is not JSON ({e}): {}", excerpt(data, 120))))?;
        if let Some(error) = chunk.error {
            let message = error
                .get("message")
                .and_then(|m| m.as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| error.to_string());
            return Err(LlmError::Stream(excerpt(&message, 200)));
        }
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        let mut text = String::new();
        // Only the first choice is asked for (no `n`); others are ignored.
        if let Some(choice) = chunk.choices.into_iter().find(|c| c.index == 0) {
            if let Some(content) = choice.delta.content.filter(|c| !c.is_empty()) {
                self.text.push_str(&content);
                text = content;
                self.token = true;
            }
            for (position, piece) in choice.delta.tool_calls.into_iter().enumerate() {
                self.token = true;
                let index = piece
                    .index
                    .unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
                let call = self.calls.entry(index).or_default();
                if let Some(id) = piece.id.filter(|i| !i.is_empty())
                    && call.id.is_empty()
                {
                    call.id = id;
                }
                if let Some(f) = piece.function {
                    if let Some(name) = f.name.filter(|n| !n.is_empty())
                        && call.name.is_empty()
                    {
                        call.name = name;
                    }
                    if let Some(arguments) = f.arguments {
                        call.arguments.push_str(&arguments);
                    }
                }
            }
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
        }
        Ok(Step {
            text,
            token: self.token,
        })
    }

    /// The whole completion, checked.
    pub fn finish(self) -> Result<Completion, LlmError> {
        let mut tool_calls = Vec::with_capacity(self.calls.len());
        for (index, call) in self.calls {
            if call.name.is_empty() {
                return Err(LlmError::Malformed(format!("tool call {index} has no function name")));
            }
            let arguments = if call.arguments.trim().is_empty() {
                "{}".to_owned()
            } else {
                call.arguments
            };
            let function = FunctionCall {
                name: call.name,
                arguments,
            };
            if function.arguments_object().is_none() {
                return Err(LlmError::Malformed(format!(
                    "the arguments of tool call {} are not a JSON object: {}",
                    function.name,
                    excerpt(&function.arguments, 120)
                )));
            }
            tool_calls.push(ToolCall {
                id: if call.id.is_empty() {
                    format!("call_{index}")
                } else {
                    call.id
                },
                kind: "function".into(),
                function,
            });
        }
        if self.text.trim().is_empty() && tool_calls.is_empty() {
            return Err(LlmError::Empty);
        }
        Ok(Completion {
            message: ChatMessage {
                role: Role::Assistant,
                content: (!self.text.is_empty()).then_some(self.text),
                name: None,
                tool_calls,
                tool_call_id: None,
            },
            finish_reason: self.finish_reason,
            usage: self.usage,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn push(a: &mut Assembler, v: serde_json::Value) -> Step {
        a.push(&v.to_string()).expect("a chunk")
    }

    #[test]
    fn joins_text_and_says_when_the_first_token_came() {
        let mut a = Assembler::new();
        let s = push(
            &mut a,
            json!({"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}),
        );
        assert_eq!(s, Step::default());
        let s = push(&mut a, json!({"choices": [{"index": 0, "delta": {"content": "Hel"}}]}));
        assert_eq!((s.text.as_str(), s.token), ("Hel", true));
        push(
            &mut a,
            json!({"choices": [{"index": 0, "delta": {"content": "lo."}, "finish_reason": "stop"}]}),
        );
        push(
            &mut a,
            json!({"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}}),
        );
        let c = a.finish().expect("complete");
        assert_eq!(c.message.content.as_deref(), Some("Hello."));
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
        assert_eq!(c.usage.map(|u| u.total_tokens), Some(5));
    }

    #[test]
    fn puts_interleaved_tool_calls_together_by_index() {
        let mut a = Assembler::new();
        let piece = |index: u32, id: Option<&str>, name: Option<&str>, args: &str| {
            json!({"choices": [{"index": 0, "delta": {"tool_calls": [{
                "index": index, "id": id, "type": "function",
                "function": {"name": name, "arguments": args}
            }]}}]})
        };
        push(&mut a, piece(0, Some("call_a"), Some("set_field"), ""));
        push(&mut a, piece(1, Some("call_b"), Some("set_call_type"), "{\"call"));
        push(&mut a, piece(0, None, None, "{\"field\": \"email\", "));
        push(&mut a, piece(1, None, None, "_type\": \"new\"}"));
        push(&mut a, piece(0, None, None, "\"value\": \"a@b.co\"}"));
        push(
            &mut a,
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        );
        let c = a.finish().expect("complete");
        let calls = &c.message.tool_calls;
        assert_eq!(calls.len(), 2);
        assert_eq!(
            (calls[0].id.as_str(), calls[0].function.name.as_str()),
            ("call_a", "set_field")
        );
        assert_eq!(calls[0].function.arguments_object().expect("object")["value"], "a@b.co");
        assert_eq!(
            calls[1].function.arguments_object().expect("object")["call_type"],
            "new"
        );
        assert_eq!(c.message.content, None);
    }

    #[test]
    fn a_call_without_arguments_gets_an_empty_object_and_an_id() {
        let mut a = Assembler::new();
        push(
            &mut a,
            json!({"choices": [{"delta": {"tool_calls": [{"function": {"name": "end_call"}}]}}]}),
        );
        let c = a.finish().expect("complete");
        assert_eq!(c.message.tool_calls[0].id, "call_0");
        assert_eq!(c.message.tool_calls[0].function.arguments, "{}");
    }

    #[test]
    fn refuses_what_cannot_be_used() {
        let mut a = Assembler::new();
        assert_eq!(a.push("{\"choices\": [").map_err(|e| e.reason()), Err("malformed"));
        let mut a = Assembler::new();
        push(
            &mut a,
            json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "id": "c", "function": {"name": "x", "arguments": "[1]"}}]}}]}),
        );
        assert_eq!(a.finish().map_err(|e| e.reason()).err(), Some("malformed"));
        let mut a = Assembler::new();
        push(
            &mut a,
            json!({"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]}}]}),
        );
        assert_eq!(a.finish().map_err(|e| e.reason()).err(), Some("malformed"));
        let mut a = Assembler::new();
        push(
            &mut a,
            json!({"choices": [{"delta": {"content": "  "}, "finish_reason": "stop"}]}),
        );
        assert_eq!(a.finish().map_err(|e| e.reason()).err(), Some("empty"));
        let mut a = Assembler::new();
        assert_eq!(
            a.push(&json!({"error": {"message": "overloaded"}}).to_string()),
            Err(LlmError::Stream("overloaded".into()))
        );
    }
}
