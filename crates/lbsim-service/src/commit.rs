//! Memory follows the store. A call changes the core under the lock and is
//! answered only after the writer commits its batch; a read is answered
//! only once every change it could see is committed. When a commit fails,
//! the core is rolled back to the store's last committed state (rebuilt
//! from it), the server refuses changes with 503 while reads go on from
//! that state, and a probe every second lets changes in again once the
//! store commits.

use super::core::{CallResult, Core};
use super::http::error;
use super::App;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::oneshot;

/// A change that was not saved.
const NOT_SAVED: &str = "the store failed: the change was not saved";

impl App {
    /// Why changes are refused now, if they are.
    pub(super) fn degraded(&self) -> Option<String> {
        self.degraded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_degraded(&self, why: Option<String>) {
        *self.degraded.lock().unwrap_or_else(|e| e.into_inner()) = why;
    }

    /// The 503 for a change asked while the store cannot commit.
    pub(super) fn refused(&self, why: &str) -> Response {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store cannot save changes now ({why}); nothing was changed, try again"),
        )
    }

    /// Hands the core's changes on (call it before releasing the lock):
    /// the batch to the writer, the wake-ups to the lease calls. The
    /// receiver answers once the batch is saved; `None` when nothing
    /// changed.
    pub(super) fn commit(&self, core: &mut Core) -> Option<oneshot::Receiver<Result<(), String>>> {
        let (saved, wake) = self.writer.commit(core);
        self.wakers.wake(&wake);
        saved
    }

    /// Runs one state-changing call and answers after its commit; a failed
    /// commit rolls the core back and answers 503.
    pub(super) async fn mutate<T: Serialize>(
        self: &Arc<Self>,
        ok: StatusCode,
        f: impl FnOnce(&mut Core, u64) -> CallResult<T>,
    ) -> Response {
        self.mutate_then(ok, |core, now| f(core, now).map(|v| (v, 0)))
            .await
    }

    /// `mutate`, for a call whose answer also hands out something an
    /// earlier batch made (a lease): it answers once batch `seq` (the
    /// second value `f` gives; 0 for none) is committed too.
    pub(super) async fn mutate_then<T: Serialize>(
        self: &Arc<Self>,
        ok: StatusCode,
        f: impl FnOnce(&mut Core, u64) -> CallResult<(T, u64)>,
    ) -> Response {
        if let Some(why) = self.degraded() {
            return self.refused(&why);
        }
        let (result, committed, generation) = {
            let mut core = self.lock();
            let now = self.clock.now_us();
            let result = f(&mut core, now);
            (result, self.commit(&mut core), core.generation())
        };
        if let Some(rx) = committed {
            let saved = rx
                .await
                .unwrap_or_else(|_| Err("the store thread stopped".into()));
            if let Err(e) = saved {
                self.roll_back(generation, &e).await;
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{NOT_SAVED} ({e})"),
                );
            }
        }
        match result {
            Ok((v, 0)) => (ok, Json(v)).into_response(),
            Ok((v, seq)) => match self.saved(generation, seq).await {
                Ok(()) => (ok, Json(v)).into_response(),
                Err(answer) => answer,
            },
            Err(e) => e.into_response(),
        }
    }

    /// Answers a read once everything it saw is committed; if that fails,
    /// once more from the rolled-back core.
    pub(super) async fn read<T: Serialize>(
        self: &Arc<Self>,
        f: impl Fn(&mut Core) -> CallResult<T>,
    ) -> Response {
        for _ in 0..2 {
            let (result, generation, seq) = {
                let mut core = self.lock();
                (f(&mut core), core.generation(), core.last_seq())
            };
            match self.writer.committed(generation, seq).await {
                Ok(()) => {
                    return match result {
                        Ok(v) => Json(v).into_response(),
                        Err(e) => e.into_response(),
                    }
                }
                Err(e) => self.roll_back(generation, &e).await,
            }
        }
        error(StatusCode::SERVICE_UNAVAILABLE, NOT_SAVED)
    }

    /// Waits for batch `seq` of `generation`; on failure rolls back and
    /// gives the 503 to answer with.
    pub(super) async fn saved(self: &Arc<Self>, generation: u64, seq: u64) -> Result<(), Response> {
        match self.writer.committed(generation, seq).await {
            Ok(()) => Ok(()),
            Err(e) => {
                self.roll_back(generation, &e).await;
                Err(error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{NOT_SAVED} ({e})"),
                ))
            }
        }
    }

    /// Rebuilds the core from the store's last committed state, unless a
    /// call already did since `generation`, and refuses changes until a
    /// probe commits.
    pub(super) async fn roll_back(self: &Arc<Self>, generation: u64, why: &str) {
        let app = self.clone();
        let why = why.to_string();
        let done = tokio::task::spawn_blocking(move || app.roll_back_now(generation, &why)).await;
        if let Err(e) = done {
            tracing::error!("the rollback failed: {e}");
        }
    }

    fn roll_back_now(&self, generation: u64, why: &str) {
        let mut core = self.lock();
        if core.generation() != generation {
            return;
        }
        self.set_degraded(Some(why.to_string()));
        let before = self.writer.committed_now();
        let snap = match self.writer.reset_blocking() {
            Ok(snap) => snap,
            Err(e) => {
                tracing::error!("cannot read the store back after a failed commit: {e}");
                return;
            }
        };
        let mut seed = [0u8; 32];
        if let Err(e) = getrandom::fill(&mut seed) {
            tracing::error!("cannot seed lease ids from the OS: {e}; keeping the old core");
            return;
        }
        let after = self.writer.committed_now();
        let now = self.clock.now_us();
        let rolled = core.rolled_back(before, &snap, seed, now, after.generation);
        *core = rolled;
        tracing::warn!(
            "rolled back to the store's last commit ({} tests, {} workers); changes refused until the store commits again",
            snap.tests.len(),
            snap.workers.len()
        );
    }

    /// The store takes writes again: let changes in.
    pub(super) async fn probe(self: &Arc<Self>) {
        if self.degraded().is_none() {
            return;
        }
        match self.writer.probe().await {
            Ok(()) => {
                tracing::info!("the store commits again: changes accepted");
                self.set_degraded(None);
            }
            Err(e) => tracing::debug!("the store still refuses: {e}"),
        }
    }
}
