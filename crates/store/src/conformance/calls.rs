//! Agents, numbers, calls and provider credentials.

use chrono::{Duration, Utc};
use frontdesk_core::agent::Provider;
use frontdesk_core::call::{Call, CallFilter, CallStatus, CallerInfo, Direction, Speaker, ToolCall, Turn};
use frontdesk_core::event::EventType;
use frontdesk_core::id::{AgentId, CallId, NumberId, WorkspaceId};
use frontdesk_core::page::PageRequest;
use frontdesk_core::webhook::WebhookSecret;
use serde_json::json;

use super::{agent, call, event_about, hook_spec, ids, insert, now, tick, workspace};
use crate::{CallWrite, DeliveryFilter, EventFilter, Store, StoreError};

pub async fn agents_crud_and_a_routed_agent_cannot_be_deleted(s: &dyn Store) {
    let (a, b) = (workspace(s, "a").await, workspace(s, "b").await);
    let first = agent(s, &a, "first").await;
    assert_eq!(
        s.get_agent(&a, &first.id).await.expect("get_agent").as_ref(),
        Some(&first)
    );
    assert!(
        s.get_agent(&b, &first.id).await.expect("get_agent").is_none(),
        "other workspace"
    );
    assert_eq!(
        s.agent_updated_at(&a, &first.id).await.expect("agent_updated_at"),
        Some(first.updated_at)
    );
    assert_eq!(
        s.agent_updated_at(&b, &first.id).await.expect("agent_updated_at"),
        None,
        "other workspace"
    );
    tick();
    let second = agent(s, &a, "second").await;
    tick();
    let third = agent(s, &a, "third").await;

    let p1 = s
        .list_agents_page(&a, &PageRequest::first(2))
        .await
        .expect("list_agents_page");
    assert_eq!(
        p1.data.iter().map(|x| &x.id).collect::<Vec<_>>(),
        vec![&third.id, &second.id]
    );
    let p2 = s
        .list_agents_page(
            &a,
            &PageRequest {
                limit: 2,
                before_id: p1.next_cursor.clone(),
            },
        )
        .await
        .expect("list_agents_page");
    assert_eq!(p2.data, vec![first.clone()]);
    assert!(p2.next_cursor.is_none());
    assert_eq!(s.list_agents(&a).await.expect("list_agents").len(), 3);
    assert!(
        s.list_agents_page(&b, &PageRequest::first(10))
            .await
            .expect("list_agents_page")
            .data
            .is_empty()
    );

    tick();
    let config = json!({"name": "renamed", "greeting": "Hello"});
    let updated = s
        .update_agent(&a, &first.id, "renamed", &config)
        .await
        .expect("update_agent")
        .expect("update_agent found it");
    assert_eq!((updated.name.as_str(), &updated.config), ("renamed", &config));
    assert_eq!(updated.created_at, first.created_at);
    assert!(updated.updated_at > first.updated_at);
    assert_eq!(
        s.agent_updated_at(&a, &first.id).await.expect("agent_updated_at"),
        Some(updated.updated_at)
    );
    assert!(
        s.update_agent(&b, &first.id, "x", &config)
            .await
            .expect("update_agent")
            .is_none()
    );

    let n1 = s
        .create_number(&a, "+15550100001", &first.id, Provider::Sim, Default::default())
        .await
        .expect("create_number");
    s.create_number(&a, "+15550100002", &first.id, Provider::Twilio, Default::default())
        .await
        .expect("create_number");
    let Err(StoreError::Conflict(msg)) = s.delete_agent(&a, &first.id).await else {
        panic!("an agent that numbers route to is not deleted");
    };
    assert_eq!(
        msg,
        format!(
            "agent {} still answers +15550100001, +15550100002; delete or re-point those numbers first",
            first.id
        )
    );
    assert!(
        !s.delete_agent(&b, &first.id).await.expect("delete_agent"),
        "other workspace"
    );
    assert!(s.delete_number(&a, &n1.id).await.expect("delete_number"));
    s.update_number(
        &a,
        &s.number_by_e164("+15550100002")
            .await
            .expect("number_by_e164")
            .expect("number_by_e164 found it")
            .id,
        &second.id,
    )
    .await
    .expect("number_by_e164")
    .expect("number_by_e164 found it");
    assert!(s.delete_agent(&a, &first.id).await.expect("delete_agent"));
    assert!(
        !s.delete_agent(&a, &first.id).await.expect("delete_agent"),
        "already gone"
    );
    assert!(s.get_agent(&a, &first.id).await.expect("get_agent").is_none());
}

