//! Twilio Voice over HTTP, as Twilio drives it: every webhook form-encoded and signed
//! by the PyPI `twilio` library's `RequestValidator`, every TwiML answer parsed as XML.
//!
//! Signatures (who may call `/telephony/twilio/*` and what a refusal leaves behind),
//! workspace credentials, numbers' voice modes, whole gather-mode calls from ring to
//! status callback (turns, silence, transfer with voicemail, recorded messages), bad
//! requests, and outbound calls through a stand-in for Twilio's REST API.
//! ConversationRelay is in `twilio_relay.rs`; the shared helpers in `twilio_support.rs`.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_of};
use crate::receiver::{Receiver, Reply, free_port};
use crate::twilio_support::{
    FORM, GLOBAL_ACCOUNT, GLOBAL_TOKEN, PUBLIC_URL, TRANSFER_TO, TwilioSide, assert_nothing_recorded, assert_record,
    call, calls, count, delivered, events_of, form_component, gather_say, get_json, names, only_call, pairs, post_json,
    raw_post, say_hangup, says, sid, signature, store_credentials, stored_call, twilio_app, twilio_app_with,
    twilio_number, twilio_number_with_key, twiml, wait_delivered, webhook_to,
};

const NUMBER: &str = "+15553330000";
const CALLER: &str = "+15551230001";
const VOICE: &str = "/telephony/twilio/voice";

/// Asserts a 403 `invalid_signature` JSON error.
async fn assert_refused(res: reqwest::Response, what: &str) {
    let (status, code, message) = error_of(res).await;
    assert_eq!((status, code.as_str()), (403, "invalid_signature"), "{what}: {message}");
}

// ---------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------

#[tokio::test]
async fn requests_without_a_valid_signature_are_refused_and_leave_no_trace() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    let owned = leg.base("ringing");
    let params = pairs(&owned);
    let url = format!("{PUBLIC_URL}{VOICE}");

    // No signature at all.
    assert_refused(tw.post_signed(VOICE, &params, None).await, "no signature").await;
    assert_nothing_recorded(&app, "no signature").await;

    // Signed with another token.
    let wrong = signature("some-other-accounts-token", &url, &params, None);
    assert_refused(tw.post_signed(VOICE, &params, Some(&wrong)).await, "wrong token").await;
    assert_nothing_recorded(&app, "wrong token").await;

    // Not a signature.
    assert_refused(
        tw.post_signed(VOICE, &params, Some("bm90IGEgc2lnbmF0dXJl")).await,
        "garbage",
    )
    .await;
    assert_refused(tw.post_signed(VOICE, &params, Some("")).await, "empty header").await;
    assert_nothing_recorded(&app, "garbage signature").await;

    // Signed over another URL: another route, the http form, another host, a query.
    for other in [
        format!("{PUBLIC_URL}/telephony/twilio/gather"),
        format!("http://fd.example.com{VOICE}"),
        format!("https://evil.example.com{VOICE}"),
        format!("{PUBLIC_URL}{VOICE}?x=1"),
    ] {
        let sig = signature(GLOBAL_TOKEN, &other, &params, None);
        assert_refused(tw.post_signed(VOICE, &params, Some(&sig)).await, &other).await;
    }
    assert_nothing_recorded(&app, "signature over another URL").await;

    // A parameter changed after signing, one added, one dropped.
    let good = signature(GLOBAL_TOKEN, &url, &params, None);
    let mut tampered = owned.clone();
    for (k, v) in &mut tampered {
        if k == "From" {
            *v = "+15559999999".into();
        }
    }
    assert_refused(
        tw.post_signed(VOICE, &pairs(&tampered), Some(&good)).await,
        "tampered From",
    )
    .await;
    let mut added = owned.clone();
    added.push(("Extra".into(), "1".into()));
    assert_refused(tw.post_signed(VOICE, &pairs(&added), Some(&good)).await, "added param").await;
    assert_refused(tw.post_signed(VOICE, &params[1..], Some(&good)).await, "dropped param").await;
    assert_nothing_recorded(&app, "tampered parameters").await;

    // Every Twilio route checks: gather, status, dial, recording, the relay action.
    for route in [
        "gather",
        "status",
        "dial",
        "recording",
        "relay?call_id=call_01JD3Q2W8M6Y7Z0ABCDEF12345",
    ] {
        let path = format!("/telephony/twilio/{route}");
        assert_refused(tw.post_signed(&path, &params, None).await, &path).await;
        let sig = signature(
            "some-other-accounts-token",
            &format!("{PUBLIC_URL}{path}"),
            &params,
            None,
        );
        assert_refused(tw.post_signed(&path, &params, Some(&sig)).await, &path).await;
    }
    assert_nothing_recorded(&app, "other routes").await;

    // The genuine request goes through; the parameter order on the wire is irrelevant.
    let mut shuffled = params.clone();
    shuffled.reverse();
    let r = twiml(tw.post_signed(VOICE, &shuffled, Some(&good)).await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
    assert_eq!(calls(&app).await.len(), 1);
}

#[tokio::test]
async fn signatures_follow_the_reference_library_in_every_variant() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);

    // URL with the default port written out: validators try both forms.
    let leg = tw.inbound(CALLER, NUMBER);
    let owned = leg.base("ringing");
    let with_port = signature(
        GLOBAL_TOKEN,
        &format!("https://fd.example.com:443{VOICE}"),
        &pairs(&owned),
        None,
    );
    let r = twiml(tw.post_signed(VOICE, &pairs(&owned), Some(&with_port)).await).await;
    assert_eq!(r.names(), ["Gather"], "signed with :443: {r:#?}");

    // HMAC-SHA256 when Twilio says so in X-Twilio-Webhooks-Signature-Settings.
    let leg = tw.inbound("+15551230002", NUMBER);
    let owned = leg.base("ringing");
    let url = format!("{PUBLIC_URL}{VOICE}");
    let sha256 = signature(GLOBAL_TOKEN, &url, &pairs(&owned), Some("HMAC_SHA256"));
    let sha1 = signature(GLOBAL_TOKEN, &url, &pairs(&owned), None);
    let send = |sig: String, settings: Option<&'static str>| {
        let body = crate::twilio_support::form_encode(&pairs(&owned));
        let mut req = app
            .client
            .post(app.url(VOICE))
            .header("content-type", FORM)
            .header("X-Twilio-Signature", sig)
            .body(body);
        if let Some(s) = settings {
            req = req.header("X-Twilio-Webhooks-Signature-Settings", s);
        }
        req.send()
    };
    let settings = Some("key=KS0123456789abcdef0123456789abcdef,algorithm=HMAC_SHA256");
    // A SHA-1 signature where SHA-256 is announced, and the reverse, are refused.
    assert_refused(send(sha1.clone(), settings).await.unwrap(), "sha1 announced as sha256").await;
    assert_refused(send(sha256.clone(), None).await.unwrap(), "sha256 without the header").await;
    assert_eq!(calls(&app).await.len(), 1, "only the :443 call so far");
    let r = twiml(send(sha256, settings).await.unwrap()).await;
    assert_eq!(r.names(), ["Gather"], "HMAC_SHA256: {r:#?}");
    assert_eq!(calls(&app).await.len(), 2);
}

