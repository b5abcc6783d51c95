//! What the Twilio tests share: a stand-in for Twilio's side of a call.
//!
//! - [`signature`] signs a request exactly as Twilio does, with the PyPI `twilio`
//!   library's `RequestValidator` (one long-lived `python3` process serves every test,
//!   so each signature costs a pipe round trip, not an interpreter start).
//! - [`TwilioSide`] posts signed, form-encoded webhooks to the server the way Twilio
//!   would, and [`Leg`] builds Twilio's realistic parameter sets for one call.
//! - [`El`] is a parsed TwiML (or any XML) element, built with `roxmltree`, so tests
//!   compare element names and attributes instead of strings.
//! - Small API helpers: agents on Twilio numbers, webhooks, calls and their events.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{TestApp, content_type, spawn_app_with};
pub use crate::helpers::{agent_file, post_json};
use crate::receiver::Receiver;

/// The public URL the tests' servers believe they are reached at.
pub const PUBLIC_URL: &str = "https://fd.example.com";
/// The global auth token (`FRONTDESK_TWILIO_AUTH_TOKEN`).
pub const GLOBAL_TOKEN: &str = "global-token-5f1c2a9e0b7d4c3e8a6f";
/// A master key for encrypting stored credentials (32+ characters).
pub const MASTER_KEY: &str = "test-master-key-0123456789abcdef0123456789";
/// The account the global token belongs to.
pub const GLOBAL_ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
/// The contractor agent's transfer number.
pub const TRANSFER_TO: &str = "+15557654321";

// ---------------------------------------------------------------------------
// Signing with the reference library
// ---------------------------------------------------------------------------

const SIGNER_PY: &str = r#"
import json, sys
from twilio.request_validator import RequestValidator
while True:
    line = sys.stdin.readline()
    if not line:
        break
    req = json.loads(line)
    v = RequestValidator(req["token"])
    if req.get("algorithm"):
        sig = v.compute_signature(req["url"], req["params"], req["algorithm"])
    else:
        sig = v.compute_signature(req["url"], req["params"])
    sys.stdout.write(sig + "\n")
    sys.stdout.flush()
"#;

struct Signer {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    _child: Child,
}

fn signer() -> &'static Mutex<Signer> {
    static SIGNER: OnceLock<Mutex<Signer>> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let mut child = Command::new("python3")
            .args(["-c", SIGNER_PY])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs (scripts/test installs the `twilio` library)");
        Mutex::new(Signer {
            stdin: child.stdin.take().unwrap(),
            stdout: BufReader::new(child.stdout.take().unwrap()),
            _child: child,
        })
    })
}

/// `X-Twilio-Signature` for a request to `url` with these form parameters, computed by
/// `twilio.request_validator.RequestValidator(token).compute_signature(url, params)`.
/// `algorithm` is `None` (HMAC-SHA1) or `Some("HMAC_SHA256")`.
pub fn signature(token: &str, url: &str, params: &[(&str, &str)], algorithm: Option<&str>) -> String {
    let mut dict = serde_json::Map::new();
    for (k, v) in params {
        assert!(
            dict.insert((*k).to_owned(), json!(v)).is_none(),
            "repeated form key {k}: the signer takes a dict"
        );
    }
    let line = json!({"token": token, "url": url, "params": dict, "algorithm": algorithm}).to_string();
    let mut s = signer().lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    writeln!(s.stdin, "{line}").unwrap();
    s.stdin.flush().unwrap();
    let mut out = String::new();
    let n = s.stdout.read_line(&mut out).unwrap();
    assert!(
        n > 0,
        "the python signer died (is the `twilio` package installed? scripts/test installs it)"
    );
    out.trim().to_owned()
}

// ---------------------------------------------------------------------------
// Form encoding (application/x-www-form-urlencoded, as Twilio sends it)
// ---------------------------------------------------------------------------

