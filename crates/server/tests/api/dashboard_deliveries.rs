//! The dashboard's delivery log (`/webhooks/{id}`) and attempt detail
//! (`/deliveries/{id}`): a webhook to a local receiver that fails, events from a
//! simulated call, then the log (failed first, filters, paging), an attempt's request
//! and response, retry, recover, replay, and another workspace's 404s.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::browser::Browser;
use crate::helpers::{TestApp, agent_file, post_json, spawn_app};
use crate::receiver::{Receiver, Reply};
use crate::webhooks::create;

const WAIT: Duration = Duration::from_secs(15);

/// Polls the API's delivery list (`query`) until `done` holds for it.
async fn wait_for(app: &TestApp, query: &str, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let list: Value = app
            .get(&format!("/v1/deliveries{query}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let data = list["data"].as_array().unwrap().clone();
        if done(&data) {
            return data;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {data:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A failing receiver (500, a header and a JSON body), a webhook to it with a custom
/// credential header, and a simulated call (answered, then hung up) whose events all
/// failed. Returns (receiver, webhook id, call id).
async fn failed_call(app: &TestApp) -> (Receiver, String, String) {
    let receiver = Receiver::start().await;
    receiver.reply(Reply {
        status: 500,
        headers: vec![("x-reason".into(), "database down".into())],
        body: "{\"error\":\"database down\"}".into(),
        ..Reply::default()
    });
    let hook = create(
        app,
        json!({"name": "CRM", "url": receiver.url("/hook"), "headers": {"Authorization": "Bearer topsecret-credential"}}),
    )
    .await;
    let wid = hook["id"].as_str().unwrap().to_owned();
    let (s, agent) = post_json(app, "/v1/agents", agent_file("contractor")).await;
    assert_eq!(s, 201, "{agent}");
    let (s, n) = post_json(
        app,
        "/v1/numbers",
        json!({"number": "+15553330000", "agent_id": agent["id"], "provider": "sim"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    let (s, start) = post_json(
        app,
        "/v1/sim/calls",
        json!({"from": "+15551230001", "to": "+15553330000"}),
    )
    .await;
    assert_eq!(s, 201, "{start}");
    let call = start["call_id"].as_str().unwrap().to_owned();
    let (s, ended) = post_json(app, &format!("/v1/sim/calls/{call}/hangup"), json!({})).await;
    assert_eq!(s, 200, "{ended}");
    let pending = format!("?webhook_id={wid}&status=pending");
    wait_for(app, &format!("?webhook_id={wid}"), "some deliveries", |d| d.len() >= 2).await;
    wait_for(app, &pending, "every delivery failed", <[Value]>::is_empty).await;
    (receiver, wid, call)
}

/// The delivery ids of a log page's rows, in order.
fn row_ids(html: &str) -> Vec<String> {
    html.split("aria-label=\"Details of delivery ")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

/// The `href` of the page's "Next page" link, unescaped.
fn next_link(html: &str) -> Option<String> {
    let at = html.find(">Next page</a>")?;
    let start = html[..at].rfind("href=\"")? + 6;
    Some(html[start..at - 1].replace("&amp;", "&").replace("&#38;", "&"))
}

#[tokio::test]
async fn the_log_shows_failed_deliveries_first_with_their_attempts_in_full() {
    let app = spawn_app().await;
    let started = chrono::Utc::now() - chrono::Duration::seconds(1);
    let (receiver, wid, call) = failed_call(&app).await;
    let failed = wait_for(&app, &format!("?webhook_id={wid}&status=failed"), "failed", |d| {
        !d.is_empty()
    })
    .await;
    let b = app.browser().await;
    let html = b.page(&format!("/webhooks/{wid}")).await;
    assert!(
        html.contains("active, failing"),
        "the summary says the webhook is failing"
    );
    assert!(html.contains("every attempt has failed since <time"));
    // A newer delivery that succeeds: the failed ones still come first.
    receiver.reply(Reply::default());
    crate::delivery::emit(
        &app,
        vec![("call.ended", json!({"call_id": "call_01JTEST0000000000000000000"}))],
    )
    .await;
    let ok = wait_for(&app, &format!("?webhook_id={wid}&status=succeeded"), "succeeded", |d| {
        d.len() == 1
    })
    .await;
    let ok_id = ok[0]["id"].as_str().unwrap();

    let html = b.page(&format!("/webhooks/{wid}")).await;
    assert!(html.contains("<h1>CRM</h1>"), "{html}");
    assert!(html.contains(&receiver.url("/hook")));
    assert!(html.contains("<span class=\"badge ok\">active</span>"), "healthy again");
    assert!(html.contains(&format!("href=\"/webhooks/{wid}/edit\"")));
    let rows = row_ids(&html);
    assert_eq!(rows.len(), failed.len() + 1, "{rows:?}");
    assert_eq!(
        rows.last().map(String::as_str),
        Some(ok_id),
        "failed first, then succeeded"
    );
    for d in &failed {
        assert!(rows.contains(&d["id"].as_str().unwrap().to_owned()));
        assert_eq!(d["attempt_count"], 4, "one attempt and three retries: {d}");
    }
    assert!(html.contains("<span class=\"badge bad\">failed</span>"));
    assert!(html.contains("HTTP 500"));
    assert!(html.contains(&format!("href=\"/calls/{call}\"")), "the call is linked");
    assert!(html.contains("call.answered") && html.contains("call.ended"));
    assert_eq!(
        html.matches(">Retry</button>").count(),
        rows.len(),
        "every finished delivery can be retried"
    );

    // Filters narrow it.
    let only_ok = b.page(&format!("/webhooks/{wid}?status=succeeded")).await;
    assert_eq!(row_ids(&only_ok), vec![ok_id.to_owned()]);
    let answered = b.page(&format!("/webhooks/{wid}?event=call.answered")).await;
    let answered_rows = row_ids(&answered);
    assert_eq!(answered_rows.len(), 1);
    assert!(answered.contains("call.answered"));
    let by_call = b.page(&format!("/webhooks/{wid}?q={call}")).await;
    assert_eq!(
        row_ids(&by_call).len(),
        failed.len(),
        "the call's deliveries: {by_call}"
    );
    let lower = b.page(&format!("/webhooks/{wid}?q={}", ok_id.to_lowercase())).await;
    assert_eq!(row_ids(&lower), vec![ok_id.to_owned()], "a delivery id, in any case");
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let none = b
        .page(&format!("/webhooks/{wid}?from={}", later.replace('+', "%2B")))
        .await;
    assert!(row_ids(&none).is_empty());
    assert!(none.contains("No deliveries match these filters."));
    let window = b
        .page(&format!(
            "/webhooks/{wid}?status=failed&from_local={}",
            started.format("%Y-%m-%dT%H:%M")
        ))
        .await;
    assert_eq!(
        row_ids(&window).len(),
        failed.len(),
        "a local time without the script reads as UTC"
    );
    let res = b.get(&format!("/webhooks/{wid}?from=yesterday&status=nope")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("`yesterday` is not an RFC 3339 time"), "{html}");
    assert!(html.contains("`nope` is not a status"));

    // The attempt in full: the request as sent (the custom header redacted), the
    // response's status, headers and body.
    let did = failed.iter().find(|d| d["event"] == "call.answered").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = b.page(&format!("/deliveries/{did}")).await;
    assert!(page.contains("<h1>Delivery of call.answered</h1>"), "{page}");
    assert!(page.contains(&format!("href=\"/calls/{call}\"")));
    assert!(page.contains(&format!("href=\"/webhooks/{wid}\"")));
    assert_eq!(page.matches("<h3 id=\"attempt-").count(), 4, "every attempt");
    assert!(page.contains(&format!("POST {}", receiver.url("/hook"))));
    for header in [
        "webhook-signature",
        "webhook-id",
        "webhook-timestamp",
        "content-type",
        "user-agent",
    ] {
        assert!(page.contains(&format!("<code>{header}</code>")), "{header}");
    }
    assert!(page.contains("<code>Authorization</code></td><td><code>[redacted]</code>"));
    assert!(
        !page.contains("topsecret-credential"),
        "a custom header value never shows"
    );
    assert!(
        page.contains("&#34;event&#34;: &#34;call.answered&#34;")
            || page.contains("&quot;event&quot;: &quot;call.answered&quot;")
    );
    assert!(page.contains("Status <strong>500</strong>"));
    assert!(page.contains("<code>x-reason</code></td><td><code>database down</code>"));
    assert!(page.contains("database down"));
    assert!(page.contains(" ms</dd>"), "latency");
    assert!(page.contains("the endpoint answered HTTP 500"), "the error");
    // The same through the API, whose attempts gained the request and response headers.
    let api: Value = app
        .get(&format!("/v1/deliveries/{did}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let a = &api["attempts"][0];
    assert_eq!(a["request"]["method"], "POST");
    let headers = a["request"]["headers"].as_array().unwrap();
    assert!(headers.iter().any(|h| h["name"] == "webhook-signature"));
    assert!(
        headers
            .iter()
            .any(|h| h["name"] == "Authorization" && h["value"] == "[redacted]")
    );
    let sent: Value = serde_json::from_str(a["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(sent["event"], "call.answered");
    let got = receiver.got();
    let same = got
        .iter()
        .find(|r| r.body == a["request"]["body"].as_str().unwrap().as_bytes());
    assert!(same.is_some(), "the body is logged byte for byte as sent");
    assert!(
        a["response_headers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "x-reason")
    );
    assert!(!api.to_string().contains("topsecret-credential"));

    // Retry, the receiver fixed: the delivery succeeds.
    let back = format!("/webhooks/{wid}?status=failed");
    let res = b
        .post_form(&format!("/deliveries/{did}/retry"), &[("back", &back)])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(Browser::location(&res), format!("{back}&done=retry"));
    wait_for(&app, &format!("?webhook_id={wid}&status=succeeded"), "retried", |d| {
        d.iter().any(|x| x["id"] == did.as_str())
    })
    .await;
    let page = b.page(&format!("/deliveries/{did}")).await;
    assert!(page.contains("<span class=\"badge ok\">succeeded</span>"));
    assert!(page.contains("<span class=\"badge ok\">HTTP 200</span>"));
    let res = b
        .post_form(
            &format!("/deliveries/{did}/retry"),
            &[("back", "https://evil.example/")],
        )
        .await;
    assert_eq!(
        Browser::location(&res),
        format!("/deliveries/{did}?done=retry"),
        "never another site"
    );

    // Recover: every failed delivery since a time, queued again.
    wait_for(
        &app,
        &format!("?webhook_id={wid}&status=pending"),
        "retries done",
        <[Value]>::is_empty,
    )
    .await;
    let still_failed = wait_for(&app, &format!("?webhook_id={wid}&status=failed"), "failed", |_| true).await;
    assert_eq!(still_failed.len(), failed.len() - 1);
    let res = b
        .post_form(
            &format!("/webhooks/{wid}/recover"),
            &[("since", &started.to_rfc3339()), ("since_local", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to = Browser::location(&res);
    assert_eq!(
        to,
        format!("/webhooks/{wid}?done=recover&queued={}", still_failed.len())
    );
    let html = b.page(&to).await;
    assert!(
        html.contains(&format!("Queued {} failed deliveries again", still_failed.len())),
        "{html}"
    );
    wait_for(
        &app,
        &format!("?webhook_id={wid}&status=pending"),
        "recovered",
        <[Value]>::is_empty,
    )
    .await;
    let res = b
        .post_form(
            &format!("/webhooks/{wid}/recover"),
            &[("since_local", "2020-01-01T00:00")],
        )
        .await;
    assert_eq!(
        Browser::location(&res),
        format!("/webhooks/{wid}?done=recover&queued=0"),
        "nothing left"
    );
    let res = b.post_form(&format!("/webhooks/{wid}/recover"), &[("since", "")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("choose the time to recover failed deliveries from")
    );

    // Replay a range: every event in it again.
    let all = wait_for(&app, &format!("?webhook_id={wid}&limit=500"), "all", |_| true).await;
    let events: std::collections::HashSet<&str> = all.iter().map(|d| d["event_id"].as_str().unwrap()).collect();
    let res = b
        .post_form(
            &format!("/webhooks/{wid}/replay"),
            &[("since", &started.to_rfc3339()), ("until", "")],
        )
        .await;
    assert_eq!(
        Browser::location(&res),
        format!("/webhooks/{wid}?done=replay&queued={}", events.len())
    );
    let res = b
        .post_form(
            &format!("/webhooks/{wid}/replay"),
            &[("since", "2026-01-02T10:00:00Z"), ("until", "2026-01-02T09:00:00Z")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"replay-until-error\""), "next to its field");
    assert!(html.contains("`until` must be later than `since`"));
    let res = b
        .post_form(&format!("/webhooks/{wid}/replay"), &[("since", "last week")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("id=\"replay-since-error\""));
    assert!(html.contains("`last week` is not an RFC 3339 time"));
}

#[tokio::test]
async fn another_workspace_gets_404_for_the_webhook_and_the_delivery() {
    let app = spawn_app().await;
    let (_receiver, wid, _) = failed_call(&app).await;
    let all = wait_for(&app, &format!("?webhook_id={wid}"), "deliveries", |d| !d.is_empty()).await;
    let did = all[0]["id"].as_str().unwrap();
    let (ws, _) = app.other_workspace("them").await;
    let them = app.browser_of(&ws, "them@example.com").await;
    for path in [
        format!("/webhooks/{wid}"),
        format!("/deliveries/{did}"),
        "/webhooks/wh_nope".to_owned(),
        "/deliveries/dlv_nope".to_owned(),
    ] {
        let res = them.get(&path).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(res.text().await.unwrap().contains("exists in this workspace"));
    }
    for path in [
        format!("/deliveries/{did}/retry"),
        format!("/webhooks/{wid}/recover"),
        format!("/webhooks/{wid}/replay"),
    ] {
        let res = them.post_form(&path, &[("since", "2026-01-02T10:00:00Z")]).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
    // Nothing was queued for them.
    let d: Value = app
        .get(&format!("/v1/deliveries/{did}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["status"], "failed");
}

#[tokio::test]
async fn the_log_pages_through_failed_then_succeeded_deliveries() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let hook = create(&app, json!({"url": receiver.url("/hook"), "events": ["call.ended"]})).await;
    let wid = hook["id"].as_str().unwrap().to_owned();
    // 55 that succeed, then 3 that fail (newer).
    let many: Vec<(&str, Value)> = (0..55).map(|_| ("call.ended", json!({}))).collect();
    crate::delivery::emit(&app, many).await;
    wait_for(
        &app,
        &format!("?webhook_id={wid}&status=succeeded&limit=100"),
        "succeeded",
        |d| d.len() == 55,
    )
    .await;
    receiver.reply(Reply {
        status: 503,
        ..Reply::default()
    });
    crate::delivery::emit(&app, (0..3).map(|_| ("call.ended", json!({}))).collect()).await;
    let failed = wait_for(&app, &format!("?webhook_id={wid}&status=failed"), "failed", |d| {
        d.len() == 3
    })
    .await;

    let b = app.browser().await;
    let first = b.page(&format!("/webhooks/{wid}")).await;
    let rows = row_ids(&first);
    assert_eq!(rows.len(), 50);
    let failed_ids: Vec<String> = failed.iter().map(|d| d["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(rows[..3], failed_ids[..], "failed first, newest first");
    let next = next_link(&first).expect("a next page");
    assert!(
        next.contains("part=succeeded") && next.contains("cursor=dlv_"),
        "{next}"
    );
    let second = b.page(&next).await;
    let more = row_ids(&second);
    assert_eq!(more.len(), 8);
    assert!(next_link(&second).is_none(), "the last page");
    let mut seen: Vec<String> = rows.into_iter().chain(more).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 58, "every delivery once");

    // One status: one part, paged by itself; a page link this log did not make is refused.
    let only_failed = b.page(&format!("/webhooks/{wid}?status=failed")).await;
    assert_eq!(row_ids(&only_failed), failed_ids);
    assert!(next_link(&only_failed).is_none());
    let res = b.get(&format!("/webhooks/{wid}?part=sideways")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn attempts_from_before_requests_were_kept_say_not_recorded_and_pages_need_a_session() {
    let app = spawn_app().await;
    let receiver = Receiver::start().await;
    let hook = create(&app, json!({"url": receiver.url("/hook")})).await;
    let wid = hook["id"].as_str().unwrap().to_owned();
    crate::delivery::emit(&app, vec![("call.ended", json!({}))]).await;
    let done = wait_for(&app, &format!("?webhook_id={wid}&status=succeeded"), "delivered", |d| {
        d.len() == 1
    })
    .await;
    let did = done[0]["id"].as_str().unwrap().to_owned();
    // An attempt as recorded before the request and response headers were kept.
    let old = frontdesk_store::Attempt {
        attempted_at: chrono::Utc::now(),
        status_code: Some(200),
        latency_ms: 7,
        response_body: Some("ok".into()),
        error: None,
        notes: None,
        request: None,
        response_headers: None,
    };
    app.store
        .record_attempts(
            &[frontdesk_store::AttemptResult {
                delivery_id: frontdesk_core::id::DeliveryId::parse(&did).unwrap(),
                webhook_id: frontdesk_core::id::WebhookId::parse(&wid).unwrap(),
                attempt: old,
                next: frontdesk_store::NextStep::Succeeded,
                health: frontdesk_store::WebhookHealth::Unchanged,
            }],
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let b = app.browser().await;
    let page = b.page(&format!("/deliveries/{did}")).await;
    assert_eq!(page.matches("<h3 id=\"attempt-").count(), 2);
    assert!(page.contains("Not recorded"), "{page}");
    assert!(page.contains("Headers not recorded"));
    assert!(
        page.contains("<code>webhook-signature</code>"),
        "the first attempt's request"
    );

    // Without a session: to the sign-in page; a form without its CSRF token: 403.
    let anon = crate::browser::no_redirects();
    for path in [format!("/webhooks/{wid}"), format!("/deliveries/{did}")] {
        let res = anon.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{path}");
        assert!(Browser::location(&res).starts_with("/login"), "{path}");
    }
    let res = b
        .client
        .post(b.url(&format!("/deliveries/{did}/retry")))
        .header(reqwest::header::COOKIE, &b.cookie)
        .form(&[("back", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
