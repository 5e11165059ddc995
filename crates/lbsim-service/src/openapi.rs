//! The API's OpenAPI 3 document, served as `/openapi.json`. Its paths come
//! from the router itself (`router::build` through `utoipa_axum`): each
//! handler in `http` carries its own annotation and the router is the only
//! list of routes. This file holds what is not a route: the title and the
//! shared schemas.

use super::api::*;
use super::core::views::{
    LastMinute, Status, StatusCounts, StatusTotals, StatusWorkers, WorkerLoadView,
};
use std::sync::OnceLock;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "lbsim coordinator",
        description = "The balancer core for real workers. Every /v1 call needs `Authorization: Bearer TOKEN` when the server has a token. Times are seconds since the store was created."
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
pub(super) struct ApiDoc;

/// The document the router was built with, as JSON (the same for every
/// server in a process: it is a function of the code).
static DOCUMENT: OnceLock<String> = OnceLock::new();

/// Keeps the router's document for `/openapi.json`.
pub(super) fn publish(api: &utoipa::openapi::OpenApi) {
    let _ = DOCUMENT.get_or_init(|| api.to_json().unwrap_or_else(|_| "{}".into()));
}

/// The document as JSON.
pub(super) fn document() -> &'static str {
    DOCUMENT.get().map_or("{}", String::as_str)
}
