//! The `/v1` handlers: parse and check the request, run one core call
//! under the lock, hand its changes to the writer, and answer only after
//! they are committed.

// The route annotations name these wire types.
#[allow(unused_imports)]
use super::api::{
    Completion, ErrorBody, Heartbeat, HeartbeatReply, Lease, LeaseAck, LeaseStart, Registered,
    Submitted, TestBatch, TestList, TestRequest, TestState, TestView, WorkerList,
    WorkerRegistration, WorkerView, MAX_LIST, MAX_WAIT_S,
};
#[allow(unused_imports)]
use super::core::views::Status;
use super::core::{CallError, CallResult};
use super::App;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::time::Duration;

pub(super) type Body = Result<Bytes, BytesRejection>;

impl IntoResponse for CallError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}

/// A JSON error answer.
pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        Json(ErrorBody {
            error: message.into(),
        }),
    )
        .into_response()
}

/// The body as `T`; an empty body reads as `{}` (calls whose fields all
/// have defaults); a bad body is one line naming the field (400), a body
/// over the limit is 413.
fn parse<T: DeserializeOwned>(body: Body) -> CallResult<T> {
    parse_body(body, true)
}

/// The body as `T`, which must be given.
fn parse_required<T: DeserializeOwned>(body: Body) -> CallResult<T> {
    parse_body(body, false)
}

fn parse_body<T: DeserializeOwned>(body: Body, empty_is_object: bool) -> CallResult<T> {
    let bytes = body.map_err(|e| CallError::new(e.status().as_u16(), e.body_text()))?;
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        if !empty_is_object {
            return Err(CallError::new(400, "body: required (a JSON object)"));
        }
        b"{}"
    } else {
        &bytes
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let line = inner.to_string();
        let message = if path == "." || path.is_empty() {
            format!("malformed JSON: {line}")
        } else {
            format!("{path}: {line}")
        };
        CallError::new(400, message)
    })?;
    de.end()
        .map_err(|e| CallError::new(400, format!("malformed JSON: {e}")))?;
    Ok(value)
}

/// An id from the path; anything else names no such thing (404).
fn id(raw: &str, what: &str) -> CallResult<u64> {
    raw.parse()
        .map_err(|_| CallError::not_found(format!("{what} {raw}")))
}

#[utoipa::path(post, path = "/workers", request_body = WorkerRegistration,
    responses((status = 201, body = Registered), (status = 400, body = ErrorBody)))]
pub(super) async fn register(State(app): State<Arc<App>>, body: Body) -> Response {
    let r: WorkerRegistration = match parse(body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    app.mutate(StatusCode::CREATED, |core, now| core.register(r, now))
        .await
}

#[utoipa::path(post, path = "/workers/{id}/heartbeat", params(("id" = u64, Path)),
    request_body = Heartbeat,
    responses((status = 200, body = HeartbeatReply), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "offline: register again")))]
pub(super) async fn heartbeat(
    State(app): State<Arc<App>>,
    Path(raw): Path<String>,
    body: Body,
) -> Response {
    let (w, load) = match id(&raw, "worker").and_then(|w| Ok((w, parse::<Heartbeat>(body)?))) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    if app.degraded().is_some() {
        // Liveness only: the leases are reconciled once changes are saved again.
        let mut core = app.lock();
        let now = app.clock.now_us();
        return match core.heartbeat(w, load, now, false) {
            Ok(reply) => Json(reply).into_response(),
            Err(e) => e.into_response(),
        };
    }
    app.mutate(StatusCode::OK, |core, now| {
        core.heartbeat(w, load, now, true)
    })
    .await
}

#[utoipa::path(post, path = "/workers/{id}/drain", params(("id" = u64, Path)),
    description = "Take nothing new; finish what runs.",
    responses((status = 200), (status = 404, body = ErrorBody)))]
