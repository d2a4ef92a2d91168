//! `GET /api/jobs/{id}/events`: a job's progress as Server-Sent Events, fed by the gRPC
//! `WatchJob` stream.
//!
//! Events: `progress` with the job JSON on every update (the first one at once), then `done`
//! with the final job when the job has finished (or the API ends the stream), or `error` with
//! the error body when the stream fails. A `: keep-alive` comment goes out every 15 seconds.
//! The server closes the stream after `done`/`error`; `EventSource` clients should call
//! `close()` on `done`, or they reconnect.
//!
//! Browsers' `EventSource` cannot send headers, so this route (and only this one) also takes
//! the JWT as `?access_token=`. The access log records the path without the query, so the
//! token never reaches the logs.

use std::{
    convert::Infallible,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    extract::State,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
};
use http::{HeaderName, HeaderValue};
use mm_proto::v1 as pb;
use serde::Deserialize;
use tonic::codegen::tokio_stream::Stream;
use utoipa::{
    IntoParams, PartialSchema, ToSchema,
    openapi::{
        AllOfBuilder, ObjectBuilder, OneOfBuilder, Ref, RefOr, Schema,
        schema::{SchemaType, Type},
    },
};

use super::Job;
use crate::{
    GatewayState,
    errors::GatewayError,
    extract::{IdPath, Query},
    grpc::Forward,
    middleware::current_request_id,
};

/// Interval of the keep-alive comments.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Query of `GET /api/jobs/{id}/events`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobEventsQuery {
    /// The JWT from `POST /api/auth/login`, for clients that cannot send an `Authorization`
    /// header (the browser's `EventSource`). Accepted on this route only; the header wins
    /// when both are given.
    pub access_token: Option<String>,
}

/// One event of the stream, parsed (`event`, `data`): the schema of the `text/event-stream`
/// response, as OpenAPI 3.1 describes server-sent events. `data` is JSON: the job for
/// `progress` and `done` (`null` for `done` when the API sent no update at all), the error
/// body for `error`.
pub struct JobEvent;

impl PartialSchema for JobEvent {
    fn schema() -> RefOr<Schema> {
        let string = || ObjectBuilder::new().schema_type(SchemaType::Type(Type::String));
        let branch = |event: &str, content: RefOr<Schema>| {
            ObjectBuilder::new()
                .property("event", string().enum_values(Some([event])))
                .property(
                    "data",
                    string()
                        .content_media_type("application/json")
                        .content_schema(Some(content)),
                )
        };
        let job = || RefOr::Ref(Ref::from_schema_name(Job::name()));
        let final_job = OneOfBuilder::new()
            .item(job())
            .item(ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)));
        let error = RefOr::Ref(Ref::from_schema_name("ErrorBody"));
        AllOfBuilder::new()
            .item(
                ObjectBuilder::new()
                    .property(
                        "event",
                        string().enum_values(Some(["progress", "done", "error"])),
                    )
                    .property("data", string().content_media_type("application/json"))
                    .required("event")
                    .required("data"),
            )
            .item(
                OneOfBuilder::new()
                    .item(branch("progress", job()))
                    .item(branch("done", final_job.into()))
                    .item(branch("error", error)),
            )
            .description(Some(
                "A server-sent event: `progress`/`done` carry a Job, `error` an ErrorBody, \
                 as JSON in `data`",
            ))
            .into()
    }
}

impl ToSchema for JobEvent {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Job::name().into_owned(), Job::schema()));
        <Job as ToSchema>::schemas(schemas);
    }
}

/// Watch a job's progress (Server-Sent Events).
///
/// `event: progress` with the job JSON on every change (the current state first), then
/// `event: done` with the final job, after which the server closes the stream;
/// `event: error` with the error body if watching fails midway. Comments (`: keep-alive`)
/// every 15 seconds keep proxies from closing an idle stream. Authenticate with the
/// `Authorization` header or, for `EventSource`, with `?access_token=<jwt>`.
#[utoipa::path(
    get, path = "/api/jobs/{id}/events", tag = "jobs", operation_id = "watch_job",
    params(("id" = i64, Path, description = "Job id", minimum = 1), JobEventsQuery),
    responses((
        status = 200,
        description = "Event stream: `progress` and `done` events carry a `Job` as JSON data, \
                       `error` an `ErrorBody`",
        content_type = "text/event-stream",
        body = JobEvent,
    )),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn job_events(
    State(state): State<GatewayState>,
    forward: Forward,
    IdPath(id): IdPath,
    Query(query): Query<JobEventsQuery>,
) -> Result<Response, GatewayError> {
    let forward = forward.or_bearer(query.access_token.as_deref())?;
    if !forward.has_credentials() {
        return Err(GatewayError::unauthenticated("authentication required"));
    }
    // Errors before the first message (unknown job, bad credentials) are ordinary JSON
    // errors; only failures after the stream started become `error` events.
    let stream = state
        .api()
        .jobs()
        .watch_job(forward.request(pb::WatchJobRequest { id }))
        .await?
        .into_inner();
    let events = JobEvents {
        inner: Some(stream),
        last: None,
        pending_done: false,
        request_id: current_request_id().unwrap_or_default(),
    };
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    // Reverse proxies (nginx) would otherwise buffer the stream.
    response.headers_mut().insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    Ok(response)
}

/// The SSE events of one `WatchJob` stream.
struct JobEvents {
    /// `None` once the stream is over.
    inner: Option<tonic::Streaming<pb::WatchJobResponse>>,
    last: Option<Job>,
    /// The last job was finished: `done` goes out next.
    pending_done: bool,
    request_id: String,
}

impl JobEvents {
    fn done(&mut self) -> Event {
        self.inner = None;
        json_event("done", &self.last)
    }

    fn error(&mut self, error: GatewayError) -> Event {
        self.inner = None;
        json_event("error", &error.body(&self.request_id))
    }
}

fn json_event<T: serde::Serialize>(name: &str, data: &T) -> Event {
    let data = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
    Event::default().event(name).data(data)
}

impl Stream for JobEvents {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.pending_done {
            this.pending_done = false;
            return Poll::Ready(Some(Ok(this.done())));
        }
        let Some(inner) = this.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let event = match Pin::new(inner).poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => this.done(),
            Poll::Ready(Some(Err(status))) => this.error(GatewayError::from(status)),
            Poll::Ready(Some(Ok(message))) => match super::required_job(message.job) {
                Err(error) => this.error(error),
                Ok(job) => {
                    let event = json_event("progress", &job);
                    // A finished job does not change any more: end without waiting for the
                    // API to close the stream.
                    this.pending_done = job.state.is_finished();
                    this.last = Some(job);
                    event
                }
            },
        };
        Poll::Ready(Some(Ok(event)))
    }
}
