//! What a stranger (or a hostile tenant) can make the server do: every finding of the
//! hardening review replayed, so none of it comes back. Each test names the finding.
//!
//! No test here asserts a speed: limits are checked by what the server answers, and the
//! time bounds below only keep a broken server from hanging the suite.

use std::time::Duration;

use rand::Rng;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, error_of, spawn_app, spawn_app_with};
use crate::twilio_support::{
    FORM, GLOBAL_ACCOUNT, GLOBAL_TOKEN, Leg, TwilioSide, assert_nothing_recorded, raw_post, sid, store_credentials,
    twilio_app, twilio_number, twilio_number_with_key, twiml,
};

/// Long enough that only a hung server misses it.
const LIVENESS: Duration = Duration::from_secs(20);

fn host_port(app: &TestApp) -> String {
    app.address.trim_start_matches("http://").to_owned()
}

/// Reads what the server sends until it closes the connection (or `LIVENESS` passes).
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let read = tokio::time::timeout(LIVENESS, stream.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the server neither answered nor closed the connection");
    String::from_utf8_lossy(&out).into_owned()
}

fn status_of(response: &str) -> u16 {
    response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

// ---------------------------------------------------------------------------
// Unsigned Twilio requests cost nothing before they are refused
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_twilio_form_of_forty_thousand_parameters_is_refused_before_it_is_parsed() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", "+15553330000", json!({})).await;
    // 40,000 parameters: over the byte limit of a telephony body, refused on its
    // declared length alone.
    let big: String = (0..40_000).map(|i| format!("p{i}=v&")).collect();
    let res = raw_post(&app, "/telephony/twilio/voice", big.into_bytes(), FORM, Some("bogus")).await;
    let (status, code, _) = error_of(res).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));

    // Many parameters in few bytes: refused by count, before decoding or signing.
    let many = "a=&".repeat(2_000);
    let res = raw_post(&app, "/telephony/twilio/voice", many.into_bytes(), FORM, Some("bogus")).await;
    let (status, code, message) = error_of(res).await;
    assert_eq!((status, code.as_str()), (413, "too_many_parameters"), "{message}");

    // The same with a real signature: the cap comes first.
    let params: Vec<(String, String)> = (0..300).map(|i| (format!("P{i}"), "v".to_owned())).collect();
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = TwilioSide::global(&app)
        .post("/telephony/twilio/voice", &borrowed)
        .await;
    assert_eq!(res.status(), 413);

    // A body without a signature is refused before anything else.
    let res = raw_post(&app, "/telephony/twilio/voice", b"a=1".to_vec(), FORM, None).await;
    assert_eq!(res.status(), 403);
    assert_nothing_recorded(&app, "refused Twilio requests").await;

    // A real call with many (but not too many) parameters is still answered.
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound("+15551234567", "+15553330000");
    let mut params = leg.params("ringing", &[]);
    params.extend((0..150).map(|i| (format!("Extra{i}"), format!("value {i}"))));
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let r = twiml(tw.post("/telephony/twilio/voice", &borrowed).await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
}

// ---------------------------------------------------------------------------
// /metrics stays the same size whatever the traffic
// ---------------------------------------------------------------------------

