//! The routes and the layers around them: the body limit (413), the bearer
//! token on `/v1` (401), request logs, and a catch-panic layer as the last
//! defence (a handler bug answers 500; the server goes on).

use super::http::{self, error};
use super::prom::{HttpLabels, RouteLabel};
use super::App;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::Router;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use utoipa::OpenApi;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

/// Bodies larger than this are refused with 413.
pub(super) const MAX_BODY_BYTES: usize = 1 << 20;
/// `POST /v1/tests` may be larger: a batch of tests with commands and
/// environments, and an oversized field inside one is refused with 400
/// naming it (a 2 MB `env`), which only a parsed body can say.
pub(super) const MAX_SUBMIT_BODY_BYTES: usize = 8 << 20;

/// The body limit of a request.
fn body_limit(request: &Request) -> usize {
    if request.method() == axum::http::Method::POST && request.uri().path() == "/v1/tests" {
        MAX_SUBMIT_BODY_BYTES
    } else {
        MAX_BODY_BYTES
    }
}

/// The whole service. This is the only list of routes: each handler's
/// `#[utoipa::path]` gives its method and path to both the router and the
/// OpenAPI document (`utoipa_axum`), and the metrics label each request
/// with the route it matched.
pub(super) fn build(app: Arc<App>, token: Option<String>) -> Router {
    let v1 = OpenApiRouter::new()
        .routes(routes!(http::register, http::list_workers))
        .routes(routes!(http::get_worker, http::leave))
        .routes(routes!(http::heartbeat))
        .routes(routes!(http::lease))
        .routes(routes!(http::drain))
        .routes(routes!(http::start))
        .routes(routes!(http::complete))
        .routes(
            routes!(http::submit, http::list_tests)
                .layer(DefaultBodyLimit::max(MAX_SUBMIT_BODY_BYTES)),
        )
        .routes(routes!(http::get_test))
        .routes(routes!(super::http_work::cancel))
        .routes(routes!(super::http_work::log))
        .routes(routes!(http::status))
        .layer(middleware::from_fn_with_state(
            Arc::new(token),
            super::auth::require_token,
        ));
    let (router, api) = OpenApiRouter::with_openapi(super::openapi::ApiDoc::openapi())
        .nest("/v1", v1)
        .routes(routes!(super::web::index))
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
        .split_for_parts();
    super::openapi::publish(&api);
    router
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such route") })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(refuse_declared_oversize))
        .layer(middleware::from_fn_with_state(app.clone(), log_request))
        .layer(middleware::from_fn(catch_panic))
        .with_state(app)
}

/// A body declared (`Content-Length`) over the limit is refused before a
/// byte of it is read: 413 at once, where the limit alone would first say
/// `100 Continue` to a client that asked, or wait for megabytes that may
/// never come.
async fn refuse_declared_oversize(request: Request, next: Next) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let limit = body_limit(&request);
    match declared {
        Some(n) if n > limit as u64 => error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Content-Length: a body of {n} bytes is over the limit of {limit} bytes"),
        ),
        _ => next.run(request).await,
    }
}

/// `/healthz`.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "`ok`")))]
async fn healthz() -> &'static str {
    "ok\n"
}

/// `/metrics`, Prometheus text.
#[utoipa::path(get, path = "/metrics",
    responses((status = 200, description = "Prometheus text")))]
async fn metrics(State(app): State<Arc<App>>) -> Response {
    let (text, generation, seq) = {
        let mut core = app.lock();
        let text = app.metrics.render(&mut core);
        (text, core.generation(), core.last_seq())
    };
    // Nothing is counted before its commit.
    if let Err(answer) = app.saved(generation, seq).await {
        return answer;
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// `/openapi.json`.
#[utoipa::path(get, path = "/openapi.json",
    responses((status = 200, description = "this document")))]
async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::document(),
    )
        .into_response()
}

/// The route a request matched (its template, so ids do not make new
/// label values), or `other`.
fn route_of(request: &Request) -> String {
    request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "other".to_string(), |m| m.as_str().to_string())
}

/// Counts and times every request, and logs it at debug level.
async fn log_request(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let watch = super::Stopwatch::start();
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let route = route_of(&request);
    let response = next.run(request).await;
    let seconds = watch.seconds();
    let code = response.status().as_u16();
    let labels = HttpLabels {
        route: route.clone(),
        method: method.to_string(),
        code: code.to_string(),
    };
    app.metrics.http_requests.get_or_create(&labels).inc();
    app.metrics
        .http_seconds
        .get_or_create(&RouteLabel { route })
        .observe(seconds);
    tracing::debug!(%method, %path, status = code, seconds, "request");
    response
}

/// The last defence: a panicking handler answers 500 and the server goes on.
pub(super) async fn catch_panic(request: Request, next: Next) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::{get, post};
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_router_goes_on() {
        async fn boom() -> &'static str {
            panic!("a bug")
        }
        let app = Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "ok" }))
            .layer(middleware::from_fn(catch_panic));
        let request = || {
            Request::builder()
                .uri("/boom")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let response = app.clone().oneshot(request()).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let fine = Request::builder()
            .uri("/fine")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(app.oneshot(fine).await.unwrap().status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn a_body_declared_over_the_limit_is_refused_before_it_is_read() {
        let app = Router::new()
            .route(
                "/x",
                post(|body: axum::body::Bytes| async move { body.len().to_string() }),
            )
            .layer(middleware::from_fn(refuse_declared_oversize));
        let request = |length: usize| {
            Request::builder()
                .method("POST")
                .uri("/x")
                .header(header::CONTENT_LENGTH, length.to_string())
                .header(header::EXPECT, "100-continue")
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let refused = app.clone().oneshot(request(2 << 20)).await.unwrap();
        assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body = axum::body::to_bytes(refused.into_body(), 4096)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.contains("Content-Length") && text.contains("2097152"),
            "{text}"
        );
        let within = app.oneshot(request(MAX_BODY_BYTES)).await.unwrap();
        assert_eq!(within.status(), StatusCode::OK);
    }
}
