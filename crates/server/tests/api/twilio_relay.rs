//! Twilio ConversationRelay: a number in `relay` mode answers with `<Connect>` to our
//! WebSocket; a real WebSocket client (tokio-tungstenite) then plays Twilio's part,
//! sending its JSON messages (setup, prompt, interrupt, dtmf) and reading ours (text
//! tokens, end). The handshake is signed by the PyPI `twilio` library like every
//! other Twilio request.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::TestApp;
use crate::twilio_support::{
    GLOBAL_ACCOUNT, GLOBAL_TOKEN, Leg, PUBLIC_URL, TRANSFER_TO, TwilioSide, call, count, events_of, names, only_call,
    says, sid, signature, stored_call, twilio_app, twilio_app_with, twilio_number, twiml,
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const NUMBER: &str = "+15553330000";
const CALLER: &str = "+15551230001";

/// Opens `path` on the app as a WebSocket, with `X-Twilio-Signature` when given.
async fn connect(app: &TestApp, path: &str, sig: Option<&str>) -> Result<Ws, WsError> {
    let url = format!("{}{path}", app.address.replacen("http://", "ws://", 1));
    let mut req = url.into_client_request().unwrap();
    if let Some(sig) = sig {
        req.headers_mut().insert("X-Twilio-Signature", sig.parse().unwrap());
    }
    tokio_tungstenite::connect_async(req).await.map(|(ws, _)| ws)
}

/// Asserts the handshake was refused with `status`.
fn assert_refused(r: Result<Ws, WsError>, status: u16, what: &str) {
    match r {
        Err(WsError::Http(res)) => assert_eq!(res.status().as_u16(), status, "{what}"),
        Err(e) => panic!("{what}: expected HTTP {status}, got {e}"),
        Ok(_) => panic!("{what}: the handshake was accepted"),
    }
}

async fn send(ws: &mut Ws, msg: Value) {
    ws.send(Message::text(msg.to_string())).await.unwrap();
}

/// The next JSON message within `within`, or `None` when none came.
async fn next(ws: &mut Ws, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = match tokio::time::timeout(left, ws.next()).await {
            Err(_) => return None,
            Ok(None) => panic!("the server closed the WebSocket"),
            Ok(Some(m)) => m.unwrap(),
        };
        match msg {
            Message::Text(t) => {
                return Some(serde_json::from_str(t.as_str()).unwrap_or_else(|e| panic!("not JSON ({e}): {t}")));
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            Message::Binary(b) => panic!("unexpected binary frame: {b:?}"),
            Message::Close(c) => panic!("the server closed the WebSocket: {c:?}"),
        }
    }
}

/// Reads one streamed reply: `text` messages up to the one with `last: true`. Returns
/// the tokens.
async fn reply(ws: &mut Ws) -> Vec<String> {
    let mut tokens = vec![];
    loop {
        let m = next(ws, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no reply; tokens so far {tokens:?}"));
        assert_eq!(m["type"], "text", "{m}");
        tokens.push(m["token"].as_str().unwrap().to_owned());
        match m["last"].as_bool() {
            Some(true) => return tokens,
            Some(false) => {}
            None => panic!("`last` is a boolean: {m}"),
        }
    }
}

/// A relay call on `leg` to the contractor's relay number, answered, its WebSocket
/// connected (signed) and set up: the socket, the call's id and the relay URL's path.
async fn relay_call(app: &TestApp, leg: &Leg<'_, '_>) -> (Ws, String, String) {
    twilio_number(app, "contractor", NUMBER, json!({"voice_mode": "relay"})).await;
    let r = twiml(leg.voice().await).await;
    let ws_url = r.child("Connect").child("ConversationRelay").attr("url").to_owned();
    let id = ws_url.split("call_id=").nth(1).unwrap().to_owned();
    let path = format!("/telephony/twilio/relay?call_id={id}");
    let sig = signature(GLOBAL_TOKEN, &ws_url, &[], None);
    let mut ws = connect(app, &path, Some(&sig)).await.expect("signed handshake");
    send(
        &mut ws,
        json!({"type": "setup", "sessionId": sid("VX"), "callSid": leg.sid, "from": CALLER, "to": NUMBER,
               "direction": "inbound", "accountSid": GLOBAL_ACCOUNT}),
    )
    .await;
    (ws, id, path)
}

#[tokio::test]
async fn conversation_relay_from_ring_to_transfer() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({"voice_mode": "relay"})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);

    // Ring: <Connect> to our WebSocket, with the greeting for Twilio to speak.
    let r = twiml(leg.voice().await).await;
    assert_eq!(r.names(), ["Connect"], "{r:#?}");
    let connect_el = r.child("Connect");
    let relay = connect_el.child("ConversationRelay");
    let ws_url = relay.attr("url").to_owned();
    let prefix = "wss://fd.example.com/telephony/twilio/relay?call_id=";
    assert!(ws_url.starts_with(prefix), "{ws_url}");
    let id = ws_url[prefix.len()..].to_owned();
    assert!(id.starts_with("call_"), "{ws_url}");
    assert_eq!(
        connect_el.attr("action"),
        format!("{PUBLIC_URL}/telephony/twilio/relay?call_id={id}")
    );
    assert!(
        relay
            .attr("welcomeGreeting")
            .starts_with("Thanks for calling Acme Contracting"),
        "{relay:#?}"
    );
    assert_eq!(relay.attr("language"), "en-US");
    let c = only_call(&app).await;
    assert_eq!(c["id"], id.as_str());
    assert_eq!(c["provider"], "twilio");
    assert_eq!(
        stored_call(&app, &id).await.provider_call_id.as_deref(),
        Some(leg.sid.as_str())
    );
    assert_eq!(c["status"], "in_progress");

    // The handshake is signed like any Twilio request, over the wss:// URL, no params.
    let path = format!("/telephony/twilio/relay?call_id={id}");
    assert_refused(connect(&app, &path, None).await, 403, "no signature");
    let wrong = signature("some-other-accounts-token", &ws_url, &[], None);
    assert_refused(connect(&app, &path, Some(&wrong)).await, 403, "wrong token");
    let other_call = signature(
        GLOBAL_TOKEN,
        &format!("{prefix}call_01JD3Q2W8M6Y7Z0ABCDEF12345"),
        &[],
        None,
    );
    assert_refused(
        connect(&app, &path, Some(&other_call)).await,
        403,
        "signed for another call",
    );
    let sig = signature(GLOBAL_TOKEN, &ws_url, &[], None);
    let mut ws = connect(&app, &path, Some(&sig))
        .await
        .expect("a signed handshake is accepted");

    send(
        &mut ws,
        json!({"type": "setup", "sessionId": sid("VX"), "callSid": leg.sid, "parentCallSid": "",
               "from": CALLER, "to": NUMBER, "forwardedFrom": NUMBER, "callerName": "",
               "direction": "inbound", "callType": "PSTN", "callStatus": "IN-PROGRESS",
               "accountSid": GLOBAL_ACCOUNT, "applicationSid": null, "customParameters": {}}),
    )
    .await;
    // A partial prompt is not acted on.
    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "Hi, I'd like to get", "lang": "en-US", "last": false}),
    )
    .await;
    assert_eq!(
        next(&mut ws, Duration::from_millis(400)).await,
        None,
        "no reply to last:false"
    );

    // The whole utterance: the reply streams in pieces.
    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "Hi, I'd like to get a quote for a kitchen remodel.", "lang": "en-US", "last": true}),
    )
    .await;
    let tokens = reply(&mut ws).await;
    let said = tokens.concat();
    assert!(says(&said, "may I have your name"), "{tokens:?}");

    // The caller talks over it: what was actually heard becomes the agent's turn.
    let heard = said.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    send(
        &mut ws,
        json!({"type": "interrupt", "utteranceUntilInterrupt": heard, "durationUntilInterruptMs": "460"}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let last_agent = loop {
        let c = call(&app, &id).await;
        let t = c["turns"]
            .as_array()
            .unwrap()
            .iter()
            .rev()
            .find(|t| t["speaker"] == "agent")
            .cloned()
            .unwrap();
        if t["interrupted"] == true || tokio::time::Instant::now() > deadline {
            break t;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(last_agent["interrupted"], true, "{last_agent}");
    assert_eq!(last_agent["text"], heard.as_str(), "{last_agent}");

    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "John Smith.", "lang": "en-US", "last": true}),
    )
    .await;
    let said = reply(&mut ws).await.concat();
    assert!(says(&said, "best number to reach you"), "{said}");

    // The phone number on the keypad, ended by #.
    for d in "5558675309#".chars() {
        send(&mut ws, json!({"type": "dtmf", "digit": d.to_string()})).await;
    }
    let said = reply(&mut ws).await.concat();
    assert!(said.contains("email"), "{said}");
    assert_eq!(call(&app, &id).await["custom_fields"]["phone"], "+15558675309");

    // Asking for a person ends the relay session with a transfer handoff.
    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "Actually, can I just talk to a real person please?", "lang": "en-US", "last": true}),
    )
    .await;
    let end = loop {
        let m = next(&mut ws, Duration::from_secs(10)).await.expect("an end message");
        match m["type"].as_str() {
            Some("end") => break m,
            Some("text") => {}
            _ => panic!("unexpected message {m}"),
        }
    };
    let handoff: Value =
        serde_json::from_str(end["handoffData"].as_str().expect("handoffData is a JSON string")).unwrap();
    assert_eq!(handoff["reason"], "transfer", "{handoff}");
    assert_eq!(handoff["transfer_to"], TRANSFER_TO, "{handoff}");
    assert!(handoff["say"].is_string(), "{handoff}");
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.transferred"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "call.ended"), 0, "{:?}", names(&ev));

    // Twilio posts the <Connect action> with the handoff: we dial.
    let session = sid("VX");
    let r = twiml(
        leg.send_to(
            &path,
            "in-progress",
            &[
                ("SessionId", session.as_str()),
                ("SessionStatus", "ended"),
                ("SessionDuration", "38"),
                ("HandoffData", end["handoffData"].as_str().unwrap()),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(r.names(), ["Say", "Dial"], "{r:#?}");
    let dial = r.child("Dial");
    assert_eq!(dial.text, TRANSFER_TO);
    assert_eq!(dial.attr("action"), format!("{PUBLIC_URL}/telephony/twilio/dial"));
    assert_eq!(r.child("Say").text, handoff["say"].as_str().unwrap());

    // The transfer connects and Twilio finishes the call.
    let r = twiml(leg.dial("completed", Some("51")).await).await;
    assert_eq!(r.names(), ["Hangup"]);
    twiml(leg.status("completed", Some("95")).await).await;
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["end_reason"], "transferred");
    assert_eq!(c["duration_seconds"], 95);
    assert_eq!(c["transferred_to"], TRANSFER_TO);
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "transcript.ready"), 1, "{:?}", names(&ev));
}