#[tokio::test]
async fn without_a_public_url_the_host_header_is_signed() {
    let app = twilio_app_with(|s| s.public_url = None).await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    let owned = leg.base("ringing");
    // reqwest sends `Host: 127.0.0.1:{port}`; app.address is `http://127.0.0.1:{port}`.
    let sig = signature(GLOBAL_TOKEN, &format!("{}{VOICE}", app.address), &pairs(&owned), None);
    let res = raw_post(
        &app,
        VOICE,
        crate::twilio_support::form_encode(&pairs(&owned)).into_bytes(),
        FORM,
        Some(&sig),
    )
    .await;
    let status = res.status();
    let body = res.text().await.unwrap();
    assert_eq!(status, 200, "{body}");
    // Signed over the public URL the server does not have: refused.
    let leg = tw.inbound("+15551230002", NUMBER);
    let owned = leg.base("ringing");
    let sig = signature(GLOBAL_TOKEN, &format!("{PUBLIC_URL}{VOICE}"), &pairs(&owned), None);
    assert_refused(
        tw.post_signed(VOICE, &pairs(&owned), Some(&sig)).await,
        "public URL unset",
    )
    .await;
    assert_eq!(calls(&app).await.len(), 1);
}

#[tokio::test]
async fn with_no_token_anywhere_every_request_is_refused() {
    let app = twilio_app_with(|s| s.twilio.auth_token = None).await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    assert_refused(leg.voice().await, "no token configured").await;
    // Not even an empty token signs.
    let empty = TwilioSide::account(&app, GLOBAL_ACCOUNT, "");
    assert_refused(empty.inbound(CALLER, NUMBER).voice().await, "empty token").await;
    assert_nothing_recorded(&app, "no token").await;
}

// ---------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------

#[tokio::test]
async fn twilio_credentials_are_stored_without_showing_the_token() {
    let app = twilio_app().await;
    let res = app.get("/v1/credentials/twilio").send().await.unwrap();
    assert_eq!(error_of(res).await.0, 404);

    let account = sid("AC");
    let token = "f3b2c1d0e9a8b7c6d5e4f3a2b1c09e8d";
    for bad in [
        "AC123",
        "XX0123456789abcdef0123456789abcdef",
        "ACzz23456789abcdef0123456789abcdef",
        "",
    ] {
        let res = app
            .client
            .put(app.url("/v1/credentials/twilio"))
            .bearer_auth(&app.key)
            .json(&json!({"account_sid": bad, "auth_token": token}))
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(res).await.0, 422, "account_sid {bad:?}");
    }

    let put = store_credentials(&app, &app.key, &account, token).await;
    assert_eq!(put["provider"], "twilio");
    assert_eq!(put["account_sid"], account.as_str());
    let hint = put["auth_token_hint"].as_str().unwrap();
    assert!(hint.ends_with(&token[token.len() - 4..]), "{hint}");
    assert!(!hint.contains(&token[..8]), "{hint}");
    assert!(put["created_at"].is_string() && put["updated_at"].is_string(), "{put}");
    assert!(!put.to_string().contains(token), "the token never comes back: {put}");

    let got = get_json(&app, "/v1/credentials/twilio").await;
    assert_eq!(got, put);
    // Without an API key: 401 like any /v1 route.
    let res = app.client.get(app.url("/v1/credentials/twilio")).send().await.unwrap();
    assert_eq!(error_of(res).await.0, 401);

    let res = app.delete("/v1/credentials/twilio").send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = app.get("/v1/credentials/twilio").send().await.unwrap();
    assert_eq!(error_of(res).await.0, 404);

    // A server without a master key refuses to store credentials at all.
    let keyless = twilio_app_with(|s| s.master_key = None).await;
    let res = keyless
        .client
        .put(keyless.url("/v1/credentials/twilio"))
        .bearer_auth(&keyless.key)
        .json(&json!({"account_sid": account, "auth_token": token}))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(res).await;
    assert_eq!((status, code.as_str()), (409, "master_key_required"));
}

