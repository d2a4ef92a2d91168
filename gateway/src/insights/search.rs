//! `GET /api/search`: instances, pairs and mirrors at once, for the console's search box.

use axum::extract::State;
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{direction, direction_name, rest_field};
use crate::{
    GatewayState,
    errors::GatewayError,
    extract::{Json, Query},
    grpc::Forward,
    mirrors::Lifecycle,
};

/// One result. `title` and `subtitle` are plain text built from names and paths: render them
/// as text, never as HTML.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchItem {
    /// `instance`, `pair` or `mirror`.
    #[serde(rename = "type")]
    #[schema(example = "mirror")]
    pub kind: String,
    pub id: i64,
    /// Instance or pair name; `source → target` for a mirror.
    pub title: String,
    /// Instance URL; `push mirror`/`pull mirror` for a pair; `Status: <status>` for a mirror.
    pub subtitle: String,
    /// The resource in the REST API.
    #[schema(example = "/api/mirrors/12")]
    pub url: String,
    /// For mirrors: the pair the mirror belongs to.
    pub instance_pair_id: Option<i64>,
    /// For mirrors: GitLab's update status (`null` before the first check).
    pub status: Option<String>,
    /// For mirrors: where the mirror is in its life on GitLab.
    pub lifecycle: Option<Lifecycle>,
}

/// Whether more results of a kind matched than were returned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchMore {
    pub instances: bool,
    pub pairs: bool,
    pub mirrors: bool,
}

/// Results by kind, each ordered by name (paths for mirrors).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// The query as searched (trimmed).
    pub query: String,
    /// Results returned over the three kinds.
    pub total_count: i64,
    pub instances: Vec<SearchItem>,
    pub pairs: Vec<SearchItem>,
    pub mirrors: Vec<SearchItem>,
    pub more: SearchMore,
}

/// Query of `GET /api/search`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Text to find (1-200 characters): a case-insensitive substring of instance names, URLs
    /// and descriptions, pair names and descriptions, and mirror source or target paths.
    #[param(min_length = 1, max_length = 200, required = true)]
    pub q: Option<String>,
    /// Results per kind, 1-50 (default 10).
    #[serde(default, deserialize_with = "crate::common::blank_as_none")]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

/// Instances, pairs and mirrors as items.
type Items = (Vec<SearchItem>, Vec<SearchItem>, Vec<SearchItem>);

fn items(response: pb::SearchResponse) -> Result<Items, GatewayError> {
    let instances = response
        .instances
        .into_iter()
        .map(|i| SearchItem {
            kind: "instance".into(),
            id: i.id,
            title: i.name,
            subtitle: i.url,
            url: format!("/api/instances/{}", i.id),
            instance_pair_id: None,
            status: None,
            lifecycle: None,
        })
        .collect();
    let pairs = response
        .pairs
        .into_iter()
        .map(|p| {
            Ok(SearchItem {
                kind: "pair".into(),
                id: p.id,
                title: p.name,
                subtitle: format!("{} mirror", direction_name(direction(p.mirror_direction)?)),
                url: format!("/api/pairs/{}", p.id),
                instance_pair_id: None,
                status: None,
                lifecycle: None,
            })
        })
        .collect::<Result<_, GatewayError>>()?;
    let mirrors = response
        .mirrors
        .into_iter()
        .map(|m| {
            let status = Some(m.last_update_status).filter(|s| !s.is_empty());
            SearchItem {
                kind: "mirror".into(),
                id: m.id,
                title: format!("{} → {}", m.source_project_path, m.target_project_path),
                subtitle: format!("Status: {}", status.as_deref().unwrap_or("unknown")),
                url: format!("/api/mirrors/{}", m.id),
                instance_pair_id: Some(m.pair_id),
                status,
                lifecycle: Lifecycle::from_proto(m.lifecycle),
            }
        })
        .collect();
    Ok((instances, pairs, mirrors))
}

/// Search instances, pairs and mirrors.
///
/// Case-insensitive (ASCII) substring search; up to `limit` results of each kind.
#[utoipa::path(
    get, path = "/api/search", tag = "search", operation_id = "search",
    params(SearchQuery),
    responses((status = 200, description = "Results by kind", body = SearchResults)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn search(
    State(state): State<GatewayState>,
    forward: Forward,
    Query(query): Query<SearchQuery>,
) -> Result<Json<SearchResults>, GatewayError> {
    let q = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .ok_or_else(|| GatewayError::unprocessable("q", "is required and must not be blank"))?
        .to_owned();
    if query.limit.is_some_and(|limit| !(1..=50).contains(&limit)) {
        return Err(GatewayError::unprocessable(
            "limit",
            "must be between 1 and 50",
        ));
    }
    let response = state
        .api()
        .search()
        .search(forward.request(pb::SearchRequest {
            query: q.clone(),
            limit: query.limit.map_or(0, |limit| limit as i32),
        }))
        .await
        .map_err(|status| GatewayError::from(status).rename_fields(rest_field))?
        .into_inner();
    let more = SearchMore {
        instances: response.more_instances,
        pairs: response.more_pairs,
        mirrors: response.more_mirrors,
    };
    let (instances, pairs, mirrors) = items(response)?;
    Ok(Json(SearchResults {
        query: q,
        total_count: i64::try_from(instances.len() + pairs.len() + mirrors.len())
            .unwrap_or(i64::MAX),
        instances,
        pairs,
        mirrors,
        more,
    }))
}
