//! `GET /api/topology` and `GET /api/topology/link-mirrors`.

use std::collections::BTreeMap;

use axum::extract::State;
use chrono::{DateTime, Utc};
use mm_proto::v1 as pb;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{HealthSeverity, NeverSucceededLevel, direction, direction_to_proto, rest_field, time};
use crate::{
    GatewayState,
    common::{self, check_ids},
    errors::GatewayError,
    extract::{Json, Query},
    grpc::Forward,
    pairs::MirrorDirection,
};

/// An instance with the ready mirrors flowing in and out of it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopologyNode {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub description: String,
    /// Mirrors whose target is this instance.
    pub mirrors_in: i64,
    /// Mirrors whose source is this instance.
    pub mirrors_out: i64,
    pub pairs_in: i64,
    pub pairs_out: i64,
    /// Mirrors by GitLab status (`unknown`: never checked); each mirror counts toward both
    /// of its instances.
    pub status_counts: BTreeMap<String, i64>,
    /// Newest successful update of its mirrors.
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_successful_update: Option<DateTime<Utc>>,
    /// The worse of the status health (any failed: error; any pending: warning; any
    /// success: ok) and the staleness.
    pub health: HealthSeverity,
    pub staleness: HealthSeverity,
    /// Age of `last_successful_update` in seconds.
    pub staleness_age_seconds: Option<i64>,
    pub never_succeeded_count: i64,
}

/// The ready mirrors of every pair from `source` to `target` in one direction. The arrow
/// always points from source to target.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TopologyLink {
    /// Source instance id.
    pub source: i64,
    /// Target instance id.
    pub target: i64,
    pub mirror_direction: MirrorDirection,
    pub mirror_count: i64,
    pub enabled_count: i64,
    pub disabled_count: i64,
    pub pair_count: i64,
    /// The pairs of the link.
    pub pair_ids: Vec<i64>,
    pub status_counts: BTreeMap<String, i64>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_successful_update: Option<DateTime<Utc>>,
    pub health: HealthSeverity,
    pub staleness: HealthSeverity,
    pub staleness_age_seconds: Option<i64>,
    pub never_succeeded_count: i64,
}

/// The topology graph.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Topology {
    /// Every instance, by lower-case name.
    pub nodes: Vec<TopologyNode>,
    /// By source, target and direction.
    pub links: Vec<TopologyLink>,
}

/// A mirror of a link with its health.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkMirror {
    pub id: i64,
    pub instance_pair_id: i64,
    pub instance_pair_name: String,
    pub source_project_path: String,
    pub target_project_path: String,
    pub mirror_direction: MirrorDirection,
    pub enabled: bool,
    /// GitLab's update status; `null` before the first check.
    pub last_update_status: Option<String>,
    #[serde(serialize_with = "common::serialize_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_successful_update: Option<DateTime<Utc>>,
    pub never_succeeded: bool,
    /// For a mirror that never succeeded: the never-succeeded level.
    pub staleness: HealthSeverity,
    pub staleness_age_seconds: Option<i64>,
    pub health: HealthSeverity,
}

/// A page of a link's mirrors.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LinkMirrors {
    /// Mirrors of the link matching the filter, over all pages.
    pub total: i64,
    /// Worst health first, then oldest success (never succeeded last), pair id, id.
    pub mirrors: Vec<LinkMirror>,
}

/// Query of `GET /api/topology`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopologyQuery {
    /// Only the mirrors of this pair (every instance stays a node).
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 1)]
    pub instance_pair_id: Option<i64>,
    /// Age in seconds of the newest successful update from which a node, link or mirror is
    /// a warning (default 86400, one day); 0 turns the level off.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 0, maximum = 315_360_000)]
    pub stale_warning_seconds: Option<i64>,
    /// Age from which it is an error (default 604800, seven days); 0 turns the level off;
    /// otherwise not below the warning age.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 0, maximum = 315_360_000)]
    pub stale_error_seconds: Option<i64>,
    /// Level when every mirror never succeeded: `warning` (default) or `error`.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(value_type = Option<NeverSucceededLevel>, inline)]
    pub never_succeeded_level: Option<NeverSucceededLevel>,
}