#[tokio::test]
async fn a_workspace_token_validates_its_own_accounts_requests() {
    let app = twilio_app().await;
    let ws_name = sid("clinic-");
    let (_, clinic_key) = app.other_workspace(&ws_name).await;
    let account = sid("AC");
    let token = "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f";
    store_credentials(&app, &clinic_key, &account, token).await;
    twilio_number_with_key(&app, &clinic_key, "dental", "+15552220000", json!({})).await;

    // Twilio calls the clinic's number on the clinic's account, signed with its token.
    let theirs = TwilioSide::account(&app, &account, token);
    let leg = theirs.inbound(CALLER, "+15552220000");
    let r = twiml(leg.voice().await).await;
    assert!(r.all_text().contains("Bright Smile"), "{r:#?}");
    let list: Value = app
        .client
        .get(app.url("/v1/calls"))
        .bearer_auth(&clinic_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "the clinic has the call");
    let clinic_call = list["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        stored_call(&app, &clinic_call).await.provider_call_id.as_deref(),
        Some(leg.sid.as_str())
    );
    assert!(calls(&app).await.is_empty(), "the default workspace has none");

    // The clinic's token is no good for another account (which uses the global one).
    let cross = TwilioSide::account(&app, GLOBAL_ACCOUNT, token);
    assert_refused(
        cross.inbound(CALLER, "+15552220000").voice().await,
        "clinic token, other account",
    )
    .await;
    // Gather callbacks of the clinic's call are checked with the clinic's token too.
    let r = twiml(leg.say("Hi, I'd like to book a cleaning.", "0.9").await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");

    // At rest, the token is encrypted: the database files do not hold it in clear.
    app.assert_not_at_rest(token, "the auth token").await;
    app.assert_not_at_rest(
        &base64::engine::general_purpose::STANDARD.encode(token),
        "the auth token",
    )
    .await;

    // A new token replaces the old one at once.
    let rotated = "1f2e3d4c5b6a79880f1e2d3c4b5a6978";
    store_credentials(&app, &clinic_key, &account, rotated).await;
    let stale = TwilioSide::account(&app, &account, token);
    assert_refused(
        stale.inbound("+15551230003", "+15552220000").voice().await,
        "the old token after rotation",
    )
    .await;
    let fresh = TwilioSide::account(&app, &account, rotated);
    let r = twiml(fresh.inbound("+15551230003", "+15552220000").voice().await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
}

/// A token a workspace stored speaks only for that workspace: a request signed with it
/// reaches no other workspace's number. The operator's global token is always heard, so
/// a tenant who stores the operator's account SID with a wrong token cannot lock that
/// account out.
#[tokio::test]
async fn a_stored_token_speaks_only_for_its_workspace_and_cannot_lock_out_the_operator() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let (_, clinic_key) = app.other_workspace(&sid("clinic-")).await;
    let account = sid("AC");
    let token = "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f";
    store_credentials(&app, &clinic_key, &account, token).await;
    twilio_number_with_key(&app, &clinic_key, "dental", "+15552220000", json!({})).await;

    // The clinic's token, calling the default workspace's number: not in service.
    let clinic = TwilioSide::account(&app, &account, token);
    let r = twiml(clinic.inbound("+15551230002", NUMBER).voice().await).await;
    assert_eq!(r.names(), ["Say", "Hangup"], "{r:#?}");
    assert!(calls(&app).await.is_empty());
    // ...and its own number: answered.
    let r = twiml(clinic.inbound("+15551230002", "+15552220000").voice().await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");

    // Someone stores the operator's account SID with a wrong token...
    let (_, mallory_key) = app.other_workspace(&sid("mallory-")).await;
    store_credentials(&app, &mallory_key, GLOBAL_ACCOUNT, "0000000000000000wrongtoken000000").await;
    // ...and the operator's calls still get through, signed with the global token.
    let r = twiml(TwilioSide::global(&app).inbound(CALLER, NUMBER).voice().await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
    assert_eq!(calls(&app).await.len(), 1);
    // Mallory's own token speaks for Mallory's workspace only: the operator's number
    // is not in service to her.
    let mallory = TwilioSide::account(&app, GLOBAL_ACCOUNT, "0000000000000000wrongtoken000000");
    let r = twiml(mallory.inbound("+15551230003", NUMBER).voice().await).await;
    assert_eq!(r.names(), ["Say", "Hangup"], "{r:#?}");
    assert_eq!(calls(&app).await.len(), 1);
}

// ---------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------

#[tokio::test]
async fn twilio_numbers_carry_a_voice_mode_and_a_recording_choice() {
    let app = twilio_app().await;
    let n = twilio_number(&app, "contractor", NUMBER, json!({})).await;
    assert_eq!(n["provider"], "twilio");
    assert_eq!(n["voice_mode"], "gather");
    assert_eq!(n["record_messages"], false);
    let r = twilio_number(
        &app,
        "vet",
        "+15553330001",
        json!({"voice_mode": "relay", "record_messages": true}),
    )
    .await;
    assert_eq!(
        (r["voice_mode"].clone(), r["record_messages"].clone()),
        (json!("relay"), json!(true))
    );

    let id = n["id"].as_str().unwrap();
    let patch = |body: Value| {
        app.client
            .patch(app.url(&format!("/v1/numbers/{id}")))
            .bearer_auth(&app.key)
            .json(&body)
            .send()
    };
    let res = patch(json!({"voice_mode": "relay"})).await.unwrap();
    assert_eq!(res.status(), 200);
    let p: Value = res.json().await.unwrap();
    assert_eq!(p["voice_mode"], "relay");
    assert_eq!(p["agent_id"], n["agent_id"], "the agent stays");
    let res = patch(json!({"record_messages": true})).await.unwrap();
    assert_eq!(res.status(), 200);
    let p: Value = res.json().await.unwrap();
    assert_eq!(
        (p["voice_mode"].clone(), p["record_messages"].clone()),
        (json!("relay"), json!(true))
    );
    let res = patch(json!({"voice_mode": "carrier-pigeon"})).await.unwrap();
    assert_eq!(error_of(res).await.0, 422);
    let (s, e) = post_json(
        &app,
        "/v1/numbers",
        json!({"number": "+15553330002", "agent_id": n["agent_id"], "provider": "twilio", "voice_mode": "smoke"}),
    )
    .await;
    assert_eq!(s, 422, "{e}");
    assert_eq!(
        get_json(&app, &format!("/v1/numbers/{id}")).await["voice_mode"],
        "relay"
    );
}

// ---------------------------------------------------------------------------
// Gather-mode calls
// ---------------------------------------------------------------------------

#[tokio::test]
async fn an_inbound_call_from_ring_to_status_callback() {
    let app = twilio_app().await;
    let hook = Receiver::start().await;
    webhook_to(&app, &hook).await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);

    // Ring: the greeting inside a speech <Gather>.
    let first = twiml(leg.voice().await).await;
    let greeting = gather_say(&first, "speech");
    assert!(
        greeting.starts_with("Thanks for calling Acme Contracting"),
        "{greeting}"
    );
    let c = only_call(&app).await;
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["provider"], "twilio");
    assert_eq!(
        stored_call(&app, &id).await.provider_call_id.as_deref(),
        Some(leg.sid.as_str())
    );
    assert_eq!(c["status"], "in_progress");
    assert_eq!(c["direction"], "inbound");
    assert_eq!((c["from"].clone(), c["to"].clone()), (json!(CALLER), json!(NUMBER)));

    // Twilio retries the webhook: the same TwiML, still one call.
    assert_eq!(twiml(leg.voice().await).await, first, "a retried ring answers the same");
    only_call(&app).await;

    // The caller talks; each reply is the next question, in a <Gather>.
    let script = [
        (
            "Hi, I'd like to get a quote for a kitchen remodel.",
            "0.93",
            "speech",
            Some("May I have your name"),
        ),
        (
            "Sure, it's John Smith.",
            "0.88",
            "dtmf speech",
            Some("best number to reach you"),
        ),
        (
            "You can reach me at 555 867 5309.",
            "0.91",
            "speech",
            Some("email address"),
        ),
        ("john dot smith at gmail dot com", "0.79", "speech", Some("budget")),
        (
            "Somewhere between fifteen and twenty thousand dollars.",
            "0.9",
            "speech",
            Some("When would you like"),
        ),
        ("In the next three months.", "0.95", "speech", None),
    ];
    for (speech, confidence, input, expect) in script {
        let r = twiml(leg.say(speech, confidence).await).await;
        let said = gather_say(&r, input);
        if let Some(e) = expect {
            assert!(
                says(&said, e),
                "after {speech:?} the agent says {said:?}, expected {e:?}"
            );
        }
    }
    // The closing ends it.
    let last = twiml(leg.say("No, that's everything, thanks.", "0.97").await).await;
    let closing = say_hangup(&last);
    assert!(
        closing.contains("Thanks John Smith") && closing.contains("Goodbye"),
        "{closing}"
    );

    // The conversation is over, the call is not: no call.ended before the status callback.
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.answered"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "data.collected"), 6, "{:?}", names(&ev));
    assert_eq!(
        count(&ev, "call.ended"),
        0,
        "not before the status callback: {:?}",
        names(&ev)
    );
    assert_eq!(count(&ev, "transcript.ready"), 0, "{:?}", names(&ev));
    // A turn after the goodbye (checked at the end of the test).
    let late_before_status = twiml(leg.say("hello?", "0.5").await).await;

    // Twilio reports the call completed after 42 s: an empty <Response/>.
    let done = twiml(leg.status("completed", Some("42")).await).await;
    assert!(done.children.is_empty(), "{done:#?}");
    // And again, twice; then twice at once.
    for _ in 0..2 {
        assert!(
            twiml(leg.status("completed", Some("42")).await)
                .await
                .children
                .is_empty()
        );
    }
    let (a, b) = tokio::join!(leg.status("completed", Some("42")), leg.status("completed", Some("42")));
    twiml(a).await;
    twiml(b).await;

    let c = call(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 42);
    assert_eq!(c["end_reason"], "completed");
    assert!(c["ended_at"].is_string() && c["answered_at"].is_string(), "{c}");
    assert_eq!(c["call_type"], "quote_request");
    assert_eq!(c["custom_fields"]["phone"], "+15558675309");
    assert_eq!(c["custom_fields"]["email"], "john.smith@gmail.com");
    assert_eq!(c["caller"]["name"], "John Smith");
    let turns = c["turns"].as_array().unwrap();
    assert_eq!(turns[0]["speaker"], "agent");
    assert_eq!(turns[1]["speaker"], "caller");
    assert_eq!(turns[1]["text"], "Hi, I'd like to get a quote for a kitchen remodel.");
    assert_eq!(turns[1]["confidence"].as_f64(), Some(0.93), "{}", turns[1]);
    assert_eq!(turns[3]["confidence"].as_f64(), Some(0.88), "{}", turns[3]);

    // Exactly one call.ended and one transcript.ready, stored and delivered.
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "transcript.ready"), 1, "{:?}", names(&ev));
    let want = ["call.answered", "data.collected", "call.ended", "transcript.ready"];
    wait_delivered(&hook, &want, Duration::from_secs(10)).await;
    // Let any straggler arrive before counting.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = delivered(&hook);
    assert_eq!(count(&got, "call.ended"), 1, "{:?}", names(&got));
    assert_eq!(count(&got, "transcript.ready"), 1, "{:?}", names(&got));
    assert_eq!(count(&got, "call.answered"), 1, "{:?}", names(&got));
    assert_eq!(count(&got, "data.collected"), 6, "{:?}", names(&got));
    let ended = got.iter().find(|e| e["event"] == "call.ended").unwrap();
    assert_eq!(ended["data"]["call_id"], id.as_str());
    assert_eq!(ended["data"]["receiving_number"], NUMBER);
    assert!(
        ended["data"]["transcript"]
            .as_str()
            .unwrap_or_default()
            .contains("Caller: "),
        "{ended}"
    );
    // Stored order: call.answered first, call.ended after every data.collected.
    let order = names(&ev);
    assert_eq!(order[0], "call.answered", "{order:?}");
    let ended_at = order.iter().position(|n| n == "call.ended").unwrap();
    let last_data = order.iter().rposition(|n| n == "data.collected").unwrap();
    assert!(last_data < ended_at, "{order:?}");

    // A turn after the goodbye is only hung up, before and after the status callback.
    let late = twiml(leg.say("hello?", "0.5").await).await;
    assert_eq!(late.names(), ["Hangup"], "after the status callback: {late:#?}");
    assert_eq!(
        late_before_status.names(),
        ["Hangup"],
        "after the closing, before the status callback: {late_before_status:#?}"
    );
}

