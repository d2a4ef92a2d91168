//! Project (markdown) uploads: `POST|GET /projects/:id/uploads`,
//! `GET|DELETE /projects/:id/uploads/:upload_id` and
//! `GET|DELETE /projects/:id/uploads/:secret/:filename`, plus the web
//! download paths `/<project>/uploads/<secret>/<file>` and
//! `/-/project/<id>/uploads/<secret>/<file>`.
//!
//! The multipart body is streamed to disk (never held in memory) and cut
//! off as soon as it exceeds the instance's `max_attachment_size`.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Extension;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{St, level, visible_project};
use crate::auth::{self, Caller, Lookup};
use crate::error::{ApiError, ApiResult, created, no_content};
use crate::instance::Instance;
use crate::model::{Db, Project, Upload, access};
use crate::pagination::paginate;
use crate::params::Params;
use crate::util::ts;

/// Extensions GitLab renders inline as images or videos (`![..](..)`).
const IMAGE_OR_VIDEO: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "bmp", "tiff", "ico", "webp", "mp4", "m4v", "mov", "webm", "ogv",
];

/// Largest header block of one multipart part.
const MAX_PART_HEADERS: usize = 16 * 1024;
/// Largest non-file form field we are willing to skip over.
const MAX_OTHER_FIELD: u64 = 1024 * 1024;

fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty()).then(|| ext.to_ascii_lowercase())
}

fn image_or_video(name: &str) -> bool {
    extension(name).is_some_and(|e| IMAGE_OR_VIDEO.contains(&e.as_str()))
}

/// CarrierWave's sanitizing: anything but word characters, `.`, `-`, `+`
/// becomes `_`; directories are dropped.
pub fn sanitize_filename(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = base
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.chars().all(|c| c == '.') {
        "file".into()
    } else {
        s
    }
}

/// `alt`: the name without extension for images and videos, else the name.
fn markdown_name(name: &str) -> String {
    if image_or_video(name) {
        match name.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => stem.to_string(),
            _ => name.to_string(),
        }
    } else {
        name.to_string()
    }
}

fn content_type(name: &str) -> &'static str {
    match extension(name).as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("bmp") => "image/bmp",
        Some("tiff") => "image/tiff",
        Some("ico") => "image/vnd.microsoft.icon",
        Some("webp") => "image/webp",
        Some("mp4" | "m4v") => "video/mp4",
        Some("mov") => "video/quicktime",
        Some("webm") => "video/webm",
        Some("ogv") => "video/ogg",
        Some("pdf") => "application/pdf",
        Some("zip") => "application/zip",
        Some("gz" | "tgz") => "application/gzip",
        Some("json") => "application/json",
        Some("txt" | "log" | "md" | "csv" | "yml" | "yaml" | "toml") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn url_of(u: &Upload) -> String {
    format!("/uploads/{}/{}", u.secret, u.filename)
}

/// `Entities::ProjectUpload`.
pub fn upload_json(u: &Upload) -> Value {
    let url = url_of(u);
    let alt = markdown_name(&u.filename);
    let bang = if image_or_video(&u.filename) { "!" } else { "" };
    json!({
        "id": u.id,
        "alt": alt,
        "url": url,
        "full_path": format!("/-/project/{}{}", u.project_id, url),
        "markdown": format!("{bang}[{alt}]({url})"),
    })
}

/// `Entities::MarkdownUploadAdmin`.
fn admin_json(db: &Db, u: &Upload) -> Value {
    let by = u
        .uploaded_by
        .and_then(|id| db.users.get(&id))
        .map(|x| json!({"id": x.id, "username": x.username, "name": x.name}));
    json!({
        "id": u.id,
        "size": u.size,
        "filename": u.filename,
        "created_at": ts(&u.created_at),
        "uploaded_by": by,
    })
}

fn file_path(inst: &Instance, u: &Upload) -> PathBuf {
    inst.uploads_root()
        .join(u.project_id.to_string())
        .join(&u.secret)
        .join(&u.filename)
}

fn too_large() -> ApiError {
    ApiError::message(
        StatusCode::PAYLOAD_TOO_LARGE,
        "413 Request Entity Too Large",
    )
}

