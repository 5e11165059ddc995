//! The routes and the layers around them: the body limit (413), the bearer
//! token on `/v1` (401), request logs, and a catch-panic layer as the last
//! defence (a handler bug answers 500; the server goes on).

use super::http::{self, error};
use super::App;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

/// Bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The whole service.
pub fn build(app: Arc<App>, token: Option<String>) -> Router {
    let v1 = Router::new()
        .route("/workers", post(http::register).get(http::list_workers))
        .route("/workers/{id}", get(http::get_worker).delete(http::leave))
        .route("/workers/{id}/heartbeat", post(http::heartbeat))
        .route("/workers/{id}/lease", post(http::lease))
        .route("/workers/{id}/drain", post(http::drain))
        .route("/leases/{lease}/start", post(http::start))
        .route("/leases/{lease}/complete", post(http::complete))
        .route("/tests", post(http::submit).get(http::list_tests))
        .route("/tests/{id}", get(http::get_test))
        .route("/status", get(http::status))
        .layer(middleware::from_fn_with_state(
            Arc::new(token),
            super::auth::require_token,
        ));
    Router::new()
        .nest("/v1", v1)
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(log_request))
        .layer(middleware::from_fn(catch_panic))
        .with_state(app)
}

/// Logs every request at debug level (method, path, status, duration).
async fn log_request(request: Request, next: Next) -> Response {
    let watch = super::Stopwatch::start();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    tracing::debug!(%method, %path, status = response.status().as_u16(), seconds = watch.seconds(), "request");
    response
}

/// The last defence: a panicking handler answers 500 and the server goes on.
pub async fn catch_panic(request: Request, next: Next) -> Response {
    match AssertUnwindSafe(next.run(request)).catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            tracing::error!("a request handler panicked (a bug); answered 500");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error: the request failed; the server goes on",
            )
        }
    }
}
