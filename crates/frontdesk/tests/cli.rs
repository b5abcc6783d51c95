//! The `frontdesk` binary as a user runs it: a fresh folder, environment variables only.

#![allow(clippy::unwrap_used, reason = "test helpers fail loudly by design")]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn frontdesk(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_frontdesk"));
    cmd.current_dir(dir)
        .env_clear()
        .env(
            "FRONTDESK_DATABASE_URL",
            format!("sqlite://{}/data/fd.db", dir.display()),
        )
        .env("FRONTDESK_LOG", "warn");
    cmd
}

fn run(dir: &Path, args: &[&str]) -> Output {
    frontdesk(dir).args(args).output().expect("run frontdesk")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn keys_create_prints_the_key_alone_then_list_and_revoke() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["workspaces", "create", "acme"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(dir.path(), &["keys", "create", "--workspace", "acme", "--name", "ci"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let key = out.trim_end_matches('\n');
    assert!(!key.contains('\n'), "one line: {out:?}");
    assert!(
        key.starts_with("fd_live_") && key.len() == 48 && key[8..].bytes().all(|b| b.is_ascii_alphanumeric()),
        "{key}"
    );

    let o = run(dir.path(), &["keys", "list", "--workspace", "acme", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "ci");
    assert_eq!(list[0]["prefix"], &key[..12]);
    assert!(!stdout(&o).contains(key), "the secret is never listed");
    let id = list[0]["id"].as_str().unwrap().to_owned();

    let o = run(dir.path(), &["keys", "revoke", &id, "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let revoked: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(revoked["revoked_at"].is_string());

    let o = run(dir.path(), &["keys", "list"]);
    assert!(stdout(&o).contains(&id));
}

#[test]
fn mistakes_get_one_line_and_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["keys", "create", "--workspace", "nope", "--name", "x"],
            "frontdesk workspaces create nope",
        ),
        (&["workspaces", "create", "Bad Name"], "not a valid workspace name"),
        (&["keys", "revoke", "garbage"], "not a valid API key id"),
    ];
    for (args, needle) in cases {
        let o = run(dir.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: ") && err.contains(needle), "{err}");
    }
    let o = run(dir.path(), &["workspaces", "create", "dup"]);
    assert!(o.status.success());
    let o = run(dir.path(), &["workspaces", "create", "dup"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("already exists"));
}

#[test]
fn bad_configuration_names_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let o = frontdesk(dir.path())
        .args(["serve"])
        .env("FRONTDESK_LISTEN", "nowhere")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("FRONTDESK_LISTEN") && err.contains("127.0.0.1:8080"),
        "{err}"
    );
    std::fs::write(dir.path().join("frontdesk.toml"), "rate_limit_per_hour = \"many\"\n").unwrap();
    let o = run(dir.path(), &["migrate"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("rate_limit_per_hour"), "{}", stderr(&o));
    let o = run(dir.path(), &["--config", "missing.toml", "migrate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn every_command_has_help() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["migrate", "--help"],
        &["keys", "create", "--help"],
        &["keys", "list", "--help"],
        &["keys", "revoke", "--help"],
        &["workspaces", "create", "--help"],
    ] {
        let o = run(dir.path(), args);
        assert!(o.status.success(), "{args:?}");
        assert!(stdout(&o).contains("Usage"), "{args:?}");
    }
}

#[test]
fn migrate_reports_and_is_repeatable() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["migrate", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["applied"].as_u64().unwrap() >= 1);
    let o = run(dir.path(), &["migrate", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["applied"], 0);
}

struct Server {
    child: Child,
    lines: Vec<String>,
    addr: String,
}

#[allow(
    clippy::zombie_processes,
    reason = "the child is waited on by `terminate`; a failed start panics the test"
)]
fn start_server(dir: &Path) -> Server {
    start_server_with(frontdesk(dir))
}

#[allow(
    clippy::zombie_processes,
    reason = "the child is waited on by `terminate`; a failed start panics the test"
)]
fn start_server_with(mut cmd: Command) -> Server {
    let mut child = cmd
        .args(["serve"])
        .env("FRONTDESK_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(Instant::now() < deadline, "server did not start: {lines:?}");
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            panic!("server exited: {lines:?}");
        }
        if let Some(addr) = line.trim().strip_prefix("Frontdesk listening on ") {
            let addr = addr.to_owned();
            lines.push(line);
            return Server { child, lines, addr };
        }
        lines.push(line);
    }
}

