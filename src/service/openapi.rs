//! The API's OpenAPI 3 document, served as `/openapi.json`. The functions
//! below only carry the route annotations (the handlers live in `http`).
#![allow(dead_code)]

use super::api::*;
use super::core::views::{
    LastMinute, Status, StatusCounts, StatusTotals, StatusWorkers, WorkerLoadView,
};
use utoipa::OpenApi;

#[utoipa::path(post, path = "/v1/workers", request_body = WorkerRegistration,
    responses((status = 201, body = Registered), (status = 400, body = ErrorBody)))]
fn register() {}

#[utoipa::path(get, path = "/v1/workers", responses((status = 200, body = WorkerList)))]
fn list_workers() {}

#[utoipa::path(get, path = "/v1/workers/{id}", params(("id" = u64, Path)),
    responses((status = 200, body = WorkerView), (status = 404, body = ErrorBody)))]
fn get_worker() {}

#[utoipa::path(delete, path = "/v1/workers/{id}", params(("id" = u64, Path)),
    description = "Leave now: the worker's runs are requeued, none lost.",
    responses((status = 200), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
fn leave() {}

#[utoipa::path(post, path = "/v1/workers/{id}/heartbeat", params(("id" = u64, Path)),
    request_body = Heartbeat,
    responses((status = 200, body = HeartbeatReply), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "offline: register again")))]
fn heartbeat() {}

#[utoipa::path(post, path = "/v1/workers/{id}/lease",
    params(("id" = u64, Path), ("wait_s" = Option<f64>, Query, description = "long-poll up to 30 s")),
    responses((status = 200, body = Lease), (status = 204, description = "no work within wait_s"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
fn lease() {}

#[utoipa::path(post, path = "/v1/workers/{id}/drain", params(("id" = u64, Path)),
    description = "Take nothing new; finish what runs.",
    responses((status = 200), (status = 404, body = ErrorBody)))]
fn drain() {}

#[utoipa::path(post, path = "/v1/leases/{lease_id}/start", params(("lease_id" = String, Path)),
    request_body = LeaseStart,
    responses((status = 200, body = LeaseAck), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the lease is not current")))]
fn start() {}

#[utoipa::path(post, path = "/v1/leases/{lease_id}/complete", params(("lease_id" = String, Path)),
    request_body = Completion,
    responses((status = 200, body = LeaseAck), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the lease is not current")))]
fn complete() {}

#[utoipa::path(post, path = "/v1/tests", request_body(content = TestBatch,
        description = "one TestRequest, or {\"tests\": [TestRequest, ...]}"),
    responses((status = 201, body = Submitted), (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody)))]
fn submit() {}

#[utoipa::path(get, path = "/v1/tests",
    params(("state" = Option<String>, Query), ("limit" = Option<usize>, Query), ("after" = Option<u64>, Query)),
    responses((status = 200, body = TestList), (status = 400, body = ErrorBody)))]
fn list_tests() {}

#[utoipa::path(get, path = "/v1/tests/{id}", params(("id" = u64, Path)),
    responses((status = 200, body = TestView), (status = 404, body = ErrorBody)))]
fn get_test() {}

#[utoipa::path(get, path = "/v1/status", responses((status = 200, body = Status)))]
fn status() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "lbsim coordinator",
        description = "The balancer core for real workers. Every /v1 call needs `Authorization: Bearer TOKEN` when the server has a token. Times are seconds since the store was created."
    ),
    paths(
        register,
        list_workers,
        get_worker,
        leave,
        heartbeat,
        lease,
        drain,
        start,
        complete,
        submit,
        list_tests,
        get_test,
        status
    ),
    components(schemas(
        WorkerRegistration,
        Registered,
        Heartbeat,
        HeartbeatReply,
        TestRequest,
        TestBatch,
        Submitted,
        Rejection,
        Lease,
        LeaseStart,
        Completion,
        LeaseAck,
        TestState,
        RunView,
        TestView,
        TestList,
        WorkerStatusView,
        WorkerView,
        WorkerList,
        ErrorBody,
        Status,
        StatusCounts,
        StatusWorkers,
        WorkerLoadView,
        LastMinute,
        StatusTotals
    ))
)]
struct ApiDoc;

/// The document as JSON.
pub(super) fn document() -> String {
    ApiDoc::openapi().to_json().unwrap_or_else(|_| "{}".into())
}
