//! The calls pages: `/calls` (filters, search, paging, empty states) and `/calls/{id}`
//! (facts, transcript, fields, events and their deliveries), over real simulated calls;
//! another workspace's call is a 404.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, agent_file, post_json, spawn_app};

/// The demo number the bootstrap gives the default workspace.
const DEMO: &str = "+15550100000";

async fn say(app: &TestApp, call: &str, text: &str) -> Value {
    let (s, r) = post_json(app, &format!("/v1/sim/calls/{call}/turns"), json!({"text": text})).await;
    assert_eq!(s, 200, "{r}");
    r
}

/// Calls `to` from `from` and says `opening`; returns the call id and the reply.
async fn call(app: &TestApp, from: &str, to: &str, opening: &str) -> (String, Value) {
    let (s, start) = post_json(app, "/v1/sim/calls", json!({"from": from, "to": to})).await;
    assert_eq!(s, 201, "{start}");
    let id = start["call_id"].as_str().unwrap().to_owned();
    let r = say(app, &id, opening).await;
    (id, r)
}

/// A demo-agent call that books an appointment for Ada Lovelace and ends.
async fn appointment_call(app: &TestApp) -> String {
    let (id, mut r) = call(app, "+15551230001", DEMO, "Hi, I'd like to book an appointment please.").await;
    for _ in 0..6 {
        let text = match r["awaiting_field"].as_str() {
            Some("first_name") => "Ada Lovelace",
            Some("phone") => "555 867 5309",
            Some("email") => "ada at example dot com",
            Some(other) => panic!("unexpected question for {other}: {r}"),
            None => break,
        };
        r = say(app, &id, text).await;
    }
    if r["ended"] != true {
        r = say(app, &id, "No, that's everything, thanks.").await;
    }
    if r["ended"] != true {
        let (s, r) = post_json(app, &format!("/v1/sim/calls/{id}/hangup"), json!({})).await;
        assert_eq!(s, 200, "{r}");
    }
    id
}

fn rows(html: &str) -> usize {
    html.matches("href=\"/calls/call_").count()
}

/// The `href` of the "Next page" link, its `&` unescaped (askama writes `&#38;`).
fn next_link(html: &str) -> Option<String> {
    let i = html.find("class=\"pager\"")?;
    let rest = &html[i..];
    let start = rest.find("href=\"")? + 6;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].replace("&#38;", "&").replace("&amp;", "&"))
}

fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