#[tokio::test]
async fn conversation_relay_refuses_calls_it_does_not_know() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({"voice_mode": "relay"})).await;
    // A well-signed handshake for a call that does not exist.
    let id = "call_01JD3Q2W8M6Y7Z0ABCDEF12345";
    let path = format!("/telephony/twilio/relay?call_id={id}");
    let sig = signature(GLOBAL_TOKEN, &format!("wss://fd.example.com{path}"), &[], None);
    match connect(&app, &path, Some(&sig)).await {
        Err(WsError::Http(res)) => assert!(res.status().is_client_error(), "{}", res.status()),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("a call that does not exist has no relay session"),
    }
    // No call_id at all.
    let path = "/telephony/twilio/relay";
    let sig = signature(GLOBAL_TOKEN, &format!("wss://fd.example.com{path}"), &[], None);
    match connect(&app, path, Some(&sig)).await {
        Err(WsError::Http(res)) => assert!(res.status().is_client_error(), "{}", res.status()),
        Err(e) => panic!("expected an HTTP refusal, got {e}"),
        Ok(_) => panic!("no call_id, no session"),
    }
}

#[tokio::test]
async fn the_http_form_of_the_relay_url_is_accepted_too() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({"voice_mode": "relay"})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    let r = twiml(leg.voice().await).await;
    let ws_url = r.child("Connect").child("ConversationRelay").attr("url").to_owned();
    let id = ws_url.split("call_id=").nth(1).unwrap().to_owned();
    let path = format!("/telephony/twilio/relay?call_id={id}");
    let sig = signature(GLOBAL_TOKEN, &format!("{PUBLIC_URL}{path}"), &[], None);
    let mut ws = connect(&app, &path, Some(&sig)).await.expect("signed over https://");
    send(
        &mut ws,
        json!({"type": "setup", "sessionId": sid("VX"), "callSid": leg.sid, "from": CALLER, "to": NUMBER,
               "direction": "inbound", "accountSid": GLOBAL_ACCOUNT}),
    )
    .await;
    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "What are your hours?", "lang": "en-US", "last": true}),
    )
    .await;
    let said = reply(&mut ws).await.concat();
    assert!(said.contains("8am to 6pm"), "{said}");
    // The caller hangs up: Twilio closes the socket and sends the status callback.
    ws.close(None).await.unwrap();
    twiml(leg.status("completed", Some("12")).await).await;
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 12);
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
}