fn find_by_secret(db: &Db, pid: u64, secret: &str, filename: &str) -> Option<u64> {
    db.uploads
        .values()
        .find(|u| u.project_id == pid && u.secret == secret && u.filename == filename)
        .map(|u| u.id)
}

fn parse_upload_id(raw: &str) -> Result<u64, ApiError> {
    raw.parse().map_err(|_| ApiError::invalid("upload_id"))
}

/// Maintainer (`admin_upload` / `destroy_upload`) in a visible project.
/// Only writes authenticate first (`authenticate_non_get!`): an anonymous
/// GET fails the authorization with 403.
fn maintainer_project<'a>(
    db: &'a Db,
    caller: &Caller,
    id: &str,
    write: bool,
) -> Result<&'a Project, ApiError> {
    if write {
        caller.user()?;
    }
    let p = visible_project(db, caller, id)?;
    if level(db, caller, p) < access::MAINTAINER {
        return Err(ApiError::forbidden());
    }
    Ok(p)
}

// ----- multipart ----------------------------------------------------------

/// The `file` part, written to a temporary file.
struct Received {
    filename: String,
    size: u64,
    tmp: PathBuf,
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn boundary(headers: &HeaderMap) -> Option<String> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let (mime, rest) = ct.split_once(';')?;
    if !mime.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    rest.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| v.trim().trim_matches('"').to_string())
            .filter(|b| !b.is_empty())
    })
}

/// `(name, filename)` from a part's header block.
fn disposition(block: &[u8]) -> (Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(block);
    let mut name = None;
    let mut filename = None;
    for line in text.split("\r\n") {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        if !k.trim().eq_ignore_ascii_case("content-disposition") {
            continue;
        }
        for param in v.split(';').skip(1) {
            let Some((pk, pv)) = param.trim().split_once('=') else {
                continue;
            };
            let pv = pv.trim().trim_matches('"').to_string();
            match pk.trim().to_ascii_lowercase().as_str() {
                "name" => name = Some(pv),
                "filename" => filename = Some(pv),
                _ => {}
            }
        }
    }
    (name, filename)
}

enum Phase {
    Preamble,
    AfterDelimiter,
    Headers,
    Body { file: bool },
    Done,
}

/// Stream a multipart body; the first part named `file` that carries a
/// filename goes to a temporary file under `dir`.
async fn receive(body: Body, boundary: &str, dir: &FsPath, max: u64) -> ApiResult<Received> {
    tokio::fs::create_dir_all(dir).await.map_err(|_| {
        ApiError::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error",
        )
    })?;
    let tmp = dir.join(format!(".incoming-{}", crate::util::random_hex(16)));
    let res = receive_into(body, boundary, &tmp, max).await;
    match res {
        Ok(Some((filename, size))) => Ok(Received {
            filename,
            size,
            tmp,
        }),
        Ok(None) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(ApiError::missing("file"))
        }
        Err(e) => {
            let _ = tokio::fs::remove_file(&tmp).await;
            Err(e)
        }
    }
}