fn http_get(addr: &str, path: &str, key: &str) -> String {
    use std::io::{Read, Write};
    let host = addr.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn terminate(mut server: Server) -> std::process::ExitStatus {
    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    server.child.wait().unwrap()
}

#[test]
fn serve_bootstraps_once_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = start_server(dir.path());
    let banner = server.lines.join("");
    assert!(
        banner.contains("workspace `default`") && banner.contains("+15550100000"),
        "{banner}"
    );
    let key = banner
        .split_whitespace()
        .find(|w| w.starts_with("fd_live_"))
        .expect("bootstrap key printed")
        .trim_matches('\'')
        .to_owned();
    assert!(
        dir.path().join("data/fd.db").exists(),
        "database created with its folder"
    );
    let res = http_get(&server.addr, "/v1/api-keys", &key);
    assert!(res.starts_with("HTTP/1.1 200"), "{res}");
    assert!(res.contains("\"name\":\"bootstrap\""), "{res}");
    // The first dashboard user, `admin`, with its password printed once.
    let admin_line = server
        .lines
        .iter()
        .find(|l| l.contains("Dashboard user `admin`"))
        .expect("the admin's password printed");
    let password = admin_line.trim().rsplit(' ').next().expect("password");
    assert_eq!(password.len(), 20, "{admin_line}");
    assert!(banner.contains("sign in as `admin`"), "{banner}");
    let status = terminate(server);
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    let o = run(dir.path(), &["users", "reset-password", "--email", "admin", "--json"]);
    assert!(o.status.success(), "the admin exists: {}", stderr(&o));

    // Second start: same database, no new bootstrap, the key still works.
    let server = start_server(dir.path());
    assert!(
        !server.lines.join("").contains("fd_live_"),
        "the key is printed only once"
    );
    assert!(http_get(&server.addr, "/v1/api-keys", &key).starts_with("HTTP/1.1 200"));
    assert!(terminate(server).success());
}

#[test]
fn json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let o = frontdesk(dir.path())
        .args(["--log-format", "json", "migrate"])
        .env("FRONTDESK_LOG", "info")
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = stderr(&o);
    let line = err.lines().next().expect("a log line");
    let v: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
    assert_eq!(v["level"], "INFO");
}

