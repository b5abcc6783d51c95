//! Knowledge documents (SPEC section 8): text or Markdown an agent answers from, beside
//! its question/answer entries. A document is validated on the way in and cut into
//! chunks once, here; retrieval works on the chunks.
//!
//! Chunks follow the document's own structure: a Markdown heading starts a new chunk
//! and is kept as the chunk's heading (with its parents, `Prices > Emergencies`);
//! within a section, paragraphs are packed up to [`CHUNK_CHARS`] characters, and a
//! paragraph longer than that is cut between sentences. No chunk is cut mid-word.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ValidationError;
use crate::id::{AgentId, DocumentId, WorkspaceId};

/// A chunk holds at most about this many characters (a paragraph or two).
pub const CHUNK_CHARS: usize = 800;
/// A document's content is at most this many bytes.
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;
/// A title is at most this many characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// An agent holds at most this many documents.
pub const MAX_DOCUMENTS: u64 = 200;

/// How a document's content is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Markdown,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Markdown => "markdown",
        }
    }

    /// `text` or `markdown`.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "txt" | "plain" => Ok(Self::Text),
            "markdown" | "md" => Ok(Self::Markdown),
            other => Err(ValidationError::new(
                "format",
                format!("`{other}` is not a document format; use `text` or `markdown`"),
            )),
        }
    }
}

/// A piece of a document that retrieval scores and a brain answers from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunk {
    /// The headings above it, `Parent > Child`, if the document has headings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    pub text: String,
}

/// A document as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: DocumentId,
    pub workspace_id: WorkspaceId,
    pub agent_id: AgentId,
    pub title: String,
    pub format: Format,
    pub content: String,
    pub chunks: Vec<Chunk>,
    pub created_at: DateTime<Utc>,
}

/// A document checked and chunked, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDocument {
    pub title: String,
    pub format: Format,
    pub content: String,
    pub chunks: Vec<Chunk>,
}

impl NewDocument {
    /// Checks a document and cuts it into chunks. The format defaults to Markdown when
    /// the content has Markdown headings, else text.
    pub fn parse(title: &str, content: &str, format: Option<&str>) -> Result<Self, ValidationError> {
        let title = title.trim();
        if title.is_empty() {
            return Err(ValidationError::new("title", "give the document a title"));
        }
        if title.chars().count() > MAX_TITLE_CHARS {
            return Err(ValidationError::new(
                "title",
                format!("a title is at most {MAX_TITLE_CHARS} characters"),
            ));
        }
        if content.len() > MAX_DOCUMENT_BYTES {
            return Err(ValidationError::new(
                "content",
                format!(
                    "the content is {} KiB; a document is at most {} KiB: split it into several",
                    content.len() / 1024,
                    MAX_DOCUMENT_BYTES / 1024
                ),
            ));
        }
        if content.trim().is_empty() {
            return Err(ValidationError::new(
                "content",
                "the document is empty; send its text in `content`",
            ));
        }
        if content.contains('\0') {
            return Err(ValidationError::new(
                "content",
                "the content holds a NUL character; send text",
            ));
        }
        let format = match format {
            Some(f) => Format::parse(f)?,
            None if content.lines().any(|l| heading(l).is_some()) => Format::Markdown,
            None => Format::Text,
        };
        let content = content.replace("\r\n", "\n");
        Ok(Self {
            title: title.to_owned(),
            format,
            chunks: chunks(&content, format),
            content,
        })
    }
}

/// A Markdown ATX heading: its level and text.
fn heading(line: &str) -> Option<(usize, &str)> {
    let t = line.trim_start();
    let level = t.bytes().take_while(|b| *b == b'#').count();
    if (1..=6).contains(&level) && t[level..].starts_with([' ', '\t']) {
        Some((level, t[level..].trim().trim_end_matches('#').trim()))
    } else {
        None
    }
}

/// Cuts a document into chunks (see the module's doc).
#[must_use]
pub fn chunks(content: &str, format: Format) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut paragraphs: Vec<String> = Vec::new();
    let mut current = String::new();
    let flush_paragraph = |current: &mut String, paragraphs: &mut Vec<String>| {
        let p = current.split_whitespace().collect::<Vec<_>>().join(" ");
        if !p.is_empty() {
            paragraphs.push(p);
        }
        current.clear();
    };
    for line in content.lines() {
        if format == Format::Markdown
            && let Some((level, text)) = heading(line)
        {
            flush_paragraph(&mut current, &mut paragraphs);
            pack(&mut out, heading_of(&path), std::mem::take(&mut paragraphs));
            path.retain(|(l, _)| *l < level);
            if !text.is_empty() {
                path.push((level, text.to_owned()));
            }
            continue;
        }
        if line.trim().is_empty() {
            flush_paragraph(&mut current, &mut paragraphs);
        } else {
            current.push_str(line.trim());
            current.push('\n');
        }
    }
    flush_paragraph(&mut current, &mut paragraphs);
    pack(&mut out, heading_of(&path), paragraphs);
    out
}

