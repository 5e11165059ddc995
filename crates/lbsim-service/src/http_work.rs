//! The `/v1` handlers for tests that carry work: cancel a test, read the
//! log tail of its last reported run.

#[allow(unused_imports)]
use super::api::{ErrorBody, TestView};
use super::core::CallError;
use super::App;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

fn test_id(raw: &str) -> Result<u64, CallError> {
    raw.parse()
        .map_err(|_| CallError::not_found(format!("test {raw}")))
}

/// A pending test is cancelled at once; an assigned or running one too,
/// and its worker learns it at its next heartbeat (`cancel`) or lease call
/// (409), stops the run and may report it with outcome `cancelled`.
#[utoipa::path(post, path = "/tests/{id}/cancel", params(("id" = u64, Path)),
    responses((status = 200, body = TestView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the test is final already")))]
pub(super) async fn cancel(State(app): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    match test_id(&raw) {
        Ok(t) => {
            app.mutate(StatusCode::OK, |core, now| core.cancel(t, now))
                .await
        }
        Err(e) => e.into_response(),
    }
}

/// The last 64 KiB (at most) of the stdout and stderr its last reported
/// run sent, as plain text.
#[utoipa::path(get, path = "/tests/{id}/log", params(("id" = u64, Path)),
    responses((status = 200, content_type = "text/plain", body = String),
        (status = 404, body = ErrorBody, description = "no such test, or no run sent a log")))]
pub(super) async fn log(State(app): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    let id = match test_id(&raw) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let (text, generation, seq) = {
        let core = app.lock();
        (core.log_tail(id), core.generation(), core.last_seq())
    };
    // Nothing is shown before its commit.
    if let Err(answer) = app.saved(generation, seq).await {
        return answer;
    }
    match text {
        Ok(text) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response(),
        Err(e) => e.into_response(),
    }
}
