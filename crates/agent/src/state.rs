//! A call's conversation state, whatever its brain, and how it is stored.
//!
//! A [`State`] serialises to a JSON object that names its brain: the rules brain's is
//! the [`Session`] object with `"brain": "rules"` added. A stored state without a
//! `brain` key (written before brains were named) is a rules state, so calls in
//! progress survive an upgrade; and since [`Session`] ignores keys it does not know, a
//! rules state written now still loads as a plain `Session` (a rollback loses no call).

use frontdesk_core::agent::config::BrainKind;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::model::ModelState;
use crate::session::{CallInfo, EndReason, Session};

/// The key that names a state's brain.
const BRAIN_KEY: &str = "brain";

/// One call's conversation state. Opaque: the application stores it
/// ([`State::to_json`], or serde) and reads what it needs through
/// [`crate::brain::Brain::view`] or the accessors here.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    inner: Inner,
}

#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // the rules state, the common one, stays inline
enum Inner {
    Rules(Session),
    /// An `llm` or `hybrid` brain's state.
    Model(BrainKind, Box<ModelState>),
}

/// A stored state that cannot be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// Not a JSON object.
    NotAnObject,
    /// A `brain` this build does not know.
    UnknownBrain(String),
    /// The brain's part did not read.
    Invalid(String),
}

impl std::fmt::Display for StateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAnObject => f.write_str("a conversation state is a JSON object"),
            Self::UnknownBrain(b) => write!(f, "unknown brain `{b}` in a conversation state"),
            Self::Invalid(e) => write!(f, "invalid conversation state: {e}"),
        }
    }
}

impl std::error::Error for StateError {}

impl State {
    /// A rules brain's state.
    pub fn from_session(s: Session) -> Self {
        Self { inner: Inner::Rules(s) }
    }

    /// A model brain's state (`kind`: `llm` or `hybrid`).
    pub fn from_model(kind: BrainKind, m: ModelState) -> Self {
        Self {
            inner: Inner::Model(kind, Box::new(m)),
        }
    }

    /// The brain this state belongs to.
    pub fn brain(&self) -> BrainKind {
        match &self.inner {
            Inner::Rules(_) => BrainKind::Rules,
            Inner::Model(k, _) => *k,
        }
    }

    /// The rules brain's state, when this is one (read only: for tests, tools and
    /// debugging; the application reads [`crate::brain::View`]).
    pub fn rules(&self) -> Option<&Session> {
        match &self.inner {
            Inner::Rules(s) => Some(s),
            Inner::Model(..) => None,
        }
    }

    /// A model brain's state, when this is one (read only).
    pub fn model(&self) -> Option<&ModelState> {
        match &self.inner {
            Inner::Rules(_) => None,
            Inner::Model(_, m) => Some(m),
        }
    }

    /// A model brain's state; a rules state (an agent switched brains mid-call)
    /// becomes one, keeping everything the rules collected.
    pub(crate) fn model_mut(&mut self, kind: BrainKind) -> &mut ModelState {
        if let Inner::Rules(s) = &mut self.inner {
            // Once per call at most (an agent switched brains mid-call): a copy is cheap.
            let s = s.clone();
            self.inner = Inner::Model(kind, Box::new(ModelState::new(s)));
        }
        match &mut self.inner {
            Inner::Model(k, m) => {
                *k = kind;
                m
            }
            Inner::Rules(_) => unreachable!("a rules state was just turned into a model state"),
        }
    }

    /// Notes something between the brain and its model on the call (`brain_events`):
    /// the application's endpoint fallbacks and interruptions. Ignored on a rules
    /// state.
    pub fn note(&mut self, mut event: crate::model::BrainEvent) {
        if let Inner::Model(_, m) = &mut self.inner {
            event.turn = m.session.turns;
            m.events.push(event);
            if m.events.len() > 200 {
                m.events.remove(0);
            }
        }
    }

    /// The session every brain keeps the call's outcome in.
    pub(crate) fn session(&self) -> &Session {
        match &self.inner {
            Inner::Rules(s) => s,
            Inner::Model(_, m) => &m.session,
        }
    }

    pub(crate) fn session_mut(&mut self) -> &mut Session {
        match &mut self.inner {
            Inner::Rules(s) => s,
            Inner::Model(_, m) => &mut m.session,
        }
    }

    /// The call the state is about.
    pub fn call(&self) -> &CallInfo {
        &self.session().call
    }

    /// The conversation is over (the call may still be live, waiting for the
    /// provider's final status).
    pub fn ended(&self) -> bool {
        self.session().ended()
    }

    /// How the conversation ended, once it has.
    pub fn end_reason(&self) -> Option<EndReason> {
        self.session().end_reason
    }

    /// The field the receptionist awaits.
    pub fn awaiting_field(&self) -> Option<&str> {
        self.session().awaiting.as_deref()
    }

    /// The state as stored: a JSON object with `"brain"`.
    pub fn to_json(&self) -> Value {
        let (kind, body) = match &self.inner {
            Inner::Rules(s) => ("rules", serde_json::to_value(s)),
            Inner::Model(k, m) => (k.as_str(), serde_json::to_value(m)),
        };
        match body {
            Ok(Value::Object(mut m)) => {
                m.insert(BRAIN_KEY.into(), Value::String(kind.into()));
                Value::Object(m)
            }
            // A session always serialises to an object.
            _ => Value::Null,
        }
    }

    /// A stored state: a JSON object naming its brain, or, without `brain`, a rules
    /// state stored before brains were named.
    pub fn from_json(mut v: Value) -> Result<Self, StateError> {
        let Value::Object(m) = &mut v else {
            return Err(StateError::NotAnObject);
        };
        let kind = match m.remove(BRAIN_KEY) {
            None | Some(Value::Null) => "rules".to_owned(),
            Some(Value::String(s)) => s,
            Some(other) => return Err(StateError::UnknownBrain(other.to_string())),
        };
        match kind.as_str() {
            "rules" => serde_json::from_value(v)
                .map(Self::from_session)
                .map_err(|e| StateError::Invalid(e.to_string())),
            "llm" | "hybrid" => {
                let k = if kind == "llm" {
                    BrainKind::Llm
                } else {
                    BrainKind::Hybrid
                };
                serde_json::from_value(v)
                    .map(|m| Self::from_model(k, m))
                    .map_err(|e| StateError::Invalid(e.to_string()))
            }
            _ => Err(StateError::UnknownBrain(kind)),
        }
    }
}

impl From<Session> for State {
    fn from(s: Session) -> Self {
        Self::from_session(s)
    }
}

impl Serialize for State {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for State {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        Self::from_json(v).map_err(serde::de::Error::custom)
    }
}
