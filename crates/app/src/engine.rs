//! Where the conversation engine's CPU work runs: off the async workers, bounded, fair
//! between tenants.
//!
//! Hearing a caller and composing a reply is pure CPU work whose cost grows with the
//! agent's configuration (bounded by the limits in `frontdesk_core::agent::config`, yet
//! tens of milliseconds for an agent at every limit). Run on the async workers, one
//! tenant's large agent would stall every other request. So each piece of engine work
//! runs on tokio's blocking pool, and:
//!
//! - at most `permits` pieces run at once (by default one fewer than the cores, at least
//!   one), so a core is always left for the HTTP side: health checks, other tenants'
//!   API requests, Twilio's signature checks;
//! - a workspace runs one piece at a time, so a tenant with a costly agent queues behind
//!   its own turns; another tenant's turn waits for at most one of them (the permits are
//!   handed out first come, first served).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use frontdesk_core::id::WorkspaceId;
use tokio::sync::Semaphore;

/// Runs engine work; see the module documentation.
#[derive(Debug)]
pub struct Engine {
    global: Arc<Semaphore>,
    tenants: Mutex<HashMap<WorkspaceId, Arc<Semaphore>>>,
}

impl Default for Engine {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self::new(cores.saturating_sub(1).max(1))
    }
}

impl Engine {
    /// An engine running at most `permits` pieces of work at once.
    #[must_use]
    pub fn new(permits: usize) -> Self {
        Self {
            global: Arc::new(Semaphore::new(permits.max(1))),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `work` for workspace `ws` on the blocking pool and returns its result. A
    /// panic in `work` resumes here, as if it had run inline.
    pub async fn run<T: Send + 'static>(&self, ws: &WorkspaceId, work: impl FnOnce() -> T + Send + 'static) -> T {
        let tenant = {
            let mut tenants = self.tenants.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if tenants.len() > 1_000 {
                tenants.retain(|_, s| Arc::strong_count(s) > 1);
            }
            tenants
                .entry(ws.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(1)))
                .clone()
        };
        // Neither semaphore is ever closed.
        let _mine = tenant.acquire_owned().await.ok();
        let _core = self.global.clone().acquire_owned().await.ok();
        match tokio::task::spawn_blocking(work).await {
            Ok(v) => v,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("engine work was cancelled: {e}"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    /// Runs 12 pieces of work over `workspaces` and returns the most that ran at once.
    async fn most_at_once(engine: Engine, workspaces: &[WorkspaceId]) -> usize {
        let engine = Arc::new(engine);
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..12 {
            let (engine, running, most) = (engine.clone(), running.clone(), most.clone());
            let ws = workspaces[i % workspaces.len()].clone();
            tasks.push(tokio::spawn(async move {
                engine
                    .run(&ws, move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        running.fetch_sub(1, Ordering::SeqCst);
                        i
                    })
                    .await
            }));
        }
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap();
        }
        assert_eq!(sum, (0..12).sum::<usize>(), "every piece ran once");
        most.load(Ordering::SeqCst)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn one_piece_per_workspace_and_at_most_the_permits() {
        let one = [WorkspaceId::generate()];
        assert_eq!(most_at_once(Engine::new(4), &one).await, 1);
        let many: Vec<WorkspaceId> = (0..6).map(|_| WorkspaceId::generate()).collect();
        assert!(most_at_once(Engine::new(2), &many).await <= 2);
    }

    #[tokio::test]
    async fn a_panic_comes_back_as_a_panic() {
        let engine = Engine::new(1);
        let ws = WorkspaceId::generate();
        let caught = tokio::spawn(async move { engine.run(&ws, || panic!("boom")).await }).await;
        assert!(caught.unwrap_err().is_panic());
    }
}
