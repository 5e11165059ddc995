//! `GET /`: the coordinator's own page. One self-contained HTML file,
//! compiled in (no CDN, no other asset): it polls `/v1/status` and draws
//! the key figures, throughput and latency charts, pending tests by
//! priority, the workers and recent events. With a bearer token set on the
//! server it asks for it once and keeps it in the tab's sessionStorage.

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The page.
pub(super) const INDEX_HTML: &str = include_str!("web/index.html");

/// The page may run its own inline script and style, and talk to this
/// service only: the browser refuses anything else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`.
#[utoipa::path(get, path = "/",
    responses((status = 200, description = "the live page", content_type = "text/html")))]
pub(super) async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every URL the page names is the service's own: no `http` address, no
    /// `//host` reference, and the only call is the status.
    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        let page = INDEX_HTML;
        let foreign: Vec<&str> = page
            .match_indices("http")
            .map(|(i, _)| &page[i..(i + 40).min(page.len())])
            .filter(|s| !s.starts_with("http://www.w3.org/2000/svg"))
            .collect();
        assert!(foreign.is_empty(), "{foreign:?}");
        for banned in ["src=\"//", "href=\"//", "<link", "@import", "src=\"http"] {
            assert!(!page.contains(banned), "{banned}");
        }
        assert_eq!(page.matches("fetch(").count(), 1);
        assert!(page.contains(r#"fetch("v1/status""#));
    }

    #[test]
    fn the_token_is_kept_for_the_tab_only() {
        assert!(INDEX_HTML.contains("sessionStorage"));
        assert!(!INDEX_HTML.contains("localStorage"));
        assert!(!INDEX_HTML.contains("document.cookie"));
    }
}