#[tokio::test]
async fn metric_labels_come_from_a_closed_set() {
    let app = spawn_app().await;
    let mut tokens = Vec::new();
    for _ in 0..300 {
        let token: String = {
            let mut rng = rand::rng();
            (0..12).map(|_| char::from(rng.random_range(b'A'..=b'Z'))).collect()
        };
        let method = reqwest::Method::from_bytes(token.as_bytes()).unwrap();
        let res = app
            .client
            .request(method, app.url(&format!("/{}/x{token}", token.to_lowercase())))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());
        let res = app
            .client
            .get(app.url(&format!("/nothing/{token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        tokens.push(token);
    }
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for t in &tokens {
        assert!(
            !metrics.contains(t.as_str()) && !metrics.contains(&t.to_lowercase()),
            "a label holds traffic's own text ({t})"
        );
    }
    assert!(
        metrics.contains(r#"method="other""#),
        "unknown methods count as `other`"
    );
    assert!(
        metrics.contains(r#"route="unmatched""#),
        "unknown paths count as `unmatched`"
    );
}

// ---------------------------------------------------------------------------
// Bodies: over the limit refused at once, cut off when chunked, timed out when slow
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_body_declared_over_the_limit_is_refused_at_once() {
    let app = spawn_app().await;
    let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
    let head = format!(
        "POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n",
        app.key
    );
    s.write_all(head.as_bytes()).await.unwrap();
    // Not a byte of the body is sent: the answer comes anyway, and the connection closes.
    let response = read_until_closed(&mut s).await;
    assert_eq!(status_of(&response), 413, "{response}");
    assert!(
        response.to_ascii_lowercase().contains("connection: close"),
        "{response}"
    );
    assert!(response.contains("payload_too_large"), "{response}");

    // Twilio's routes have a smaller limit.
    let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
    s.write_all(
        b"POST /telephony/twilio/voice HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          X-Twilio-Signature: x\r\nContent-Length: 70000\r\n\r\n",
    )
    .await
    .unwrap();
    assert_eq!(status_of(&read_until_closed(&mut s).await), 413);
}

#[tokio::test]
async fn an_endless_chunked_body_is_cut_off_at_the_limit() {
    let app = spawn_app_with(|s| s.max_body_bytes = 64 * 1024).await;
    let s = TcpStream::connect(host_port(&app)).await.unwrap();
    let (mut rd, mut wr) = s.into_split();
    let head = format!(
        "POST /v1/agents HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        app.key
    );
    wr.write_all(head.as_bytes()).await.unwrap();
    // Keep sending until the server stops taking it.
    let writer = tokio::spawn(async move {
        let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
        let mut sent = 0usize;
        while wr.write_all(chunk.as_bytes()).await.is_ok() {
            sent += 0x4000;
            if sent > 64 * 1024 * 1024 {
                break;
            }
        }
        sent
    });
    let mut out = Vec::new();
    let read = tokio::time::timeout(LIVENESS, rd.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "no answer to an endless body");
    let response = String::from_utf8_lossy(&out);
    assert_eq!(status_of(&response), 413, "{response}");
    let sent = writer.await.unwrap();
    assert!(sent < 64 * 1024 * 1024, "the server kept reading: {sent} bytes");
}

#[tokio::test]
async fn a_body_that_stalls_times_out_with_408() {
    let app = spawn_app_with(|s| s.body_timeout = Duration::from_secs(1)).await;
    let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
    let head = format!(
        "POST /v1/api-keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"name\": ",
        app.key
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let response = read_until_closed(&mut s).await;
    assert_eq!(status_of(&response), 408, "{response}");
    assert!(response.contains("request_timeout"), "{response}");
}

// ---------------------------------------------------------------------------
// Connections that never finish their headers are closed
// ---------------------------------------------------------------------------

#[tokio::test]
async fn connections_that_never_finish_their_headers_are_closed() {
    let app = spawn_app_with(|s| s.connections.header_timeout = Duration::from_secs(1)).await;
    let mut open = Vec::new();
    for _ in 0..200 {
        let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        open.push(s);
    }
    // An idle keep-alive connection goes the same way.
    let mut idle = TcpStream::connect(host_port(&app)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    open.push(idle);
    for mut s in open {
        let mut buf = Vec::new();
        let closed = tokio::time::timeout(LIVENESS, s.read_to_end(&mut buf)).await;
        assert!(closed.is_ok(), "a stalled connection was kept open");
    }
    // The server still answers.
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn open_connections_are_capped_and_freed() {
    let app = spawn_app_with(|s| {
        s.connections.max_connections = 4;
        s.connections.header_timeout = Duration::from_secs(1);
    })
    .await;
    // Four stalled connections hold every slot...
    let mut stalled = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(host_port(&app)).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\n").await.unwrap();
        stalled.push(s);
    }
    // ...until their header deadline frees them, and a fifth is served.
    let client = reqwest::Client::new();
    let res = tokio::time::timeout(LIVENESS, client.get(app.url("/healthz")).send()).await;
    assert_eq!(res.expect("served once a slot frees").unwrap().status(), 200);
}

// ---------------------------------------------------------------------------
// Twilio tokens: the rule
// ---------------------------------------------------------------------------

/// A workspace that stored its own Twilio account is reached only with that account's
/// token: the operator's global token does not drive its calls (while it still
/// reaches every workspace that stored none).
#[tokio::test]
async fn the_global_token_does_not_reach_a_workspace_with_its_own_account() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", "+15553330000", json!({})).await;
    let (_, clinic_key) = app.other_workspace(&sid("clinic-")).await;
    let account = sid("AC");
    let token = "7d6c5b4a39281706f5e4d3c2b1a09f8e";
    store_credentials(&app, &clinic_key, &account, token).await;
    twilio_number_with_key(&app, &clinic_key, "dental", "+15552220000", json!({})).await;

    // The clinic's account, signed with the global token: not the clinic's call.
    let forged = TwilioSide::account(&app, &account, GLOBAL_TOKEN);
    let r = twiml(forged.inbound("+15551230009", "+15552220000").voice().await).await;
    assert_eq!(r.names(), ["Say", "Hangup"], "{r:#?}");
    // Signed with the clinic's token: answered.
    let theirs = TwilioSide::account(&app, &account, token);
    let leg = theirs.inbound("+15551230009", "+15552220000");
    let r = twiml(leg.voice().await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
    // A turn of that call signed with the global token finds no call.
    let forged_leg = Leg {
        tw: &forged,
        sid: leg.sid.clone(),
        from: leg.from.clone(),
        to: leg.to.clone(),
        direction: "inbound",
        call_id: None,
    };
    let r = twiml(forged_leg.say("I want to cancel everything", "0.9").await).await;
    assert_eq!(r.names(), ["Say", "Hangup"], "{r:#?}");
    // The global token still reaches the workspaces that stored nothing.
    let r = twiml(
        TwilioSide::account(&app, GLOBAL_ACCOUNT, GLOBAL_TOKEN)
            .inbound("+15551230010", "+15553330000")
            .voice()
            .await,
    )
    .await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
}
