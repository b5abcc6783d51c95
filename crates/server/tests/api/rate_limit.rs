//! Per-key rate limits: 429 with Retry-After past the burst, X-RateLimit-* on every
//! authenticated response.

use frontdesk_server::RateLimitSettings;

use crate::helpers::{error_of, spawn_app, spawn_app_with};

fn header(res: &reqwest::Response, name: &str) -> Option<u64> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn burst_then_429_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.rate_limit = RateLimitSettings {
            per_hour: 1000,
            per_second: 5,
        }
    })
    .await;
    if app.on_postgres() {
        // Six requests in a row must land within one 200 ms refill of the per-second
        // budget; on a loaded shared database they may not. The shared budgets are held
        // to their promise with the time taken into account in
        // `nodes::a_keys_limit_holds_across_two_nodes`.
        println!("skipped on PostgreSQL: timing-bound (see nodes::a_keys_limit_holds_across_two_nodes)");
        return;
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut remaining = Vec::new();
    for _ in 0..5 {
        let res = app.get("/v1/api-keys").send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(header(&res, "x-ratelimit-limit"), Some(1000));
        assert!(header(&res, "x-ratelimit-reset").unwrap() >= now);
        remaining.push(header(&res, "x-ratelimit-remaining").unwrap());
    }
    assert_eq!(remaining, vec![999, 998, 997, 996, 995]);
    let res = app.get("/v1/api-keys").send().await.unwrap();
    let retry = header(&res, "retry-after").expect("Retry-After");
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(header(&res, "x-ratelimit-remaining"), Some(0));
    assert!(header(&res, "x-ratelimit-limit").is_some() && header(&res, "x-ratelimit-reset").is_some());
    let (status, code, _) = error_of(res).await;
    assert_eq!((status, code.as_str()), (429, "rate_limited"));

    // Limits are per key: another key still passes.
    let (_, other) = app.other_workspace("other").await;
    let res = app
        .client
        .get(app.url("/v1/api-keys"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn hourly_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit = RateLimitSettings {
            per_hour: 3,
            per_second: 0,
        }
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.get("/v1/api-keys").send().await.unwrap().status(), 200);
    }
    let res = app.get("/v1/api-keys").send().await.unwrap();
    let retry = header(&res, "retry-after").unwrap();
    assert!(retry > 60, "the hourly budget refills slowly: {retry}");
    assert_eq!(res.status(), 429);
}

#[tokio::test]
async fn errors_after_auth_carry_the_headers_too() {
    let app = spawn_app_with(|s| {
        s.rate_limit = RateLimitSettings {
            per_hour: 100,
            per_second: 100,
        }
    })
    .await;
    let res = app.get("/v1/api-keys/key_nope").send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(header(&res, "x-ratelimit-limit"), Some(100));
}

#[tokio::test]
async fn zero_turns_limits_off() {
    let app = spawn_app().await;
    for _ in 0..120 {
        let res = app.get("/v1/api-keys").send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("x-ratelimit-limit").is_none());
    }
}