async fn receive_into(
    body: Body,
    boundary: &str,
    tmp: &FsPath,
    max: u64,
) -> ApiResult<Option<(String, u64)>> {
    let io_err = |_| {
        ApiError::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error",
        )
    };
    let delim = format!("\r\n--{boundary}").into_bytes();
    // A leading CRLF lets the first boundary match like the others.
    let mut buf: Vec<u8> = b"\r\n".to_vec();
    let mut stream = body.into_data_stream();
    let mut eof = false;
    let mut phase = Phase::Preamble;
    let mut out: Option<tokio::fs::File> = None;
    let mut got: Option<(String, u64)> = None;
    let mut pending_name: Option<String> = None;
    let mut written: u64 = 0;
    let mut other: u64 = 0;
    let mut file_invalid = false;
    loop {
        let progressed = match phase {
            Phase::Done => break,
            Phase::Preamble => match find(&buf, &delim) {
                Some(i) => {
                    buf.drain(..i + delim.len());
                    phase = Phase::AfterDelimiter;
                    true
                }
                None => {
                    let keep = buf.len().saturating_sub(delim.len());
                    buf.drain(..keep);
                    false
                }
            },
            Phase::AfterDelimiter if buf.starts_with(b"--") => {
                phase = Phase::Done;
                true
            }
            // Transport padding, then CRLF.
            Phase::AfterDelimiter if buf.len() >= 2 => match find(&buf, b"\r\n") {
                Some(i) => {
                    buf.drain(..i + 2);
                    phase = Phase::Headers;
                    true
                }
                None if buf.len() > 256 => {
                    return Err(ApiError::bad_request("invalid multipart body"));
                }
                None => false,
            },
            Phase::AfterDelimiter => false,
            Phase::Headers => match find(&buf, b"\r\n\r\n") {
                Some(i) => {
                    let (name, filename) = disposition(&buf[..i]);
                    buf.drain(..i + 4);
                    let is_file = name.as_deref() == Some("file");
                    let take = is_file && got.is_none() && pending_name.is_none();
                    match filename {
                        Some(f) if take => {
                            out = Some(tokio::fs::File::create(tmp).await.map_err(io_err)?);
                            pending_name = Some(sanitize_filename(&f));
                            phase = Phase::Body { file: true };
                        }
                        None if take => {
                            file_invalid = true;
                            phase = Phase::Body { file: false };
                        }
                        _ => phase = Phase::Body { file: false },
                    }
                    true
                }
                None if buf.len() > MAX_PART_HEADERS => {
                    return Err(ApiError::bad_request("invalid multipart body"));
                }
                None => false,
            },
            Phase::Body { file } => {
                let (chunk_end, found) = match find(&buf, &delim) {
                    Some(i) => (i, true),
                    None => (buf.len().saturating_sub(delim.len() - 1), false),
                };
                if chunk_end > 0 {
                    if file {
                        written += chunk_end as u64;
                        if written > max {
                            return Err(too_large());
                        }
                        if let Some(f) = out.as_mut() {
                            f.write_all(&buf[..chunk_end]).await.map_err(io_err)?;
                        }
                    } else {
                        other += chunk_end as u64;
                        if other > MAX_OTHER_FIELD {
                            return Err(too_large());
                        }
                    }
                    buf.drain(..chunk_end);
                }
                if found {
                    buf.drain(..delim.len());
                    if file {
                        if let Some(mut f) = out.take() {
                            f.flush().await.map_err(io_err)?;
                        }
                        got = pending_name.take().map(|n| (n, written));
                    }
                    phase = Phase::AfterDelimiter;
                }
                found || chunk_end > 0
            }
        };
        if progressed {
            continue;
        }
        if eof {
            break;
        }
        match stream.next().await {
            Some(Ok(c)) => buf.extend_from_slice(&c),
            Some(Err(_)) => return Err(ApiError::bad_request("invalid multipart body")),
            None => eof = true,
        }
    }
    if got.is_none() && file_invalid {
        return Err(ApiError::invalid("file"));
    }
    if got.is_none() && pending_name.is_some() {
        return Err(ApiError::bad_request("invalid multipart body"));
    }
    Ok(got)
}

// ----- API ----------------------------------------------------------------

/// `POST /projects/:id/uploads`.
pub async fn create(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    req: Request,
) -> ApiResult {
    // Like GitLab: anyone signed in who can see the project may upload
    // (attachments on public issues); tokens need the `api` scope.
    let uid = caller.user()?.user_id;
    let pid = visible_project(&st.db.read(), &caller, &id)?.id;
    let max = st.max_attachment_size.load(Ordering::Relaxed);
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // Larger than the limit plus generous room for the multipart framing.
    if declared.is_some_and(|n| n > max.saturating_add(64 * 1024)) {
        return Err(too_large());
    }
    let Some(boundary) = boundary(&parts.headers) else {
        return Err(ApiError::missing("file"));
    };
    let dir = st.uploads_root().join(pid.to_string());
    let got = receive(body, &boundary, &dir, max).await?;
    let secret = crate::util::random_hex(32);
    let final_dir = dir.join(&secret);
    let moved = async {
        tokio::fs::create_dir_all(&final_dir).await?;
        tokio::fs::rename(&got.tmp, final_dir.join(&got.filename)).await
    }
    .await;
    if moved.is_err() {
        let _ = tokio::fs::remove_file(&got.tmp).await;
        return Err(ApiError::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error",
        ));
    }
    let gone = !st.db.read().projects.contains_key(&pid);
    if gone {
        let _ = tokio::fs::remove_dir_all(&final_dir).await;
        return Err(ApiError::not_found("Project"));
    }
    let mut db = st.db.write();
    let upload_id = db.next_id("uploads");
    let u = Upload {
        id: upload_id,
        project_id: pid,
        secret,
        filename: got.filename,
        size: got.size,
        created_at: Utc::now(),
        uploaded_by: Some(uid),
    };
    let detail = format!("{} ({} bytes)", url_of(&u), u.size);
    let body = upload_json(&u);
    db.uploads.insert(upload_id, u);
    db.log("upload_created", Some(pid), upload_id, detail);
    Ok(created(body))
}