/// Percent-encodes one form component: alphanumerics and `*-._` stay, a space is `+`,
/// every other byte is `%XX` (upper case), as the WHATWG form encoder does.
pub fn form_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `k=v&k=v` in the given order.
pub fn form_encode(params: &[(&str, &str)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", form_component(k), form_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

// ---------------------------------------------------------------------------
// TwiML
// ---------------------------------------------------------------------------

/// An XML element, owned: its name, attributes, direct text (trimmed) and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct El {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub text: String,
    pub children: Vec<El>,
}

impl El {
    pub fn parse(xml: &str) -> El {
        let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("not XML ({e}): {xml}"));
        Self::from_node(doc.root_element())
    }

    fn from_node(n: roxmltree::Node<'_, '_>) -> El {
        El {
            name: n.tag_name().name().to_owned(),
            attrs: n
                .attributes()
                .map(|a| (a.name().to_owned(), a.value().to_owned()))
                .collect(),
            text: n
                .children()
                .filter(roxmltree::Node::is_text)
                .filter_map(|t| t.text())
                .collect::<String>()
                .trim()
                .to_owned(),
            children: n
                .children()
                .filter(roxmltree::Node::is_element)
                .map(Self::from_node)
                .collect(),
        }
    }

    /// The children's element names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }

    /// The first child called `name`; panics (showing this element) when there is none.
    pub fn child(&self, name: &str) -> &El {
        self.children
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("no <{name}> in {self:#?}"))
    }

    /// An attribute's value; panics when it is missing.
    pub fn attr(&self, name: &str) -> &str {
        self.attrs
            .get(name)
            .unwrap_or_else(|| panic!("<{}> has no {name}=: {self:#?}", self.name))
    }

    /// All the text under this element (its `<Say>`s), joined by spaces.
    pub fn all_text(&self) -> String {
        let mut parts = vec![];
        if !self.text.is_empty() {
            parts.push(self.text.clone());
        }
        for c in &self.children {
            let t = c.all_text();
            if !t.is_empty() {
                parts.push(t);
            }
        }
        parts.join(" ")
    }
}

/// Asserts a 200 `text/xml` TwiML answer and returns its `<Response>` element.
pub async fn twiml(res: Response) -> El {
    let status = res.status().as_u16();
    let ct = content_type(&res);
    let body = res.text().await.unwrap();
    assert_eq!(status, 200, "TwiML answers are 200: {body}");
    assert!(ct.starts_with("text/xml"), "TwiML is text/xml, got {ct:?}: {body}");
    let el = El::parse(&body);
    assert_eq!(el.name, "Response", "{body}");
    el
}

/// Checks a `<Gather>` as the contract shapes it, with the given `input`.
pub fn assert_gather(g: &El, input: &str) {
    assert_eq!(g.name, "Gather");
    assert_eq!(g.attr("input"), input, "{g:#?}");
    // The action says how many transcript lines the call had when it asked (`seq`), so
    // a request Twilio sends twice is not taken as two turns.
    let action = g.attr("action");
    let seq = action
        .strip_prefix(&format!("{PUBLIC_URL}/telephony/twilio/gather?seq="))
        .unwrap_or_else(|| panic!("the gather action: {action}"));
    assert!(seq.parse::<usize>().is_ok(), "{action}");
    assert_eq!(g.attr("method"), "POST");
    assert_eq!(g.attr("speechTimeout"), "auto");
    assert_eq!(g.attr("language"), "en-US");
    assert_eq!(g.attr("actionOnEmptyResult"), "true");
    if let Some(h) = g.attrs.get("hints") {
        assert!(!h.trim().is_empty(), "hints only when there are any: {g:#?}");
    }
    assert_eq!(g.names(), ["Say"], "a Gather says one thing: {g:#?}");
}

/// `<Response><Gather ...><Say>…</Say></Gather></Response>`: checks it and returns what
/// is said.
pub fn gather_say(r: &El, input: &str) -> String {
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
    let g = r.child("Gather");
    assert_gather(g, input);
    g.child("Say").text.clone()
}

/// `<Response><Say>…</Say><Hangup/></Response>`: checks it and returns what is said.
pub fn say_hangup(r: &El) -> String {
    assert_eq!(r.names(), ["Say", "Hangup"], "{r:#?}");
    let say = r.child("Say").text.clone();
    assert!(!say.is_empty(), "{r:#?}");
    say
}

/// Checks a `<Record>` as the contract shapes it.
pub fn assert_record(rec: &El) {
    assert_eq!(rec.name, "Record");
    assert_eq!(rec.attr("action"), format!("{PUBLIC_URL}/telephony/twilio/recording"));
    assert_eq!(rec.attr("method"), "POST");
    assert_eq!(rec.attr("maxLength"), "120");
    assert_eq!(rec.attr("playBeep"), "true");
    assert_eq!(rec.attr("finishOnKey"), "#");
}

