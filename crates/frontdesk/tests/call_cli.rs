//! `frontdesk call` as a user runs it: offline with `--agent`, and over HTTP against a
//! stand-in for the simulator API (the shapes of SPEC.md section 4), with the errors a
//! user meets (no server, refused key, unknown number).

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly by design")]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use serde_json::{Value, json};

fn contractor() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/conversations/agents/contractor.json")
}

fn frontdesk(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    cmd.current_dir(dir).env_clear().env("FRONTDESK_LOG", "warn");
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    frontdesk(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run frontdesk")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A quote request for a kitchen remodel, one answer per question the contractor agent
/// asks, with a comment and a blank line that must be skipped.
const QUOTE_SCRIPT: &str = "\
# a quote request, as in dev-01
Hi, I'd like to get a quote for a kitchen remodel.

Sure, it's John Smith.
You can reach me at 555 867 5309.
john dot smith at gmail dot com
Somewhere between fifteen and twenty thousand dollars.
In the next three months.
No, that's everything, thanks.
";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn offline_script_prints_the_conversation_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "quote.txt", QUOTE_SCRIPT);
    let agent = contractor();
    let o = run(
        dir.path(),
        &["call", "--agent", agent.to_str().unwrap(), "--script", &script],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("agent> Thanks for calling Acme Contracting"),
        "the greeting comes first:\n{out}"
    );
    assert!(
        out.contains("you> Sure, it's John Smith."),
        "script lines are echoed:\n{out}"
    );
    assert!(!out.contains("# a quote request"), "comments are not said:\n{out}");
    assert!(
        !out.contains("[awaiting"),
        "no awaiting notes when stdout is not a terminal:\n{out}"
    );
    for needle in [
        "call type       quote_request",
        "first_name",
        "John Smith",
        "+15558675309",
        "john.smith@gmail.com",
        "kitchen remodel",
        "$15,000-$20,000",
        "transferred to  -",
        "summary         John Smith",
    ] {
        assert!(out.contains(needle), "report lacks {needle:?}:\n{out}");
    }
}

#[test]
fn offline_json_is_the_call_alone_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "quote.txt", QUOTE_SCRIPT);
    let agent = contractor();
    let o = run(
        dir.path(),
        &[
            "call",
            "--agent",
            agent.to_str().unwrap(),
            "--script",
            &script,
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let call: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(call["call_type"], "quote_request");
    assert_eq!(call["status"], "completed");
    assert_eq!(call["end_reason"], "completed");
    assert_eq!(call["custom_fields"]["first_name"], "John Smith");
    assert_eq!(call["custom_fields"]["phone"], "+15558675309");
    assert_eq!(call["custom_fields"]["email"], "john.smith@gmail.com");
    assert_eq!(call["caller"]["phone"], "+15551234567");
    assert_eq!(call["caller"]["name"], "John Smith");
    assert!(call["id"].as_str().unwrap().starts_with("call_"));
    assert!(call["ai_summary"].as_str().unwrap().contains("John Smith"));
    let turns = call["turns"].as_array().unwrap();
    assert_eq!(turns[0]["speaker"], "agent");
    assert_eq!(turns[1]["text"], "Hi, I'd like to get a quote for a kitchen remodel.");
    assert!(
        call["transcript"]
            .as_str()
            .unwrap()
            .starts_with("Agent: Thanks for calling")
    );
    assert!(
        stderr(&o).contains("agent> Thanks for calling"),
        "the conversation goes to stderr"
    );
}

#[test]
fn offline_reads_piped_stdin_and_hangs_up_at_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let agent = contractor();
    let mut child = frontdesk(dir.path())
        .args(["call", "--agent", agent.to_str().unwrap(), "--to", "+15550100000"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"I need a quote for a new roof\n\nJane Doe\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("you> Jane Doe"), "{out}");
    assert!(out.contains("quote_request"), "{out}");
    assert!(out.contains("Jane Doe"), "{out}");
    assert!(out.contains("(caller hangup)"), "{out}");
}

#[test]
fn an_invalid_agent_file_exits_2_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad_type = write(
        dir.path(),
        "bad.json",
        r#"{"name": "x", "greeting": "Hello", "closing": "Bye",
            "data_to_collect": [{"field": "first_name", "type": "name"}, {"field": "colour", "type": "colour"}]}"#,
    );
    let not_json = write(dir.path(), "broken.json", "{\"name\": ");
    let cases = [
        (bad_type.as_str(), "data_to_collect[1].type"),
        (not_json.as_str(), "is not valid JSON"),
        ("/nonexistent/agent.json", "could not read the agent file"),
    ];
    for (file, needle) in cases {
        let o = run(dir.path(), &["call", "--agent", file]);
        assert_eq!(o.status.code(), Some(2), "{file}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn no_server_is_one_line_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "s.txt", "hello\n");
    // A port nobody listens on: bound, then let go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let o = run(
        dir.path(),
        &["call", "--url", &url, "--key", "fd_live_x", "--script", &script],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(&format!("no Frontdesk server at {url}")), "{err}");
    assert!(err.contains("start one with `frontdesk serve`"), "{err}");
}

#[test]
fn usage_mistakes_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["call"], "FRONTDESK_API_KEY"),
        (&["call", "--key", "k", "--url", "ftp://x"], "--url"),
        (&["call", "--key", "k", "--to", "555"], "--to"),
        (
            &["call", "--key", "k", "--script", "/nonexistent/script.txt"],
            "could not read the script",
        ),
    ];
    for (args, needle) in cases {
        let o = run(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

// ---------------------------------------------------------------------------------------
// Over HTTP, against a stand-in for the simulator API.

const KEY: &str = "fd_live_testtesttesttesttesttesttesttest";
const CALL: &str = "call_01JTEST0000000000000000000";

#[derive(Clone, Default)]
struct Fake {
    log: Arc<Mutex<Vec<String>>>,
}

fn refused(headers: &HeaderMap) -> Option<(StatusCode, Json<Value>)> {
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    (auth != Some(&format!("Bearer {KEY}"))).then(|| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": {"code": "unauthorized", "message": "missing or invalid API key"}})),
        )
    })
}