/// `GET /projects/:id/uploads` (Maintainer), newest first.
pub async fn list(
    st: St,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    p: Params,
) -> ApiResult {
    let db = st.db.read();
    let proj = maintainer_project(&db, &caller, &id, false)?;
    let mut ups: Vec<&Upload> = db
        .uploads
        .values()
        .filter(|u| u.project_id == proj.id)
        .collect();
    ups.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let items = ups.into_iter().map(|u| admin_json(&db, u)).collect();
    paginate(&st.base_url, &p, items)
}

/// `GET /projects/:id/uploads/:upload_id` (Maintainer).
pub async fn get_by_id(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, upload_id)): Path<(String, String)>,
) -> ApiResult {
    let u = {
        let db = st.db.read();
        let proj = maintainer_project(&db, &caller, &id, false)?;
        let uid = parse_upload_id(&upload_id)?;
        db.uploads
            .get(&uid)
            .filter(|u| u.project_id == proj.id)
            .cloned()
            .ok_or_else(ApiError::record_not_found)?
    };
    send_file(&st, &u, true).await
}

/// `GET /projects/:id/uploads/:secret/:filename` (anyone who can read the project).
pub async fn get_by_secret(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, secret, filename)): Path<(String, String, String)>,
) -> ApiResult {
    let u = {
        let db = st.db.read();
        let proj = visible_project(&db, &caller, &id)?;
        find_by_secret(&db, proj.id, &secret, &filename)
            .and_then(|i| db.uploads.get(&i).cloned())
            .ok_or_else(|| ApiError::message(StatusCode::NOT_FOUND, "404 Not found"))?
    };
    send_file(&st, &u, true).await
}

fn destroy(inst: &Instance, db: &mut Db, upload_id: u64) -> Response {
    if let Some(u) = db.uploads.remove(&upload_id) {
        let dir = file_path(inst, &u)
            .parent()
            .map(FsPath::to_path_buf)
            .unwrap_or_default();
        let _ = std::fs::remove_dir_all(dir);
        db.log("upload_deleted", Some(u.project_id), u.id, url_of(&u));
    }
    no_content()
}

/// `DELETE /projects/:id/uploads/:upload_id` (Maintainer).
pub async fn delete_by_id(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, upload_id)): Path<(String, String)>,
) -> ApiResult {
    let mut db = st.db.write();
    let pid = maintainer_project(&db, &caller, &id, true)?.id;
    let uid = parse_upload_id(&upload_id)?;
    if db.uploads.get(&uid).is_none_or(|u| u.project_id != pid) {
        return Err(ApiError::record_not_found());
    }
    Ok(destroy(&st, &mut db, uid))
}

/// `DELETE /projects/:id/uploads/:secret/:filename` (Maintainer).
pub async fn delete_by_secret(
    st: St,
    Extension(caller): Extension<Caller>,
    Path((id, secret, filename)): Path<(String, String, String)>,
) -> ApiResult {
    let mut db = st.db.write();
    let pid = maintainer_project(&db, &caller, &id, true)?.id;
    let uid = find_by_secret(&db, pid, &secret, &filename)
        .ok_or_else(|| ApiError::message(StatusCode::NOT_FOUND, "404 Not found"))?;
    Ok(destroy(&st, &mut db, uid))
}

