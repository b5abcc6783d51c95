//! What a language model gets for an agent (SPEC section 8): the system prompt built
//! from the configuration, and the tools it may call: the built-in ones by their SPEC
//! names (`set_field`, `set_call_type`, `transfer_call`, `take_message`,
//! `search_knowledge`, `end_call`) and the agent's HTTP tools under their `tool_name`.
//! The model acts only through these tools; what it sets is checked as the rules
//! brain's values are.

use std::fmt::Write as _;

use frontdesk_core::agent::AgentConfig;
use frontdesk_core::fields::FieldType;
use serde_json::json;

use frontdesk_core::knowledge::Chunk;

use crate::completion::ToolSchema;

/// The built-in tools' names, in the order offered.
pub const BUILT_IN_TOOLS: [&str; 6] = [
    "set_field",
    "set_call_type",
    "transfer_call",
    "take_message",
    "search_knowledge",
    "end_call",
];

/// The system prompt for an agent.
#[must_use]
pub fn system_prompt(cfg: &AgentConfig) -> String {
    system_prompt_with(cfg, &[])
}

/// The topics of an agent's documents, for the prompt: each chunk's top heading (or
/// its first words), once each, at most 20.
fn document_topics(documents: &[Chunk]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in documents {
        let topic = match &c.heading {
            Some(h) => h.split(" > ").next().unwrap_or(h).trim().to_owned(),
            None => c.text.split_whitespace().take(8).collect::<Vec<_>>().join(" "),
        };
        if !topic.is_empty() && !out.contains(&topic) {
            out.push(topic);
        }
        if out.len() >= 20 {
            break;
        }
    }
    out
}

/// The system prompt for an agent with these documents (cut into chunks): the
/// knowledge summary names the documents' topics too.
#[must_use]
pub fn system_prompt_with(cfg: &AgentConfig, documents: &[Chunk]) -> String {
    let mut p = String::new();
    let _ = writeln!(
        p,
        "You are the phone receptionist of {}. You are on a live phone call: answer in one or two short, \
         plain sentences that sound natural when spoken; no lists, no markdown, no emoji.",
        cfg.name
    );
    let b = &cfg.business;
    for (label, value) in [
        ("Owner", &b.owner_name),
        ("Opening hours", &b.hours),
        ("Website", &b.website),
        ("Booking", &b.booking_url),
    ] {
        if let Some(v) = value {
            let _ = writeln!(p, "{label}: {v}");
        }
    }
    let _ = writeln!(p, "\nThe call opened with: \"{}\"", cfg.greeting);
    if !cfg.data_to_collect.is_empty() {
        p.push_str(
            "\nCollect these details, one question at a time, and record each with set_field as soon as the caller gives it \
             (a value the tool refuses was not stored: ask again):\n",
        );
        for f in &cfg.data_to_collect {
            let _ = write!(
                p,
                "- {} ({}{}): ask \"{}\"",
                f.field,
                type_words(&f.kind),
                if f.required { ", required" } else { ", optional" },
                f.question
            );
            if let Some(d) = &f.description {
                let _ = write!(p, "; {d}");
            }
            p.push('\n');
        }
    }
    if !cfg.call_types.is_empty() {
        p.push_str("\nDecide what kind of call this is and record it with set_call_type:\n");
        for t in &cfg.call_types {
            let _ = write!(p, "- {}: {}", t.name, t.description);
            match t.action {
                Some(frontdesk_core::agent::config::CallAction::Transfer) => p.push_str(" (transfer these calls)"),
                Some(frontdesk_core::agent::config::CallAction::Message) => p.push_str(" (take a message)"),
                None => {}
            }
            p.push('\n');
        }
    }
    match &cfg.transfer {
        Some(t) if !t.triggers.is_empty() => {
            let _ = writeln!(
                p,
                "\nTransfer the call with transfer_call when the caller asks for a person or mentions: {}.",
                t.triggers.join(", ")
            );
        }
        Some(_) => p.push_str("\nTransfer the call with transfer_call when the caller asks for a person.\n"),
        None => p.push_str("\nNobody can take a transfer: offer to take a message with take_message instead.\n"),
    }
    let topics = document_topics(documents);
    if !cfg.knowledge.is_empty() || !topics.is_empty() {
        p.push_str(
            "\nAnswer questions only from what you know here or find with search_knowledge; if neither has it, say you \
             will pass the question on, and never make up prices, times or promises.",
        );
        if cfg.knowledge.is_empty() {
            p.push('\n');
        } else {
            p.push_str(" You know:\n");
        }
        for k in &cfg.knowledge {
            let _ = writeln!(p, "- {}", k.question);
        }
    }
    if !topics.is_empty() {
        let _ = writeln!(
            p,
            "The business's documents cover (find the details with search_knowledge): {}.",
            topics.join("; ")
        );
    }
    if !cfg.tools.is_empty() {
        p.push_str("\nYou can also use these tools of the business:\n");
        for t in &cfg.tools {
            let _ = writeln!(p, "- {}: {}", t.tool_name, t.description);
        }
    }
    let _ = write!(
        p,
        "\nWhen everything is collected and the caller has nothing else, say goodbye (\"{}\") and call end_call.",
        cfg.closing
    );
    p
}