#[tokio::test]
async fn a_relay_conversation_that_completes_hands_off_a_goodbye() {
    let app = twilio_app().await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    let (mut ws, id, path) = relay_call(&app, &leg).await;

    let script = [
        ("Hi, I'd like to get a quote for a kitchen remodel.", "name"),
        ("Sure, it's John Smith.", "number"),
        ("You can reach me at 555 867 5309.", "email"),
        ("john dot smith at gmail dot com", "budget"),
        ("Somewhere between fifteen and twenty thousand dollars.", "when"),
    ];
    for (prompt, asked) in script {
        send(
            &mut ws,
            json!({"type": "prompt", "voicePrompt": prompt, "lang": "en-US", "last": true}),
        )
        .await;
        let said = reply(&mut ws).await.concat();
        assert!(says(&said, asked), "after {prompt:?}: {said}");
    }
    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "In the next three months.", "lang": "en-US", "last": true}),
    )
    .await;
    reply(&mut ws).await;
    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "No, that's everything, thanks.", "lang": "en-US", "last": true}),
    )
    .await;
    let end = loop {
        let m = next(&mut ws, Duration::from_secs(10)).await.expect("an end message");
        match m["type"].as_str() {
            Some("end") => break m,
            Some("text") => {}
            _ => panic!("unexpected message {m}"),
        }
    };
    let handoff: Value = serde_json::from_str(end["handoffData"].as_str().unwrap()).unwrap();
    assert_eq!(handoff["reason"], "completed", "{handoff}");
    let goodbye = handoff["say"].as_str().unwrap_or_default().to_owned();
    assert!(goodbye.contains("Thanks John Smith"), "{handoff}");

    // Twilio posts the <Connect action>: the goodbye, then hang up.
    let r = twiml(
        leg.send_to(
            &path,
            "in-progress",
            &[
                ("SessionId", sid("VX").as_str()),
                ("SessionStatus", "ended"),
                ("SessionDuration", "64"),
                ("HandoffData", end["handoffData"].as_str().unwrap()),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(r.names(), ["Say", "Hangup"], "{r:#?}");
    assert_eq!(r.child("Say").text, goodbye);
    let ev = events_of(&app, &id).await;
    assert_eq!(
        count(&ev, "call.ended"),
        0,
        "not before the status callback: {:?}",
        names(&ev)
    );

    twiml(leg.status("completed", Some("70")).await).await;
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["end_reason"], "completed");
    assert_eq!(c["custom_fields"]["email"], "john.smith@gmail.com");
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "data.collected"), 6, "{:?}", names(&ev));
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "transcript.ready"), 1, "{:?}", names(&ev));
}

