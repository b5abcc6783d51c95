//! An agent's configuration (SPEC.md section 4), parsed and validated.
//!
//! [`AgentConfig::parse`] reads the JSON a user sends to `/v1/agents` and either returns a
//! validated configuration (with warnings for keys it does not know, which it ignores) or
//! one [`ValidationError`] whose `field` is the exact path of the problem
//! (`data_to_collect[2].type`, `closing`) and whose message says how to fix it. A
//! configuration serialises back to the same JSON shape, with defaults filled in.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::ValidationError;
use crate::fields::FieldType;
use crate::input;
use crate::net::TargetPolicy;
use crate::phone::PhoneNumber;
use crate::template;

/// Template variables every speech template and tool may use, besides the business
/// details and the collected fields.
pub const CALL_VARIABLES: [&str; 8] = [
    "caller_number",
    "caller_name",
    "caller_email",
    "receiving_number",
    "call_id",
    "call_type",
    "agent_name",
    "message",
];

/// Business details an agent's templates may use.
pub const BUSINESS_VARIABLES: [&str; 4] = ["owner_name", "website", "booking_url", "hours"];

/// Names a collected field may not take: `message` is what `awaiting_field` says while a
/// message is taken, and the message's own template variable. (A field may take any other
/// name, `owner_name` included: in the agent's speech a collected field wins over a
/// business detail of the same name.)
const RESERVED_FIELDS: [&str; 1] = ["message"];

// Limits on what a tenant configures: each keeps the engine's work per turn small and
// is refused with a 422 naming it.
const MAX_FIELDS: usize = 50;
const MAX_OPTIONS: usize = 100;
const MAX_CALL_TYPES: usize = 50;
const MAX_KEYWORDS: usize = 50;
const MAX_TRIGGERS: usize = 50;
const MAX_KNOWLEDGE: usize = 500;
const MAX_TOOLS: usize = 20;
const MAX_PARAMETERS: usize = 30;
/// Longest text (greeting, question, answer, description).
const MAX_TEXT: usize = 2000;
/// Longest label (an option, keyword, trigger or name).
const MAX_LABEL: usize = 100;
/// Largest whole configuration, as compact JSON with defaults filled in.
pub const MAX_AGENT_BYTES: usize = 256 * 1024;
/// Default time a tool has to answer.
pub const DEFAULT_TOOL_TIMEOUT_MS: u64 = 5000;
const MAX_TOOL_TIMEOUT_MS: u64 = 30_000;

/// The business the receptionist answers for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub booking_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
}

/// One field the receptionist collects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    /// Its name in `custom_fields`, events and templates.
    pub field: String,
    /// What the receptionist asks.
    pub question: String,
    pub kind: FieldType,
    pub required: bool,
    /// Optional hint of what the field means.
    pub description: Option<String>,
}

impl Serialize for FieldSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = Map::new();
        m.insert("field".into(), Value::from(self.field.clone()));
        m.insert("question".into(), Value::from(self.question.clone()));
        m.insert("type".into(), Value::from(self.kind.name()));
        if let FieldType::Enum { options } = &self.kind {
            m.insert("options".into(), Value::from(options.clone()));
        }
        m.insert("required".into(), Value::from(self.required));
        if let Some(d) = &self.description {
            m.insert("description".into(), Value::from(d.clone()));
        }
        m.serialize(s)
    }
}

/// What happens as soon as a call is classified as a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallAction {
    /// Transfer to the agent's transfer number at once.
    Transfer,
    /// Take a message.
    Message,
}

/// A kind of call the receptionist recognises.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallType {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<CallAction>,
}

/// Where and when to hand a call to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferSpec {
    /// E.164.
    pub number: String,
    /// Words or phrases with which a caller asks for a person.
    #[serde(default)]
    pub triggers: Vec<String>,
}

/// A question the receptionist can answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnowledgeEntry {
    pub question: String,
    pub answer: String,
}

/// The method of an HTTP tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ToolMethod {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl ToolMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "GET" => Self::Get,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            _ => return None,
        })
    }
}

/// A parameter of a tool, filled from a collected field (or call variable) of that name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolParameter {
    pub name: String,
    #[serde(rename = "type", default = "default_param_type")]
    pub kind: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "yes")]
    pub required: bool,
}

fn default_param_type() -> String {
    "string".into()
}

fn yes() -> bool {
    true
}

/// An HTTP tool the receptionist calls during a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolSpec {
    #[serde(rename = "type")]
    pub kind: String,
    pub tool_name: String,
    #[serde(default)]
    pub description: String,
    pub http_method: ToolMethod,
    /// May hold `{{variables}}`.
    pub url: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default)]
    pub body_template: Option<Value>,
    #[serde(default)]
    pub parameters: Vec<ToolParameter>,
    pub timeout_ms: u64,
}