/// Stream an upload's bytes from disk.
async fn send_file(inst: &Instance, u: &Upload, api: bool) -> ApiResult {
    let path = file_path(inst, u);
    let Ok(file) = tokio::fs::File::open(&path).await else {
        return Err(ApiError::message(StatusCode::NOT_FOUND, "404 Not found"));
    };
    let stream = futures::stream::unfold(Some(file), |state| async move {
        let mut f = state?;
        let mut chunk = vec![0u8; 64 * 1024];
        match f.read(&mut chunk).await {
            Ok(0) => None,
            Ok(n) => {
                chunk.truncate(n);
                Some((Ok(bytes::Bytes::from(chunk)), Some(f)))
            }
            Err(e) => Some((Err::<bytes::Bytes, std::io::Error>(e), None)),
        }
    });
    let mut r = Body::from_stream(stream).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&u.filename)),
    );
    if let Ok(v) = HeaderValue::from_str(&u.size.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    let inline = !api && image_or_video(&u.filename);
    let disp = format!(
        "{}; filename=\"{}\"",
        if inline { "inline" } else { "attachment" },
        u.filename
    );
    if let Ok(v) = HeaderValue::from_str(&disp) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(r)
}

// ----- web downloads ------------------------------------------------------

fn web_caller(inst: &Instance, headers: &HeaderMap, query: Option<&str>) -> Option<u64> {
    let token = auth::extract_token(headers, query)
        .or_else(|| crate::server::basic_password(headers).map(|(_, p)| p))?;
    match auth::resolve(inst, &token) {
        Lookup::Valid(u) => Some(u.user_id),
        _ => None,
    }
}

fn web_not_found() -> Response {
    let mut r = (StatusCode::NOT_FOUND, "404 Not Found\n").into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

async fn web_download(
    inst: &Instance,
    headers: &HeaderMap,
    query: Option<&str>,
    project: &str,
    secret: &str,
    filename: &str,
) -> Response {
    let uid = web_caller(inst, headers, query);
    let found = {
        let db = inst.db.read();
        match db.find_project(project) {
            None => Err(web_not_found()),
            Some(p) if !db.can_read_project(uid, p) => Err(if uid.is_none() {
                // GitLab sends anonymous visitors to the sign-in page.
                let mut r = StatusCode::FOUND.into_response();
                if let Ok(v) = HeaderValue::from_str(&format!("{}/users/sign_in", inst.base_url)) {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                r
            } else {
                web_not_found()
            }),
            Some(p) => find_by_secret(&db, p.id, secret, filename)
                .and_then(|i| db.uploads.get(&i).cloned())
                .ok_or_else(web_not_found),
        }
    };
    match found {
        Ok(u) => send_file(inst, &u, false)
            .await
            .unwrap_or_else(|_| web_not_found()),
        Err(r) => r,
    }
}

/// `GET /-/project/:id/uploads/:secret/:filename`.
pub async fn web_by_project_id(
    State(inst): State<Arc<Instance>>,
    Path((id, secret, filename)): Path<(u64, String, String)>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    web_download(
        &inst,
        &headers,
        uri.query(),
        &id.to_string(),
        &secret,
        &filename,
    )
    .await
}

/// `GET /<namespace>/<project>/uploads/<secret>/<filename>`, tried by the
/// fallback handler before answering 404.
pub async fn web_by_path(
    inst: &Instance,
    method: &axum::http::Method,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    if method != axum::http::Method::GET && method != axum::http::Method::HEAD {
        return None;
    }
    let path = uri.path();
    let idx = path.rfind("/uploads/")?;
    let project = path[..idx].trim_start_matches('/');
    let (secret, filename) = path[idx + "/uploads/".len()..].split_once('/')?;
    if project.is_empty()
        || project.starts_with("-/")
        || filename.contains('/')
        || secret.len() != 32
        || !secret.chars().all(|c| c.is_ascii_hexdigit())
    {
        return None;
    }
    let project = crate::util::pdec(project);
    let filename = crate::util::pdec(filename);
    Some(web_download(inst, headers, uri.query(), &project, secret, &filename).await)
}