#[tokio::test]
async fn relay_urls_follow_the_public_urls_scheme() {
    let public = "http://fd.example.com";
    let app = twilio_app_with(|s| s.public_url = Some(public.to_owned())).await;
    twilio_number(&app, "contractor", NUMBER, json!({"voice_mode": "relay"})).await;
    let mut tw = TwilioSide::global(&app);
    tw.public_url = public.to_owned();
    let leg = tw.inbound(CALLER, NUMBER);
    let r = twiml(leg.voice().await).await;
    let connect_el = r.child("Connect");
    let ws_url = connect_el.child("ConversationRelay").attr("url").to_owned();
    let prefix = "ws://fd.example.com/telephony/twilio/relay?call_id=";
    assert!(ws_url.starts_with(prefix), "plain ws:// behind http://: {ws_url}");
    let id = &ws_url[prefix.len()..];
    assert_eq!(
        connect_el.attr("action"),
        format!("{public}/telephony/twilio/relay?call_id={id}")
    );
    let path = format!("/telephony/twilio/relay?call_id={id}");
    let sig = signature(GLOBAL_TOKEN, &ws_url, &[], None);
    connect(&app, &path, Some(&sig))
        .await
        .expect("signed over the ws:// URL");
}

/// Keypad digits without `#` are taken as one entry after a 2-second pause.
#[tokio::test]
async fn keypad_digits_end_after_a_pause() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({"voice_mode": "relay"})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    let r = twiml(leg.voice().await).await;
    let ws_url = r.child("Connect").child("ConversationRelay").attr("url").to_owned();
    let id = ws_url.split("call_id=").nth(1).unwrap().to_owned();
    let sig = signature(GLOBAL_TOKEN, &ws_url, &[], None);
    let path = format!("/telephony/twilio/relay?call_id={id}");
    let mut ws = connect(&app, &path, Some(&sig)).await.expect("signed handshake");
    for prompt in ["I need a quote for a kitchen remodel.", "John Smith."] {
        send(
            &mut ws,
            json!({"type": "prompt", "voicePrompt": prompt, "lang": "en-US", "last": true}),
        )
        .await;
        reply(&mut ws).await;
    }
    for d in "5558675309".chars() {
        send(&mut ws, json!({"type": "dtmf", "digit": d.to_string()})).await;
    }
    // Nothing until the pause has passed...
    assert!(next(&mut ws, Duration::from_millis(1000)).await.is_none());
    // ...then the digits are one turn.
    let said = reply(&mut ws).await.concat();
    assert!(said.contains("email"), "{said}");
    assert_eq!(call(&app, &id).await["custom_fields"]["phone"], "+15558675309");
}