#[tokio::test]
async fn dashboard_calls_list_filters_searches_and_pages() {
    let app = spawn_app().await;
    let b = app.browser().await;

    let empty = b.page("/calls").await;
    assert!(empty.contains("No calls yet"), "{empty}");
    assert!(empty.contains("href=\"/test-call\"") && empty.contains("/v1/sim/calls"));
    assert!(empty.contains(DEMO), "the example calls the workspace's number");

    let before = Utc::now() - Duration::seconds(1);
    let booked = appointment_call(&app).await;
    let (transferred, r) = call(&app, "+15559870002", DEMO, "Can I talk to a real person please?").await;
    assert_eq!(r["ended"], true, "{r}");
    let (live, _) = call(&app, "+15554440003", DEMO, "I want to leave a message").await;
    let (s, out) = post_json(&app, "/v1/calls", json!({"to": "+15557778888"})).await;
    assert_eq!(s, 201, "{out}");
    let outbound = out["id"].as_str().unwrap().to_owned();
    let (s, agent) = post_json(&app, "/v1/agents", agent_file("contractor")).await;
    assert_eq!(s, 201, "{agent}");
    let (s, n) = post_json(
        &app,
        "/v1/numbers",
        json!({"number": "+15553330000", "agent_id": agent["id"], "provider": "sim"}),
    )
    .await;
    assert_eq!(s, 201, "{n}");
    let (other_line, _) = call(&app, "+15551112222", "+15553330000", "Hello there").await;
    let (s, r) = post_json(&app, &format!("/v1/sim/calls/{other_line}/hangup"), json!({})).await;
    assert_eq!(s, 200, "{r}");
    let after = Utc::now() + Duration::seconds(1);
    let all = [&booked, &transferred, &live, &outbound, &other_line];

    let list = b.page("/calls").await;
    for id in all {
        assert!(list.contains(&format!("href=\"/calls/{id}\"")), "{id} listed:\n{list}");
    }
    assert!(
        list.contains("View call with +15551230001"),
        "the link says what it opens"
    );
    assert!(list.contains("Ada Lovelace"), "the caller's name");
    assert!(list.contains("appointment"), "the call type");
    assert!(list.contains("<span class=\"badge ok\">completed</span>"));
    assert!(list.contains("<span class=\"badge warn\">in progress</span>"));
    assert!(list.contains("<th scope=\"col\">"));
    assert!(
        list.find(&other_line).unwrap() < list.find(&booked).unwrap(),
        "newest first"
    );

    let only = |html: &str, want: &[&String]| {
        for id in all {
            assert_eq!(
                html.contains(&format!("href=\"/calls/{id}\"")),
                want.contains(&id),
                "{id} (want {want:?}):\n{html}"
            );
        }
    };
    let page = b.page("/calls?status=in_progress").await;
    only(&page, &[&live, &outbound]);
    assert!(
        page.contains("<option value=\"in_progress\" selected>"),
        "the form keeps the filter"
    );
    only(
        &b.page("/calls?status=completed").await,
        &[&booked, &transferred, &other_line],
    );
    only(&b.page("/calls?direction=outbound").await, &[&outbound]);
    only(
        &b.page("/calls?direction=inbound&status=").await,
        &[&booked, &transferred, &live, &other_line],
    );
    only(
        &b.page(&format!("/calls?number={}", enc("+15553330000"))).await,
        &[&other_line],
    );
    only(
        &b.page(&format!("/calls?number={}", enc(DEMO))).await,
        &[&booked, &transferred, &live, &outbound],
    );
    only(&b.page("/calls?call_type=appointment").await, &[&booked]);

    // Search: a word the caller said, a fragment of the caller's number, the name.
    only(&b.page("/calls?q=appointment").await, &[&booked]);
    only(&b.page("/calls?q=REAL+PERSON").await, &[&transferred]);
    only(&b.page("/calls?q=9870002").await, &[&transferred]);
    only(&b.page("/calls?q=ada+love").await, &[&booked]);
    let none = b.page("/calls?q=zebra").await;
    only(&none, &[]);
    assert!(
        none.contains("No calls match") && none.contains("Clear the filters"),
        "{none}"
    );
    assert!(none.contains("value=\"zebra\""), "the search box keeps the text");

    // Time: the RFC 3339 fields the page script fills, or the local inputs as UTC.
    let iso = |t: chrono::DateTime<Utc>| enc(&t.to_rfc3339());
    only(
        &b.page(&format!("/calls?since={}&until={}", iso(before), iso(after)))
            .await,
        &all,
    );
    only(&b.page(&format!("/calls?since={}", iso(after))).await, &[]);
    only(&b.page(&format!("/calls?until={}", iso(before))).await, &[]);
    let local = |t: chrono::DateTime<Utc>| t.format("%Y-%m-%dT%H:%M").to_string();
    only(
        &b.page(&format!("/calls?since=&since_local={}", local(before))).await,
        &all,
    );
    only(
        &b.page(&format!("/calls?since_local={}", local(after + Duration::minutes(2))))
            .await,
        &[],
    );

    // A filter that cannot be read says so next to its field.
    let res = b.get("/calls?status=done").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("id=\"status-error\"") && html.contains("not a call status"),
        "{html}"
    );
    assert!(html.contains("aria-invalid=\"true\""));
    let res = b.get("/calls?number=abc").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("id=\"number-error\""));
    let res = b.get("/calls?since=yesterday").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("not an RFC 3339 time"));
    let res = b.get("/calls?limit=101").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("between 1 and 100"));
    let res = b.get("/calls?cursor=nonsense").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Paging: a next link (carrying the filters) until the list ends.
    let first = b.page("/calls?limit=2").await;
    assert_eq!(rows(&first), 2);
    let next = next_link(&first).expect("a next page");
    assert!(
        next.starts_with("/calls?") && next.contains("limit=2") && next.contains("cursor=call_"),
        "{next}"
    );
    let second = b.page(&next).await;
    assert_eq!(rows(&second), 2);
    let third = b.page(&next_link(&second).expect("a third page")).await;
    assert_eq!(rows(&third), 1);
    assert!(next_link(&third).is_none(), "the last page has no next link");
    let mut seen: Vec<&str> = Vec::new();
    for html in [&first, &second, &third] {
        seen.extend(all.iter().filter(|id| html.contains(id.as_str())).map(|id| id.as_str()));
    }
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 5, "every call once");
    let filtered = b.page("/calls?status=completed&limit=2").await;
    let next = next_link(&filtered).expect("a next page");
    assert!(next.contains("status=completed"), "{next}");
    assert_eq!(rows(&b.page(&next).await), 1);

    // The API takes the same search.
    let api: Value = app
        .get("/v1/calls?q=real%20person")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api["data"].as_array().unwrap().len(), 1, "{api}");
    assert_eq!(api["data"][0]["id"], transferred.as_str());

    // Another workspace sees none of it.
    let (ws, _) = app.other_workspace("elsewhere").await;
    let them = app.browser_of(&ws, "them@example.com").await;
    let theirs = them.page("/calls").await;
    assert_eq!(rows(&theirs), 0);
    assert!(theirs.contains("No calls yet"));
}