// ---------------------------------------------------------------------------
// Twilio's side of the wire
// ---------------------------------------------------------------------------

/// A fresh Twilio-style SID: `prefix` + 32 hex digits, unique within the test run.
pub fn sid(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    format!("{prefix}{:016x}{:016x}", t ^ u64::from(std::process::id()), n)
}

/// Posts webhooks to the server as Twilio does: form-encoded, signed with `token`
/// over `PUBLIC_URL + path`.
pub struct TwilioSide<'a> {
    pub app: &'a TestApp,
    pub token: String,
    pub account_sid: String,
    /// The server's public URL, which Twilio signs: [`PUBLIC_URL`] unless changed.
    pub public_url: String,
}

impl<'a> TwilioSide<'a> {
    /// Twilio with the global token and account.
    pub fn global(app: &'a TestApp) -> Self {
        Self::account(app, GLOBAL_ACCOUNT, GLOBAL_TOKEN)
    }

    pub fn account(app: &'a TestApp, account_sid: &str, token: &str) -> Self {
        Self {
            app,
            token: token.to_owned(),
            account_sid: account_sid.to_owned(),
            public_url: PUBLIC_URL.to_owned(),
        }
    }

    /// POSTs `params` to `path_and_query`, signed over `public_url + path_and_query`.
    pub async fn post(&self, path_and_query: &str, params: &[(&str, &str)]) -> Response {
        let sig = signature(
            &self.token,
            &format!("{}{path_and_query}", self.public_url),
            params,
            None,
        );
        self.post_signed(path_and_query, params, Some(&sig)).await
    }

    /// POSTs `params` with the given signature header (or none).
    pub async fn post_signed(&self, path_and_query: &str, params: &[(&str, &str)], sig: Option<&str>) -> Response {
        raw_post(self.app, path_and_query, form_encode(params).into_bytes(), FORM, sig).await
    }

    /// An inbound call's leg from `from` to `to`, with a fresh CallSid.
    pub fn inbound(&self, from: &str, to: &str) -> Leg<'_, 'a> {
        Leg {
            tw: self,
            sid: sid("CA"),
            from: from.to_owned(),
            to: to.to_owned(),
            direction: "inbound",
            call_id: None,
        }
    }

    /// The leg of an outbound call we placed: `call_id` rides in the callback URLs.
    pub fn outbound(&self, call_sid: &str, from: &str, to: &str, call_id: &str) -> Leg<'_, 'a> {
        Leg {
            tw: self,
            sid: call_sid.to_owned(),
            from: from.to_owned(),
            to: to.to_owned(),
            direction: "outbound-api",
            call_id: Some(call_id.to_owned()),
        }
    }
}

pub const FORM: &str = "application/x-www-form-urlencoded";

/// POSTs a raw body to the server (no API key: Twilio sends none).
pub async fn raw_post(app: &TestApp, path: &str, body: Vec<u8>, content_type: &str, sig: Option<&str>) -> Response {
    let mut req = app
        .client
        .post(app.url(path))
        .header("content-type", content_type)
        .body(body);
    if let Some(sig) = sig {
        req = req.header("X-Twilio-Signature", sig);
    }
    req.send().await.unwrap()
}

/// One call as Twilio sees it: its CallSid and numbers; each method sends one of
/// Twilio's webhooks with the parameters Twilio sends.
pub struct Leg<'t, 'a> {
    pub tw: &'t TwilioSide<'a>,
    pub sid: String,
    pub from: String,
    pub to: String,
    pub direction: &'static str,
    /// `?call_id=` in our callback URLs (outbound calls).
    pub call_id: Option<String>,
}