async fn start(State(f): State<Fake>, headers: HeaderMap, Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
    if let Some(r) = refused(&headers) {
        return r;
    }
    f.log
        .lock()
        .unwrap()
        .push(format!("start {} -> {}", body["from"], body["to"]));
    if body["to"] != "+15550100000" {
        return (
            StatusCode::NOT_FOUND,
            Json(
                json!({"error": {"code": "number_not_found", "message": format!("no number {} in this workspace", body["to"].as_str().unwrap())}}),
            ),
        );
    }
    (
        StatusCode::CREATED,
        Json(
            json!({"call_id": CALL, "say": "Thanks for calling, how can I help?", "awaiting_field": null, "ended": false}),
        ),
    )
}

async fn turn(
    State(f): State<Fake>,
    UrlPath(id): UrlPath<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    if let Some(r) = refused(&headers) {
        return r;
    }
    let text = body["text"].as_str().unwrap().to_owned();
    f.log.lock().unwrap().push(format!("turn {id} {text}"));
    let reply = if text.contains("bye") {
        json!({"say": "Goodbye!", "awaiting_field": null, "ended": true, "transferred_to": null})
    } else {
        json!({"say": "May I have your name?", "awaiting_field": "first_name", "ended": false, "transferred_to": null})
    };
    (StatusCode::OK, Json(reply))
}

async fn hangup(State(f): State<Fake>, UrlPath(id): UrlPath<String>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    if let Some(r) = refused(&headers) {
        return r;
    }
    f.log.lock().unwrap().push(format!("hangup {id}"));
    (StatusCode::OK, Json(json!({"id": id, "status": "completed"})))
}

async fn fetch(State(f): State<Fake>, UrlPath(id): UrlPath<String>, headers: HeaderMap) -> (StatusCode, Json<Value>) {
    if let Some(r) = refused(&headers) {
        return r;
    }
    f.log.lock().unwrap().push(format!("get {id}"));
    (
        StatusCode::OK,
        Json(json!({
            "id": id, "status": "completed", "direction": "inbound", "from": "+15551234567",
            "to": "+15550100000", "agent_id": "agt_01JTEST", "end_reason": "caller_hangup",
            "caller": {"phone": "+15551234567", "name": "Jane Doe", "email": null},
            "call_type": "quote_request", "custom_fields": {"first_name": "Jane Doe", "budget": "$5,000"},
            "message": null, "transferred_to": null, "ai_summary": "Jane Doe (+15551234567) called about a quote.",
            "transcript": "Agent: Thanks for calling", "turns": [], "started_at": "2026-01-02T15:30:00Z",
            "ended_at": "2026-01-02T15:31:00Z", "duration_seconds": 60,
            "tool_calls": [{"tool": "submitLeadToCRM", "at": "2026-01-02T15:30:30Z", "status": 200, "ok": true,
                            "latency_ms": 12, "error": null}]
        })),
    )
}

