//! `frontdesk listen`: a local webhook receiver, to see what an endpoint will get.
//!
//! Every request must carry valid Standard Webhooks headers (signature by the given
//! secret, timestamp within 5 minutes) and a valid `X-Frontdesk-Signature`; otherwise
//! it is answered 401 and the reason is printed on stderr. Accepted events are printed
//! on stdout: readable text, or one JSON object per line with `--json`.

use std::net::SocketAddr;

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use frontdesk_core::webhook::WebhookSecret;
use frontdesk_delivery::signer::{verify_simple, verify_standard};

use super::Output;
use crate::cli::{ListenArgs, UsageError};

/// Largest timestamp skew accepted, in seconds.
const TOLERANCE: i64 = 300;

#[derive(Clone)]
struct Listener {
    secret: WebhookSecret,
    json: bool,
}

pub async fn run(args: ListenArgs, out: Output) -> anyhow::Result<()> {
    let secret = WebhookSecret::parse(&args.secret).map_err(|e| UsageError(format!("--secret: {}", e.message)))?;
    let addr: SocketAddr = format!("{}:{}", args.host, args.port)
        .parse()
        .map_err(|_| UsageError(format!("`{}` is not an IP address to listen on", args.host)))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("could not listen on {addr}"))?;
    let local = listener.local_addr()?;
    let app = axum::Router::new()
        .fallback(receive)
        .with_state(Listener { secret, json: out.json });
    if !out.json {
        println!("Listening for webhooks on http://{local}/ (Ctrl-C to stop)");
    } else {
        println!("{}", serde_json::json!({ "listening": format!("http://{local}/") }));
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

async fn receive(State(l): State<Listener>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let now = chrono::Utc::now().timestamp();
    let standard = verify_standard(
        &l.secret,
        header(&headers, "webhook-id"),
        header(&headers, "webhook-timestamp"),
        header(&headers, "webhook-signature"),
        &body,
        now,
        TOLERANCE,
    );
    let simple = verify_simple(&l.secret, header(&headers, "x-frontdesk-signature"), &body);
    if let Err(e) = standard.and(simple) {
        eprintln!("refused a request: {e}");
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": {"code": "bad_signature", "message": e.to_string()}})),
        );
    }
    let event = header(&headers, "x-frontdesk-event").unwrap_or("?");
    let delivery = header(&headers, "x-frontdesk-delivery").unwrap_or("?");
    let id = header(&headers, "webhook-id").unwrap_or("?");
    let parsed: serde_json::Value =
        serde_json::from_slice(&body).unwrap_or_else(|_| String::from_utf8_lossy(&body).into());
    if l.json {
        println!(
            "{}",
            serde_json::json!({"verified": true, "event": event, "id": id, "delivery": delivery, "body": parsed})
        );
    } else {
        println!("✔ {event}  {id}  (delivery {delivery}, both signatures valid)");
        println!("{}", serde_json::to_string_pretty(&parsed).unwrap_or_default());
    }
    (StatusCode::OK, axum::Json(serde_json::json!({"ok": true})))
}
