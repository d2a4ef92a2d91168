//! The web UI. For now a placeholder index page; the UI will be served from here (static
//! assets under `/static/`, the single-page app at `/`). Everything is served by the gateway
//! itself: the Content-Security-Policy allows no CDN.

use axum::{Router, response::Html, routing::get};

const INDEX: &str = r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mirror Maestro</title>
</head>
<body>
<main>
<h1>Mirror Maestro</h1>
<p>The web interface is not available yet.</p>
<ul>
<li><a href="/api/docs/">REST API documentation</a></li>
<li><a href="/api/openapi.json">OpenAPI document</a></li>
</ul>
</main>
</body>
</html>
"#;

/// Routes of the web UI.
pub fn router() -> Router {
    Router::new().route("/", get(index))
}

async fn index() -> Html<&'static str> {
    Html(INDEX)
}