/// Which brain runs the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrainKind {
    /// Deterministic, offline, built in.
    #[default]
    Rules,
    /// An OpenAI-compatible model, falling back to `rules`.
    Llm,
    /// The rules every turn; the model only where the rules are unsure.
    Hybrid,
}

impl BrainKind {
    /// The name, as configured.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rules => "rules",
            Self::Llm => "llm",
            Self::Hybrid => "hybrid",
        }
    }

    /// Whether the brain asks a model.
    #[must_use]
    pub fn uses_model(self) -> bool {
        !matches!(self, Self::Rules)
    }
}

/// An agent's model settings (`"llm"`), over the server's `FRONTDESK_LLM_*` ones
/// (SPEC section 8). Keys left out take the server's.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct LlmSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The environment variable holding the API key (the key itself is never stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Tried in order when the main endpoint fails.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fallbacks: Vec<LlmEndpoint>,
}

/// A fallback model endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LlmEndpoint {
    pub base_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
}

/// At most this many fallback endpoints.
pub const MAX_LLM_FALLBACKS: usize = 4;

/// A validated agent configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentConfig {
    pub name: String,
    pub business: BusinessInfo,
    pub greeting: String,
    pub data_to_collect: Vec<FieldSpec>,
    pub call_types: Vec<CallType>,
    pub transfer: Option<TransferSpec>,
    pub knowledge: Vec<KnowledgeEntry>,
    pub tools: Vec<ToolSpec>,
    pub closing: String,
    pub brain: BrainKind,
    /// Model settings over the server's (for `llm` and `hybrid`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm: Option<LlmSettings>,
}

/// A configuration that passed validation, and what was ignored on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub config: AgentConfig,
    /// One line per ignored key (`unknown key "greting" ignored`).
    pub warnings: Vec<String>,
}

const TOP_KEYS: [&str; 11] = [
    "name",
    "business",
    "greeting",
    "data_to_collect",
    "call_types",
    "transfer",
    "knowledge",
    "tools",
    "closing",
    "brain",
    "llm",
];

fn err(path: impl Into<String>, message: impl Into<String>) -> ValidationError {
    ValidationError::new(path, message)
}

/// Reads one JSON object, noting keys nobody asked for.
struct Reader<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Reader<'a> {
    fn new(path: String, v: &'a Value) -> Result<Self, ValidationError> {
        match v {
            Value::Object(map) => Ok(Self { path, map }),
            other => Err(err(path, format!("must be an object, not {}", kind_of(other)))),
        }
    }

    fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn warn_unknown(&self, known: &[&str], warnings: &mut Vec<String>) {
        for k in self.map.keys() {
            if !known.contains(&k.as_str()) {
                warnings.push(format!("unknown key `{}` ignored", self.at(k)));
            }
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// A text (line breaks allowed); `None` when absent or blank.
    fn string(&self, key: &str) -> Result<Option<String>, ValidationError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => {
                let t = input::text(&self.at(key), s, MAX_TEXT)?;
                Ok((!t.is_empty()).then_some(t))
            }
            Some(other) => Err(err(self.at(key), format!("must be a string, not {}", kind_of(other)))),
        }
    }

    /// A one-line label (a name); `None` when absent or blank.
    fn label(&self, key: &str, max: usize) -> Result<Option<String>, ValidationError> {
        match self.string(key)? {
            None => Ok(None),
            Some(s) => input::single_line(&self.at(key), &s, max).map(Some),
        }
    }

    fn required_string(&self, key: &str, hint: &str) -> Result<String, ValidationError> {
        self.string(key)?
            .ok_or_else(|| err(self.at(key), format!("is required: {hint}")))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>, ValidationError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(err(
                self.at(key),
                format!("must be true or false, not {}", kind_of(other)),
            )),
        }
    }

    fn array(&self, key: &str) -> Result<&'a [Value], ValidationError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(other) => Err(err(self.at(key), format!("must be a list, not {}", kind_of(other)))),
        }
    }

    /// A list of at most `max` one-line labels.
    fn strings(&self, key: &str, max: usize) -> Result<Vec<String>, ValidationError> {
        let list = self.array(key)?;
        if list.len() > max {
            return Err(err(
                self.at(key),
                format!("has {} entries; at most {max} are allowed", list.len()),
            ));
        }
        let mut out = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            match v {
                Value::String(s) => out.push(input::single_line(&format!("{}[{i}]", self.at(key)), s, MAX_LABEL)?),
                other => {
                    return Err(err(
                        format!("{}[{i}]", self.at(key)),
                        format!("must be a string, not {}", kind_of(other)),
                    ));
                }
            }
        }
        Ok(out)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Whether `s` is a name usable as a field, parameter or type name: a letter, then
/// letters, digits or underscores, at most 64.
fn identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 64
}

fn check_identifier(path: String, s: &str, what: &str) -> Result<(), ValidationError> {
    if identifier(s) {
        Ok(())
    } else {
        Err(err(
            path,
            format!(
                "`{s}` is not a valid {what}: start with a letter and use only letters, digits and underscores (at most 64), for example `first_name`"
            ),
        ))
    }
}