/// Query of `GET /api/topology/link-mirrors`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkMirrorsQuery {
    /// Source instance of the link (required).
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 1, required = true)]
    pub source_instance_id: Option<i64>,
    /// Target instance of the link (required).
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 1, required = true)]
    pub target_instance_id: Option<i64>,
    /// `push` or `pull` (required).
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(value_type = MirrorDirection, required = true)]
    pub mirror_direction: Option<String>,
    /// Only this pair of the link.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 1)]
    pub instance_pair_id: Option<i64>,
    /// Include disabled mirrors (default true).
    #[serde(default, deserialize_with = "common::blank_as_none")]
    pub include_disabled: Option<bool>,
    /// Page size, 1-500 (default 200).
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// Mirrors to skip, 0-1000000.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 0, maximum = 1_000_000)]
    pub offset: Option<u32>,
    /// Age in seconds of the newest successful update from which a node, link or mirror is
    /// a warning (default 86400, one day); 0 turns the level off.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 0, maximum = 315_360_000)]
    pub stale_warning_seconds: Option<i64>,
    /// Age from which it is an error (default 604800, seven days); 0 turns the level off;
    /// otherwise not below the warning age.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(minimum = 0, maximum = 315_360_000)]
    pub stale_error_seconds: Option<i64>,
    /// Level when every mirror never succeeded: `warning` (default) or `error`.
    #[serde(default, deserialize_with = "common::blank_as_none")]
    #[param(value_type = Option<NeverSucceededLevel>, inline)]
    pub never_succeeded_level: Option<NeverSucceededLevel>,
}

fn node(n: pb::TopologyNode) -> TopologyNode {
    TopologyNode {
        id: n.id,
        name: n.name,
        url: n.url,
        description: n.description,
        mirrors_in: n.mirrors_in,
        mirrors_out: n.mirrors_out,
        pairs_in: n.pairs_in,
        pairs_out: n.pairs_out,
        status_counts: n.status_counts.into_iter().collect(),
        last_successful_update: time(n.last_successful_update),
        health: HealthSeverity::of(n.health),
        staleness: HealthSeverity::of(n.staleness),
        staleness_age_seconds: n.staleness_age_seconds,
        never_succeeded_count: n.never_succeeded_count,
    }
}

fn link(l: pb::TopologyLink) -> Result<TopologyLink, GatewayError> {
    Ok(TopologyLink {
        source: l.source_instance_id,
        target: l.target_instance_id,
        mirror_direction: direction(l.mirror_direction)?,
        mirror_count: l.mirror_count,
        enabled_count: l.enabled_count,
        disabled_count: l.disabled_count,
        pair_count: l.pair_count,
        pair_ids: l.pair_ids,
        status_counts: l.status_counts.into_iter().collect(),
        last_successful_update: time(l.last_successful_update),
        health: HealthSeverity::of(l.health),
        staleness: HealthSeverity::of(l.staleness),
        staleness_age_seconds: l.staleness_age_seconds,
        never_succeeded_count: l.never_succeeded_count,
    })
}

fn link_mirror(m: pb::LinkMirror) -> Result<LinkMirror, GatewayError> {
    Ok(LinkMirror {
        id: m.id,
        instance_pair_id: m.pair_id,
        instance_pair_name: m.pair_name,
        source_project_path: m.source_project_path,
        target_project_path: m.target_project_path,
        mirror_direction: direction(m.mirror_direction)?,
        enabled: m.enabled,
        last_update_status: Some(m.last_update_status).filter(|s| !s.is_empty()),
        last_successful_update: time(m.last_successful_update),
        never_succeeded: m.never_succeeded,
        staleness: HealthSeverity::of(m.staleness),
        staleness_age_seconds: m.staleness_age_seconds,
        health: HealthSeverity::of(m.health),
    })
}

