//! How well knowledge retrieval finds the entry a caller means when they word it their
//! own way: the paraphrased questions of `tests/conversations/knowledge_paraphrases.jsonl`
//! (written against the example agents' entries, apart from the retrieval code) run
//! through the rules brain's lookup (`frontdesk_agent::knowledge::lookup`).
//!
//! `knowledge-bench [DIR]` (default `tests/conversations`): prints each miss and the
//! totals: questions with an answer found (right entry), wrong entry, none found; and
//! questions without an answer that got one anyway (false answers). Issue 14 reports it
//! before and after the retrieval changes.
//!
//! Two more sets, reported apart: `knowledge_dev.jsonl`, paraphrases the retrieval was
//! developed against (so not a held-out measure), and `knowledge_documents.jsonl`,
//! questions about the documents of `documents/<agent>.md` (some that nothing answers),
//! run through the whole answer (`Index::with_documents`, then `answer`): right when
//! the answer holds the `expect` text, false when a question without one gets one.

#![allow(clippy::print_stdout, reason = "a benchmark tool")]

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use frontdesk_agent::knowledge::Index;
use frontdesk_core::agent::AgentConfig;
use frontdesk_core::knowledge::NewDocument;
use serde_json::Value;

fn agent(dir: &Path, agent: &str) -> Result<AgentConfig, String> {
    let file = dir.join("agents").join(format!("{agent}.json"));
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?)
            .map_err(|e| format!("{}: {e}", file.display()))?;
    Ok(AgentConfig::parse(&v)
        .map_err(|e| format!("{}: {e}", file.display()))?
        .config)
}

fn documents(dir: &Path) -> Result<(), String> {
    let path = dir.join("knowledge_documents.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut right, mut wrong, mut none, mut answerable, mut false_answers, mut unanswerable) = (0, 0, 0, 0, 0, 0);
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = format!("{}:{}", path.display(), n + 1);
        let case: Value = serde_json::from_str(line).map_err(|e| format!("{at}: {e}"))?;
        let name = case["agent"].as_str().ok_or_else(|| format!("{at}: no agent"))?;
        let question = case["question"].as_str().ok_or_else(|| format!("{at}: no question"))?;
        let expected = case["expect"].as_str();
        let cfg = agent(dir, name)?;
        let file = dir.join("documents").join(format!("{name}.md"));
        let content = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let chunks = NewDocument::parse(name, &content, None)
            .map_err(|e| format!("{}: {e}", file.display()))?
            .chunks;
        let got = Index::with_documents(&cfg.knowledge, &cfg.business, &chunks).answer(question);
        match (expected, &got) {
            (Some(e), Some(g)) if g.contains(e) => right += 1,
            (Some(_), Some(g)) => {
                wrong += 1;
                println!("wrong  {name}: {question:?} -> {g:?}");
            }
            (Some(_), None) => {
                none += 1;
                println!("missed {name}: {question:?}");
            }
            (None, Some(g)) => {
                false_answers += 1;
                println!("false  {name}: {question:?} -> {g:?}");
            }
            (None, None) => {}
        }
        if expected.is_some() {
            answerable += 1;
        } else {
            unanswerable += 1;
        }
    }
    println!(
        "documents: {right}/{answerable} answered right, {wrong} wrongly, {none} not; \
         unanswerable: {false_answers}/{unanswerable} got an answer anyway"
    );
    Ok(())
}

fn run(dir: &Path, set: &str) -> Result<(), String> {
    let path = dir.join(set);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let (mut right, mut wrong, mut none, mut answerable, mut false_answers, mut unanswerable) = (0, 0, 0, 0, 0, 0);
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = format!("{}:{}", path.display(), n + 1);
        let case: Value = serde_json::from_str(line).map_err(|e| format!("{at}: {e}"))?;
        let agent = case["agent"].as_str().ok_or_else(|| format!("{at}: no agent"))?;
        let question = case["question"].as_str().ok_or_else(|| format!("{at}: no question"))?;
        let expected = case["entry"].as_u64().map(|e| usize::try_from(e).unwrap_or(usize::MAX));
        let cfg = self::agent(dir, agent)?;
        let got = frontdesk_agent::knowledge::lookup(&cfg.knowledge, question);
        let entry = |i: usize| cfg.knowledge.get(i).map_or("?", |k| k.question.as_str());
        match (expected, got) {
            (Some(e), Some(g)) if e == g => right += 1,
            (Some(e), Some(g)) => {
                wrong += 1;
                println!("wrong  {agent}: {question:?} -> {:?} (meant {:?})", entry(g), entry(e));
            }
            (Some(e), None) => {
                none += 1;
                println!("missed {agent}: {question:?} (meant {:?})", entry(e));
            }
            (None, Some(g)) => {
                false_answers += 1;
                println!("false  {agent}: {question:?} -> {:?}", entry(g));
            }
            (None, None) => {}
        }
        if expected.is_some() {
            answerable += 1;
        } else {
            unanswerable += 1;
        }
    }
    println!(
        "{set}: answerable: {right}/{answerable} found the right entry, {wrong} a wrong one, {none} none; \
         unanswerable: {false_answers}/{unanswerable} got an answer anyway"
    );
    Ok(())
}

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| PathBuf::from("tests/conversations"), PathBuf::from);
    let all = run(&dir, "knowledge_paraphrases.jsonl")
        .and_then(|()| run(&dir, "knowledge_dev.jsonl"))
        .and_then(|()| documents(&dir));
    match all {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