#[tokio::test]
async fn the_first_status_callbacks_racing_still_end_the_call_once() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    twiml(leg.voice().await).await;
    twiml(leg.say("What are your hours?", "0.9").await).await;
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();

    // The caller hangs up; Twilio's callback arrives four times at once.
    let (a, b, c, d) = tokio::join!(
        leg.status("completed", Some("17")),
        leg.status("completed", Some("17")),
        leg.status("completed", Some("17")),
        leg.status("completed", Some("17")),
    );
    for r in [a, b, c, d] {
        assert!(twiml(r).await.children.is_empty());
    }
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "transcript.ready"), 1, "{:?}", names(&ev));
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 17);
    assert_eq!(c["end_reason"], "caller_hangup", "hung up mid-conversation: {c}");
}

#[tokio::test]
async fn silence_is_asked_again_once_then_the_call_ends_for_no_input() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    twiml(leg.voice().await).await;
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();

    // Silence, then speech: the count of silences starts again.
    let r = twiml(leg.silence().await).await;
    let said = gather_say(&r, "speech");
    assert!(said.starts_with("Sorry, I didn't catch that."), "{said}");
    let r = twiml(leg.say("I need a quote for some plumbing work.", "0.9").await).await;
    assert!(says(&gather_say(&r, "speech"), "may I have your name"));
    let r = twiml(leg.silence().await).await;
    let said = gather_say(&r, "speech");
    assert!(said.starts_with("Sorry, I didn't catch that."), "{said}");
    assert!(
        says(&said, "may I have your name, please?"),
        "the question again: {said}"
    );
    // A second silence on the same question moves on: the name is confirmed later,
    // the next question comes.
    let r = twiml(leg.silence().await).await;
    // (the next question is the phone number: keys or speech)
    let said = gather_say(&r, "dtmf speech");
    assert!(said.contains("confirm that with you later"), "{said}");
    assert!(!says(&said, "may I have your name"), "moved on: {said}");
    // Three silences in a row: goodbye.
    let r = twiml(leg.silence().await).await;
    let bye = say_hangup(&r);
    assert!(!bye.starts_with("Sorry, I didn't catch that."), "{bye}");

    assert_eq!(count(&events_of(&app, &id).await, "call.ended"), 0);
    assert!(
        twiml(leg.status("completed", Some("15")).await)
            .await
            .children
            .is_empty()
    );
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["end_reason"], "no_input");
    // It ended when it last moved, not when it was swept.
    assert!(c["duration_seconds"].as_i64().unwrap() < 60, "{c}");
    assert_eq!(c["duration_seconds"], 15);
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    let ended = ev.iter().find(|e| e["event"] == "call.ended").unwrap();
    assert_eq!(ended["data"]["end_reason"], "no_input", "{ended}");
}

#[tokio::test]
async fn keypad_digits_answer_a_number_question() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound("+15551230011", NUMBER);
    twiml(leg.voice().await).await;
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();
    twiml(leg.say("I need a quote for a bathroom remodel.", "0.9").await).await;
    let r = twiml(leg.say("Maria Lopez.", "0.9").await).await;
    assert!(says(&gather_say(&r, "dtmf speech"), "number"), "{r:#?}");

    // The caller types the number instead of saying it.
    let r = twiml(
        leg.send(
            "gather",
            "in-progress",
            &[("Digits", "5552023030"), ("FinishedOnKey", "#")],
        )
        .await,
    )
    .await;
    assert!(says(&gather_say(&r, "speech"), "email"), "{r:#?}");
    let c = call(&app, &id).await;
    assert_eq!(c["custom_fields"]["phone"], "+15552023030", "{c}");
    let last_caller = c["turns"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|t| t["speaker"] == "caller")
        .unwrap()
        .clone();
    assert!(
        last_caller.get("confidence").is_none_or(Value::is_null),
        "no confidence for digits: {last_caller}"
    );
}

#[tokio::test]
async fn a_turn_after_the_goodbye_is_only_hung_up() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    twiml(leg.voice().await).await;
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();
    twiml(leg.silence().await).await;
    twiml(leg.silence().await).await;
    say_hangup(&twiml(leg.silence().await).await);

    // Twilio should not ask again, but if speech still arrives: only <Hangup/>.
    let late = twiml(leg.say("hello? are you still there?", "0.5").await).await;
    assert_eq!(late.names(), ["Hangup"], "{late:#?}");
    assert_eq!(call(&app, &id).await["end_reason"], "no_input");
}