impl Leg<'_, '_> {
    /// Twilio's common request parameters for this call.
    pub fn base(&self, call_status: &str) -> Vec<(String, String)> {
        [
            ("AccountSid", self.tw.account_sid.as_str()),
            ("ApiVersion", "2010-04-01"),
            ("CallSid", self.sid.as_str()),
            ("CallStatus", call_status),
            ("Called", self.to.as_str()),
            ("CalledCountry", "US"),
            ("Caller", self.from.as_str()),
            ("CallerCountry", "US"),
            ("CallerState", "CA"),
            ("Direction", self.direction),
            ("From", self.from.as_str()),
            ("FromCity", "SAN FRANCISCO"),
            ("FromCountry", "US"),
            ("FromState", "CA"),
            ("FromZip", "94103"),
            ("To", self.to.as_str()),
            ("ToCountry", "US"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn path(&self, route: &str) -> String {
        match &self.call_id {
            Some(id) => format!("/telephony/twilio/{route}?call_id={id}"),
            None => format!("/telephony/twilio/{route}"),
        }
    }

    /// Sends `base(call_status)` plus `extra` to `/telephony/twilio/{route}` (with
    /// `?call_id=` on an outbound leg).
    pub async fn send(&self, route: &str, call_status: &str, extra: &[(&str, &str)]) -> Response {
        self.send_to(&self.path(route), call_status, extra).await
    }

    /// Sends `base(call_status)` plus `extra` to `path_and_query`, signed.
    pub async fn send_to(&self, path_and_query: &str, call_status: &str, extra: &[(&str, &str)]) -> Response {
        let params = self.params(call_status, extra);
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.tw.post(path_and_query, &pairs).await
    }

    /// `base(call_status)` plus `extra`, owned.
    pub fn params(&self, call_status: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut params = self.base(call_status);
        params.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        params
    }

    /// The incoming-call webhook (`ringing` inbound, `in-progress` for an answered
    /// outbound leg).
    pub async fn voice(&self) -> Response {
        let status = if self.direction == "inbound" {
            "ringing"
        } else {
            "in-progress"
        };
        self.send("voice", status, &[]).await
    }

    /// A `<Gather>` result with speech.
    pub async fn say(&self, speech: &str, confidence: &str) -> Response {
        self.send(
            "gather",
            "in-progress",
            &[
                ("Language", "en-US"),
                ("SpeechResult", speech),
                ("Confidence", confidence),
            ],
        )
        .await
    }

    /// A `<Gather>` that heard nothing (`actionOnEmptyResult`).
    pub async fn silence(&self) -> Response {
        self.send("gather", "in-progress", &[("Language", "en-US")]).await
    }

    /// A status callback.
    pub async fn status(&self, call_status: &str, duration: Option<&str>) -> Response {
        let mut extra = vec![
            ("Timestamp", "Tue, 14 Jan 2025 17:41:52 +0000"),
            ("CallbackSource", "call-progress-events"),
            ("SequenceNumber", "3"),
        ];
        if let Some(d) = duration {
            extra.push(("CallDuration", d));
            extra.push(("Duration", "1"));
        }
        self.send("status", call_status, &extra).await
    }

    /// The `<Dial action>` callback.
    pub async fn dial(&self, dial_status: &str, duration: Option<&str>) -> Response {
        let child = sid("CA");
        let mut extra = vec![("DialCallStatus", dial_status), ("DialCallSid", child.as_str())];
        if let Some(d) = duration {
            extra.push(("DialCallDuration", d));
        }
        self.send("dial", "in-progress", &extra).await
    }

    /// The `<Record action>` callback.
    pub async fn recording(&self, url: &str, duration: &str) -> Response {
        let rec = sid("RE");
        self.send(
            "recording",
            "in-progress",
            &[
                ("RecordingUrl", url),
                ("RecordingDuration", duration),
                ("RecordingSid", rec.as_str()),
                ("Digits", "hangup"),
            ],
        )
        .await
    }
}

// ---------------------------------------------------------------------------
// The server under test and its API
// ---------------------------------------------------------------------------

/// A server with `public_url`, the global Twilio token and a master key set.
pub async fn twilio_app() -> TestApp {
    twilio_app_with(|_| {}).await
}

pub async fn twilio_app_with(more: impl FnOnce(&mut frontdesk_server::ServerSettings)) -> TestApp {
    spawn_app_with(|s| {
        s.public_url = Some(PUBLIC_URL.to_owned());
        s.twilio.auth_token = Some(GLOBAL_TOKEN.to_owned());
        s.master_key = Some(MASTER_KEY.to_owned());
        more(s);
    })
    .await
}

pub async fn get_json(app: &TestApp, path: &str) -> Value {
    let res = app.get(path).send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.unwrap()
}

/// Creates the named agent and a `twilio` number for it; `extra` is merged into the
/// number's body (`voice_mode`, `record_messages`). Returns the number object.
pub async fn twilio_number(app: &TestApp, agent: &str, number: &str, extra: Value) -> Value {
    twilio_number_with_key(app, &app.key, agent, number, extra).await
}

/// As [`twilio_number`], in the workspace of `key`.
pub async fn twilio_number_with_key(app: &TestApp, key: &str, agent: &str, number: &str, extra: Value) -> Value {
    let res = app
        .client
        .post(app.url("/v1/agents"))
        .bearer_auth(key)
        .json(&agent_file(agent))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let agent: Value = res.json().await.unwrap();
    let mut body = json!({"number": number, "agent_id": agent["id"], "provider": "twilio"});
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        body[k] = v;
    }
    let res = app
        .client
        .post(app.url("/v1/numbers"))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let n: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{n}");
    n
}

/// Stores Twilio credentials for the workspace of `key`.
pub async fn store_credentials(app: &TestApp, key: &str, account_sid: &str, token: &str) -> Value {
    let res = app
        .client
        .put(app.url("/v1/credentials/twilio"))
        .bearer_auth(key)
        .json(&json!({"account_sid": account_sid, "auth_token": token}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "PUT /v1/credentials/twilio: {body}");
    body
}

/// A webhook for every event, pointed at `hook`.
pub async fn webhook_to(app: &TestApp, hook: &Receiver) {
    let (s, w) = post_json(app, "/v1/webhooks", json!({"url": hook.url("/hook")})).await;
    assert_eq!(s, 201, "{w}");
}

/// The workspace's calls, newest first.
pub async fn calls(app: &TestApp) -> Vec<Value> {
    get_json(app, "/v1/calls?limit=100").await["data"]
        .as_array()
        .unwrap()
        .clone()
}

/// The one call the workspace has.
pub async fn only_call(app: &TestApp) -> Value {
    let all = calls(app).await;
    assert_eq!(all.len(), 1, "exactly one call: {all:#?}");
    all[0].clone()
}

pub async fn call(app: &TestApp, id: &str) -> Value {
    get_json(app, &format!("/v1/calls/{id}")).await
}

/// A call's stored events, oldest first.
pub async fn events_of(app: &TestApp, call_id: &str) -> Vec<Value> {
    let mut e = get_json(app, &format!("/v1/events?call_id={call_id}&limit=100")).await["data"]
        .as_array()
        .unwrap()
        .clone();
    e.reverse();
    e
}

/// How many of `events` are called `name`.
pub fn count(events: &[Value], name: &str) -> usize {
    events.iter().filter(|e| e["event"] == name).count()
}

/// The names of `events`, in order.
pub fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The distinct events (by id) the receiver got, in arrival order.
pub fn delivered(hook: &Receiver) -> Vec<Value> {
    let mut seen = std::collections::HashSet::new();
    hook.got()
        .iter()
        .map(crate::receiver::Received::json)
        .filter(|e| seen.insert(e["id"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

/// Waits (bounded) until the receiver has every event in `want` (at least once).
pub async fn wait_delivered(hook: &Receiver, want: &[&str], within: Duration) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let got = delivered(hook);
        if want.iter().all(|w| got.iter().any(|e| e["event"] == *w)) {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "expected {want:?} within {within:?}, got {:?}",
            names(&got)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts that nothing about calls was recorded: no call and no event.
pub async fn assert_nothing_recorded(app: &TestApp, what: &str) {
    let all = calls(app).await;
    assert!(all.is_empty(), "{what}: no call is recorded, got {all:#?}");
    let events = get_json(app, "/v1/events?limit=100").await;
    assert_eq!(
        events["data"].as_array().map(Vec::len),
        Some(0),
        "{what}: no event is recorded: {events}"
    );
}

/// Borrows owned parameter pairs.
pub fn pairs(params: &[(String, String)]) -> Vec<(&str, &str)> {
    params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// The call as stored (for what the API view may not show: the provider's call id and
/// details).
pub async fn stored_call(app: &TestApp, id: &str) -> frontdesk_core::call::Call {
    let id = frontdesk_core::id::CallId::parse(id).unwrap();
    app.store.call_by_id(&id).await.unwrap().expect("the call is stored")
}

/// Whether `said` contains `words`, ignoring case.
pub fn says(said: &str, words: &str) -> bool {
    said.to_lowercase().contains(&words.to_lowercase())
}
