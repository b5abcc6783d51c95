//! Server-sent events as chat-completions servers send them: the bytes of the
//! response body, however the network splits them, into the `data` of each event.
//!
//! Lines end in LF, CRLF or CR (a CR at the end of a read waits for the next read, in
//! case an LF follows). `data:` lines of one event are joined with LF; a blank line
//! ends the event; lines starting with `:` (comments, keep-alives) and other fields
//! (`event`, `id`, `retry`) are ignored. Text is decoded per complete line, so a
//! character split across reads is whole again.

/// The longest line accepted (a chunk carries one delta: far below this).
pub const MAX_LINE: usize = 1 << 20;

/// Why the body is not server-sent events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// A line is not UTF-8.
    NotUtf8,
    /// A line is longer than [`MAX_LINE`].
    TooLong,
}

impl std::fmt::Display for SseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotUtf8 => f.write_str("an event line is not UTF-8"),
            Self::TooLong => write!(f, "an event line is longer than {MAX_LINE} bytes"),
        }
    }
}

/// Reads events from the body's bytes as they arrive.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    /// The `data` lines of the event being read.
    data: Vec<String>,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes the next bytes of the body; returns the data of each event they complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Vec<String>, SseError> {
        self.buf.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut start = 0;
        let mut i = 0;
        while i < self.buf.len() {
            let end = match self.buf[i] {
                b'\n' => i + 1,
                b'\r' if i + 1 < self.buf.len() => {
                    if self.buf[i + 1] == b'\n' {
                        i + 2
                    } else {
                        i + 1
                    }
                }
                // A CR at the end of what has arrived: an LF may follow.
                b'\r' => break,
                _ => {
                    i += 1;
                    continue;
                }
            };
            let line = std::str::from_utf8(&self.buf[start..i]).map_err(|_| SseError::NotUtf8)?;
            if let Some(data) = Self::line(&mut self.data, line) {
                events.push(data);
            }
            start = end;
            i = end;
        }
        self.buf.drain(..start);
        if self.buf.len() > MAX_LINE {
            return Err(SseError::TooLong);
        }
        Ok(events)
    }

    /// The body has ended: an event whose lines all arrived but which lacks its blank
    /// line is still taken (lenient); a line without its end was cut and is dropped.
    pub fn finish(&mut self) -> Result<Vec<String>, SseError> {
        let mut events = Vec::new();
        if self.buf.last() == Some(&b'\r') {
            // A complete line after all.
            self.buf.pop();
            let line = std::mem::take(&mut self.buf);
            let line = String::from_utf8(line).map_err(|_| SseError::NotUtf8)?;
            if let Some(data) = Self::line(&mut self.data, &line) {
                events.push(data);
            }
        }
        self.buf.clear();
        if let Some(data) = Self::line(&mut self.data, "") {
            events.push(data);
        }
        Ok(events)
    }

    /// One line; the event's data when the line ends an event.
    fn line(data: &mut Vec<String>, line: &str) -> Option<String> {
        if line.is_empty() {
            if data.is_empty() {
                return None;
            }
            let joined = data.join("\n");
            data.clear();
            return Some(joined);
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        if field == "data" {
            data.push(value.to_owned());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `body` cut at every split, and in single bytes: the same events each time.
    fn events_however_split(body: &[u8]) -> Vec<String> {
        let mut whole = SseParser::new();
        let mut expected = whole.feed(body).expect("parses");
        expected.extend(whole.finish().expect("finishes"));
        for cut in 0..=body.len() {
            let mut p = SseParser::new();
            let mut got = p.feed(&body[..cut]).expect("parses");
            got.extend(p.feed(&body[cut..]).expect("parses"));
            got.extend(p.finish().expect("finishes"));
            assert_eq!(got, expected, "split at {cut}");
        }
        let mut p = SseParser::new();
        let mut got = Vec::new();
        for b in body {
            got.extend(p.feed(std::slice::from_ref(b)).expect("parses"));
        }
        got.extend(p.finish().expect("finishes"));
        assert_eq!(got, expected, "byte by byte");
        expected
    }

    #[test]
    fn reads_events_split_anywhere() {
        let body = "data: {\"a\":1}\n\n: keep-alive\n\ndata: {\"b\":\"é\"}\n\ndata: [DONE]\n\n";
        assert_eq!(
            events_however_split(body.as_bytes()),
            ["{\"a\":1}", "{\"b\":\"é\"}", "[DONE]"]
        );
    }

    #[test]
    fn reads_crlf_and_cr_line_ends() {
        let body = "data: one\r\n\r\ndata: two\r\rdata:three\r\n\r\n";
        assert_eq!(events_however_split(body.as_bytes()), ["one", "two", "three"]);
    }

    #[test]
    fn joins_multi_line_events_and_ignores_other_fields() {
        let body = "event: message\nid: 7\ndata: {\"x\":\ndata: 1}\nretry: 10\n\n";
        assert_eq!(events_however_split(body.as_bytes()), ["{\"x\":\n1}"]);
    }

    #[test]
    fn a_comment_only_event_or_empty_lines_dispatch_nothing() {
        assert!(events_however_split(b": ping\n\n\n\n:\r\n\r\n").is_empty());
    }

    #[test]
    fn a_line_cut_at_the_end_is_dropped_a_whole_event_without_blank_line_is_kept() {
        assert_eq!(events_however_split(b"data: a\n\ndata: {\"cu"), ["a"]);
        assert_eq!(events_however_split(b"data: [DONE]\n"), ["[DONE]"]);
        assert_eq!(events_however_split(b"data: [DONE]\r"), ["[DONE]"]);
    }

    #[test]
    fn refuses_what_is_not_text() {
        let mut p = SseParser::new();
        assert_eq!(p.feed(b"data: \xff\xfe\n"), Err(SseError::NotUtf8));
        let mut p = SseParser::new();
        assert_eq!(p.feed(&vec![b'a'; MAX_LINE + 1]), Err(SseError::TooLong));
    }
}