pub async fn numbers_are_unique_route_to_own_agents_and_can_be_re_pointed(s: &dyn Store) {
    let (a, b) = (workspace(s, "a").await, workspace(s, "b").await);
    let (ag, other_ag) = (agent(s, &a, "ag").await, agent(s, &a, "other").await);
    let foreign = agent(s, &b, "foreign").await;

    let Err(StoreError::NotFound(msg)) = s
        .create_number(&a, "+15550100001", &foreign.id, Provider::Sim, Default::default())
        .await
    else {
        panic!("an agent of another workspace is not found");
    };
    assert_eq!(msg, format!("agent {} does not exist in this workspace", foreign.id));
    let n = s
        .create_number(&a, "+15550100001", &ag.id, Provider::Twilio, Default::default())
        .await
        .expect("create_number");
    assert_eq!(
        (n.number.as_str(), &n.agent_id, n.provider, &n.workspace_id),
        ("+15550100001", &ag.id, Provider::Twilio, &a)
    );
    let Err(StoreError::Conflict(msg)) = s
        .create_number(&b, "+15550100001", &foreign.id, Provider::Sim, Default::default())
        .await
    else {
        panic!("a number is registered once, across workspaces");
    };
    assert_eq!(msg, "+15550100001 is already registered");

    assert_eq!(
        s.number_by_e164("+15550100001").await.expect("number_by_e164").as_ref(),
        Some(&n)
    );
    assert!(
        s.number_by_e164("+15550100009")
            .await
            .expect("number_by_e164")
            .is_none()
    );
    assert_eq!(s.get_number(&a, &n.id).await.expect("get_number").as_ref(), Some(&n));
    assert!(s.get_number(&b, &n.id).await.expect("get_number").is_none());

    let moved = s
        .update_number(&a, &n.id, &other_ag.id)
        .await
        .expect("update_number")
        .expect("update_number found it");
    assert_eq!((&moved.id, &moved.agent_id), (&n.id, &other_ag.id));
    assert!(matches!(
        s.update_number(&a, &n.id, &foreign.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        s.update_number(&b, &n.id, &foreign.id)
            .await
            .expect("update_number")
            .is_none(),
        "other workspace"
    );
    assert!(
        s.update_number(&a, &NumberId::generate(), &ag.id)
            .await
            .expect("update_number")
            .is_none()
    );
    assert_eq!(
        s.get_number(&a, &n.id)
            .await
            .expect("get_number")
            .expect("get_number found it")
            .agent_id,
        other_ag.id
    );

    tick();
    let n2 = s
        .create_number(&a, "+15550100002", &ag.id, Provider::Sim, Default::default())
        .await
        .expect("create_number");
    let page = s
        .list_numbers_page(&a, &PageRequest::first(1))
        .await
        .expect("list_numbers_page");
    assert_eq!(page.data, vec![n2.clone()]);
    let rest = s
        .list_numbers_page(
            &a,
            &PageRequest {
                limit: 1,
                before_id: page.next_cursor,
            },
        )
        .await
        .expect("list_numbers_page");
    assert_eq!((rest.data, rest.next_cursor), (vec![moved], None));
    assert_eq!(s.list_numbers(&a).await.expect("list_numbers").len(), 2);

    assert!(
        !s.delete_number(&b, &n2.id).await.expect("delete_number"),
        "other workspace"
    );
    assert!(s.delete_number(&a, &n2.id).await.expect("delete_number"));
    assert!(!s.delete_number(&a, &n2.id).await.expect("delete_number"));
    assert!(
        s.number_by_e164("+15550100002")
            .await
            .expect("number_by_e164")
            .is_none()
    );
}

pub async fn calls_insert_update_and_refuse_stale_versions(s: &dyn Store) {
    let (a, b) = (workspace(s, "a").await, workspace(s, "b").await);
    let ag = agent(s, &a, "ag").await;
    let mut c = call(&a, &ag.id, Direction::Inbound, "+15551234567", "+15550100000");
    c.provider = Provider::Twilio;
    c.provider_call_id = Some("CA123".into());
    insert(s, &c).await;
    assert_eq!(s.get_call(&a, &c.id).await.expect("get_call").as_ref(), Some(&c));
    assert!(
        s.get_call(&b, &c.id).await.expect("get_call").is_none(),
        "other workspace"
    );
    assert_eq!(
        s.call_by_provider_id(Provider::Twilio, "CA123")
            .await
            .expect("call_by_provider_id")
            .as_ref(),
        Some(&c)
    );
    assert!(
        s.call_by_provider_id(Provider::Sim, "CA123")
            .await
            .expect("call_by_provider_id")
            .is_none()
    );

    // A repeated provider webhook cannot create the call twice.
    let mut twin = call(&a, &ag.id, Direction::Inbound, "+15551234567", "+15550100000");
    twin.provider = Provider::Twilio;
    twin.provider_call_id = Some("CA123".into());
    let dup = s.save_call(&a, CallWrite::Insert(&twin), &[], 3, (Utc::now(), 0)).await;
    assert!(matches!(dup, Err(StoreError::Conflict(m)) if m.contains("CA123")));

    // Two requests read version 0; the first write wins.
    let stale = c.clone();
    c.status = CallStatus::InProgress;
    c.answered_at = Some(now());
    c.caller.name = Some("John Smith".into());
    c.updated_at = now();
    s.save_call(&a, CallWrite::Update(&c), &[], 3, (Utc::now(), 0))
        .await
        .expect("save_call");
    c.version += 1;
    assert_eq!(s.get_call(&a, &c.id).await.expect("get_call").as_ref(), Some(&c));
    let Err(StoreError::Conflict(msg)) = s
        .save_call(&a, CallWrite::Update(&stale), &[], 3, (Utc::now(), 0))
        .await
    else {
        panic!("a stale version is refused");
    };
    assert_eq!(msg, format!("call {} was changed by another request; retry", c.id));
    assert_eq!(
        s.get_call(&a, &c.id).await.expect("get_call").as_ref(),
        Some(&c),
        "untouched"
    );

    c.status = CallStatus::Completed;
    c.ended_at = Some(now());
    s.save_call(&a, CallWrite::Update(&c), &[], 3, (Utc::now(), 0))
        .await
        .expect("save_call");
    assert_eq!(
        s.get_call(&a, &c.id)
            .await
            .expect("get_call")
            .expect("get_call found it")
            .version,
        2
    );

    let unknown = call(&a, &ag.id, Direction::Inbound, "+15551234567", "+15550100000");
    assert!(matches!(
        s.save_call(&a, CallWrite::Update(&unknown), &[], 3, (Utc::now(), 0))
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        matches!(
            s.save_call(&b, CallWrite::Update(&c), &[], 3, (Utc::now(), 0)).await,
            Err(StoreError::NotFound(_))
        ),
        "a call is written only in its own workspace"
    );
}

pub async fn a_call_and_its_events_are_written_together_or_not_at_all(s: &dyn Store) {
    let a = workspace(s, "a").await;
    let ag = agent(s, &a, "ag").await;
    s.create_webhook(&a, &hook_spec(), &WebhookSecret::generate())
        .await
        .expect("create_webhook");
    let mut c = call(&a, &ag.id, Direction::Inbound, "+15551234567", "+15550100000");
    let answered = event_about(&c, EventType::CallAnswered);
    let r = s
        .save_call(
            &a,
            CallWrite::Insert(&c),
            std::slice::from_ref(&answered),
            3,
            (Utc::now() + Duration::seconds(30), 1),
        )
        .await
        .expect("save_call");
    assert_eq!((r.queued, r.leased.len()), (1, 1));
    assert_eq!(r.leased[0].event.id, answered.id);
    let by_call = EventFilter {
        call_id: Some(c.id.as_str().to_owned()),
        ..EventFilter::default()
    };
    let events = s
        .list_events(&a, &by_call, &PageRequest::first(10))
        .await
        .expect("list_events")
        .data;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].payload, answered.payload);
    let deliveries = || {
        let a = a.clone();
        async move {
            s.list_deliveries(&a, &DeliveryFilter::default(), &PageRequest::first(10))
                .await
                .expect("list_deliveries")
                .data
                .len()
        }
    };
    assert_eq!(deliveries().await, 1);

    // A write that loses the version race records none of its events.
    tick();
    let stale = c.clone();
    c.status = CallStatus::Completed;
    s.save_call(
        &a,
        CallWrite::Update(&c),
        &[event_about(&c, EventType::CallEnded)],
        3,
        (Utc::now(), 0),
    )
    .await
    .expect("save_call");
    let lost = s
        .save_call(
            &a,
            CallWrite::Update(&stale),
            &[event_about(&stale, EventType::CallTransferred)],
            3,
            (Utc::now(), 0),
        )
        .await;
    assert!(matches!(lost, Err(StoreError::Conflict(_))));
    let kinds: Vec<EventType> = s
        .list_events(&a, &by_call, &PageRequest::first(10))
        .await
        .expect("list_events")
        .data
        .iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(kinds, vec![EventType::CallEnded, EventType::CallAnswered]);
    assert_eq!(deliveries().await, 2);
    let of_event = DeliveryFilter {
        event_id: Some(answered.id.clone()),
        ..DeliveryFilter::default()
    };
    let answered_deliveries = s
        .list_deliveries(&a, &of_event, &PageRequest::first(10))
        .await
        .expect("list_deliveries")
        .data;
    assert_eq!(answered_deliveries.len(), 1, "the deliveries of one event");
    assert_eq!(answered_deliveries[0].event_id, answered.id);
    let b = workspace(s, "b").await;
    assert!(
        s.list_deliveries(&b, &of_event, &PageRequest::first(10))
            .await
            .expect("list_deliveries")
            .data
            .is_empty(),
        "another workspace's event"
    );
}

pub async fn calls_list_by_filter_newest_first(s: &dyn Store) {
    let (a, b) = (workspace(s, "a").await, workspace(s, "b").await);
    let ag = agent(s, &a, "ag").await;
    let biz = "+15550100000";
    let t0 = now() - Duration::hours(1);
    let mut made = Vec::new();
    // (direction, from, to, status, call type, minutes after t0)
    let specs = [
        (
            Direction::Inbound,
            "+15551110001",
            biz,
            CallStatus::Completed,
            Some("quote_request"),
            0,
        ),
        (
            Direction::Inbound,
            "+15551110002",
            biz,
            CallStatus::InProgress,
            None,
            10,
        ),
        (
            Direction::Outbound,
            biz,
            "+15551110003",
            CallStatus::Completed,
            Some("quote_request"),
            20,
        ),
        (
            Direction::Inbound,
            "+15551110004",
            "+15550199999",
            CallStatus::Completed,
            Some("message"),
            30,
        ),
        // Calls the business number from elsewhere: not the business's own call.
        (Direction::Inbound, biz, "+15550199999", CallStatus::NoAnswer, None, 40),
    ];
    for (direction, from, to, status, call_type, minutes) in specs {
        let mut c = call(&a, &ag.id, direction, from, to);
        c.status = status;
        c.call_type = call_type.map(str::to_owned);
        c.started_at = t0 + Duration::minutes(minutes);
        insert(s, &c).await;
        made.push(c);
        tick();
    }
    insert(s, &call(&b, &AgentId::generate(), Direction::Inbound, "+1", biz)).await;

    let list = |filter: CallFilter| {
        let a = a.clone();
        async move {
            s.list_calls(&a, &filter, &PageRequest::first(50))
                .await
                .expect("list_calls")
                .data
        }
    };
    let pick = |idx: &[usize]| idx.iter().map(|&i| made[i].id.clone()).collect::<Vec<_>>();

    let all = list(CallFilter::default()).await;
    assert_eq!(ids(&all), pick(&[4, 3, 2, 1, 0]));
    assert_eq!(all[2], made[2], "rows read back whole");
    let completed = CallFilter {
        status: Some(CallStatus::Completed),
        ..CallFilter::default()
    };
    assert_eq!(ids(&list(completed).await), pick(&[3, 2, 0]));
    let quotes = CallFilter {
        call_type: Some("quote_request".into()),
        ..CallFilter::default()
    };
    assert_eq!(ids(&list(quotes).await), pick(&[2, 0]));
    let outbound = CallFilter {
        direction: Some(Direction::Outbound),
        ..CallFilter::default()
    };
    assert_eq!(ids(&list(outbound).await), pick(&[2]));
    let number = CallFilter {
        number: Some(biz.into()),
        ..CallFilter::default()
    };
    assert_eq!(ids(&list(number).await), pick(&[2, 1, 0]));
    let window = CallFilter {
        since: Some(t0 + Duration::minutes(10)),
        until: Some(t0 + Duration::minutes(30)),
        ..CallFilter::default()
    };
    assert_eq!(
        ids(&list(window).await),
        pick(&[2, 1]),
        "since includes, until excludes"
    );
    let combined = CallFilter {
        status: Some(CallStatus::Completed),
        number: Some(biz.into()),
        since: Some(t0 + Duration::minutes(1)),
        ..CallFilter::default()
    };
    assert_eq!(ids(&list(combined).await), pick(&[2]));

    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let p = s
            .list_calls(&a, &CallFilter::default(), &page)
            .await
            .expect("list_calls");
        assert!(p.data.len() <= 2);
        seen.extend(ids(&p.data));
        match p.next_cursor {
            Some(cursor) => page.before_id = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen, pick(&[4, 3, 2, 1, 0]));
}

pub async fn calls_search_finds_caller_and_transcript_text(s: &dyn Store) {
    let (a, b) = (workspace(s, "a").await, workspace(s, "b").await);
    let ag = agent(s, &a, "ag").await;
    let biz = "+15550100000";
    let specs = [
        ("+15551230001", "Ada Lovelace", "I need a quote for a Kitchen REMODEL."),
        ("+15559870002", "Bob_Smith", "Is the 50% discount still on?"),
        ("+15554440003", "Bob Smith", r"I saw 5000 off at C:\deals."),
    ];
    let mut made = Vec::new();
    for (from, name, said) in specs {
        let mut c = call(&a, &ag.id, Direction::Inbound, from, biz);
        c.caller = CallerInfo {
            phone: Some(from.into()),
            name: Some(name.into()),
            email: None,
        };
        c.turns = vec![
            Turn::new(Speaker::Agent, "Thanks for calling, how can I help?", now()),
            Turn::new(Speaker::Caller, said, now()),
        ];
        insert(s, &c).await;
        made.push(c);
        tick();
    }
    // The same words in another workspace are not this one's.
    let mut theirs = call(&b, &AgentId::generate(), Direction::Inbound, "+15551230001", biz);
    theirs.turns = vec![Turn::new(Speaker::Caller, "kitchen remodel", now())];
    insert(s, &theirs).await;

    let find = |text: &str| {
        let a = a.clone();
        let filter = CallFilter {
            search: Some(text.to_owned()),
            ..CallFilter::default()
        };
        async move {
            ids(&s
                .list_calls(&a, &filter, &PageRequest::first(50))
                .await
                .expect("list_calls")
                .data)
        }
    };
    let pick = |idx: &[usize]| idx.iter().map(|&i| made[i].id.clone()).collect::<Vec<_>>();
    assert_eq!(find("remodel").await, pick(&[0]), "a word of the transcript, any case");
    assert_eq!(find("KITCHEN").await, pick(&[0]));
    assert_eq!(find("230001").await, pick(&[0]), "a fragment of the caller's number");
    assert_eq!(find("ada love").await, pick(&[0]), "the caller's name, any case");
    assert_eq!(find("+1555").await, pick(&[2, 1, 0]));
    assert_eq!(find("50%").await, pick(&[1]), "% is literal");
    assert_eq!(find("b_s").await, pick(&[1]), "_ is literal");
    assert_eq!(find(r"c:\d").await, pick(&[2]), "\\ is literal");
    assert_eq!(find("how can i help").await, pick(&[2, 1, 0]), "agent lines too");
    assert!(find("speaker").await.is_empty(), "JSON keys are not text");
    assert!(find("nowhere").await.is_empty());
    let narrowed = CallFilter {
        search: Some("bob".into()),
        since: Some(made[2].started_at),
        ..CallFilter::default()
    };
    assert_eq!(
        ids(&s
            .list_calls(&a, &narrowed, &PageRequest::first(50))
            .await
            .expect("list_calls")
            .data),
        pick(&[2]),
        "search combines with the other filters"
    );
}

pub async fn call_json_round_trips_in_order(s: &dyn Store) {
    let a = workspace(s, "a").await;
    let ag = agent(s, &a, "ag").await;
    let c = full_call(&a, &ag.id);
    insert(s, &c).await;
    let back = s
        .get_call(&a, &c.id)
        .await
        .expect("get_call")
        .expect("get_call found it");
    assert_eq!(back, c);
    assert_eq!(
        back.custom_fields.keys().collect::<Vec<_>>(),
        vec!["zeta", "alpha", "mid"],
        "collected order is kept"
    );
    let session_keys: Vec<&String> = back.session.as_object().expect("present").keys().collect();
    assert_eq!(session_keys, vec!["step", "pending", "z", "a"]);

    assert_eq!(
        s.list_calls(&a, &CallFilter::default(), &PageRequest::first(5))
            .await
            .expect("list_calls")
            .data,
        vec![c]
    );
}

/// A call with every field set: JSON fields with keys out of order, text that needs
/// escaping, times to the millisecond.
pub fn full_call(ws: &WorkspaceId, agent: &AgentId) -> Call {
    let mut c = call(ws, agent, Direction::Outbound, "+15550100000", "+15551234567");
    for (k, v) in [
        ("zeta", json!("last letter")),
        ("alpha", json!(2)),
        ("mid", json!({"b": 1, "a": [true, null]})),
    ] {
        c.custom_fields.insert(k.into(), v);
    }
    c.caller = CallerInfo {
        phone: Some("+15551234567".into()),
        name: Some("John Smith".into()),
        email: None,
    };
    c.turns = vec![
        Turn::new(
            Speaker::Agent,
            "Hi, this is Acme. Quick question about your quote?",
            now(),
        ),
        Turn {
            confidence: Some(0.87),
            ..Turn::new(
                Speaker::Caller,
                "Sure — \"go\" ahead 👍",
                now() + Duration::milliseconds(1500),
            )
        },
    ];
    c.tool_calls = vec![ToolCall {
        tool: "submitLeadToCRM".into(),
        at: now(),
        status: Some(201),
        ok: true,
        latency_ms: 42,
        error: None,
    }];
    c.session = json!({"step": "collect", "pending": ["email"], "z": 1, "a": 2});
    c.provider_details.insert("dial_status".into(), json!("no-answer"));
    c.duration = Some(42);
    c.purpose = Some("follow up on the quote".into());
    c.message = Some("call back after 5".into());
    c.transferred_to = Some("+15557654321".into());
    c.ai_summary = Some("wants a quote".into());
    c.end_reason = Some("transferred".into());
    c
}

pub async fn numbers_carry_their_voice_settings(s: &dyn Store) {
    use frontdesk_core::agent::{NumberVoice, VoiceMode};
    let a = workspace(s, "voice").await;
    let ag = agent(s, &a, "front").await;
    let relay = NumberVoice {
        mode: VoiceMode::Relay,
        record_messages: true,
    };
    let n = s
        .create_number(&a, "+15550100009", &ag.id, Provider::Twilio, relay)
        .await
        .expect("create_number");
    assert_eq!(n.voice, relay);
    assert_eq!(
        s.number_by_e164("+15550100009")
            .await
            .expect("number_by_e164")
            .expect("number_by_e164 found it")
            .voice,
        relay
    );
    let back = s
        .set_number_voice(&a, &n.id, NumberVoice::default())
        .await
        .expect("set_number_voice")
        .expect("set_number_voice found it");
    assert_eq!(back.voice, NumberVoice::default());
    let b = workspace(s, "other-voice").await;
    assert!(
        s.set_number_voice(&b, &n.id, relay)
            .await
            .expect("set_number_voice")
            .is_none()
    );
}

pub async fn credentials_are_one_per_workspace_and_found_by_account(s: &dyn Store) {
    use frontdesk_core::credentials::StoredCredentials;
    let a = workspace(s, "cred-a").await;
    let b = workspace(s, "cred-b").await;
    let creds = |ws: &WorkspaceId, sid: &str, sealed: &str| StoredCredentials {
        workspace_id: ws.clone(),
        provider: Provider::Twilio,
        account_sid: sid.into(),
        sealed_secret: sealed.into(),
        secret_hint: "...abcd".into(),
        created_at: now(),
        updated_at: now(),
    };
    let first = s
        .put_credentials(&creds(&a, "AC1", "v1.k.one"))
        .await
        .expect("put_credentials");
    tick();
    // Replacing keeps the first creation time.
    let second = s
        .put_credentials(&creds(&a, "AC2", "v1.k.two"))
        .await
        .expect("put_credentials");
    assert_eq!(second.created_at, first.created_at);
    assert_eq!(second.account_sid, "AC2");
    assert_eq!(second.sealed_secret, "v1.k.two");
    s.put_credentials(&creds(&b, "AC2", "v1.k.three"))
        .await
        .expect("put_credentials");
    let both = s
        .credentials_by_account(Provider::Twilio, "AC2")
        .await
        .expect("credentials_by_account");
    assert_eq!(
        both.iter().map(|c| c.workspace_id.clone()).collect::<Vec<_>>(),
        vec![a.clone(), b.clone()]
    );
    assert!(
        s.credentials_by_account(Provider::Twilio, "AC1")
            .await
            .expect("credentials_by_account")
            .is_empty()
    );
    assert_eq!(
        s.get_credentials(&b, Provider::Twilio)
            .await
            .expect("get_credentials")
            .expect("get_credentials found it")
            .sealed_secret,
        "v1.k.three"
    );
    assert!(
        s.delete_credentials(&a, Provider::Twilio)
            .await
            .expect("delete_credentials")
    );
    assert!(
        !s.delete_credentials(&a, Provider::Twilio)
            .await
            .expect("delete_credentials")
    );
    assert!(
        s.get_credentials(&a, Provider::Twilio)
            .await
            .expect("get_credentials")
            .is_none()
    );
}

pub async fn stale_live_calls_and_calls_by_id(s: &dyn Store) {
    let a = workspace(s, "stale").await;
    let ag = agent(s, &a, "front").await;
    let mut old = call(&a, &ag.id, Direction::Inbound, "+15551110000", "+15550100000");
    old.provider = Provider::Twilio;
    old.provider_call_id = Some("CA1".into());
    old.updated_at = now() - Duration::minutes(10);
    insert(s, &old).await;
    let mut fresh = call(&a, &ag.id, Direction::Inbound, "+15551110001", "+15550100000");
    fresh.provider = Provider::Twilio;
    insert(s, &fresh).await;
    let mut done = call(&a, &ag.id, Direction::Inbound, "+15551110002", "+15550100000");
    done.provider = Provider::Twilio;
    done.status = CallStatus::Completed;
    done.updated_at = now() - Duration::minutes(10);
    insert(s, &done).await;
    let mut sim = call(&a, &ag.id, Direction::Inbound, "+15551110003", "+15550100000");
    sim.updated_at = now() - Duration::minutes(10);
    insert(s, &sim).await;
    let stale = s
        .stale_live_calls(Provider::Twilio, now() - Duration::minutes(2), 10)
        .await
        .expect("stale_live_calls");
    assert_eq!(
        stale.iter().map(|c| c.id.clone()).collect::<Vec<_>>(),
        vec![old.id.clone()]
    );
    assert_eq!(
        s.call_by_id(&old.id)
            .await
            .expect("call_by_id")
            .expect("call_by_id found it")
            .provider_call_id
            .as_deref(),
        Some("CA1")
    );
    assert!(s.call_by_id(&CallId::generate()).await.expect("call_by_id").is_none());
}