#[test]
fn listen_verifies_signatures_and_prints_events() {
    use frontdesk_core::webhook::WebhookSecret;
    use frontdesk_delivery::signer;

    let dir = tempfile::tempdir().unwrap();
    let secret = WebhookSecret::generate();
    let mut child = frontdesk(dir.path())
        .args(["listen", "--port", "0", "--json", "--secret", secret.expose()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url: serde_json::Value = serde_json::from_str(&line).unwrap();
    let addr = url["listening"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();

    let post = |body: &str, id: &str, ts: i64, sig: String, simple: String| -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(
            s,
            "POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             webhook-id: {id}\r\nwebhook-timestamp: {ts}\r\nwebhook-signature: {sig}\r\nx-frontdesk-signature: {simple}\r\n\
             x-frontdesk-event: call.ended\r\nx-frontdesk-delivery: dlv_1\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut res = String::new();
        s.read_to_string(&mut res).unwrap();
        res
    };
    let body = r#"{"id":"evt_1","event":"call.ended","data":{}}"#;
    let now = chrono::Utc::now().timestamp();
    let good = signer::standard_signature(&[&secret], "evt_1", now, body.as_bytes());
    let simple = signer::simple_signature(&secret, body.as_bytes());
    assert!(post(body, "evt_1", now, good.clone(), simple.clone()).starts_with("HTTP/1.1 200"));
    let mut printed = String::new();
    out.read_line(&mut printed).unwrap();
    let printed: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(printed["verified"], true);
    assert_eq!(printed["event"], "call.ended");
    assert_eq!(printed["body"]["id"], "evt_1");

    // Tampered body, wrong secret, stale timestamp: 401.
    assert!(post(r#"{"id":"evt_2"}"#, "evt_1", now, good.clone(), simple.clone()).starts_with("HTTP/1.1 401"));
    let other = WebhookSecret::generate();
    let bad = signer::standard_signature(&[&other], "evt_1", now, body.as_bytes());
    assert!(post(body, "evt_1", now, bad, simple.clone()).starts_with("HTTP/1.1 401"));
    let old = now - 600;
    let stale = signer::standard_signature(&[&secret], "evt_1", old, body.as_bytes());
    let res = post(body, "evt_1", old, stale, simple);
    assert!(res.starts_with("HTTP/1.1 401") && res.contains("seconds"), "{res}");
    child.kill().unwrap();
    child.wait().unwrap();
}

fn http_post_json(addr: &str, path: &str, key: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let host = addr.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(host).unwrap();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// A database whose secrets are sealed does not start without its key (or with another
/// one): every delivery would fail. With its key it starts as before.
#[test]
fn serve_refuses_secrets_it_cannot_open() {
    const KEY: &str = "cli-test-master-key-0123456789abcdef";
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = frontdesk(dir.path());
    cmd.env("FRONTDESK_MASTER_KEY", KEY);
    let server = start_server_with(cmd);
    let key = server
        .lines
        .join("")
        .split_whitespace()
        .find(|w| w.starts_with("fd_live_"))
        .expect("bootstrap key printed")
        .trim_matches('\'')
        .to_owned();
    let res = http_post_json(
        &server.addr,
        "/v1/webhooks",
        &key,
        r#"{"url": "https://crm.example.com/hook", "headers": {"Authorization": "Bearer crm"}}"#,
    );
    assert!(res.starts_with("HTTP/1.1 201"), "{res}");
    assert!(terminate(server).success());

    let o = frontdesk(dir.path())
        .args(["serve"])
        .env("FRONTDESK_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("sealed with a master key, and none is set"),
        "{}",
        stderr(&o)
    );
    let o = frontdesk(dir.path())
        .args(["serve"])
        .env("FRONTDESK_LISTEN", "127.0.0.1:0")
        .env("FRONTDESK_MASTER_KEY", "another-master-key-of-enough-length!!")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("sealed with another master key"), "{}", stderr(&o));

    let mut cmd = frontdesk(dir.path());
    cmd.env("FRONTDESK_MASTER_KEY", KEY);
    let server = start_server_with(cmd);
    assert!(http_get(&server.addr, "/v1/webhooks", &key).contains("Bearer crm"));
    assert!(terminate(server).success());
}

/// Runs `frontdesk` with `input` on its standard input.
fn run_with_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = frontdesk(dir)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run frontdesk");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn users_create_and_reset_password_print_the_password_alone() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["workspaces", "create", "acme"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(
        dir.path(),
        &["users", "create", "--workspace", "acme", "--email", "Owner@Acme.com"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let generated = stdout(&o).trim_end_matches('\n').to_owned();
    assert_eq!(generated.len(), 20, "a generated password, alone: {generated:?}");

    // The same name again, a short password, an unknown user: one line each, exit 2.
    let o = run(
        dir.path(),
        &["users", "create", "--workspace", "acme", "--email", "owner@acme.com"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    let o = run_with_stdin(
        dir.path(),
        &[
            "users",
            "create",
            "--workspace",
            "acme",
            "--email",
            "b@acme.com",
            "--password-stdin",
        ],
        "short\n",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("12"), "{}", stderr(&o));
    let o = run(dir.path(), &["users", "reset-password", "--email", "nobody@acme.com"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));

    let o = run_with_stdin(
        dir.path(),
        &[
            "users",
            "reset-password",
            "--email",
            "owner@acme.com",
            "--password-stdin",
            "--json",
        ],
        "a long passphrase of mine\n",
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["email"], "owner@acme.com");
    assert_eq!(v["password"], "a long passphrase of mine");
}
