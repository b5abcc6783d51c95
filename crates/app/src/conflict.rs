//! The one policy for version conflicts.
//!
//! A call row carries a version; every write of a call names the version it read and
//! loses (the store answers `Conflict`, nothing written) when another write got there
//! first. What the loser does:
//!
//! - a step that did nothing outside the store (no tool ran) is taken again on the
//!   call as it now stands: [`Outcome::Raced`], up to [`ATTEMPTS`] times in all;
//! - a step that ran tools is not taken again (a tool must not run twice): it fails with
//!   [`crate::CallError::Conflict`] and the caller answers with where the call stands;
//! - bookkeeping writes (provider ids, statuses, the end of a call) re-apply their
//!   change to the fresh call, up to [`ATTEMPTS`] times, then fail with
//!   [`crate::CallError::Conflict`] ("kept changing").
//!
//! Every retry loop of the application layer goes through [`retry`].

use std::future::Future;

use frontdesk_core::call::Call;

use crate::CallError;

/// How many times a step is tried in all.
pub const ATTEMPTS: usize = 5;

/// One try of a step.
pub enum Outcome<T> {
    /// Done.
    Done(T),
    /// Lost the race having done nothing; here is the call as it now stands.
    Raced(Box<Call>),
}

/// Runs `step` on `call`, again on the fresh call each time it loses the race, at most
/// [`ATTEMPTS`] times in all.
pub async fn retry<T, F, Fut>(mut call: Call, mut step: F) -> Result<T, CallError>
where
    F: FnMut(Call) -> Fut,
    Fut: Future<Output = Result<Outcome<T>, CallError>>,
{
    let id = call.id.clone();
    for _ in 0..ATTEMPTS {
        match step(call).await? {
            Outcome::Done(v) => return Ok(v),
            Outcome::Raced(fresh) => call = *fresh,
        }
    }
    Err(CallError::Conflict(format!("call {id} kept changing; try again")))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn call() -> Call {
        crate::calls::sample_call()
    }

    #[tokio::test]
    async fn retries_a_raced_step_on_the_fresh_call_then_gives_up() {
        let tries = AtomicUsize::new(0);
        let v = retry(call(), |c| {
            let n = tries.fetch_add(1, Ordering::SeqCst);
            async move {
                Ok(if n < 2 {
                    let mut fresh = c;
                    fresh.version += 1;
                    Outcome::Raced(Box::new(fresh))
                } else {
                    Outcome::Done(c.version)
                })
            }
        })
        .await
        .expect("done on the third try");
        assert_eq!(v, 2);
        let tries = AtomicUsize::new(0);
        let e = retry(call(), |c| {
            tries.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<Outcome<()>, _>(Outcome::Raced(Box::new(c))) }
        })
        .await
        .expect_err("gives up");
        assert!(matches!(e, CallError::Conflict(m) if m.contains("kept changing")));
        assert_eq!(tries.load(Ordering::SeqCst), ATTEMPTS);
    }
}