#[tokio::test]
async fn a_transfer_dials_out_and_falls_back_to_voicemail() {
    let app = twilio_app().await;
    let hook = Receiver::start().await;
    webhook_to(&app, &hook).await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound("+15551230004", NUMBER);
    twiml(leg.voice().await).await;
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();

    // Asking for a person: a <Say> and a <Dial> to the agent's transfer number.
    let r = twiml(leg.say("Can I just talk to a real person please?", "0.92").await).await;
    assert_eq!(r.names(), ["Say", "Dial"], "{r:#?}");
    let dial = r.child("Dial");
    assert_eq!(dial.attr("action"), format!("{PUBLIC_URL}/telephony/twilio/dial"));
    assert_eq!(dial.attr("method"), "POST");
    assert_eq!(dial.attr("timeout"), "20");
    assert_eq!(dial.text, TRANSFER_TO);
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.transferred"), 1, "{:?}", names(&ev));
    assert_eq!(
        count(&ev, "call.ended"),
        0,
        "the status callback ends Twilio calls: {:?}",
        names(&ev)
    );
    let t = ev.iter().find(|e| e["event"] == "call.transferred").unwrap();
    assert_eq!(t["data"]["transferred_to"], TRANSFER_TO);

    // Nobody picks up: voicemail.
    let r = twiml(leg.dial("no-answer", None).await).await;
    assert_eq!(r.names(), ["Say", "Record"], "{r:#?}");
    assert!(says(&r.child("Say").text, "after the tone"), "{r:#?}");
    assert_record(r.child("Record"));
    assert_eq!(
        stored_call(&app, &id).await.provider_details["dial_status"],
        "no-answer"
    );

    // The recording arrives: message.collected, then goodbye.
    let recording = format!(
        "https://api.twilio.com/2010-04-01/Accounts/{GLOBAL_ACCOUNT}/Recordings/{}",
        sid("RE")
    );
    let r = twiml(leg.recording(&recording, "12").await).await;
    say_hangup(&r);
    let c = call(&app, &id).await;
    assert_eq!(c["message"], format!("Voicemail (12 s): {recording}"));
    assert_eq!(c["transferred_to"], TRANSFER_TO);
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "message.collected"), 1, "{:?}", names(&ev));
    let m = ev.iter().find(|e| e["event"] == "message.collected").unwrap();
    assert_eq!(m["data"]["recording_url"], recording.as_str());
    assert!(
        m["data"]["recording_duration"] == json!(12) || m["data"]["recording_duration"] == json!("12"),
        "{m}"
    );

    // Twilio ends the call.
    assert!(
        twiml(leg.status("completed", Some("75")).await)
            .await
            .children
            .is_empty()
    );
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 75);
    assert_eq!(c["end_reason"], "transferred");
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    let got = wait_delivered(
        &hook,
        &[
            "call.answered",
            "call.transferred",
            "message.collected",
            "call.ended",
            "transcript.ready",
        ],
        Duration::from_secs(10),
    )
    .await;
    let t = got.iter().find(|e| e["event"] == "call.transferred").unwrap();
    assert!(
        t["data"]["reason"].as_str().unwrap_or_default().contains("person"),
        "{t}"
    );
}

#[tokio::test]
async fn a_transfer_that_connects_ends_with_a_hangup() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    twiml(leg.voice().await).await;
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();
    let r = twiml(leg.say("Can I speak to the manager?", "0.9").await).await;
    assert_eq!(r.child("Dial").text, TRANSFER_TO, "{r:#?}");
    let r = twiml(leg.dial("completed", Some("63")).await).await;
    assert_eq!(r.names(), ["Hangup"], "{r:#?}");
    assert_eq!(
        stored_call(&app, &id).await.provider_details["dial_status"],
        "completed"
    );
    twiml(leg.status("completed", Some("80")).await).await;
    let c = call(&app, &id).await;
    assert_eq!(
        (c["status"].clone(), c["end_reason"].clone()),
        (json!("completed"), json!("transferred"))
    );
    assert!(c["message"].is_null(), "no voicemail: {c}");
}

#[tokio::test]
async fn messages_are_recorded_on_numbers_that_record_them() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({"record_messages": true})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound("+15551230007", NUMBER);
    twiml(leg.voice().await).await;
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();

    // Answer whatever is asked until the agent asks for the message itself.
    let mut r = twiml(leg.say("I'd like to leave a message for Mike please.", "0.9").await).await;
    let mut turns = 0;
    while !r.names().contains(&"Record") {
        turns += 1;
        assert!(turns <= 5, "the agent never asked for the message: {r:#?}");
        let asked = r.all_text().to_lowercase();
        let answer = if asked.contains("email") {
            "tom at becker dot com"
        } else if asked.contains("number") {
            "555 303 4040"
        } else if asked.contains("name") {
            "Tom Becker"
        } else {
            panic!("unexpected question on a recording number: {r:#?}")
        };
        r = twiml(leg.say(answer, "0.9").await).await;
    }
    assert_eq!(r.names(), ["Say", "Record", "Redirect"], "{r:#?}");
    assert!(says(&r.child("Say").text, "after the tone"), "{r:#?}");
    assert_record(r.child("Record"));
    // Nothing recorded: Twilio goes on to the redirect, heard as silence.
    assert!(
        r.child("Redirect")
            .text
            .starts_with(&format!("{PUBLIC_URL}/telephony/twilio/gather?seq=")),
        "{r:#?}"
    );

    let recording = format!(
        "https://api.twilio.com/2010-04-01/Accounts/{GLOBAL_ACCOUNT}/Recordings/{}",
        sid("RE")
    );
    let r = twiml(leg.recording(&recording, "9").await).await;
    assert!(
        r.names() == ["Say", "Hangup"] || r.names() == ["Gather"],
        "goodbye or the conversation goes on: {r:#?}"
    );
    let c = call(&app, &id).await;
    assert_eq!(c["message"], format!("Voicemail (9 s): {recording}"));
    assert_eq!(c["caller"]["name"], "Tom Becker");
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "message.collected"), 1, "{:?}", names(&ev));
    let m = ev.iter().find(|e| e["event"] == "message.collected").unwrap();
    assert_eq!(m["data"]["recording_url"], recording.as_str());
}

// ---------------------------------------------------------------------------
// Calls that cannot be served, and bad requests
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_number_nobody_registered_is_not_in_service() {
    let app = twilio_app().await;
    // A sim number is not a Twilio number either.
    let (s, a) = post_json(&app, "/v1/agents", crate::twilio_support::agent_file("contractor")).await;
    assert_eq!(s, 201);
    let (s, _) = post_json(
        &app,
        "/v1/numbers",
        json!({"number": "+15553339999", "agent_id": a["id"], "provider": "sim"}),
    )
    .await;
    assert_eq!(s, 201);
    let tw = TwilioSide::global(&app);
    let mut said = vec![];
    for to in ["+15550001111", "+15553339999"] {
        let r = twiml(tw.inbound(CALLER, to).voice().await).await;
        said.push(say_hangup(&r));
    }
    assert_nothing_recorded(&app, "unregistered number").await;
    for s in said {
        assert!(
            says(&s, "not in service"),
            "the contract says \"...not in service...\": {s}"
        );
    }
}

#[tokio::test]
async fn callbacks_for_unknown_calls_are_answered_politely() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let stranger = tw.inbound(CALLER, NUMBER);
    let r = twiml(stranger.say("Hello, is anyone there?", "0.9").await).await;
    say_hangup(&r);
    let r = twiml(stranger.silence().await).await;
    say_hangup(&r);
    let r = twiml(stranger.status("completed", Some("3")).await).await;
    assert!(r.children.is_empty(), "{r:#?}");
    assert_nothing_recorded(&app, "unknown CallSid").await;
}

#[tokio::test]
async fn malformed_bodies_are_client_errors() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let url = format!("{PUBLIC_URL}{VOICE}");
    let call_sid = sid("CA");
    let empty_sig = signature(GLOBAL_TOKEN, &url, &[], None);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("bad percent-encoding", b"CallSid=%ZZ&To=%2&From=%".to_vec(), FORM),
        (
            "invalid UTF-8",
            format!("CallSid={call_sid}&To=%FF%FE&From=%C3").into_bytes(),
            FORM,
        ),
        (
            "raw invalid UTF-8",
            vec![b'T', b'o', b'=', 0xff, 0xfe, b'&', b'A', b'=', 0xc3],
            FORM,
        ),
        (
            "JSON",
            json!({"CallSid": call_sid, "AccountSid": GLOBAL_ACCOUNT, "From": CALLER, "To": NUMBER})
                .to_string()
                .into_bytes(),
            "application/json",
        ),
        ("XML", b"<CallSid>CA1</CallSid>".to_vec(), "text/xml"),
        (
            "multipart",
            b"--x\r\n\r\n--x--".to_vec(),
            "multipart/form-data; boundary=x",
        ),
    ];
    for (what, body, ct) in cases {
        for route in ["voice", "gather", "status", "dial", "recording"] {
            let path = format!("/telephony/twilio/{route}");
            let sig = if route == "voice" {
                empty_sig.clone()
            } else {
                signature(GLOBAL_TOKEN, &format!("{PUBLIC_URL}{path}"), &[], None)
            };
            let res = raw_post(&app, &path, body.clone(), ct, Some(&sig)).await;
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            assert!((400..500).contains(&status), "{what} to {route}: {status} {text}");
        }
    }
    // No content type at all.
    let res = app
        .client
        .post(app.url(VOICE))
        .header("X-Twilio-Signature", &empty_sig)
        .body("To=1")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "no content type: {}", res.status());
    // GET is not how Twilio calls us here.
    let res = app.client.get(app.url(VOICE)).send().await.unwrap();
    assert!(res.status().is_client_error(), "GET: {}", res.status());
    assert_nothing_recorded(&app, "malformed bodies").await;
}