pub(super) async fn drain(State(app): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    let w = match id(&raw, "worker") {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    app.mutate(StatusCode::OK, |core, now| {
        let status = core.drain(w, now)?;
        Ok(serde_json::json!({ "worker_id": w, "status": status }))
    })
    .await
}

#[utoipa::path(delete, path = "/workers/{id}", params(("id" = u64, Path)),
    description = "Leave now: the worker's runs are requeued, none lost.",
    responses((status = 200), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn leave(State(app): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    let w = match id(&raw, "worker") {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    app.mutate(StatusCode::OK, |core, now| {
        core.leave(w, now)?;
        Ok(serde_json::json!({ "worker_id": w, "status": "offline" }))
    })
    .await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LeaseQuery {
    wait_s: Option<f64>,
}

/// Long-polls for the worker's next assignment: 200 with a lease, or 204
/// when none came within `wait_s` (at most 30 s).
#[utoipa::path(post, path = "/workers/{id}/lease",
    params(("id" = u64, Path), ("wait_s" = Option<f64>, Query, description = "long-poll up to 30 s")),
    responses((status = 200, body = Lease), (status = 204, description = "no work within wait_s"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn lease(
    State(app): State<Arc<App>>,
    Path(raw): Path<String>,
    query: Result<Query<LeaseQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let w = match id(&raw, "worker") {
        Ok(w) => w,
        Err(e) => return e.into_response(),
    };
    let wait = match query {
        Ok(Query(q)) => q.wait_s.unwrap_or(0.0),
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("query: {}", e.body_text())),
    };
    if !(wait.is_finite() && (0.0..=MAX_WAIT_S).contains(&wait)) {
        return error(
            StatusCode::BAD_REQUEST,
            "wait_s: must be seconds from 0 to 30",
        );
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs_f64(wait);
    let mut shutdown = app.shutdown.clone();
    loop {
        if let Some(why) = app.degraded() {
            return app.refused(&why);
        }
        let (next, generation) = {
            let mut core = app.lock();
            let next = core.next_lease(w, app.clock.now_us());
            // The plain queue assigns here; the lease is handed out once
            // its batch is committed (awaited below by sequence number).
            drop(app.commit(&mut core));
            (next, core.generation())
        };
        let notify = match next {
            Err(e) => return e.into_response(),
            Ok(Some((lease, seq))) => {
                if let Err(answer) = app.saved(generation, seq).await {
                    return answer;
                }
                return Json(lease).into_response();
            }
            Ok(None) => app.lock().knows_worker(w).then(|| app.wakers.of(w)),
        };
        let Some(notify) = notify else {
            return StatusCode::NO_CONTENT.into_response();
        };
        tokio::select! {
            _ = notify.notified() => {}
            _ = tokio::time::sleep_until(deadline) => return StatusCode::NO_CONTENT.into_response(),
            _ = shutdown.changed() => return StatusCode::NO_CONTENT.into_response(),
        }
    }
}

#[utoipa::path(post, path = "/leases/{lease_id}/start", params(("lease_id" = String, Path)),
    request_body = LeaseStart,
    responses((status = 200, body = LeaseAck), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the lease is not current")))]
pub(super) async fn start(
    State(app): State<Arc<App>>,
    Path(lease): Path<String>,
    body: Body,
) -> Response {
    let s: LeaseStart = match parse(body) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    app.mutate(StatusCode::OK, |core, now| {
        core.start(&lease, s.worker_id, now)
    })
    .await
}

#[utoipa::path(post, path = "/leases/{lease_id}/complete", params(("lease_id" = String, Path)),
    request_body = Completion,
    responses((status = 200, body = LeaseAck), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the lease is not current")))]
pub(super) async fn complete(
    State(app): State<Arc<App>>,
    Path(lease): Path<String>,
    body: Body,
) -> Response {
    let c: Completion = match parse(body) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    app.mutate_then(StatusCode::OK, |core, now| {
        core.complete_then_next(&lease, c, now)
    })
    .await
}

/// One test, or `{"tests": [...]}`.
fn submission(body: Body) -> CallResult<Vec<TestRequest>> {
    let super::json::Strict(value) = parse_required(body)?;
    if !value.is_object() {
        return Err(CallError::new(
            400,
            "body: must be one test or {\"tests\": [...]} (a JSON object)",
        ));
    }
    let (tests, prefix) = if value.get("tests").is_some() {
        (parse_value::<TestBatch>(value)?.tests, true)
    } else {
        (vec![parse_value::<TestRequest>(value)?], false)
    };
    if tests.is_empty() {
        return Err(CallError::new(400, "tests: must hold at least one test"));
    }
    for (i, t) in tests.iter().enumerate() {
        let at = if prefix {
            format!("tests[{i}].")
        } else {
            String::new()
        };
        t.validate(&at)
            .map_err(|(field, msg)| CallError::new(400, format!("{field}: {msg}")))?;
    }
    Ok(tests)
}

fn parse_value<T: DeserializeOwned>(value: serde_json::Value) -> CallResult<T> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        CallError::new(400, format!("{path}: {}", e.into_inner()))
    })
}

#[utoipa::path(post, path = "/tests", request_body(content = TestBatch,
        description = "one TestRequest, or {\"tests\": [TestRequest, ...]}"),
    responses((status = 201, body = Submitted), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
pub(super) async fn submit(State(app): State<Arc<App>>, body: Body) -> Response {
    let tests = match submission(body) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    app.mutate(StatusCode::CREATED, |core, now| Ok(core.submit(tests, now)))
        .await
}

#[utoipa::path(get, path = "/tests/{id}", params(("id" = u64, Path)),
    responses((status = 200, body = TestView), (status = 404, body = ErrorBody)))]
pub(super) async fn get_test(State(app): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    match id(&raw, "test") {
        Ok(t) => app.read(|core| core.get_test(t)).await,
        Err(e) => e.into_response(),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ListQuery {
    state: Option<String>,
    limit: Option<usize>,
    after: Option<u64>,
}

#[utoipa::path(get, path = "/tests",
    params(("state" = Option<String>, Query), ("limit" = Option<usize>, Query), ("after" = Option<u64>, Query)),
    responses((status = 200, body = TestList), (status = 400, body = ErrorBody)))]
pub(super) async fn list_tests(
    State(app): State<Arc<App>>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = match query {
        Ok(Query(q)) => q,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("query: {}", e.body_text())),
    };
    let state = match q.state.as_deref().map(|s| (s, TestState::parse(s))) {
        None => None,
        Some((_, Some(s))) => Some(s),
        Some((s, None)) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("state: '{s}' is not one of pending, assigned, running, completed, failed, rejected, cancelled, timed_out"),
            )
        }
    };
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_LIST {
        return error(StatusCode::BAD_REQUEST, "limit: must be 1 to 10000");
    }
    let after = q.after.unwrap_or(0);
    app.read(|core| Ok(core.list_tests(state, after, limit)))
        .await
}

#[utoipa::path(get, path = "/workers", responses((status = 200, body = WorkerList)))]
pub(super) async fn list_workers(State(app): State<Arc<App>>) -> Response {
    app.read(|core| Ok(core.list_workers())).await
}

#[utoipa::path(get, path = "/workers/{id}", params(("id" = u64, Path)),
    responses((status = 200, body = WorkerView), (status = 404, body = ErrorBody)))]
pub(super) async fn get_worker(State(app): State<Arc<App>>, Path(raw): Path<String>) -> Response {
    match id(&raw, "worker") {
        Ok(w) => app.read(|core| core.get_worker(w)).await,
        Err(e) => e.into_response(),
    }
}

#[utoipa::path(get, path = "/status", responses((status = 200, body = Status)))]
pub(super) async fn status(State(app): State<Arc<App>>) -> Response {
    app.read(|core| Ok(core.status(app.clock.now_us(), app.clock.uptime_s())))
        .await
}
