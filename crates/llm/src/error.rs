//! Why a completion failed, classified the way the fallback logic (SPEC section 8)
//! needs it: each kind has a stable [`LlmError::reason`], the label of
//! `frontdesk_llm_fallbacks_total{reason}`.

use std::time::Duration;

use frontdesk_agent::completion::CompletionError;

/// Why a model gave no usable completion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlmError {
    /// No first token (text or tool call) within the endpoint's first-token timeout.
    #[error("no first token within {0:?}")]
    FirstTokenTimeout(Duration),
    /// The completion did not end within the endpoint's overall timeout.
    #[error("the completion did not end within {0:?}")]
    OverallTimeout(Duration),
    /// The server answered with an error status (`body`: its first line, shortened).
    #[error("the model server answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// The server could not be reached, or the request could not be sent.
    #[error("the model server could not be reached: {0}")]
    Connect(String),
    /// A chunk that is not what the wire format says, or tool-call arguments that are
    /// not a JSON object.
    #[error("the model's answer is malformed: {0}")]
    Malformed(String),
    /// A completion with neither text nor a tool call.
    #[error("the model answered with neither text nor a tool call")]
    Empty,
    /// The stream ended (or broke) before `finish_reason` or `[DONE]`.
    #[error("the model's stream was cut: {0}")]
    Cut(String),
    /// The server reported an error inside the stream.
    #[error("the model server reported an error: {0}")]
    Stream(String),
}

impl LlmError {
    /// A stable, short label for metrics and logs: `timeout`, `timeout_overall`,
    /// `http_429`, `http_5xx`, `http_4xx`, `http_other`, `connect`, `malformed`,
    /// `empty`, `cut`, `stream_error`.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::FirstTokenTimeout(_) => "timeout",
            Self::OverallTimeout(_) => "timeout_overall",
            Self::Http { status: 429, .. } => "http_429",
            Self::Http { status: 500..=599, .. } => "http_5xx",
            Self::Http { status: 400..=499, .. } => "http_4xx",
            Self::Http { .. } => "http_other",
            Self::Connect(_) => "connect",
            Self::Malformed(_) => "malformed",
            Self::Empty => "empty",
            Self::Cut(_) => "cut",
            Self::Stream(_) => "stream_error",
        }
    }

    /// A timeout (first token or overall).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::FirstTokenTimeout(_) | Self::OverallTimeout(_))
    }
}

impl From<LlmError> for CompletionError {
    fn from(e: LlmError) -> Self {
        Self {
            message: e.to_string(),
            timed_out: e.is_timeout(),
            reason: e.reason(),
            streamed: String::new(),
        }
    }
}

/// A failure part-way through a stream: the error, and what the stream had already
/// handed out as text (SPEC: never retry once speech has been streamed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct StreamError {
    pub error: LlmError,
    /// The text deltas already yielded, joined ("" when none).
    pub streamed: String,
    /// Whether a tool-call delta had already arrived.
    pub tool_started: bool,
}

impl From<StreamError> for CompletionError {
    fn from(e: StreamError) -> Self {
        CompletionError::from(e.error).with_streamed(e.streamed)
    }
}

impl StreamError {
    /// Whether text was already handed to the caller (then no retry: it may be
    /// spoken). Whitespace alone does not count.
    pub fn spoke(&self) -> bool {
        !self.streamed.trim().is_empty()
    }

    /// Whether the request may go to a fallback: nothing streamed, no tool begun.
    pub fn may_retry(&self) -> bool {
        !self.spoke() && !self.tool_started
    }

    pub fn reason(&self) -> &'static str {
        self.error.reason()
    }
}

/// One line of at most `max` characters, for an error message.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut out: String = line.chars().take(max).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_stable() {
        let http = |status| LlmError::Http {
            status,
            body: String::new(),
        };
        assert_eq!(http(429).reason(), "http_429");
        assert_eq!(http(503).reason(), "http_5xx");
        assert_eq!(http(401).reason(), "http_4xx");
        assert_eq!(http(302).reason(), "http_other");
        assert_eq!(LlmError::FirstTokenTimeout(Duration::from_secs(2)).reason(), "timeout");
        assert_eq!(LlmError::Empty.reason(), "empty");
        let c: CompletionError = LlmError::OverallTimeout(Duration::from_secs(1)).into();
        assert!(c.timed_out);
        assert_eq!(c.reason, "timeout_overall");
    }

    #[test]
    fn excerpts_are_one_short_line() {
        assert_eq!(excerpt("a\n  b\r\nc", 10), "a b c");
        assert_eq!(excerpt("abcdef", 3), "abc…");
    }
}
