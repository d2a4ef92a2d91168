//! The OpenAPI 3.1 document, generated from the handlers, and the router it describes.
//!
//! Every operation gets the shared error responses (`ErrorBody`) added after the routes are
//! collected, so no handler can forget one: 400/404/409/422/429/500/503/504 everywhere,
//! 401/403 on authenticated operations, 413/415 on operations with a body, and a `default`
//! for anything else.

use utoipa::{
    OpenApi,
    openapi::{
        self, ContentBuilder, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        path::Operation,
        schema::{ObjectBuilder, Type},
        security::{Http, HttpAuthScheme, SecurityScheme},
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    GatewayState, auth, errors, export, health, insights, instances, jobs, mirrors, pairs,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Mirror Maestro REST API",
        description = "REST/JSON API of Mirror Maestro, which orchestrates GitLab repository \
mirrors across pairs of GitLab instances.\n\n\
**Authentication**: `Authorization: Bearer <token>` (from `POST /api/auth/login`) or HTTP Basic.\n\n\
**Errors**: every error has the JSON body `ErrorBody` (`code`, `message`, `detail`, \
`field_violations`, `request_id`). Malformed JSON is 400; JSON of the wrong shape (wrong \
types, unknown or missing fields) and bad path or query parameters are 422; input rejected \
by the service (empty name, bad URL, duplicate, ...) is 400 or 409.\n\n\
**Lists** return a JSON array. Pagination: `page` (1-based) and `per_page` (1-200, default \
50; mirrors and jobs call it `page_size` and accept both), or `page_token` from the previous \
response; the total is in `X-Total-Count` and the next page in `Link` (`rel=\"next\"`) and \
`X-Next-Page-Token`.\n\n\
**Updates**: `PUT` and `PATCH` both change only the keys present in the body; `null` \
clears optional fields.\n\n\
**Jobs**: every operation that changes GitLab runs as a job. Such requests answer \
`202 Accepted` with the job and `Location: /api/jobs/{id}`; follow it with \
`GET /api/jobs/{id}` or the event stream `GET /api/jobs/{id}/events`.\n\n\
**Request ids**: send `X-Request-ID` (1-128 characters of `[A-Za-z0-9._:-]`) or get a \
generated one back in the same header.",
        license(name = "MIT", identifier = "MIT"),
    ),
    components(schemas(errors::ErrorBody, errors::FieldViolationBody)),
    tags(
        (name = "auth", description = "Log-in and the current user"),
        (name = "instances", description = "GitLab instances"),
        (name = "pairs", description = "Source/target instance pairs"),
        (name = "mirrors", description = "Mirrors between projects of a pair"),
        (name = "export", description = "Export and import of a pair's mirrors"),
        (name = "jobs", description = "Jobs doing the work in GitLab, and their progress"),
        (name = "health", description = "Health and product information"),
        (name = "dashboard", description = "Read models of the console's dashboard"),
        (name = "topology", description = "The graph of instances and mirror flows, with health"),
        (name = "search", description = "Search over instances, pairs and mirrors"),
    )
)]
struct ApiDoc;

/// The REST routes together with their OpenAPI description.
pub(crate) fn api_router() -> OpenApiRouter<GatewayState> {
    let (regular, bulk) = api_routers();
    regular.merge(bulk)
}