/// Serves the stand-in on a free port for as long as the returned runtime lives.
fn fake_server() -> (tokio::runtime::Runtime, String, Fake) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fake = Fake::default();
    let app = axum::Router::new()
        .route("/v1/sim/calls", post(start))
        .route("/v1/sim/calls/{id}/turns", post(turn))
        .route("/v1/sim/calls/{id}/hangup", post(hangup))
        .route("/v1/calls/{id}", get(fetch))
        .with_state(fake.clone());
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    rt.spawn(async move { axum::serve(listener, app).await });
    (rt, url, fake)
}

#[test]
fn over_http_it_drives_the_simulator_and_reports_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let (_rt, url, fake) = fake_server();
    let script = write(dir.path(), "s.txt", "# comment\nI need a quote\n\nJane Doe\n");
    let o = frontdesk(dir.path())
        .args(["call", "--url", &format!("{url}/"), "--script", &script])
        .env("FRONTDESK_API_KEY", KEY)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("agent> Thanks for calling, how can I help?\nyou> I need a quote\n"),
        "{out}"
    );
    for needle in [
        "call call_01JTEST0000000000000000000: completed (caller hangup)",
        "call type       quote_request",
        "first_name    Jane Doe",
        "budget        $5,000",
        "tools           submitLeadToCRM: 200 in 12 ms",
        "summary         Jane Doe (+15551234567) called about a quote.",
    ] {
        assert!(out.contains(needle), "report lacks {needle:?}:\n{out}");
    }
    // The input ran out before the call ended: it was hung up, then fetched.
    assert_eq!(
        *fake.log.lock().unwrap(),
        [
            "start \"+15551234567\" -> \"+15550100000\"".to_owned(),
            format!("turn {CALL} I need a quote"),
            format!("turn {CALL} Jane Doe"),
            format!("hangup {CALL}"),
            format!("get {CALL}"),
        ]
    );
}

#[test]
fn over_http_a_call_the_agent_ends_is_not_hung_up_and_json_is_the_call() {
    let dir = tempfile::tempdir().unwrap();
    let (_rt, url, fake) = fake_server();
    let script = write(dir.path(), "s.txt", "ok bye\nnever said\n");
    let o = run(
        dir.path(),
        &["call", "--url", &url, "--key", KEY, "--script", &script, "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let call: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(call["id"], CALL);
    assert_eq!(call["custom_fields"]["first_name"], "Jane Doe");
    let err = stderr(&o);
    assert!(err.contains("agent> Goodbye!"), "{err}");
    assert!(err.contains("ended before the script's last line"), "{err}");
    let log = fake.log.lock().unwrap().clone();
    assert_eq!(log.len(), 3, "start, one turn, get: {log:?}");
    assert!(!log.iter().any(|l| l.starts_with("hangup")), "{log:?}");
}

#[test]
fn over_http_a_refused_key_and_an_unknown_number_get_hints() {
    let dir = tempfile::tempdir().unwrap();
    let (_rt, url, _fake) = fake_server();
    let script = write(dir.path(), "s.txt", "hello\n");
    let o = run(
        dir.path(),
        &["call", "--url", &url, "--key", "fd_live_wrong", "--script", &script],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("the API key was refused; pass --key or set FRONTDESK_API_KEY"),
        "{err}"
    );

    let o = run(
        dir.path(),
        &[
            "call",
            "--url",
            &url,
            "--key",
            KEY,
            "--to",
            "+15550199999",
            "--script",
            &script,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no number +15550199999 in this workspace"), "{err}");
    assert!(err.contains("GET /v1/numbers lists them"), "{err}");

    // Not a Frontdesk server: its 404 has no JSON error.
    let o = run(
        dir.path(),
        &[
            "call",
            "--url",
            &format!("{url}/elsewhere"),
            "--key",
            KEY,
            "--script",
            &script,
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("does not exist; is") && err.contains("a Frontdesk server with the simulator API"),
        "{err}"
    );
}