/// Over ConversationRelay Twilio sends nothing while the caller is silent: after
/// `twilio_relay_silence` without a prompt, the turn is silence, under the same rule as
/// every channel (asked again, then the question skipped, then the call ends with
/// `no_input` and the goodbye is handed off).
#[tokio::test]
async fn relay_silence_is_a_timeout_under_the_same_rule() {
    let app = twilio_app_with(|s| {
        s.twilio.relay_silence = Duration::from_millis(300);
        s.twilio.relay_speaking_per_word = Duration::from_millis(1);
    })
    .await;
    let tw = TwilioSide::global(&app);
    let (mut ws, id, _) = relay_call(&app, &tw.inbound(CALLER, NUMBER)).await;
    // Nothing said after the greeting: asked again.
    let said = reply(&mut ws).await.concat();
    assert!(said.starts_with("Sorry, I didn't catch that."), "{said}");
    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "Hi, I'd like to get a quote for a kitchen remodel.", "last": true}),
    )
    .await;
    let said = reply(&mut ws).await.concat();
    assert!(says(&said, "name"), "{said}");
    let said = reply(&mut ws).await.concat();
    assert!(says(&said, "name"), "asked again: {said}");
    let said = reply(&mut ws).await.concat();
    assert!(said.contains("confirm that with you later"), "moved on: {said}");
    // The third silence in a row ends the call: the goodbye is handed off.
    let end = next(&mut ws, Duration::from_secs(10)).await.expect("the end");
    assert_eq!(end["type"], "end", "{end}");
    let handoff: Value = serde_json::from_str(end["handoffData"].as_str().unwrap()).unwrap();
    assert_eq!(handoff["reason"], "no_input", "{handoff}");
    assert_eq!(call(&app, &id).await["end_reason"], "no_input");
}

