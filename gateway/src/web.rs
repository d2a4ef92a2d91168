//! The web console: the single-page app built from `gateway/web` (Vite) into
//! `gateway/web/dist`, embedded in the binary so the product needs no separate files and no
//! CDN. Asset names carry content hashes, so they are cached for a year; `index.html` is not
//! cached, so a new build is picked up at the next load.

use axum::{
    Router,
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use rust_embed::RustEmbed;

use crate::errors::GatewayError;

#[derive(RustEmbed)]
#[folder = "web/dist/"]
struct Console;

/// Routes of the web console.
pub fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/assets/{*path}", get(asset))
        .route("/{file}", get(top_level_file))
}

async fn index() -> Response {
    serve("index.html", CacheControl::Revalidate)
}

async fn asset(Path(path): Path<String>) -> Response {
    serve(&format!("assets/{path}"), CacheControl::Immutable)
}

/// Files at the top of the build (favicon and the like); never `api…`, which has its own
/// router and JSON 404s.
async fn top_level_file(Path(file): Path<String>) -> Response {
    serve(&file, CacheControl::Revalidate)
}

enum CacheControl {
    Immutable,
    Revalidate,
}

fn serve(path: &str, cache: CacheControl) -> Response {
    let Some(file) = Console::get(path) else {
        return GatewayError::from_http_status(StatusCode::NOT_FOUND, None).into_response();
    };
    let mime = file.metadata.mimetype().to_owned();
    let cache_control = match cache {
        CacheControl::Immutable => "public, max-age=31536000, immutable",
        CacheControl::Revalidate => "no-cache",
    };
    let mut response = (StatusCode::OK, file.data.into_owned()).into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&mime) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(cache_control),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_console_is_embedded() {
        let index = Console::get("index.html").expect("gateway/web/dist/index.html is built");
        let html = String::from_utf8_lossy(&index.data);
        assert!(
            html.contains("<div id=\"app\""),
            "unexpected index.html: {html}"
        );
        assert!(
            Console::iter().any(|name| name.starts_with("assets/") && name.ends_with(".js")),
            "no JavaScript bundle embedded"
        );
    }
}