fn heading_of(path: &[(usize, String)]) -> Option<String> {
    (!path.is_empty()).then(|| path.iter().map(|(_, t)| t.as_str()).collect::<Vec<_>>().join(" > "))
}

/// Packs a section's paragraphs into chunks of at most [`CHUNK_CHARS`].
fn pack(out: &mut Vec<Chunk>, heading: Option<String>, paragraphs: Vec<String>) {
    let mut text = String::new();
    let mut push = |text: &mut String| {
        if !text.is_empty() {
            out.push(Chunk {
                heading: heading.clone(),
                text: std::mem::take(text),
            });
        }
    };
    for p in paragraphs {
        for piece in split_long(&p) {
            if !text.is_empty() && text.chars().count() + 1 + piece.chars().count() > CHUNK_CHARS {
                push(&mut text);
            }
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&piece);
        }
    }
    push(&mut text);
}

/// A paragraph longer than a chunk, cut between sentences (or, for a sentence longer
/// than a chunk, between words).
fn split_long(p: &str) -> Vec<String> {
    if p.chars().count() <= CHUNK_CHARS {
        return vec![p.to_owned()];
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    for word in p.split(' ') {
        let ends_sentence = word.ends_with(['.', '!', '?']);
        if !cur.is_empty() && cur.chars().count() + 1 + word.chars().count() > CHUNK_CHARS {
            out.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
        // Prefer to end a piece at a sentence's end once it is well filled.
        if ends_sentence && cur.chars().count() > CHUNK_CHARS * 3 / 4 {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_sections_become_chunks_with_their_headings() {
        let doc = "# Acme Plumbing\nWe fix pipes.\n\n## Prices\nCall-out fee is $80.\n\n### Emergencies\nNights cost double.\n\n## Area\nWe serve Springfield.\r\n";
        let d = NewDocument::parse("FAQ", doc, None).unwrap();
        assert_eq!(d.format, Format::Markdown);
        let got: Vec<(Option<&str>, &str)> = d
            .chunks
            .iter()
            .map(|c| (c.heading.as_deref(), c.text.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("Acme Plumbing"), "We fix pipes."),
                (Some("Acme Plumbing > Prices"), "Call-out fee is $80."),
                (Some("Acme Plumbing > Prices > Emergencies"), "Nights cost double."),
                (Some("Acme Plumbing > Area"), "We serve Springfield."),
            ]
        );
        assert!(!d.content.contains('\r'));
    }

    #[test]
    fn text_paragraphs_are_packed_and_long_ones_cut_between_sentences() {
        let sentence = "The quick brown fox jumps over the lazy dog again and again. ";
        let long = sentence.repeat(40);
        let doc = format!("Short one.\n\nShort two.\n\n{long}");
        let d = NewDocument::parse("Notes", &doc, Some("text")).unwrap();
        assert_eq!(d.format, Format::Text);
        assert!(d.chunks.len() >= 3, "{:?}", d.chunks.len());
        assert!(d.chunks[0].text.starts_with("Short one.\nShort two."));
        for c in &d.chunks {
            assert!(c.text.chars().count() <= CHUNK_CHARS, "{}", c.text.len());
            assert!(c.heading.is_none());
        }
        // Cut at sentence ends, never mid-word.
        for c in &d.chunks[1..] {
            assert!(c.text.trim_end().ends_with('.'), "{}", c.text);
        }
        // Nothing is lost.
        let words: usize = d.chunks.iter().map(|c| c.text.split_whitespace().count()).sum();
        assert_eq!(words, doc.split_whitespace().count());
    }

    #[test]
    fn bad_documents_are_refused_with_the_field() {
        assert_eq!(NewDocument::parse(" ", "x", None).unwrap_err().field, "title");
        assert_eq!(NewDocument::parse("t", "  \n ", None).unwrap_err().field, "content");
        assert_eq!(NewDocument::parse("t", "x", Some("pdf")).unwrap_err().field, "format");
        let big = "a".repeat(MAX_DOCUMENT_BYTES + 1);
        assert!(NewDocument::parse("t", &big, None).unwrap_err().message.contains("KiB"));
        assert_eq!(Format::parse("MD").unwrap(), Format::Markdown);
        // `#hashtag` is not a heading.
        assert_eq!(
            NewDocument::parse("t", "#nofilter\ntext", None).unwrap().format,
            Format::Text
        );
    }
}
