//! Git smart HTTP at `/<full/path>.git/...`, served by `git http-backend`
//! (CGI) behind GitLab's authentication rules.

use std::process::Stdio;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::auth::{self, Lookup};
use crate::error::ApiError;
use crate::instance::Instance;
use crate::model::access;

/// `/a/b/c.git/info/refs` → (`a/b/c`, `info/refs`).
pub fn split_git_path(path: &str) -> Option<(String, String)> {
    let idx = path.find(".git/")?;
    let project = path[..idx].trim_start_matches('/');
    let rest = &path[idx + 5..];
    if project.is_empty() {
        return None;
    }
    matches!(
        rest,
        "info/refs" | "git-upload-pack" | "git-receive-pack" | "HEAD"
    )
    .then(|| (project.to_string(), rest.to_string()))
}

fn plain(status: StatusCode, body: &str) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn access_denied(inst: &Instance) -> Response {
    let mut r = plain(
        StatusCode::UNAUTHORIZED,
        &format!(
            "HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped. See {}/help/topics/git/troubleshooting_git.md#error-on-git-fetch-http-basic-access-denied\n",
            inst.base_url
        ),
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"GitLab\""),
    );
    r
}

fn not_found_text() -> Response {
    plain(
        StatusCode::NOT_FOUND,
        "The project you were looking for could not be found or you don't have permission to view it.\n",
    )
}

/// Fallback handler: git smart HTTP, else GitLab's 404s.
pub async fn fallback(State(inst): State<Arc<Instance>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let Some((project_path, suffix)) = split_git_path(&path) else {
        if path.starts_with("/api/") {
            return ApiError::route_not_found().into_response();
        }
        let (parts, _) = req.into_parts();
        if let Some(r) =
            crate::api::uploads::web_by_path(&inst, &parts.method, &parts.uri, &parts.headers).await
        {
            return r;
        }
        return plain(StatusCode::NOT_FOUND, "404 Not Found\n");
    };
    let query = req.uri().query().unwrap_or("").to_string();
    let service = match suffix.as_str() {
        "info/refs" => url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "service")
            .map(|(_, v)| v.into_owned()),
        "git-upload-pack" => Some("git-upload-pack".into()),
        "git-receive-pack" => Some("git-receive-pack".into()),
        _ => None,
    };
    let push = match service.as_deref() {
        Some("git-upload-pack") => false,
        Some("git-receive-pack") => true,
        _ => return plain(StatusCode::FORBIDDEN, "Only smart HTTP is supported.\n"),
    };

    // Authentication: the token is the password, the username must not be blank.
    let creds = crate::server::basic_password(req.headers());
    let user = match &creds {
        Some((u, p)) if !u.trim().is_empty() && !p.is_empty() => match auth::resolve(&inst, p) {
            Lookup::Valid(a) => {
                let git_scope = ["api", "read_api", "read_repository", "write_repository"]
                    .iter()
                    .any(|s| a.has_scope(s));
                if !git_scope {
                    return access_denied(&inst);
                }
                Some(a)
            }
            _ => return access_denied(&inst),
        },
        Some(_) => return access_denied(&inst),
        None => None,
    };

    let (pid, disk_path, allowed, archived) = {
        let db = inst.db.read();
        let Some(p) = db.find_project(&project_path) else {
            drop(db);
            return if user.is_none() {
                access_denied(&inst)
            } else {
                not_found_text()
            };
        };
        let uid = user.as_ref().map(|u| u.user_id);
        if !db.can_read_project(uid, p) {
            drop(db);
            return if user.is_none() {
                access_denied(&inst)
            } else {
                not_found_text()
            };
        }
        let level = uid.map(|u| db.effective_project_access(u, p)).unwrap_or(0);
        let allowed = match (&user, push) {
            (None, false) => p.visibility == "public",
            (None, true) => false,
            (Some(u), false) => {
                level >= access::REPORTER || p.visibility != "private" || u.is_admin
            }
            (Some(u), true) => {
                level >= access::DEVELOPER
                    && (u.has_scope("api") || u.has_scope("write_repository"))
            }
        };
        (p.id, p.disk_path.clone(), allowed, p.archived)
    };
    if !allowed {
        if user.is_none() {
            return access_denied(&inst);
        }
        return plain(
            StatusCode::FORBIDDEN,
            if push {
                "You are not allowed to push code to this project.\n"
            } else {
                "You are not allowed to download code from this project.\n"
            },
        );
    }
    if push && archived {
        return plain(
            StatusCode::FORBIDDEN,
            "You are not allowed to push code to an archived project.\n",
        );
    }
    let remote_user = user.as_ref().map(|u| u.username.clone());
    match run_backend(
        &inst,
        req,
        &disk_path,
        &suffix,
        &query,
        remote_user,
        pid,
        push,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("git http-backend failed: {e:#}");
            crate::server::error_page(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_backend(
    inst: &Arc<Instance>,
    req: Request,
    disk_path: &str,
    suffix: &str,
    query: &str,
    remote_user: Option<String>,
    pid: u64,
    push: bool,
) -> anyhow::Result<Response> {
    let headers = req.headers().clone();
    let hv = |k: header::HeaderName| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let mut c = inst.git.command();
    c.arg("http-backend")
        .env("GIT_PROJECT_ROOT", &inst.repo_root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", format!("/{disk_path}/{suffix}"))
        .env("QUERY_STRING", query)
        .env("REQUEST_METHOD", req.method().as_str())
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(u) = &remote_user {
        c.env("REMOTE_USER", u);
    }
    if let Some(v) = hv(header::CONTENT_TYPE) {
        c.env("CONTENT_TYPE", v);
    }
    if let Some(v) = hv(header::CONTENT_LENGTH) {
        c.env("CONTENT_LENGTH", v);
    }
    if let Some(v) = hv(header::CONTENT_ENCODING) {
        c.env("HTTP_CONTENT_ENCODING", v);
    }
    if let Some(v) = headers.get("git-protocol").and_then(|v| v.to_str().ok()) {
        c.env("GIT_PROTOCOL", v);
    }
    let mut child = c.spawn()?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;

    // Feed the request body.
    let mut body = req.into_body().into_data_stream();
    tokio::spawn(async move {
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(b) => {
                    if stdin.write_all(&b).await.is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
        let _ = stdin.shutdown().await;
    });

    // Parse the CGI headers.
    let mut reader = BufReader::new(stdout);
    let mut status = StatusCode::OK;
    let mut builder = Response::builder();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            break;
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("status") {
                let code = v
                    .split_whitespace()
                    .next()
                    .and_then(|c| c.parse::<u16>().ok());
                status = code
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .unwrap_or(StatusCode::OK);
            } else {
                builder = builder.header(k.trim(), v);
            }
        }
    }

    // After a push: refresh refs, then let push mirrors follow.
    let inst2 = inst.clone();
    let waiter = tokio::spawn(async move {
        let ok = child.wait().await.map(|s| s.success()).unwrap_or(false);
        if push && ok {
            crate::mirror::after_push(inst2, pid).await;
        }
    });
    let stream = futures::stream::unfold(Some((reader, waiter)), |state| async move {
        let (mut reader, waiter) = state?;
        let mut buf = vec![0u8; 64 * 1024];
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => {
                // Wait for post-push bookkeeping so clients see fresh state.
                let _ = waiter.await;
                None
            }
            Ok(n) => {
                buf.truncate(n);
                Some((
                    Ok::<_, std::io::Error>(bytes::Bytes::from(buf)),
                    Some((reader, waiter)),
                ))
            }
        }
    });
    Ok(builder.status(status).body(Body::from_stream(stream))?)
}