#[tokio::test]
async fn an_oversize_body_is_413() {
    let app = twilio_app_with(|s| s.max_body_bytes = 8192).await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound(CALLER, NUMBER);
    let big = "x".repeat(16 * 1024);
    let res = leg.send("voice", "ringing", &[("StirVerstat", big.as_str())]).await;
    assert_eq!(res.status(), 413);
    let res = leg
        .send("gather", "in-progress", &[("SpeechResult", big.as_str())])
        .await;
    assert_eq!(res.status(), 413);
    assert_nothing_recorded(&app, "oversize").await;
    // A normal-size request still works.
    let r = twiml(leg.voice().await).await;
    assert_eq!(r.names(), ["Gather"]);
}

// ---------------------------------------------------------------------------
// Outbound calls through Twilio's REST API
// ---------------------------------------------------------------------------

/// Twilio's 201 answer to a Calls.json POST.
fn twilio_call_json(account: &str, call_sid: &str, from: &str, to: &str, status: &str) -> String {
    json!({
        "account_sid": account,
        "annotation": null,
        "answered_by": null,
        "api_version": "2010-04-01",
        "caller_name": null,
        "date_created": "Tue, 14 Jan 2025 17:41:50 +0000",
        "date_updated": "Tue, 14 Jan 2025 17:41:50 +0000",
        "direction": "outbound-api",
        "duration": null,
        "end_time": null,
        "forwarded_from": null,
        "from": from,
        "from_formatted": "(555) 333-0000",
        "group_sid": null,
        "parent_call_sid": null,
        "phone_number_sid": null,
        "price": null,
        "price_unit": "USD",
        "sid": call_sid,
        "start_time": null,
        "status": status,
        "subresource_uris": {
            "notifications": format!("/2010-04-01/Accounts/{account}/Calls/{call_sid}/Notifications.json"),
            "recordings": format!("/2010-04-01/Accounts/{account}/Calls/{call_sid}/Recordings.json")
        },
        "to": to,
        "to_formatted": "(555) 987-1234",
        "trunk_sid": null,
        "uri": format!("/2010-04-01/Accounts/{account}/Calls/{call_sid}.json"),
        "queue_time": "0"
    })
    .to_string()
}

fn json_reply(status: u16, body: String) -> Reply {
    Reply {
        status,
        headers: vec![("content-type".into(), "application/json; charset=utf-8".into())],
        body,
        ..Reply::default()
    }
}

/// A server whose Twilio REST API is `rest`, with Twilio credentials stored for the
/// default workspace and a Twilio number. Returns the app, the account SID and token.
async fn outbound_app(rest: &Receiver) -> (TestApp, String, String) {
    let base = format!("http://{}", rest.addr);
    let app = twilio_app_with(|s| s.twilio.api_base_url = base).await;
    let account = sid("AC");
    let token = "0a1b2c3d4e5f60718293a4b5c6d7e8f9".to_owned();
    store_credentials(&app, &app.key, &account, &token).await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    (app, account, token)
}

#[tokio::test]
async fn an_outbound_call_is_placed_with_twilio_and_answered() {
    let rest = Receiver::start().await;
    let (app, account, token) = outbound_app(&rest).await;
    let twilio_sid = sid("CA");
    let callee = "+15559871234";
    rest.reply(json_reply(
        201,
        twilio_call_json(&account, &twilio_sid, NUMBER, callee, "queued"),
    ));

    let purpose = "your kitchen remodel estimate";
    let (s, placed) = post_json(
        &app,
        "/v1/calls",
        json!({"to": callee, "from": NUMBER, "purpose": purpose}),
    )
    .await;
    assert_eq!(s, 201, "{placed}");
    assert_eq!(placed["provider"], "twilio");
    assert_eq!(placed["status"], "queued");
    assert_eq!(placed["direction"], "outbound");
    assert!(placed["say"].is_null(), "{placed}");
    assert_eq!(
        (placed["from"].clone(), placed["to"].clone()),
        (json!(NUMBER), json!(callee))
    );
    let id = placed["id"].as_str().unwrap().to_owned();

    // What Twilio got, byte for byte.
    let got = rest.got();
    assert_eq!(got.len(), 1, "{got:#?}");
    let req = &got[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.uri, format!("/2010-04-01/Accounts/{account}/Calls.json"));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{account}:{token}"));
    assert_eq!(req.header("authorization"), format!("Basic {basic}"));
    assert!(
        req.header("content-type").starts_with(FORM),
        "{:?}",
        req.header("content-type")
    );
    let voice_url = format!("{PUBLIC_URL}/telephony/twilio/voice?call_id={id}");
    let status_url = format!("{PUBLIC_URL}/telephony/twilio/status?call_id={id}");
    let expected = format!(
        "To=%2B15559871234&From=%2B15553330000&Url={}&Method=POST&StatusCallback={}&StatusCallbackMethod=POST\
         &StatusCallbackEvent=initiated&StatusCallbackEvent=ringing&StatusCallbackEvent=answered&StatusCallbackEvent=completed",
        form_component(&voice_url),
        form_component(&status_url),
    );
    assert_eq!(String::from_utf8_lossy(&req.body), expected);
    assert!(expected.contains("Url=https%3A%2F%2Ffd.example.com%2Ftelephony%2Ftwilio%2Fvoice%3Fcall_id%3Dcall_"));

    let c = call(&app, &id).await;
    assert_eq!(
        stored_call(&app, &id).await.provider_call_id.as_deref(),
        Some(twilio_sid.as_str()),
        "Twilio's sid is kept"
    );
    assert_eq!(c["purpose"], purpose);

    // Twilio's progress callbacks.
    let tw = TwilioSide::account(&app, &account, &token);
    let leg = tw.outbound(&twilio_sid, NUMBER, callee, &id);
    for progress in ["initiated", "ringing"] {
        assert!(twiml(leg.status(progress, None).await).await.children.is_empty());
        let c = call(&app, &id).await;
        assert!(
            c["status"] == "queued" || c["status"] == "ringing",
            "after {progress}: {c}"
        );
        assert!(c["ended_at"].is_null());
    }

    // Answered: the outbound introduction, with the purpose.
    let r = twiml(leg.voice().await).await;
    let intro = gather_say(&r, "speech");
    assert!(intro.contains(purpose), "{intro}");
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "in_progress");
    assert!(c["answered_at"].is_string());
    let r = twiml(leg.say("Sure, this is Dana Reyes, what's up?", "0.9").await).await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
    assert!(call(&app, &id).await["turns"].as_array().unwrap().len() >= 3);

    // Hung up through the API: Twilio is told to complete the call.
    rest.reply(json_reply(
        200,
        twilio_call_json(&account, &twilio_sid, NUMBER, callee, "completed"),
    ));
    let res = app.post(&format!("/v1/calls/{id}/hangup")).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let got = rest.got();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert_eq!(got[1].method, "POST");
    assert_eq!(
        got[1].uri,
        format!("/2010-04-01/Accounts/{account}/Calls/{twilio_sid}.json")
    );
    assert_eq!(got[1].header("authorization"), format!("Basic {basic}"));
    assert_eq!(String::from_utf8_lossy(&got[1].body), "Status=completed");

    // Twilio confirms.
    assert!(
        twiml(leg.status("completed", Some("30")).await)
            .await
            .children
            .is_empty()
    );
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_seconds"], 30);
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "transcript.ready"), 1, "{:?}", names(&ev));
}