fn type_words(kind: &FieldType) -> String {
    match kind {
        FieldType::Enum { options } => format!("one of: {}", options.join(", ")),
        other => other.name().to_owned(),
    }
}

/// The tools offered to the model: the built-in ones, then the agent's HTTP tools.
#[must_use]
pub fn tools(cfg: &AgentConfig) -> Vec<ToolSchema> {
    let fields: Vec<&str> = cfg.data_to_collect.iter().map(|f| f.field.as_str()).collect();
    let types: Vec<&str> = cfg.call_types.iter().map(|t| t.name.as_str()).collect();
    let mut out = vec![
        ToolSchema::function(
            "set_field",
            "Record a detail the caller gave. The value is checked; an error names what is wrong and nothing is stored.",
            json!({"type": "object", "properties": {
                "field": {"type": "string", "enum": fields},
                "value": {"type": "string", "description": "As the caller said it."}
            }, "required": ["field", "value"]}),
        ),
        ToolSchema::function(
            "set_call_type",
            "Record what kind of call this is.",
            json!({"type": "object", "properties": {"call_type": {"type": "string", "enum": types}}, "required": ["call_type"]}),
        ),
        ToolSchema::function(
            "transfer_call",
            "Transfer the caller to a person.",
            json!({"type": "object", "properties": {"reason": {"type": "string"}}, "required": ["reason"]}),
        ),
        ToolSchema::function(
            "take_message",
            "Take a message for the business.",
            json!({"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]}),
        ),
        ToolSchema::function(
            "search_knowledge",
            "Look up the business's knowledge (entries and documents) for an answer.",
            json!({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}),
        ),
        ToolSchema::function(
            "end_call",
            "End the call after saying goodbye.",
            json!({"type": "object", "properties": {}}),
        ),
    ];
    out.extend(cfg.tools.iter().map(ToolSchema::from_tool));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> AgentConfig {
        AgentConfig::parse(&json!({
            "name": "Acme Plumbing",
            "business": {"hours": "Mon-Fri 8-6"},
            "data_to_collect": [
                {"field": "first_name", "type": "name", "question": "May I have your name?", "required": true},
                {"field": "urgency", "type": "enum", "options": ["low", "high"], "question": "How urgent is it?", "required": false}
            ],
            "call_types": [{"name": "emergency", "description": "A burst pipe or flooding", "action": "transfer"}],
            "transfer": {"number": "+15550100001", "triggers": ["manager"]},
            "knowledge": [{"question": "Are you licensed?", "answer": "Yes."}],
            "tools": [{"type": "http", "tool_name": "check_slots", "description": "Free appointment slots", "http_method": "GET", "url": "https://example.com/slots"}]
        }))
        .expect("valid")
        .config
    }

    #[test]
    fn the_prompt_says_what_the_agent_is_configured_with() {
        let p = system_prompt(&cfg());
        for part in [
            "receptionist of Acme Plumbing",
            "Opening hours: Mon-Fri 8-6",
            "- first_name (name, required): ask \"May I have your name?\"",
            "- urgency (one of: low, high, optional)",
            "- emergency: A burst pipe or flooding (transfer these calls)",
            "mentions: manager",
            "- Are you licensed?",
            "- check_slots: Free appointment slots",
            "call end_call",
        ] {
            assert!(p.contains(part), "{part:?} missing from:\n{p}");
        }
        assert!(
            !p.contains("Yes."),
            "answers stay out of the prompt (search_knowledge finds them)"
        );
    }

    #[test]
    fn the_prompt_names_the_documents_topics() {
        let docs = [
            Chunk {
                heading: Some("Insurance > Plans we take".into()),
                text: "We take Delta and Aetna.".into(),
            },
            Chunk {
                heading: Some("Insurance > Payment".into()),
                text: "Cards and cash.".into(),
            },
            Chunk {
                heading: None,
                text: "Parking is free behind the building for all patients.".into(),
            },
        ];
        let p = system_prompt_with(&cfg(), &docs);
        assert!(
            p.contains("documents cover (find the details with search_knowledge): Insurance; Parking is free behind the building for all."),
            "{p}"
        );
        assert!(!system_prompt(&cfg()).contains("documents cover"));
    }

    #[test]
    fn the_tools_are_the_built_ins_then_the_agents() {
        let t = tools(&cfg());
        let names: Vec<&str> = t.iter().map(|t| t.function.name.as_str()).collect();
        assert_eq!(names[..6], BUILT_IN_TOOLS);
        assert_eq!(names[6], "check_slots");
        assert_eq!(
            t[0].function.parameters["properties"]["field"]["enum"],
            json!(["first_name", "urgency"])
        );
        assert_eq!(
            t[1].function.parameters["properties"]["call_type"]["enum"],
            json!(["emergency"])
        );
    }
}
