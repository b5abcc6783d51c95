//! Assembling and running the server: middleware stack, listener, background upkeep,
//! graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, Request};
use axum::response::IntoResponse;
use axum::{Extension, middleware};
use chrono::Utc;
use frontdesk_app::accounts::TwilioAccounts;
use frontdesk_app::telephony::{self, Telephony};
use frontdesk_app::{CallService, Models, StoreLocks};
use frontdesk_core::secret::MasterKey;
use frontdesk_delivery::{Dispatcher, GuardedClient};
use frontdesk_store::{Held, Store};
use frontdesk_twilio::TwilioRest;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::guard::{BodyLimits, bound_bodies};
use crate::rate_limit::RateLimiter;
use crate::routes::meta::OpenApiJson;
use crate::state::AppState;
use crate::{ApiError, ServerSettings};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

#[derive(Clone, Copy)]
struct MakeUlid;

impl MakeRequestId for MakeUlid {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        format!("req_{}", ulid::Ulid::new()).parse().ok().map(RequestId::new)
    }
}

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl Application {
    /// Binds the listener and assembles the routes. Port 0 picks a free port.
    pub async fn build(settings: ServerSettings, store: Arc<dyn Store>) -> std::io::Result<Self> {
        let dispatcher = Dispatcher::new(store.clone(), settings.delivery.clone()).map_err(std::io::Error::other)?;
        let listener = TcpListener::bind(settings.listen).await?;
        // Tools get the same SSRF guard as webhooks; each tool's own timeout applies.
        let tools = GuardedClient::new(settings.delivery.policy.clone(), Duration::from_secs(30))
            .map_err(std::io::Error::other)?;
        let master_key = settings
            .master_key
            .as_deref()
            .map(MasterKey::new)
            .transpose()
            .map_err(std::io::Error::other)?
            .map(Arc::new);
        let accounts = Arc::new(TwilioAccounts::new(
            store.clone(),
            master_key,
            settings.twilio.auth_token.clone(),
        ));
        let rest = TwilioRest::new(&settings.twilio.api_base_url).map_err(std::io::Error::other)?;
        let lines: Vec<Arc<dyn Telephony>> = vec![
            Arc::new(telephony::Sim),
            Arc::new(telephony::Twilio::new(
                rest,
                accounts.clone(),
                settings.public_url.as_deref(),
            )),
        ];
        // Endpoints agents choose get the SSRF guard; the server's own may be local.
        // (Its own limit a little past the model client's, which names the timeout.)
        let guarded = GuardedClient::new(
            settings.delivery.policy.clone(),
            settings.models.overall_timeout + Duration::from_secs(5),
        )
        .map_err(std::io::Error::other)?;
        let plain = Models::plain_client().map_err(std::io::Error::other)?;
        let models = Arc::new(Models::new(settings.models.clone(), &guarded, plain));
        let calls = Arc::new(CallService::new(
            store.clone(),
            dispatcher.clone(),
            tools,
            Arc::new(StoreLocks(store.clone())),
            lines,
            models.clone(),
        ));
        let limiter = Arc::new(RateLimiter::for_store(settings.rate_limit, &store));
        let state = AppState {
            limiter,
            calls,
            accounts,
            models,
            store,
            dispatcher,
            settings: Arc::new(settings),
        };
        let router = router(state.clone());
        Ok(Self {
            listener,
            router,
            state,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes in-flight requests and webhook
    /// attempts, and returns.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
        let upkeep = tokio::spawn(upkeep(self.state.clone()));
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let dispatcher = tokio::spawn(self.state.dispatcher.clone().run(stopped));
        crate::serve::serve(self.listener, self.router, self.state.settings.connections, shutdown).await;
        // Then let webhook attempts in flight finish and be recorded.
        let _ = stop.send(true);
        let _ = dispatcher.await;
        upkeep.abort();
        Ok(())
    }
}

/// The full router with its middleware stack.
pub fn router(state: AppState) -> Router {
    crate::metrics::handle();
    let max_body = state.settings.max_body_bytes;
    let body_limits = BodyLimits {
        max_bytes: max_body,
        timeout: state.settings.body_timeout,
    };
    let (router, doc) = crate::routes::build(state);
    let doc_json = doc.to_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "could not serialise the OpenAPI document");
        "{}".to_owned()
    });
    router
        .layer(middleware::from_fn_with_state(body_limits, bound_bodies))
        .layer(middleware::from_fn(crate::metrics::track))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(Extension(OpenApiJson(Arc::new(doc_json))))
        .layer(
            ServiceBuilder::new()
                .layer(CatchPanicLayer::custom(|_| ApiError::internal().into_response()))
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeUlid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|req: &Request<_>| {
                            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                        })
                        .on_response(DefaultOnResponse::new().level(tracing::Level::DEBUG)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
}