#[tokio::test]
async fn dashboard_calls_page_shows_the_call_its_events_and_deliveries() {
    let app = spawn_app().await;
    let b = app.browser().await;
    // Nothing listens there: the deliveries exist all the same, pending or failed.
    let (s, hook) = post_json(
        &app,
        "/v1/webhooks",
        json!({"name": "CRM", "url": "http://127.0.0.1:9/hook"}),
    )
    .await;
    assert_eq!(s, 201, "{hook}");
    let hook_id = hook["id"].as_str().unwrap().to_owned();
    let id = appointment_call(&app).await;
    let c: Value = app
        .get(&format!("/v1/calls/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let html = b.page(&format!("/calls/{id}")).await;
    assert_eq!(html.matches("<h1").count(), 1);
    assert!(html.contains("Call with +15551230001"), "{html}");
    // Facts.
    assert!(html.contains("<span class=\"badge ok\">completed</span>"));
    assert!(html.contains(&format!("href=\"/agents/{}\"", c["agent_id"].as_str().unwrap())));
    assert!(html.contains("Demo front desk"), "the agent's name");
    assert!(html.contains("appointment") && html.contains("Ada Lovelace"));
    // The transcript, in order, the caller's lines marked.
    assert!(html.contains("class=\"transcript\""));
    assert!(html.contains("<li class=\"caller\">"));
    let greeting = html.find("how can I help you today?").expect("the greeting");
    let asked = html.find("book an appointment please.").expect("the caller's words");
    assert!(greeting < asked, "in order");
    // Collected fields.
    let fields = &html[html.find("id=\"fields\"").unwrap()..];
    assert!(
        fields.contains("<dt>first_name</dt>") && fields.contains("<dt>phone</dt>"),
        "{fields}"
    );
    // Events, each with its delivery to the webhook.
    for e in ["call.answered", "data.collected", "call.ended"] {
        assert!(html.contains(&format!(">{e} ")), "{e} shown:\n{html}");
    }
    assert!(html.contains("data.collected <span class=\"muted\">(first_name: Ada Lovelace)</span>"));
    assert!(
        html.contains(&format!("href=\"/webhooks/{hook_id}\">CRM</a>")),
        "{html}"
    );
    assert!(html.contains("href=\"/deliveries/dlv_"));
    let deliveries: Value = app.get("/v1/deliveries").send().await.unwrap().json().await.unwrap();
    for d in deliveries["data"].as_array().unwrap() {
        let did = d["id"].as_str().unwrap();
        assert!(html.contains(&format!("href=\"/deliveries/{did}\"")), "{did} shown");
    }
    assert!(html.contains("&#34;call_id&#34;"), "payloads shown");

    // Another workspace's user, a malformed id, an unknown one: 404 pages.
    let (ws, _) = app.other_workspace("elsewhere").await;
    let them = app.browser_of(&ws, "them@example.com").await;
    let res = them.get(&format!("/calls/{id}")).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("<html") && !body.contains("Ada"),
        "an HTML 404 telling nothing"
    );
    for path in ["/calls/nope", "/calls/call_01JD3Q2W8M6Y7Z0ABCDEF12345"] {
        assert_eq!(b.get(path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn dashboard_calls_purged_call_says_so() {
    let app = spawn_app().await;
    let b = app.browser().await;
    let id = appointment_call(&app).await;
    app.store
        .purge_before(Utc::now() + Duration::days(1), 1000)
        .await
        .expect("purge");
    let html = b.page(&format!("/calls/{id}")).await;
    assert!(html.contains("removed by the retention policy"), "{html}");
    assert!(!html.contains("Ada Lovelace"), "the contents are gone");
    assert!(
        html.contains("<span class=\"badge ok\">completed</span>"),
        "the outcome stays"
    );
}