/// The topology graph.
///
/// Nodes are instances, links aggregate the ready mirrors of every pair per (source, target,
/// direction), both with health from the mirrors' statuses and the age of their newest
/// successful update.
#[utoipa::path(
    get, path = "/api/topology", tag = "topology", operation_id = "topology",
    params(TopologyQuery),
    responses((status = 200, description = "Nodes and links", body = Topology)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn topology(
    State(state): State<GatewayState>,
    forward: Forward,
    Query(query): Query<TopologyQuery>,
) -> Result<Json<Topology>, GatewayError> {
    check_ids(&[("instance_pair_id", query.instance_pair_id)])?;
    let response = state
        .api()
        .topology()
        .get_topology(forward.request(pb::GetTopologyRequest {
            pair_id: query.instance_pair_id.unwrap_or(0),
            stale_warning_seconds: query.stale_warning_seconds,
            stale_error_seconds: query.stale_error_seconds,
            never_succeeded_level: NeverSucceededLevel::filter(query.never_succeeded_level),
        }))
        .await
        .map_err(|status| GatewayError::from(status).rename_fields(rest_field))?
        .into_inner();
    Ok(Json(Topology {
        nodes: response.nodes.into_iter().map(node).collect(),
        links: response
            .links
            .into_iter()
            .map(link)
            .collect::<Result<_, _>>()?,
    }))
}

/// The mirrors of one topology link.
///
/// Ready mirrors of the link's pairs, worst health first, then oldest success (mirrors
/// that never succeeded last within a health level), then pair and id.
#[utoipa::path(
    get, path = "/api/topology/link-mirrors", tag = "topology", operation_id = "topology_link_mirrors",
    params(LinkMirrorsQuery),
    responses((status = 200, description = "A page of the link's mirrors", body = LinkMirrors)),
    security(("bearer" = []), ("basic" = []))
)]
pub async fn link_mirrors(
    State(state): State<GatewayState>,
    forward: Forward,
    Query(query): Query<LinkMirrorsQuery>,
) -> Result<Json<LinkMirrors>, GatewayError> {
    let required = |field: &str, value: Option<i64>| {
        value.ok_or_else(|| GatewayError::unprocessable(field, "is required"))
    };
    let source = required("source_instance_id", query.source_instance_id)?;
    let target = required("target_instance_id", query.target_instance_id)?;
    let mirror_direction = query
        .mirror_direction
        .as_deref()
        .ok_or_else(|| GatewayError::unprocessable("mirror_direction", "is required"))?;
    let mirror_direction = MirrorDirection::parse(mirror_direction).ok_or_else(|| {
        GatewayError::unprocessable("mirror_direction", "must be \"push\" or \"pull\"")
    })?;
    check_ids(&[
        ("source_instance_id", Some(source)),
        ("target_instance_id", Some(target)),
        ("instance_pair_id", query.instance_pair_id),
    ])?;
    if query.limit.is_some_and(|limit| !(1..=500).contains(&limit)) {
        return Err(GatewayError::unprocessable(
            "limit",
            "must be between 1 and 500",
        ));
    }
    let response = state
        .api()
        .topology()
        .list_link_mirrors(forward.request(pb::ListLinkMirrorsRequest {
            source_instance_id: source,
            target_instance_id: target,
            mirror_direction: direction_to_proto(mirror_direction) as i32,
            pair_id: query.instance_pair_id.unwrap_or(0),
            include_disabled: query.include_disabled,
            page_size: query.limit.map_or(0, |limit| limit as i32),
            offset: i64::from(query.offset.unwrap_or(0)),
            stale_warning_seconds: query.stale_warning_seconds,
            stale_error_seconds: query.stale_error_seconds,
            never_succeeded_level: NeverSucceededLevel::filter(query.never_succeeded_level),
        }))
        .await
        .map_err(|status| GatewayError::from(status).rename_fields(rest_field))?
        .into_inner();
    Ok(Json(LinkMirrors {
        total: response.total_size,
        mirrors: response
            .mirrors
            .into_iter()
            .map(link_mirror)
            .collect::<Result<_, _>>()?,
    }))
}