/// Rows purged per pass, and passes per round, of the retention purge: short write
/// transactions, and a bounded round.
const PURGE_BATCH: u32 = 500;
const PURGE_PASSES: usize = 20;

/// Purges what is older than the retention period, in short passes, counting what went
/// in `frontdesk_retention_purged_total{kind}`.
pub async fn purge_expired(store: &dyn Store, retention: Duration) {
    let Ok(age) = chrono::Duration::from_std(retention) else {
        return;
    };
    for _ in 0..PURGE_PASSES {
        match store.purge_before(Utc::now() - age, PURGE_BATCH).await {
            Ok(p) => {
                for (kind, n) in [("calls", p.calls), ("events", p.events), ("attempts", p.attempts)] {
                    metrics::counter!("frontdesk_retention_purged_total", "kind" => kind).increment(n);
                }
                if p.calls > 0 || p.events > 0 {
                    tracing::info!(
                        calls = p.calls,
                        events = p.events,
                        attempts = p.attempts,
                        "retention: purged"
                    );
                }
                if p.calls < u64::from(PURGE_BATCH) && p.events < u64::from(PURGE_BATCH) {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention purge failed");
                return;
            }
        }
    }
}

/// Takes the upkeep lock named `job` for one run: `None` when another node (or an
/// earlier run still going) has it, and this node skips the run.
async fn one_node(store: &dyn Store, job: &str) -> Option<Held> {
    match store.try_lock(&format!("upkeep:{job}")).await {
        Ok(held) => held,
        Err(e) => {
            tracing::warn!(job, error = %e, "could not take an upkeep lock; skipping the run");
            None
        }
    }
}

/// Periodic housekeeping: store maintenance every second; every 30 seconds, finish
/// Twilio calls whose final status callback never came; every minute, forget idle
/// rate-limit state and drop expired idempotency keys; with a retention period, purge
/// what is older than it (every tenth of the period, at most every minute). The jobs
/// that change shared data (the sweeper, the purge, the prune) run on one node at a
/// time, under the store's upkeep locks.
async fn upkeep(state: AppState) {
    let mut second = tokio::time::interval(Duration::from_secs(1));
    let mut half_minute = tokio::time::interval(Duration::from_secs(30));
    let mut minute = tokio::time::interval(Duration::from_secs(60));
    let retention = state.settings.retention;
    let mut purge = tokio::time::interval(retention.map_or(Duration::from_secs(3600), |r| {
        (r / 10).clamp(Duration::from_millis(100), Duration::from_secs(60))
    }));
    let store = &*state.store;
    loop {
        tokio::select! {
            _ = purge.tick(), if retention.is_some() => {
                if let (Some(r), Some(_held)) = (retention, one_node(store, "purge").await) {
                    purge_expired(store, r).await;
                }
            }
            _ = half_minute.tick() => {
                if let Some(_held) = one_node(store, "sweep").await {
                    match state.calls.sweep(frontdesk_core::agent::Provider::Twilio, Utc::now()).await {
                        Ok(n) if n > 0 => tracing::info!(finished = n, "finished Twilio calls whose final status never came"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "could not finish stale calls"),
                    }
                }
            }
            _ = second.tick() => {
                if let Err(e) = store.housekeeping().await {
                    tracing::warn!(error = %e, "store housekeeping failed");
                }
            }
            _ = minute.tick() => {
                state.limiter.prune();
                if let Some(_held) = one_node(store, "prune").await {
                    // Shared rate-limit budgets whole again (none on a one-node database).
                    if let Err(e) = store.prune_rates(Utc::now()).await {
                        tracing::warn!(error = %e, "could not prune rate-limit budgets");
                    }
                    match store.idempotency_prune(Utc::now() - crate::idempotency::TTL).await {
                        Ok(n) if n > 0 => tracing::debug!(removed = n, "pruned expired idempotency keys"),
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "could not prune idempotency keys"),
                    }
                    // Dashboard sessions idle past their timeout, and old wrong passwords.
                    let before = Utc::now() - frontdesk_core::user::session_idle();
                    if let Err(e) = store.prune_sessions(before).await {
                        tracing::warn!(error = %e, "could not prune dashboard sessions");
                    }
                }
            }
        }
    }
}