/// The REST routes in two groups: the regular ones, and the bulk ones (imports) that accept
/// larger bodies.
pub(crate) fn api_routers() -> (OpenApiRouter<GatewayState>, OpenApiRouter<GatewayState>) {
    let regular = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(auth::login))
        .routes(routes!(auth::me))
        .routes(routes!(
            instances::list_instances,
            instances::create_instance
        ))
        .routes(routes!(
            instances::get_instance,
            instances::put_instance,
            instances::patch_instance,
            instances::delete_instance
        ))
        .routes(routes!(mirrors::projects::search_projects))
        .routes(routes!(mirrors::projects::search_groups))
        .routes(routes!(pairs::list_pairs, pairs::create_pair))
        .routes(routes!(
            pairs::get_pair,
            pairs::put_pair,
            pairs::patch_pair,
            pairs::delete_pair
        ))
        .routes(routes!(mirrors::actions::sync_pair_mirrors))
        .routes(routes!(mirrors::actions::refresh_pair_status))
        .routes(routes!(
            mirrors::handlers::list_mirrors,
            mirrors::handlers::create_mirror
        ))
        .routes(routes!(mirrors::handlers::mirror_tree))
        .routes(routes!(
            mirrors::handlers::get_mirror,
            mirrors::handlers::put_mirror,
            mirrors::handlers::patch_mirror,
            mirrors::handlers::delete_mirror
        ))
        .routes(routes!(mirrors::actions::update_now))
        .routes(routes!(mirrors::actions::sync_mirror))
        .routes(routes!(mirrors::actions::rotate_token))
        .routes(routes!(mirrors::actions::refresh_status))
        .routes(routes!(
            mirrors::actions::verify,
            mirrors::actions::verify_get
        ))
        .routes(routes!(export::export_pair))
        .routes(routes!(jobs::list_jobs))
        .routes(routes!(jobs::get_job))
        .routes(routes!(jobs::list_job_items))
        .routes(routes!(jobs::cancel_job))
        .routes(routes!(jobs::retry_job))
        .routes(routes!(jobs::events::job_events))
        .routes(routes!(health::quick))
        .routes(routes!(health::health))
        .routes(routes!(health::about))
        .routes(routes!(insights::dashboard::metrics))
        .routes(routes!(insights::dashboard::quick_stats))
        .routes(routes!(insights::topology::topology))
        .routes(routes!(insights::topology::link_mirrors))
        .routes(routes!(insights::search::search));
    let bulk = OpenApiRouter::new()
        .routes(routes!(export::import_pair))
        .routes(routes!(export::import_pair_alias));
    (regular, bulk)
}

/// The OpenAPI document of the REST API.
pub fn openapi() -> openapi::OpenApi {
    let (_, document) = api_router().split_for_parts();
    finish(document)
}

/// Adds security schemes and the shared error responses.
pub(crate) fn finish(mut document: openapi::OpenApi) -> openapi::OpenApi {
    let components = document.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some("Token from `POST /api/auth/login`."))
                .build(),
        ),
    );
    components.add_security_scheme(
        "basic",
        SecurityScheme::Http(
            Http::builder()
                .scheme(HttpAuthScheme::Basic)
                .description(Some("Username and password of a Mirror Maestro user."))
                .build(),
        ),
    );
    for (name, description) in ERROR_RESPONSES {
        let mut response = ResponseBuilder::new().description(*description).content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        );
        if *name == "Unauthorized" {
            response = response.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
                    .description(Some("`Bearer realm=\"mirror-maestro\"`"))
                    .build(),
            );
        }
        components
            .responses
            .insert((*name).to_owned(), RefOr::T(response.build()));
    }

    for item in document.paths.paths.values_mut() {
        for operation in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_error_responses(operation);
        }
    }
    document
}

const ERROR_RESPONSES: &[(&str, &str)] = &[
    (
        "BadRequest",
        "Malformed request, or input rejected by the service",
    ),
    ("Unauthorized", "Missing or invalid credentials"),
    ("Forbidden", "Authenticated but not allowed"),
    ("NotFound", "No such resource"),
    (
        "Conflict",
        "Conflicts with existing data (for example a duplicate name)",
    ),
    ("PayloadTooLarge", "Request body too large"),
    ("UnsupportedMediaType", "Request body is not JSON"),
    (
        "UnprocessableEntity",
        "JSON or parameters of the wrong shape; names the field",
    ),
    ("TooManyRequests", "Rate limited"),
    ("InternalError", "Unexpected failure"),
    ("ServiceUnavailable", "The API service is unavailable"),
    ("GatewayTimeout", "The API service did not answer in time"),
    ("Error", "Any other error"),
];

fn add_error_responses(operation: &mut Operation) {
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    let has_body = operation.request_body.is_some();
    let mut add = |status: &str, name: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
    };
    add("400", "BadRequest");
    if secured {
        add("401", "Unauthorized");
        add("403", "Forbidden");
    }
    add("404", "NotFound");
    add("409", "Conflict");
    if has_body {
        add("413", "PayloadTooLarge");
        add("415", "UnsupportedMediaType");
    }
    add("422", "UnprocessableEntity");
    add("429", "TooManyRequests");
    add("500", "InternalError");
    add("503", "ServiceUnavailable");
    add("504", "GatewayTimeout");
    add("default", "Error");
}
