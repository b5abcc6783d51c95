//! The webhook pages: list, add through the form (the secret shown once), field errors
//! (422, input kept), the live template preview, test send (the request and the
//! response), rotate the secret, activate and deactivate, edit, delete, paging, and
//! another workspace's webhooks as 404s.

use std::time::Duration;

use frontdesk_core::webhook::WebhookSecret;
use frontdesk_delivery::signer::verify_standard;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::delivery::emit;
use crate::helpers::{TestApp, spawn_app};
use crate::receiver::{Received, Receiver, Reply};
use crate::webhooks::create;

const WAIT: Duration = Duration::from_secs(15);

/// HTML text back to plain text (the escapes askama writes).
fn unescape(s: &str) -> String {
    s.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// The value of attribute `name` in a tag's text.
fn attr(tag: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let i = tag.find(&marker)? + marker.len();
    let rest = &tag[i..];
    Some(unescape(&rest[..rest.find('"')?]))
}

/// What a browser submits for the form with `id` in `html`: inputs (checked boxes
/// only), textareas and selected options, in order.
fn form_fields(html: &str, id: &str) -> Vec<(String, String)> {
    let start = html.find(&format!("id=\"{id}\"")).expect("the form");
    let form = &html[start..start + html[start..].find("</form>").expect("form end")];
    let mut out = Vec::new();
    let mut rest = form;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let end = rest.find('>').expect("tag end");
        let tag = &rest[..=end];
        if tag.starts_with("<input ") {
            let kind = attr(tag, "type").unwrap_or_default();
            if let Some(name) = attr(tag, "name")
                && (kind != "checkbox" || tag.contains(" checked"))
            {
                out.push((name, attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("<textarea ") {
            let body = &rest[end + 1..];
            let text = &body[..body.find("</textarea>").expect("textarea end")];
            out.push((attr(tag, "name").expect("name"), unescape(text)));
        } else if tag.starts_with("<select ") {
            let name = attr(tag, "name").expect("name");
            let body = &rest[end + 1..rest.find("</select>").expect("select end")];
            let chosen = body
                .split("<option ")
                .skip(1)
                .find(|o| o.contains(" selected"))
                .or_else(|| body.split("<option ").nth(1))
                .and_then(|o| attr(&format!(" {o}"), "value"))
                .unwrap_or_default();
            out.push((name, chosen));
        }
        rest = &rest[1..];
    }
    out
}

/// The text of the element with `id` (to its first closing tag), unescaped.
fn text_of(html: &str, id: &str) -> Option<String> {
    let i = html.find(&format!("id=\"{id}\""))?;
    let open = i + html[i..].find('>')? + 1;
    let close = open + html[open..].find("</")?;
    Some(unescape(&html[open..close]))
}

/// The whsec_ secret shown on a page.
fn shown_secret(html: &str) -> String {
    text_of(html, "webhook-secret").expect("the secret is shown")
}

/// The webhook id a secret page links to.
fn linked_id(html: &str) -> String {
    let i = html.find("href=\"/webhooks/wh_").expect("a link to the webhook") + "href=\"/webhooks/".len();
    let rest = &html[i..];
    rest[..rest.find(['"', '/']).expect("end")].to_owned()
}

fn call_data(number: &str) -> Value {
    json!({
        "call_id": "call_01JTEST0000000000000000000",
        "direction": "inbound",
        "receiving_number": number,
        "caller": {"phone": "+15551234567", "name": "Jane Roe", "email": "jane@example.com"},
        "call_type": "quote_request",
        "duration_seconds": 42,
        "transcript": "Agent: Hi!\nCaller: A quote, please.",
        "ai_summary": "Jane wants a quote.",
        "custom_fields": {"budget": "$5,000"}
    })
}

/// Asserts `r` carries a Standard Webhooks signature by `secret`.
fn assert_signed_by(r: &Received, secret: &str) {
    let secret = WebhookSecret::parse(secret).unwrap();
    let now = chrono::Utc::now().timestamp();
    verify_standard(
        &secret,
        Some(r.header("webhook-id")),
        Some(r.header("webhook-timestamp")),
        Some(r.header("webhook-signature")),
        &r.body,
        now,
        300,
    )
    .unwrap_or_else(|e| panic!("not signed by the secret shown: {e}"));
}

async fn api_webhook(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/webhooks/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Posts the webhook form to `path` and returns (status, page).
async fn post_webhook(b: &Browser, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
    let res = b.post_form(path, fields).await;
    (res.status(), res.text().await.unwrap())
}

#[tokio::test]
async fn dashboard_webhooks_create_through_the_form_and_deliver() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let rx = Receiver::start().await;

    let empty = b.page("/webhooks").await;
    assert!(empty.contains("No webhooks yet"), "{empty}");
    assert!(empty.contains("href=\"/webhooks/new\""), "an Add webhook link");
    let form = b.page("/webhooks/new").await;
    assert!(form.contains("<label for=\"url\">"), "labelled fields");
    assert!(form.contains("/static/webhook.js"), "the preview script");
    assert!(form.contains("id=\"preview-body\" aria-live=\"polite\""), "{form}");

    let url = rx.url("/hooks/{{call_id}}");
    let template = "{\n  \"who\": \"{{caller_name}}\",\n  \"budget\": \"{{budget}}\",\n  \"n\": 1\n}";
    let (status, page) = post_webhook(
        &b,
        "/webhooks",
        &[
            ("name", "CRM"),
            ("url", &url),
            ("events", "call.ended"),
            ("events", "data.collected"),
            ("numbers", "+15550100000\r\n+1 555 010 0001"),
            ("method", "PUT"),
            ("headers", "X-Team: sales\r\nAuthorization: Bearer t0k:en"),
            ("body_template", template),
            ("active", "true"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let secret = shown_secret(&page);
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(page.contains("data-copy=\"webhook-secret\""), "a copy button");
    let id = linked_id(&page);

    let w = api_webhook(&app, &id).await;
    assert_eq!(w["name"], "CRM");
    assert_eq!(w["url"], url);
    assert_eq!(w["events"], json!(["call.ended", "data.collected"]));
    assert_eq!(w["numbers"], json!(["+15550100000", "+15550100001"]));
    assert_eq!(w["method"], "PUT");
    assert_eq!(
        w["headers"],
        json!({"X-Team": "sales", "Authorization": "Bearer t0k:en"})
    );
    assert_eq!(
        w["body_template"],
        json!({"who": "{{caller_name}}", "budget": "{{budget}}", "n": 1})
    );
    assert_eq!(w["active"], true);

    let list = b.page("/webhooks").await;
    assert!(
        list.contains(&format!("href=\"/webhooks/{id}\"")),
        "links the delivery log"
    );
    assert!(
        list.contains(&format!("href=\"/webhooks/{id}/edit\"")),
        "links the edit page"
    );
    assert!(list.contains("call.ended, data.collected"), "{list}");
    assert!(list.contains("+15550100000, +15550100001"), "{list}");
    assert!(list.contains("<span class=\"badge ok\">active</span>"), "{list}");

    // A real delivery uses the template and the secret shown once.
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got[0].method, "PUT");
    assert_eq!(got[0].uri, "/hooks/call_01JTEST0000000000000000000");
    assert_eq!(got[0].json(), json!({"who": "Jane Roe", "budget": "$5,000", "n": 1}));
    assert_eq!(got[0].header("x-team"), "sales");
    assert_signed_by(&got[0], &secret);
}

#[tokio::test]
async fn dashboard_webhooks_errors_show_beside_their_field_and_keep_the_input() {
    let app = spawn_app().await;
    let b = app.browser().await;

    // Every problem at once, each beside its field.
    let (status, page) = post_webhook(
        &b,
        "/webhooks",
        &[
            ("name", "Keep me"),
            ("url", "ftp://files.example.com/in"),
            ("events", "call.ended"),
            ("events", "call.exploded"),
            ("numbers", "+15550100000, 12"),
            ("headers", "X-Ok: yes\r\nno colon here"),
            ("body_template", "{\n  \"a\": \"{{caller_name}}\",\n  \"b\": \n}"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{page}");
    let url_error = text_of(&page, "url-error").expect("a URL error");
    assert!(url_error.contains("http or https"), "{url_error}");
    let events_error = text_of(&page, "events-error").expect("an events error");
    assert!(events_error.contains("call.exploded"), "{events_error}");
    let numbers_error = text_of(&page, "numbers-error").expect("a numbers error");
    assert!(
        numbers_error.contains("`12`") && numbers_error.contains("E.164"),
        "{numbers_error}"
    );
    let headers_error = text_of(&page, "headers-error").expect("a headers error");
    assert!(
        headers_error.contains("line 2") && headers_error.contains("Name: value"),
        "{headers_error}"
    );
    let template_error = text_of(&page, "body_template-error").expect("a template error");
    assert!(template_error.contains("line 4, column 1"), "{template_error}");
    assert!(page.contains("aria-invalid=\"true\""), "fields marked invalid");
    assert!(page.contains("role=\"alert\""), "a summary");
    assert!(text_of(&page, "name-error").is_none(), "the name was fine");
    // What was typed stays.
    let kept = form_fields(&page, "webhook-form");
    let value = |k: &str| {
        kept.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(value("name"), "Keep me");
    assert_eq!(value("url"), "ftp://files.example.com/in");
    assert_eq!(value("numbers"), "+15550100000, 12");
    assert_eq!(value("headers"), "X-Ok: yes\r\nno colon here");
    assert!(value("body_template").contains("\"b\": "), "{kept:?}");
    assert!(kept.contains(&("events".into(), "call.ended".into())), "{kept:?}");

    // One at a time, as the API checks them: a header Frontdesk sets.
    let (status, page) = post_webhook(
        &b,
        "/webhooks",
        &[
            ("url", "https://crm.example.com/h"),
            ("headers", "Webhook-Signature: mine"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let e = text_of(&page, "headers-error").expect("a headers error");
    assert!(e.contains("set by Frontdesk"), "{e}");
    assert!(text_of(&page, "url-error").is_none());

    // A template that is JSON but not an object.
    let (status, page) = post_webhook(
        &b,
        "/webhooks",
        &[("url", "https://crm.example.com/h"), ("body_template", "[1, 2]")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&page, "body_template-error").is_some_and(|e| e.contains("JSON object")));

    // Nothing was stored.
    let list: Value = app.get("/v1/webhooks").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["data"], json!([]));

    // The API still answers with the first problem only, as before.
    let res = app
        .post("/v1/webhooks")
        .json(&json!({"url": "ftp://x.example", "events": ["nope"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let v: Value = res.json().await.unwrap();
    assert!(v["error"]["message"].as_str().unwrap().contains("nope"), "{v}");
}

#[tokio::test]
async fn dashboard_webhooks_preview_renders_the_sample_call() {
    let app = spawn_app().await;
    let b = app.browser().await;

    let res = b
        .post_json(
            "/webhooks/preview",
            &json!({
                "url": "https://crm.example.com/calls/{{call_id}}?who={{caller_name}}",
                "body_template": "{\"who\": \"{{caller_name}}\", \"why\": \"{{ summary }}\", \"x\": \"{{foo}}\", \"n\": 3}"
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let p: Value = res.json().await.unwrap();
    assert_eq!(
        p["url"],
        "https://crm.example.com/calls/call_01JTESTSAMPLE0000000000000?who=John%20Doe"
    );
    let body: Value = serde_json::from_str(p["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["who"], "John Doe");
    assert!(body["why"].as_str().unwrap().contains("kitchen remodel"), "{body}");
    assert_eq!(body["x"], "");
    assert_eq!(body["n"], 3);
    assert_eq!(p["unknown"], json!(["foo"]));
    assert_eq!(p["error"], Value::Null);
    assert_eq!(p["url_error"], Value::Null);

    // Invalid JSON: where it is wrong, and no body.
    let p: Value = b
        .post_json(
            "/webhooks/preview",
            &json!({"url": "https://x.example", "body_template": "{\n \"a\": 1,\n}"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(p["error"].as_str().unwrap().contains("line 3, column 1"), "{p}");
    assert_eq!(p["body"], Value::Null);

    // No template: the default body, the event envelope.
    let p: Value = b
        .post_json("/webhooks/preview", &json!({"url": "not a url", "body_template": ""}))
        .await
        .json()
        .await
        .unwrap();
    let body: Value = serde_json::from_str(p["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["event"], "call.ended");
    assert_eq!(body["data"]["caller"]["name"], "John Doe");
    assert!(p["url_error"].is_string(), "{p}");

    // The page renders the same preview without script, and flags unknown variables.
    let w = create(
        &app,
        json!({"url": "https://crm.example.com/h", "body_template": {"who": "{{caller_name}}", "oops": "{{nope}}"}}),
    )
    .await;
    let page = b.page(&format!("/webhooks/{}/edit", w["id"].as_str().unwrap())).await;
    let shown = text_of(&page, "preview-body").unwrap();
    assert!(shown.contains("\"who\": \"John Doe\""), "{shown}");
    assert!(page.contains("unknown variable <code>{{nope}}</code>"), "{page}");

    // The endpoint changes nothing but still wants the CSRF header.
    let res = b
        .client
        .post(b.url("/webhooks/preview"))
        .header("cookie", &b.cookie)
        .json(&json!({"url": "https://x.example", "body_template": ""}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn dashboard_webhooks_test_send_shows_the_request_and_the_response() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let rx = Receiver::start().await;
    rx.reply(Reply {
        status: 202,
        headers: vec![("x-receiver".into(), "rx-1".into())],
        body: "queued by the receiver".into(),
        ..Reply::default()
    });
    let w = create(
        &app,
        json!({"name": "Rx", "url": rx.url("/in"), "headers": {"X-Team": "sales"},
               "body_template": {"event": "{{event}}", "who": "{{caller_name}}"}}),
    )
    .await;
    let id = w["id"].as_str().unwrap();
    let secret = w["secret"].as_str().unwrap();

    let edit = b.page(&format!("/webhooks/{id}/edit")).await;
    assert!(edit.contains(&format!("action=\"/webhooks/{id}/test\"")), "a test form");
    let res = b
        .post_form(&format!("/webhooks/{id}/test"), &[("event", "data.collected")])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let got = rx.wait_for(1, WAIT).await;
    assert_eq!(got.len(), 1, "sent once");
    assert_signed_by(&got[0], secret);
    assert_eq!(got[0].json(), json!({"event": "data.collected", "who": "John Doe"}));

    assert!(page.contains("<span class=\"badge ok\">delivered</span>"), "{page}");
    assert!(page.contains(&format!("POST {}", rx.url("/in"))), "method and URL");
    assert!(page.contains("<code>webhook-signature</code>"), "{page}");
    assert!(
        page.contains(&format!("<code>{}</code>", got[0].header("webhook-signature"))),
        "the signature that was sent"
    );
    assert!(
        page.contains("<tr><td><code>X-Team</code></td><td><code>[redacted]</code></td></tr>"),
        "the webhook's own header, its value not repeated: {page}"
    );
    assert!(page.contains("<code>user-agent</code>"), "{page}");
    assert!(
        page.contains("<tr><td><code>x-receiver</code></td><td><code>rx-1</code></td></tr>"),
        "the response headers: {page}"
    );
    assert!(
        page.contains("&#34;who&#34;: &#34;John Doe&#34;") || page.contains("&quot;who&quot;: &quot;John Doe&quot;"),
        "the body sent: {page}"
    );
    assert!(page.contains("<dd>202</dd>"), "the status");
    assert!(page.contains("queued by the receiver"), "the response body");
    assert!(page.contains(" ms</dd>"), "the latency");
    assert!(
        page.contains("value=\"data.collected\" selected"),
        "the event stays chosen"
    );

    // A failing endpoint: the failure and the error are shown.
    rx.reply(Reply {
        status: 500,
        body: "boom".into(),
        ..Reply::default()
    });
    let page = b
        .post_form(&format!("/webhooks/{id}/test"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<span class=\"badge bad\">failed</span>"), "{page}");
    assert!(page.contains("<dd>500</dd>") && page.contains("boom"));

    // An unknown event type is refused.
    let res = b
        .post_form(&format!("/webhooks/{id}/test"), &[("event", "call.exploded")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn dashboard_webhooks_rotate_shows_a_new_secret_that_signs() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let rx = Receiver::start().await;
    let w = create(&app, json!({"url": rx.url("/in")})).await;
    let id = w["id"].as_str().unwrap();
    let old = w["secret"].as_str().unwrap().to_owned();

    let edit = b.page(&format!("/webhooks/{id}/edit")).await;
    assert!(
        edit.contains(&format!("action=\"/webhooks/{id}/rotate-secret\" data-confirm=")),
        "{edit}"
    );
    let res = b.post_form(&format!("/webhooks/{id}/rotate-secret"), &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    let new = shown_secret(&page);
    assert!(new.starts_with("whsec_") && new != old, "{new}");
    assert!(page.contains("old secret keeps signing"), "{page}");
    assert!(page.contains("24 hours"), "the window: {page}");
    assert!(page.contains("data-copy=\"webhook-secret\""));

    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let got = rx.wait_for(1, WAIT).await;
    assert_signed_by(&got[0], &new);
    assert_signed_by(&got[0], &old);
    // Shown once: the edit page does not show it.
    assert!(!b.page(&format!("/webhooks/{id}/edit")).await.contains(&new));
}

#[tokio::test]
async fn dashboard_webhooks_deactivate_activate_and_clear_the_disable_reason() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let rx = Receiver::start().await;
    let w = create(&app, json!({"name": "Gone soon", "url": rx.url("/in")})).await;
    let id = w["id"].as_str().unwrap();

    let res = b
        .post_form(&format!("/webhooks/{id}/active"), &[("active", "false")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(Browser::location(&res), format!("/webhooks/{id}/edit"));
    assert_eq!(api_webhook(&app, id).await["active"], false);
    let page = b.page(&format!("/webhooks/{id}/edit")).await;
    assert!(page.contains("<span class=\"badge plain\">inactive</span>"), "{page}");
    assert!(page.contains(">Activate</button>"));

    let res = b
        .post_form(&format!("/webhooks/{id}/active"), &[("active", "true")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(api_webhook(&app, id).await["active"], true);

    // Frontdesk disables it on a 410; the pages say so and why.
    rx.reply(Reply {
        status: 410,
        ..Reply::default()
    });
    emit(&app, vec![("call.ended", call_data("+15550100000"))]).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while api_webhook(&app, id).await["disabled_reason"].is_null() {
        assert!(tokio::time::Instant::now() < deadline, "never disabled");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let list = b.page("/webhooks").await;
    assert!(
        list.contains("<span class=\"badge bad\">disabled by Frontdesk</span>"),
        "{list}"
    );
    assert!(list.contains("410 Gone"), "the reason: {list}");
    let page = b.page(&format!("/webhooks/{id}/edit")).await;
    assert!(
        page.contains("Frontdesk disabled it") && page.contains("410 Gone"),
        "{page}"
    );

    let res = b
        .post_form(&format!("/webhooks/{id}/active"), &[("active", "true")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let now = api_webhook(&app, id).await;
    assert_eq!(now["active"], true);
    assert_eq!(now["disabled_reason"], Value::Null, "cleared as the API's PATCH does");
    assert_eq!(now["failing_since"], Value::Null);

    let res = b
        .post_form(&format!("/webhooks/{id}/active"), &[("active", "maybe")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn dashboard_webhooks_edit_keeps_the_other_fields() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let w = create(
        &app,
        json!({"name": "Before", "url": "https://crm.example.com/h/{{call_id}}", "events": ["call.ended", "message.collected"],
               "method": "PATCH", "headers": {"Authorization": "Bearer \"q\" <x>", "X-Team": "sales"},
               "body_template": {"a": "{{caller_name}}", "nested": {"list": [1, "{{budget}}"]}},
               "numbers": ["+15550100000"]}),
    )
    .await;
    let id = w["id"].as_str().unwrap();
    let before = api_webhook(&app, id).await;

    let page = b.page(&format!("/webhooks/{id}/edit")).await;
    let mut fields = form_fields(&page, "webhook-form");
    for (k, v) in &mut fields {
        if k == "name" {
            *v = "After".into();
        }
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(k, _)| k != "csrf")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let res = b.post_form(&format!("/webhooks/{id}/edit"), &pairs).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", res.text().await.unwrap());
    assert_eq!(Browser::location(&res), format!("/webhooks/{id}/edit?saved=1"));
    let after = api_webhook(&app, id).await;
    assert_eq!(after["name"], "After");
    for k in [
        "url",
        "events",
        "method",
        "headers",
        "body_template",
        "numbers",
        "active",
    ] {
        assert_eq!(after[k], before[k], "{k} kept");
    }
    assert!(b.page(&format!("/webhooks/{id}/edit?saved=1")).await.contains("Saved."));

    // Change several fields; clear the template (the default body again).
    let res = b
        .post_form(
            &format!("/webhooks/{id}/edit"),
            &[
                ("name", "After"),
                ("url", "https://crm.example.com/other"),
                ("method", "POST"),
                ("headers", ""),
                ("body_template", ""),
                ("numbers", ""),
                ("active", "true"),
                ("was_active", "true"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let after = api_webhook(&app, id).await;
    assert_eq!(after["url"], "https://crm.example.com/other");
    assert_eq!(after["events"], json!([]), "none checked: every event");
    assert_eq!(after["numbers"], json!([]));
    assert_eq!(after["headers"], json!({}));
    assert_eq!(after["body_template"], Value::Null);
    assert_eq!(after["method"], "POST");

    // An invalid edit keeps what was typed and changes nothing.
    let (status, page) = post_webhook(
        &b,
        &format!("/webhooks/{id}/edit"),
        &[
            ("name", ""),
            ("url", "https://crm.example.com/third"),
            ("was_active", "true"),
            ("active", "true"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&page, "name-error").is_some(), "{page}");
    assert!(page.contains("value=\"https://crm.example.com/third\""));
    assert_eq!(api_webhook(&app, id).await["url"], "https://crm.example.com/other");
}

#[tokio::test]
async fn dashboard_webhooks_delete_and_paging() {
    let app = spawn_app().await;
    let b = app.browser().await;
    for i in 0..51 {
        create(
            &app,
            json!({"name": format!("hook {i:02}"), "url": "https://crm.example.com/h"}),
        )
        .await;
    }
    let first = b.page("/webhooks").await;
    assert!(first.contains("hook 50") && !first.contains("hook 00"), "newest first");
    let i = first.find("class=\"pager\"").expect("a pager");
    let href = attr(&first[i..], "href").expect("Next page");
    assert!(first[i..].contains(">Next page</a>"));
    let second = b.page(&href).await;
    assert!(
        second.contains("hook 00") && !second.contains("class=\"pager\""),
        "{second}"
    );

    let w = create(&app, json!({"name": "Doomed", "url": "https://crm.example.com/h"})).await;
    let id = w["id"].as_str().unwrap();
    let edit = b.page(&format!("/webhooks/{id}/edit")).await;
    assert!(
        edit.contains(&format!("action=\"/webhooks/{id}/delete\" data-confirm=")),
        "asks first"
    );
    let res = b.post_form(&format!("/webhooks/{id}/delete"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(Browser::location(&res), "/webhooks?deleted=1");
    assert_eq!(
        app.get(&format!("/v1/webhooks/{id}")).send().await.unwrap().status(),
        404
    );
    assert!(b.page("/webhooks?deleted=1").await.contains("were deleted"));
    let res = b.post_form(&format!("/webhooks/{id}/delete"), &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dashboard_webhooks_of_another_workspace_are_not_found() {
    let app = spawn_app().await;
    let mine = app.browser().await;
    let w = create(&app, json!({"name": "Private", "url": "https://crm.example.com/h"})).await;
    let id = w["id"].as_str().unwrap();
    let (ws, _) = app.other_workspace("other").await;
    let them = app.browser_of(&ws, "them@example.com").await;

    assert!(!them.page("/webhooks").await.contains("Private"));
    let res = them.get(&format!("/webhooks/{id}/edit")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.unwrap().contains("404"));
    for (path, fields) in [
        (
            format!("/webhooks/{id}/edit"),
            vec![("name", "x"), ("url", "https://evil.example")],
        ),
        (format!("/webhooks/{id}/test"), vec![]),
        (format!("/webhooks/{id}/rotate-secret"), vec![]),
        (format!("/webhooks/{id}/active"), vec![("active", "false")]),
        (format!("/webhooks/{id}/delete"), vec![]),
    ] {
        let res = them.post_form(&path, &fields).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let still = api_webhook(&app, id).await;
    assert_eq!(still["name"], "Private");
    assert_eq!(still["active"], true);
    // Not an id at all: 404 too.
    assert_eq!(mine.get("/webhooks/nope/edit").await.status(), StatusCode::NOT_FOUND);
    // Forms without the CSRF token are refused.
    let res = mine
        .client
        .post(mine.url(&format!("/webhooks/{id}/delete")))
        .header("cookie", &mine.cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