/// Checks that a template names only variables in `known`.
fn check_template(path: &str, text: &str, known: &HashSet<String>) -> Result<(), ValidationError> {
    for name in template::referenced(text) {
        let canonical = name.trim().replace(' ', "_");
        if !known.contains(&canonical) {
            let mut names: Vec<&str> = known.iter().map(String::as_str).collect();
            names.sort_unstable();
            return Err(err(
                path,
                format!(
                    "`{{{{{name}}}}}` is not a variable this agent has; use one of: {}",
                    names.join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn check_json_template(path: &str, v: &Value, known: &HashSet<String>) -> Result<(), ValidationError> {
    match v {
        Value::String(s) => check_template(path, s, known),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .try_for_each(|(i, x)| check_json_template(&format!("{path}[{i}]"), x, known)),
        Value::Object(m) => m.iter().try_for_each(|(k, x)| {
            check_template(&format!("{path}.{k}"), k, known)?;
            check_json_template(&format!("{path}.{k}"), x, known)
        }),
        _ => Ok(()),
    }
}

/// The question asked for a field configured without one.
fn default_question(field: &str, kind: &FieldType) -> String {
    let label = field.replace('_', " ");
    match kind {
        FieldType::Boolean => format!("Could you tell me: {label}, yes or no?"),
        FieldType::Enum { options } => format!("What {label} is it: {}?", options.join(", ")),
        _ => format!("Could you tell me your {label}?"),
    }
}

impl AgentConfig {
    /// Parses and validates a configuration.
    pub fn parse(v: &Value) -> Result<Parsed, ValidationError> {
        let mut warnings = Vec::new();
        let top = Reader::new(String::new(), v).map_err(|e| e.for_field("body"))?;
        top.warn_unknown(&TOP_KEYS, &mut warnings);

        let business = match top.get("business") {
            None => BusinessInfo::default(),
            Some(b) => {
                let r = Reader::new("business".into(), b)?;
                r.warn_unknown(&BUSINESS_VARIABLES, &mut warnings);
                BusinessInfo {
                    owner_name: r.string("owner_name")?,
                    website: r.string("website")?,
                    booking_url: r.string("booking_url")?,
                    hours: r.string("hours")?,
                }
            }
        };
        let name = match top.label("name", MAX_LABEL)? {
            Some(n) => n,
            None => business
                .owner_name
                .as_deref()
                .map(|o| input::single_line("business.owner_name", o, MAX_LABEL))
                .transpose()?
                .ok_or_else(|| {
                    err(
                        "name",
                        "is required: give the agent a name, for example \"Acme front desk\"",
                    )
                })?,
        };

        let data_to_collect = parse_fields(&top, &mut warnings)?;
        let transfer = match top.get("transfer") {
            None => None,
            Some(t) => {
                let r = Reader::new("transfer".into(), t)?;
                r.warn_unknown(&["number", "triggers"], &mut warnings);
                let number = r.required_string(
                    "number",
                    "the E.164 number calls are transferred to, for example \"+15557654321\"",
                )?;
                let number = PhoneNumber::parse(&number)
                    .map_err(|e| e.for_field("transfer.number"))?
                    .as_str()
                    .to_owned();
                Some(TransferSpec {
                    number,
                    triggers: r.strings("triggers", MAX_TRIGGERS)?,
                })
            }
        };
        let call_types = parse_call_types(&top, transfer.is_some(), &mut warnings)?;
        let knowledge = parse_knowledge(&top, &mut warnings)?;
        let tools = parse_tools(&top, &mut warnings)?;

        let brain = match top.string("brain")?.as_deref() {
            None | Some("rules") => BrainKind::Rules,
            Some("llm") => BrainKind::Llm,
            Some("hybrid") => BrainKind::Hybrid,
            Some(other) => {
                return Err(err(
                    "brain",
                    format!("`{other}` is not a brain; use \"rules\" (built in), \"llm\" or \"hybrid\""),
                ));
            }
        };
        let llm = parse_llm(&top, &mut warnings)?;

        let greeting = top.string("greeting")?.unwrap_or_else(|| {
            if business.owner_name.is_some() {
                "Thanks for calling {{owner_name}}, how can I help you today?".to_owned()
            } else {
                "Thanks for calling, how can I help you today?".to_owned()
            }
        });
        let closing = top
            .string("closing")?
            .unwrap_or_else(|| "Thanks for calling. We'll be in touch soon. Goodbye!".to_owned());

        let config = Self {
            name,
            business,
            greeting,
            data_to_collect,
            call_types,
            transfer,
            knowledge,
            tools,
            closing,
            brain,
            llm,
        };
        config.check_templates()?;
        let size = serde_json::to_vec(&config.to_json()).map_or(usize::MAX, |v| v.len());
        if size > MAX_AGENT_BYTES {
            return Err(err(
                "body",
                format!(
                    "the configuration is {} KiB; an agent is at most {} KiB (knowledge answers are usually the bulk: shorten them)",
                    size.div_ceil(1024),
                    MAX_AGENT_BYTES / 1024
                ),
            ));
        }
        Ok(Parsed { config, warnings })
    }

    /// Checks that every tool URL may be called under the SSRF policy (a literal
    /// address the policy refuses is refused here, as it is for webhooks; host names are
    /// checked again at every connect).
    pub fn check_targets(&self, policy: &TargetPolicy) -> Result<(), ValidationError> {
        for (i, t) in self.tools.iter().enumerate() {
            input::target_url(&format!("tools[{i}].url"), &t.url, policy)?;
        }
        if let Some(llm) = &self.llm {
            if let Some(u) = &llm.base_url {
                input::target_url("llm.base_url", u, policy)?;
            }
            for (i, f) in llm.fallbacks.iter().enumerate() {
                input::target_url(&format!("llm.fallbacks[{i}].base_url"), &f.base_url, policy)?;
            }
        }
        Ok(())
    }

    /// Variables the agent's speech templates may use.
    #[must_use]
    pub fn speech_variables(&self) -> HashSet<String> {
        let mut known: HashSet<String> = CALL_VARIABLES
            .iter()
            .chain(BUSINESS_VARIABLES.iter())
            .map(|s| (*s).to_owned())
            .collect();
        known.extend(self.data_to_collect.iter().map(|f| f.field.clone()));
        known
    }

    fn check_templates(&self) -> Result<(), ValidationError> {
        let known = self.speech_variables();
        check_template("greeting", &self.greeting, &known)?;
        check_template("closing", &self.closing, &known)?;
        for (i, f) in self.data_to_collect.iter().enumerate() {
            check_template(&format!("data_to_collect[{i}].question"), &f.question, &known)?;
        }
        for (i, k) in self.knowledge.iter().enumerate() {
            check_template(&format!("knowledge[{i}].answer"), &k.answer, &known)?;
        }
        for (i, t) in self.tools.iter().enumerate() {
            let mut known = known.clone();
            known.extend(t.parameters.iter().map(|p| p.name.clone()));
            check_template(&format!("tools[{i}].url"), &t.url, &known)?;
            for (h, v) in &t.headers {
                check_template(&format!("tools[{i}].headers.{h}"), v, &known)?;
            }
            if let Some(b) = &t.body_template {
                check_json_template(&format!("tools[{i}].body_template"), b, &known)?;
            }
        }
        Ok(())
    }

    /// The field with this name.
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.data_to_collect.iter().find(|f| f.field == name)
    }

    /// The call type with this name.
    #[must_use]
    pub fn call_type(&self, name: &str) -> Option<&CallType> {
        self.call_types.iter().find(|t| t.name == name)
    }

    /// The configuration as JSON (the shape [`AgentConfig::parse`] reads).
    #[must_use]
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// An `http(s)://` base URL, without a trailing slash.
fn base_url(path: String, s: &str) -> Result<String, ValidationError> {
    let s = s.trim().trim_end_matches('/');
    let ok = (s.starts_with("http://") || s.starts_with("https://")) && !s.contains(char::is_whitespace);
    if !ok {
        return Err(err(
            path,
            format!(
                "`{s}` is not a base URL; give the server's http(s) address up to `/v1`, for example \"http://127.0.0.1:11434/v1\""
            ),
        ));
    }
    Ok(s.to_owned())
}

/// An environment variable's name.
fn env_name(path: String, s: &str) -> Result<String, ValidationError> {
    let ok = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.len() <= 128;
    if !ok {
        return Err(err(
            path,
            format!(
                "`{s}` is not an environment variable's name; name the variable that holds the key, for example \"OPENAI_API_KEY\" (never the key itself)"
            ),
        ));
    }
    Ok(s.to_owned())
}

fn parse_llm(top: &Reader<'_>, warnings: &mut Vec<String>) -> Result<Option<LlmSettings>, ValidationError> {
    let Some(v) = top.get("llm") else {
        return Ok(None);
    };
    let r = Reader::new("llm".into(), v)?;
    r.warn_unknown(
        &["base_url", "model", "api_key_env", "temperature", "fallbacks"],
        warnings,
    );
    let temperature = match r.get("temperature") {
        None => None,
        Some(Value::Number(n)) => match n.as_f64() {
            #[allow(clippy::cast_possible_truncation)]
            Some(t) if (0.0..=2.0).contains(&t) => Some(t as f32),
            _ => return Err(err(r.at("temperature"), "must be between 0 and 2")),
        },
        Some(other) => {
            return Err(err(
                r.at("temperature"),
                format!("must be a number between 0 and 2, not {}", kind_of(other)),
            ));
        }
    };
    let list = r.array("fallbacks")?;
    if list.len() > MAX_LLM_FALLBACKS {
        return Err(err(
            r.at("fallbacks"),
            format!("has {} endpoints; at most {MAX_LLM_FALLBACKS} are allowed", list.len()),
        ));
    }
    let mut fallbacks = Vec::with_capacity(list.len());
    for (i, f) in list.iter().enumerate() {
        let fr = Reader::new(format!("llm.fallbacks[{i}]"), f)?;
        fr.warn_unknown(&["base_url", "model", "api_key_env"], warnings);
        let url = fr.required_string(
            "base_url",
            "the fallback server's address, for example \"http://127.0.0.1:11434/v1\"",
        )?;
        fallbacks.push(LlmEndpoint {
            base_url: base_url(fr.at("base_url"), &url)?,
            model: fr.label("model", MAX_LABEL)?,
            api_key_env: fr
                .string("api_key_env")?
                .map(|e| env_name(fr.at("api_key_env"), &e))
                .transpose()?,
        });
    }
    Ok(Some(LlmSettings {
        base_url: r
            .string("base_url")?
            .map(|u| base_url(r.at("base_url"), &u))
            .transpose()?,
        model: r.label("model", MAX_LABEL)?,
        api_key_env: r
            .string("api_key_env")?
            .map(|e| env_name(r.at("api_key_env"), &e))
            .transpose()?,
        temperature,
        fallbacks,
    }))
}

fn parse_fields(top: &Reader<'_>, warnings: &mut Vec<String>) -> Result<Vec<FieldSpec>, ValidationError> {
    let list = top.array("data_to_collect")?;
    if list.len() > MAX_FIELDS {
        return Err(err("data_to_collect", format!("at most {MAX_FIELDS} fields")));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let path = format!("data_to_collect[{i}]");
        let r = Reader::new(path.clone(), v)?;
        r.warn_unknown(
            &["field", "question", "type", "options", "required", "description"],
            warnings,
        );
        let field = r.required_string("field", "the field's name, for example \"first_name\"")?;
        check_identifier(r.at("field"), &field, "field name")?;
        if RESERVED_FIELDS.contains(&field.as_str()) {
            return Err(err(
                r.at("field"),
                format!("`{field}` is reserved (it names something else in events and templates); choose another name"),
            ));
        }
        if !seen.insert(field.to_ascii_lowercase()) {
            return Err(err(
                r.at("field"),
                format!("duplicate field `{field}`: each field name may appear once"),
            ));
        }
        let type_name = r.string("type")?.unwrap_or_else(|| "string".into());
        let options = r.strings("options", MAX_OPTIONS)?;
        let kind = FieldType::parse(&type_name, Some(&options)).map_err(|e| {
            let at = r.at(&e.field);
            e.for_field(at)
        })?;
        if let FieldType::Enum { options } = &kind {
            let mut o = HashSet::new();
            for opt in options {
                if !o.insert(opt.to_lowercase()) {
                    return Err(err(r.at("options"), format!("duplicate option `{opt}`")));
                }
            }
        } else if !options.is_empty() {
            warnings.push(format!(
                "`{}` is only used by enum fields; ignored for type {type_name}",
                r.at("options")
            ));
        }
        let question = r.string("question")?.unwrap_or_else(|| default_question(&field, &kind));
        out.push(FieldSpec {
            field,
            question,
            kind,
            required: r.bool("required")?.unwrap_or(false),
            description: r.string("description")?,
        });
    }
    Ok(out)
}

fn parse_call_types(
    top: &Reader<'_>,
    has_transfer: bool,
    warnings: &mut Vec<String>,
) -> Result<Vec<CallType>, ValidationError> {
    let list = top.array("call_types")?;
    if list.len() > MAX_CALL_TYPES {
        return Err(err("call_types", format!("at most {MAX_CALL_TYPES} call types")));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let r = Reader::new(format!("call_types[{i}]"), v)?;
        r.warn_unknown(&["name", "description", "keywords", "action"], warnings);
        let name = r.required_string("name", "the type's name, for example \"quote_request\"")?;
        check_identifier(r.at("name"), &name, "call type name")?;
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(err(r.at("name"), format!("duplicate call type `{name}`")));
        }
        let action = match r.string("action")?.as_deref() {
            None | Some("none") => None,
            Some("transfer") => Some(CallAction::Transfer),
            Some("message") => Some(CallAction::Message),
            Some(other) => {
                return Err(err(
                    r.at("action"),
                    format!("`{other}` is not an action; use \"transfer\" or \"message\", or leave it out"),
                ));
            }
        };
        if action == Some(CallAction::Transfer) && !has_transfer {
            return Err(err(
                r.at("action"),
                "\"transfer\" needs a transfer number: add `transfer: {\"number\": \"+1...\"}` to the agent",
            ));
        }
        out.push(CallType {
            name,
            description: r.string("description")?.unwrap_or_default(),
            keywords: r.strings("keywords", MAX_KEYWORDS)?,
            action,
        });
    }
    Ok(out)
}

fn parse_knowledge(top: &Reader<'_>, warnings: &mut Vec<String>) -> Result<Vec<KnowledgeEntry>, ValidationError> {
    let list = top.array("knowledge")?;
    if list.len() > MAX_KNOWLEDGE {
        return Err(err("knowledge", format!("at most {MAX_KNOWLEDGE} entries")));
    }
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let r = Reader::new(format!("knowledge[{i}]"), v)?;
            r.warn_unknown(&["question", "answer"], warnings);
            Ok(KnowledgeEntry {
                question: r.required_string("question", "the question callers ask")?,
                answer: r.required_string("answer", "what the receptionist answers")?,
            })
        })
        .collect()
}

fn parse_tools(top: &Reader<'_>, warnings: &mut Vec<String>) -> Result<Vec<ToolSpec>, ValidationError> {
    let list = top.array("tools")?;
    if list.len() > MAX_TOOLS {
        return Err(err("tools", format!("at most {MAX_TOOLS} tools")));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.iter().enumerate() {
        let r = Reader::new(format!("tools[{i}]"), v)?;
        r.warn_unknown(
            &[
                "type",
                "tool_name",
                "description",
                "http_method",
                "url",
                "headers",
                "body_template",
                "parameters",
                "timeout_ms",
            ],
            warnings,
        );
        let kind = r.string("type")?.unwrap_or_else(|| "http".into());
        if kind != "http" {
            return Err(err(r.at("type"), format!("`{kind}` is not a tool type; use \"http\"")));
        }
        let tool_name = r.required_string("tool_name", "the tool's name, for example \"submitLeadToCRM\"")?;
        check_identifier(r.at("tool_name"), &tool_name, "tool name")?;
        if !seen.insert(tool_name.to_ascii_lowercase()) {
            return Err(err(r.at("tool_name"), format!("duplicate tool `{tool_name}`")));
        }
        let method = r.string("http_method")?.unwrap_or_else(|| "POST".into());
        let http_method = ToolMethod::parse(&method).ok_or_else(|| {
            err(
                r.at("http_method"),
                format!("`{method}` is not allowed; use GET, POST, PUT, PATCH or DELETE"),
            )
        })?;
        let url = r.required_string("url", "the URL to call, for example \"https://crm.example/leads\"")?;
        // Its shape here; the SSRF policy at the API ([`AgentConfig::check_targets`]).
        input::target_url(&r.at("url"), &url, &TargetPolicy::any_address())?;
        let headers = match r.get("headers") {
            None => BTreeMap::new(),
            Some(Value::Object(m)) => {
                let mut h = BTreeMap::new();
                for (k, v) in m {
                    let Value::String(s) = v else {
                        return Err(err(format!("{}.{k}", r.at("headers")), "must be a string"));
                    };
                    h.insert(k.clone(), s.clone());
                }
                input::headers(&r.at("headers"), &h)?;
                h
            }
            Some(other) => {
                return Err(err(
                    r.at("headers"),
                    format!("must be an object, not {}", kind_of(other)),
                ));
            }
        };
        let mut parameters = Vec::new();
        let mut names = HashSet::new();
        let params = r.array("parameters")?;
        if params.len() > MAX_PARAMETERS {
            return Err(err(r.at("parameters"), format!("at most {MAX_PARAMETERS} parameters")));
        }
        for (j, p) in params.iter().enumerate() {
            let pr = Reader::new(format!("{}[{j}]", r.at("parameters")), p)?;
            pr.warn_unknown(&["name", "type", "description", "required"], warnings);
            let name = pr.required_string("name", "the parameter's name, matching a collected field")?;
            check_identifier(pr.at("name"), &name, "parameter name")?;
            if !names.insert(name.clone()) {
                return Err(err(pr.at("name"), format!("duplicate parameter `{name}`")));
            }
            parameters.push(ToolParameter {
                name,
                kind: pr.string("type")?.unwrap_or_else(default_param_type),
                description: pr.string("description")?.unwrap_or_default(),
                required: pr.bool("required")?.unwrap_or(true),
            });
        }
        let timeout_ms = match r.get("timeout_ms") {
            None => DEFAULT_TOOL_TIMEOUT_MS,
            Some(v) => v
                .as_u64()
                .filter(|t| (100..=MAX_TOOL_TIMEOUT_MS).contains(t))
                .ok_or_else(|| {
                    err(
                        r.at("timeout_ms"),
                        format!("must be a whole number of milliseconds from 100 to {MAX_TOOL_TIMEOUT_MS}"),
                    )
                })?,
        };
        out.push(ToolSpec {
            kind,
            tool_name,
            description: r.string("description")?.unwrap_or_default(),
            http_method,
            url,
            headers,
            body_template: match r.get("body_template") {
                None => None,
                Some(t) => {
                    input::body_template(&r.at("body_template"), t)?;
                    Some(t.clone())
                }
            },
            parameters,
            timeout_ms,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn spec_example() -> Value {
        json!({
          "name": "Acme front desk",
          "business": {"owner_name": "Acme Contracting", "website": "https://acme.example",
                       "booking_url": "https://acme.example/schedule", "hours": "Mon-Fri 8am-6pm"},
          "greeting": "Thanks for calling {{owner_name}}, how can I help you today?",
          "data_to_collect": [
            {"field": "first_name", "question": "May I have your name?", "type": "name", "required": true},
            {"field": "email", "question": "What's the best email for you?", "type": "email"},
            {"field": "budget", "question": "What's your budget range?", "type": "string"}
          ],
          "call_types": [
            {"name": "quote_request", "description": "wants a price or estimate", "keywords": ["quote", "estimate", "price"]},
            {"name": "emergency", "description": "urgent problem", "keywords": ["emergency", "flooding", "leak"], "action": "transfer"},
            {"name": "message", "description": "wants to leave a message", "action": "message"}
          ],
          "transfer": {"number": "+15557654321", "triggers": ["human", "person", "operator"]},
          "knowledge": [{"question": "What are your hours?", "answer": "Monday to Friday, 8am to 6pm."}],
          "tools": [{"type": "http", "tool_name": "submitLeadToCRM", "description": "d", "http_method": "POST",
                     "url": "https://crm.example/leads", "headers": {"Authorization": "Bearer x"},
                     "body_template": {"first_name": "{{first_name}}", "phone": "{{caller_number}}"},
                     "parameters": [{"name": "first_name", "type": "string", "description": "..."}]}],
          "closing": "Thanks {{first_name}}, we'll be in touch soon. Goodbye!",
          "brain": "rules"
        })
    }

    fn problem(mutate: impl FnOnce(&mut Value)) -> ValidationError {
        let mut v = spec_example();
        mutate(&mut v);
        AgentConfig::parse(&v).unwrap_err()
    }

    #[test]
    fn spec_example_parses_and_round_trips() {
        let p = AgentConfig::parse(&spec_example()).unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        let c = &p.config;
        assert_eq!(c.data_to_collect.len(), 3);
        assert!(c.data_to_collect[0].required && !c.data_to_collect[1].required);
        assert_eq!(c.call_types[1].action, Some(CallAction::Transfer));
        assert_eq!(c.tools[0].timeout_ms, DEFAULT_TOOL_TIMEOUT_MS);
        let again = AgentConfig::parse(&c.to_json()).unwrap();
        assert_eq!(&again.config, c);
    }

    #[test]
    fn shared_agents_parse() {
        // The shared sample agents (copied into the repository) and our own.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/conversations/agents");
        let entries: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
        assert!(entries.len() >= 3, "agents in {dir}");
        for e in entries {
            let path = e.unwrap().path();
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let p = AgentConfig::parse(&v).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        }
    }

    #[test]
    fn names_the_exact_problem() {
        let e = problem(|v| v["data_to_collect"][1]["type"] = json!("colour"));
        assert_eq!(e.field, "data_to_collect[1].type");
        assert!(e.message.contains("not a field type"), "{e}");

        let e = problem(|v| v["data_to_collect"][2] = json!({"field": "size", "type": "enum"}));
        assert_eq!(e.field, "data_to_collect[2].options");

        let e = problem(|v| v["data_to_collect"][2]["field"] = json!("first_name"));
        assert_eq!(e.field, "data_to_collect[2].field");
        assert!(e.message.contains("duplicate field `first_name`"), "{e}");

        let e = problem(|v| v["closing"] = json!("Thanks {{frist_name}}!"));
        assert_eq!(e.field, "closing");
        assert!(
            e.message.contains("{{frist_name}}") && e.message.contains("first_name"),
            "{e}"
        );

        let e = problem(|v| v["tools"][0]["body_template"]["x"] = json!("{{nope}}"));
        assert_eq!(e.field, "tools[0].body_template.x");

        let e = problem(|v| v["transfer"]["number"] = json!("555-1234"));
        assert_eq!(e.field, "transfer.number");

        let e = problem(|v| {
            v.as_object_mut().unwrap().remove("transfer");
        });
        assert_eq!(e.field, "call_types[1].action");

        let e = problem(|v| v["call_types"][0]["action"] = json!("dance"));
        assert_eq!(e.field, "call_types[0].action");

        let e = problem(|v| v["data_to_collect"][0]["field"] = json!("message"));
        assert!(e.message.contains("reserved"), "{e}");

        let e = problem(|v| v["data_to_collect"][0]["field"] = json!("first name"));
        assert_eq!(e.field, "data_to_collect[0].field");

        let e = problem(|v| v["brain"] = json!("gpt"));
        assert_eq!(e.field, "brain");

        let e = problem(|v| v["data_to_collect"] = json!({"a": 1}));
        assert_eq!(e.field, "data_to_collect");
        assert!(e.message.contains("list"), "{e}");

        let e = AgentConfig::parse(&json!([1])).unwrap_err();
        assert_eq!(e.field, "body");
    }

    #[test]
    fn limits_are_named() {
        let e = problem(|v| {
            v["data_to_collect"][2] = json!({"field": "size", "type": "enum",
                "options": (0..20_000).map(|i| format!("option {i}")).collect::<Vec<_>>()});
        });
        assert_eq!(e.field, "data_to_collect[2].options");
        assert!(e.message.contains("at most 100"), "{e}");
        let e = problem(|v| v["call_types"][0]["keywords"] = json!(vec!["kw"; 51]));
        assert_eq!(e.field, "call_types[0].keywords");
        let e = problem(|v| v["transfer"]["triggers"] = json!(vec!["human"; 51]));
        assert_eq!(e.field, "transfer.triggers");
        let e = problem(|v| v["knowledge"] = json!(vec![json!({"question": "q", "answer": "a"}); 501]));
        assert_eq!(e.field, "knowledge");
        let e = problem(|v| v["knowledge"][0]["answer"] = json!("a".repeat(2001)));
        assert_eq!(e.field, "knowledge[0].answer");
        let e = problem(|v| {
            v["tools"][0]["parameters"] = json!((0..31).map(|i| json!({"name": format!("p{i}")})).collect::<Vec<_>>());
        });
        assert_eq!(e.field, "tools[0].parameters");
        let e = problem(|v| v["tools"][0]["body_template"] = json!({"x": "y".repeat(40_000)}));
        assert_eq!(e.field, "tools[0].body_template");
        // 400 entries of 700 characters each: every entry fits, the whole does not.
        let e = problem(|v| {
            v["knowledge"] = json!(
                (0..400)
                    .map(|i| json!({"question": format!("question {i}?"), "answer": "a".repeat(700)}))
                    .collect::<Vec<_>>()
            );
        });
        assert_eq!(e.field, "body");
        assert!(e.message.contains("at most 256 KiB"), "{e}");
    }

    #[test]
    fn texts_and_tools_keep_the_input_discipline() {
        let e = problem(|v| v["name"] = json!("Acme\u{0}desk"));
        assert_eq!(e.field, "name");
        let e = problem(|v| v["name"] = json!("Acme\ndesk"));
        assert_eq!(e.field, "name");
        let e = problem(|v| v["greeting"] = json!("Hello\u{1b}[2J"));
        assert_eq!(e.field, "greeting");
        let ok = AgentConfig::parse(&{
            let mut v = spec_example();
            v["greeting"] = json!("Hello.\nHow can I help?");
            v
        });
        assert!(ok.is_ok(), "line breaks are fine in texts");
        let e = problem(|v| v["call_types"][0]["keywords"][0] = json!("quo\u{7}te"));
        assert_eq!(e.field, "call_types[0].keywords[0]");
        for url in [
            "file:///etc/passwd",
            "gopher://x.example:70/",
            "not a url",
            "http://exa mple.com/",
        ] {
            let e = problem(|v| v["tools"][0]["url"] = json!(url));
            assert_eq!(e.field, "tools[0].url", "{url}");
        }
        let e = problem(|v| v["tools"][0]["body_template"] = json!([{"a": "{{first_name}}"}]));
        assert_eq!(e.field, "tools[0].body_template");
        let e = problem(|v| v["tools"][0]["headers"] = json!({"X-A": "a\r\nInjected: 1"}));
        assert_eq!(e.field, "tools[0].headers");
        // Literal private addresses: shape is fine offline; the API's policy refuses them.
        let mut v = spec_example();
        v["tools"][0]["url"] = json!("http://169.254.169.254/latest/meta-data");
        let cfg = AgentConfig::parse(&v).unwrap().config;
        let e = cfg.check_targets(&TargetPolicy::default()).unwrap_err();
        assert_eq!(e.field, "tools[0].url");
        assert!(cfg.check_targets(&TargetPolicy::any_address()).is_ok());
    }

    #[test]
    fn defaults_and_warnings() {
        let p = AgentConfig::parse(&json!({
            "name": "x", "greting": "hi",
            "data_to_collect": [{"field": "zip", "type": "number", "colour": 1}]
        }))
        .unwrap();
        assert_eq!(p.warnings.len(), 2, "{:?}", p.warnings);
        assert!(p.warnings[0].contains("greting"));
        assert!(p.warnings[1].contains("data_to_collect[0].colour"));
        let c = p.config;
        assert!(c.greeting.starts_with("Thanks for calling"));
        assert_eq!(c.data_to_collect[0].question, "Could you tell me your zip?");
        assert_eq!(c.brain, BrainKind::Rules);
    }
}