#[tokio::test]
async fn an_outbound_call_that_never_connects() {
    let rest = Receiver::start().await;
    let (app, account, token) = outbound_app(&rest).await;
    let tw = TwilioSide::account(&app, &account, &token);
    let callee = "+15559871234";

    // Hung up through the API before anyone answered: canceled.
    let first = sid("CA");
    rest.reply(json_reply(
        201,
        twilio_call_json(&account, &first, NUMBER, callee, "queued"),
    ));
    let (s, placed) = post_json(&app, "/v1/calls", json!({"to": callee})).await;
    assert_eq!(s, 201, "{placed}");
    assert_eq!(placed["from"], NUMBER, "the workspace's Twilio number");
    let id = placed["id"].as_str().unwrap().to_owned();
    rest.reply(json_reply(
        200,
        twilio_call_json(&account, &first, NUMBER, callee, "canceled"),
    ));
    let res = app.post(&format!("/v1/calls/{id}/hangup")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let got = rest.got();
    assert_eq!(
        got.last().unwrap().uri,
        format!("/2010-04-01/Accounts/{account}/Calls/{first}.json")
    );
    assert_eq!(String::from_utf8_lossy(&got.last().unwrap().body), "Status=canceled");
    let leg = tw.outbound(&first, NUMBER, callee, &id);
    twiml(leg.status("canceled", Some("0")).await).await;
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "canceled");
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "transcript.ready"), 0, "never answered: {:?}", names(&ev));

    // Nobody answers.
    let second = sid("CA");
    rest.reply(json_reply(
        201,
        twilio_call_json(&account, &second, NUMBER, callee, "queued"),
    ));
    let (s, placed) = post_json(&app, "/v1/calls", json!({"to": callee, "from": NUMBER})).await;
    assert_eq!(s, 201, "{placed}");
    let id = placed["id"].as_str().unwrap().to_owned();
    let leg = tw.outbound(&second, NUMBER, callee, &id);
    twiml(leg.status("ringing", None).await).await;
    for _ in 0..2 {
        twiml(leg.status("no-answer", Some("0")).await).await;
    }
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "no_answer");
    assert!(c["ended_at"].is_string());
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "transcript.ready"), 0, "{:?}", names(&ev));
    assert_eq!(count(&ev, "call.answered"), 0, "{:?}", names(&ev));
}