/// An `llm` agent on the relay: the model's first sentence goes out as soon as it is
/// whole (before the model has finished), and an interruption cancels the model's
/// stream (the stand-in sees the connection closed); the transcript keeps what was
/// spoken, and the call notes the interruption. The next prompt is a turn as usual.
#[tokio::test]
async fn on_the_relay_the_model_streams_and_an_interruption_cancels_it() {
    use frontdesk_llm::stand_in::{self, Reply, StandIn, Step};
    let llm = StandIn::start().await;
    let base = llm.base_url();
    let app = twilio_app_with(move |s| {
        s.models.base_url = Some(base);
        s.models.model = Some("stand-in-model".into());
        s.models.first_token_timeout = Duration::from_secs(2);
    })
    .await;
    let mut cfg = crate::helpers::agent_file("contractor");
    cfg["brain"] = json!("llm");
    let (s, agent) = crate::helpers::post_json(&app, "/v1/agents", cfg).await;
    assert_eq!(s, 201, "{agent}");
    let (s, n) = crate::helpers::post_json(
        &app,
        "/v1/numbers",
        json!({"number": NUMBER, "agent_id": agent["id"], "provider": "twilio", "voice_mode": "relay"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    let r = twiml(leg.voice().await).await;
    let ws_url = r.child("Connect").child("ConversationRelay").attr("url").to_owned();
    let id = ws_url.split("call_id=").nth(1).unwrap().to_owned();
    let sig = signature(GLOBAL_TOKEN, &ws_url, &[], None);
    let mut ws = connect(&app, &format!("/telephony/twilio/relay?call_id={id}"), Some(&sig))
        .await
        .expect("signed handshake");
    send(&mut ws, json!({"type": "setup", "callSid": leg.sid})).await;

    llm.reply(Reply::Stream(vec![
        stand_in::role(),
        stand_in::text("Sure, I can help with "),
        stand_in::text("that. Let me"),
        Step::Delay(Duration::from_secs(20)),
        stand_in::text(" tell you all about it."),
        stand_in::finish("stop"),
        Step::Done,
    ]));
    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "I need a quote for a deck", "last": true}),
    )
    .await;
    // The first sentence, while the model is still writing.
    let m = next(&mut ws, Duration::from_secs(10))
        .await
        .expect("the first sentence");
    assert_eq!(
        m,
        json!({"type": "text", "token": "Sure, I can help with that. ", "last": false})
    );
    send(
        &mut ws,
        json!({"type": "interrupt", "utteranceUntilInterrupt": "Sure, I can help", "durationUntilInterruptMs": "800"}),
    )
    .await;
    assert!(
        llm.wait_closed_early(1, Duration::from_secs(10)).await,
        "the interruption cancels the model's stream"
    );
    // The transcript keeps what was spoken, marked; the call notes the interruption.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let call = loop {
        let c = stored_call(&app, &id).await;
        let last = c
            .turns
            .iter()
            .rev()
            .find(|t| t.speaker == frontdesk_core::call::Speaker::Agent);
        if last.is_some_and(|t| t.interrupted) || tokio::time::Instant::now() > deadline {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let last = call.turns.last().unwrap();
    assert!(last.interrupted, "{:?}", call.turns);
    assert_eq!(last.text, "Sure, I can help");
    assert_eq!(call.session["events"][0]["kind"], "interrupted", "{}", call.session);
    // Nothing more of that turn is spoken.
    assert_eq!(next(&mut ws, Duration::from_millis(300)).await, None);

    // The caller's words are the next turn.
    llm.reply(stand_in::text_reply(&["Happy to. ", "May I have your name?"]));
    send(
        &mut ws,
        json!({"type": "prompt", "voicePrompt": "how much would it be", "last": true}),
    )
    .await;
    assert_eq!(reply(&mut ws).await.concat(), "Happy to. May I have your name?");
}