#[tokio::test]
async fn outbound_errors_say_what_went_wrong() {
    let rest = Receiver::start().await;
    let (app, _, _) = outbound_app(&rest).await;

    // Twilio refuses the number.
    rest.reply(json_reply(
        400,
        json!({"code": 21211, "message": "The 'To' number +1555 is not a valid phone number.", "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}).to_string(),
    ));
    let res = app
        .post("/v1/calls")
        .json(&json!({"to": "+15550001234", "from": NUMBER}))
        .send()
        .await
        .unwrap();
    let (status, code, message) = error_of(res).await;
    assert_eq!((status, code.as_str()), (422, "provider_rejected"), "{message}");
    assert!(
        message.contains("The 'To' number +1555 is not a valid phone number."),
        "{message}"
    );

    // Twilio is down.
    rest.reply(json_reply(
        503,
        json!({"code": 20500, "message": "Internal Server Error", "status": 503}).to_string(),
    ));
    let res = app
        .post("/v1/calls")
        .json(&json!({"to": "+15550001234", "from": NUMBER}))
        .send()
        .await
        .unwrap();
    let (status, code, message) = error_of(res).await;
    assert_eq!((status, code.as_str()), (502, "provider_unavailable"), "{message}");
    assert!(
        !message.contains(&rest.addr.to_string()),
        "no internals in a 5xx: {message}"
    );

    // Twilio cannot be reached.
    let gone = free_port();
    let unreachable = twilio_app_with(|s| s.twilio.api_base_url = format!("http://{gone}")).await;
    store_credentials(
        &unreachable,
        &unreachable.key,
        &sid("AC"),
        "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    )
    .await;
    twilio_number(&unreachable, "contractor", NUMBER, json!({})).await;
    let res = unreachable
        .post("/v1/calls")
        .json(&json!({"to": "+15550001234", "from": NUMBER}))
        .send()
        .await
        .unwrap();
    let (status, code, _) = error_of(res).await;
    assert_eq!((status, code.as_str()), (502, "provider_unavailable"));

    // No credentials for the workspace.
    let bare = twilio_app_with(|s| s.twilio.api_base_url = format!("http://{}", rest.addr)).await;
    twilio_number(&bare, "contractor", NUMBER, json!({})).await;
    let before = rest.got().len();
    let res = bare
        .post("/v1/calls")
        .json(&json!({"to": "+15550001234", "from": NUMBER}))
        .send()
        .await
        .unwrap();
    let (status, code, message) = error_of(res).await;
    assert_eq!((status, code.as_str()), (422, "twilio_not_configured"), "{message}");

    // No public URL to give Twilio.
    let hidden = twilio_app_with(|s| {
        s.public_url = None;
        s.twilio.api_base_url = format!("http://{}", rest.addr);
    })
    .await;
    store_credentials(&hidden, &hidden.key, &sid("AC"), "0a1b2c3d4e5f60718293a4b5c6d7e8f9").await;
    twilio_number(&hidden, "contractor", NUMBER, json!({})).await;
    let res = hidden
        .post("/v1/calls")
        .json(&json!({"to": "+15550001234", "from": NUMBER}))
        .send()
        .await
        .unwrap();
    let (status, _, message) = error_of(res).await;
    assert_eq!(status, 422, "{message}");
    assert_eq!(
        rest.got().len(),
        before,
        "Twilio was not called without credentials or a public URL"
    );
}

/// A call whose final status callback never comes (a Twilio number without a status
/// callback URL) is finished by the sweeper once it has been quiet long enough:
/// `call.ended` and `transcript.ready` are sent once, and a late callback changes
/// nothing.
#[tokio::test]
async fn calls_without_a_status_callback_are_finished_by_the_sweeper() {
    use frontdesk_app::{CallService, InProcessLocks};
    use frontdesk_core::agent::Provider;
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound("+15551230077", NUMBER);
    twiml(leg.voice().await).await;
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();
    twiml(leg.silence().await).await;
    twiml(leg.silence().await).await;
    say_hangup(&twiml(leg.silence().await).await);
    assert_eq!(call(&app, &id).await["status"], "in_progress");

    let settings = frontdesk_server::settings::DeliverySettings::default();
    let dispatcher = frontdesk_delivery::Dispatcher::new(app.store.clone(), settings.clone()).unwrap();
    let tools = frontdesk_delivery::GuardedClient::new(settings.policy, Duration::from_secs(1)).unwrap();
    let receptionist = CallService::new(
        app.store.clone(),
        dispatcher,
        tools,
        std::sync::Arc::new(InProcessLocks::default()),
        vec![std::sync::Arc::new(frontdesk_app::telephony::Sim)],
        std::sync::Arc::new(frontdesk_app::Models::off()),
    );
    // Not yet: the conversation ended only a moment ago.
    let now = chrono::Utc::now();
    assert_eq!(receptionist.sweep(Provider::Twilio, now).await.unwrap(), 0);
    // Three minutes later it is finished, once.
    let later = now + chrono::Duration::minutes(3);
    assert_eq!(receptionist.sweep(Provider::Twilio, later).await.unwrap(), 1);
    assert_eq!(receptionist.sweep(Provider::Twilio, later).await.unwrap(), 0);
    let c = call(&app, &id).await;
    assert_eq!(c["status"], "completed");
    assert_eq!(c["end_reason"], "no_input");
    // It ended when it last moved, not when it was swept.
    assert!(c["duration_seconds"].as_i64().unwrap() < 60, "{c}");
    assert!(
        c["provider_details"]["finished_by"]
            .as_str()
            .unwrap()
            .contains("status callback"),
        "{c}"
    );
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "transcript.ready"), 1, "{:?}", names(&ev));
    // The callback arriving late after all: nothing more.
    leg.status("completed", Some("30")).await;
    assert_eq!(count(&events_of(&app, &id).await, "call.ended"), 1);
}

/// A caller who hangs up mid-call (Twilio's status callback is the first word of it)
/// still gets the tools due at the end of a call run, as a simulated hang-up does.
#[tokio::test]
async fn a_hang_up_mid_call_still_runs_the_tools_due_at_the_end() {
    let app = twilio_app().await;
    let crm = Receiver::start().await;
    let mut cfg = crate::twilio_support::agent_file("contractor");
    cfg["tools"] = json!([
        {"type": "http", "tool_name": "submitLead", "http_method": "POST", "url": crm.url("/leads"),
         "body_template": {"name": "{{first_name}}", "phone": "{{caller_number}}"},
         "parameters": [{"name": "first_name"}, {"name": "email"}]}
    ]);
    let (s, agent) = post_json(&app, "/v1/agents", cfg).await;
    assert_eq!(s, 201, "{agent}");
    let (s, n) = post_json(
        &app,
        "/v1/numbers",
        json!({"number": NUMBER, "agent_id": agent["id"], "provider": "twilio"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound("+15551230088", NUMBER);
    twiml(leg.voice().await).await;
    twiml(leg.say("I need a quote for a kitchen remodel", "0.9").await).await;
    twiml(leg.say("It's Dana Reyes", "0.9").await).await;
    assert!(crm.got().is_empty(), "the email is still missing");
    leg.status("completed", Some("25")).await;
    let got = crm.got();
    assert_eq!(got.len(), 1, "the tool ran when the call ended");
    assert_eq!(got[0].json()["name"], "Dana Reyes");
    let c = only_call(&app).await;
    assert_eq!(c["end_reason"], "caller_hangup");
    assert_eq!(c["tool_calls"].as_array().unwrap().len(), 1, "{c}");
    assert_eq!(c["duration_seconds"], 25);
}

/// Callers end a voicemail by hanging up, so Twilio's final status callback may come
/// before the recording's: the voicemail is kept all the same.
#[tokio::test]
async fn a_voicemail_that_arrives_after_the_call_ended_is_kept() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound("+15551230099", NUMBER);
    twiml(leg.voice().await).await;
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();
    let r = twiml(leg.say("Can I talk to a person?", "0.9").await).await;
    assert_eq!(r.names(), ["Say", "Dial"], "{r:#?}");
    let r = twiml(leg.dial("no-answer", None).await).await;
    assert_eq!(r.names()[..2], ["Say", "Record"], "{r:#?}");
    leg.status("completed", Some("48")).await;
    assert_eq!(call(&app, &id).await["status"], "completed");
    let url = format!(
        "https://api.twilio.com/2010-04-01/Accounts/{GLOBAL_ACCOUNT}/Recordings/{}",
        sid("RE")
    );
    let r = twiml(leg.recording(&url, "17").await).await;
    assert_eq!(r.names(), ["Hangup"], "{r:#?}");
    // Twilio may send it twice: one message all the same.
    twiml(leg.recording(&url, "17").await).await;
    let c = call(&app, &id).await;
    assert_eq!(c["message"], format!("Voicemail (17 s): {url}"));
    let ev = events_of(&app, &id).await;
    assert_eq!(count(&ev, "message.collected"), 1, "{:?}", names(&ev));
    assert_eq!(count(&ev, "call.ended"), 1, "{:?}", names(&ev));
    let m = ev.iter().find(|e| e["event"] == "message.collected").unwrap();
    assert_eq!(m["data"]["recording_url"], url.as_str());
    assert_eq!(m["data"]["recording_duration"], 17);
}

/// Twilio may send a `<Gather>` action twice (a retry after a timeout on its side): the
/// second is answered with where the call stands and is not taken as a second turn.
#[tokio::test]
async fn a_gather_sent_twice_is_one_turn() {
    let app = twilio_app().await;
    twilio_number(&app, "contractor", NUMBER, json!({})).await;
    let tw = TwilioSide::global(&app);
    let leg = tw.inbound("+15551230111", NUMBER);
    let first = twiml(leg.voice().await).await;
    let action = first.child("Gather").attr("action").to_owned();
    let path = action.strip_prefix(PUBLIC_URL).unwrap().to_owned();
    let speech = [("SpeechResult", "I need a quote for a new deck"), ("Confidence", "0.9")];
    let once = twiml(leg.send_to(&path, "in-progress", &speech).await).await;
    let twice = twiml(leg.send_to(&path, "in-progress", &speech).await).await;
    assert_eq!(once, twice, "the repeat answers the same");
    let id = only_call(&app).await["id"].as_str().unwrap().to_owned();
    let c = call(&app, &id).await;
    let callers = c["turns"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["speaker"] == "caller")
        .count();
    assert_eq!(callers, 1, "{c}");
    // The next question's action moves on, and works.
    let next = once
        .child("Gather")
        .attr("action")
        .strip_prefix(PUBLIC_URL)
        .unwrap()
        .to_owned();
    assert_ne!(next, path);
    let r = twiml(
        leg.send_to(
            &next,
            "in-progress",
            &[("SpeechResult", "Sam Lee"), ("Confidence", "0.9")],
        )
        .await,
    )
    .await;
    assert_eq!(r.names(), ["Gather"], "{r:#?}");
    let c = call(&app, &id).await;
    assert_eq!(c["custom_fields"]["first_name"], "Sam Lee", "{c}");
}

/// Without a signature nothing else is looked at: not even the body's type or form.
#[tokio::test]
async fn an_unsigned_request_is_403_whatever_its_body() {
    let app = twilio_app().await;
    for (body, ct) in [
        (b"{\"CallSid\": \"CA1\"}".to_vec(), "application/json"),
        (b"a=%zz".to_vec(), FORM),
    ] {
        assert_refused(
            raw_post(&app, "/telephony/twilio/voice", body, ct, None).await,
            "an unsigned request",
        )
        .await;
    }
}
