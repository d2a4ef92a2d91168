//! Read models of the web console: `DashboardService`, `TopologyService` and
//! `SearchService` (`insights.proto`).
//!
//! Everything is aggregated in the database with the indexes of the read-model migration;
//! the handlers fold at most a few rows per pair, never the mirrors themselves.
//! Mirror figures judge ready mirrors (set up in GitLab): a mirror still being created, whose
//! creation failed, or being deleted has no GitLab status worth judging, and the dashboard
//! reports those per lifecycle instead.

mod dashboard;
mod params;
mod search;
mod topology;

use std::time::Duration;

use chrono::Utc;
use mm_common::ApiError;
use mm_proto::v1::{
    self, dashboard_service_server::DashboardService, search_service_server::SearchService,
    topology_service_server::TopologyService,
};
use mm_storage::{LinkMirrorQuery, QuickStatsQuery};
use tonic::{Request, Response, Status};

use crate::{
    ApiContext,
    convert::timestamp,
    errors::internal,
    validation::{self, Violations},
};

/// Quick stats: a "syncing" status counts when read within this window, a failure when it
/// happened within the other; at most this many syncing ids are returned.
const SYNCING_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
const FAILURE_WINDOW: chrono::Duration = chrono::Duration::hours(1);
const SYNCING_ID_LIMIT: u32 = 100;

fn storage_failure(error: mm_storage::StorageError) -> Status {
    internal("read model query failed", error).into()
}

pub(crate) struct DashboardServiceImpl {
    ctx: ApiContext,
}

impl DashboardServiceImpl {
    pub(crate) fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }

    fn refresh_interval(&self) -> Duration {
        Duration::from_secs(self.ctx.settings().status_refresh_interval_secs)
    }
}

#[tonic::async_trait]
impl DashboardService for DashboardServiceImpl {
    async fn get_dashboard_metrics(
        &self,
        _request: Request<v1::GetDashboardMetricsRequest>,
    ) -> Result<Response<v1::GetDashboardMetricsResponse>, Status> {
        let storage = self.ctx.storage();
        let now = Utc::now();
        let interval = self.refresh_interval();
        let window = dashboard::fresh_window(interval);
        let fresh_since =
            now - chrono::Duration::from_std(window).unwrap_or(chrono::Duration::MAX / 2);
        let (groups, fresh, graph, activity, rounds) = tokio::try_join!(
            storage.mirror_status_groups(None),
            storage.mirror_freshness(fresh_since),
            storage.read_model_graph(),
            storage.recent_activity(
                now - dashboard::ACTIVITY_WINDOW,
                mm_worker::scheduler::JOB_KIND,
                dashboard::ACTIVITY_LIMIT,
            ),
            storage
                .status_refresh_rounds(mm_worker::scheduler::JOB_KIND, mm_worker::scheduler::LEASE),
        )
        .map_err(storage_failure)?;
        let (summary, health, lifecycle, mut freshness) =
            dashboard::counts(&groups, &fresh, &graph, window);
        freshness.auto_refresh = Some(dashboard::auto_refresh(&rounds, interval, now));
        Ok(Response::new(v1::GetDashboardMetricsResponse {
            summary: Some(summary),
            health: Some(health),
            lifecycle: Some(lifecycle),
            status_freshness: Some(freshness),
            recent_activity: activity.iter().map(dashboard::activity).collect(),
            mirrors_by_pair: dashboard::mirrors_by_pair(&groups, &graph),
            generate_time: Some(timestamp(now)),
        }))
    }

    async fn get_quick_stats(
        &self,
        _request: Request<v1::GetQuickStatsRequest>,
    ) -> Result<Response<v1::GetQuickStatsResponse>, Status> {
        let now = Utc::now();
        let stats = self
            .ctx
            .storage()
            .mirror_quick_stats(&QuickStatsQuery {
                syncing_checked_since: now - SYNCING_WINDOW,
                failed_since: now - FAILURE_WINDOW,
                id_limit: SYNCING_ID_LIMIT,
            })
            .await
            .map_err(storage_failure)?;
        Ok(Response::new(v1::GetQuickStatsResponse {
            syncing_count: stats.syncing_count,
            recent_failures: stats.recent_failures,
            syncing_mirror_ids: stats.syncing_mirror_ids,
            timestamp: Some(timestamp(now)),
        }))
    }
}

pub(crate) struct TopologyServiceImpl {
    ctx: ApiContext,
}

impl TopologyServiceImpl {
    pub(crate) fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }
}

#[tonic::async_trait]
impl TopologyService for TopologyServiceImpl {
    async fn get_topology(
        &self,
        request: Request<v1::GetTopologyRequest>,
    ) -> Result<Response<v1::GetTopologyResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let pair_id = violations.check(validation::id_filter("pair_id", request.pair_id));
        let rules = params::staleness_rules(
            &mut violations,
            request.stale_warning_seconds,
            request.stale_error_seconds,
            request.never_succeeded_level,
        );
        violations.finish()?;
        let (Some(pair_id), Some(rules)) = (pair_id, rules) else {
            return Err(ApiError::internal().into());
        };
        let now = Utc::now();
        let storage = self.ctx.storage();
        let (groups, successes, graph) = tokio::try_join!(
            storage.mirror_status_groups(pair_id),
            storage.pair_last_successes(),
            storage.read_model_graph(),
        )
        .map_err(storage_failure)?;
        Ok(Response::new(topology::build(
            &graph, &groups, &successes, pair_id, &rules, now,
        )))
    }

    async fn list_link_mirrors(
        &self,
        request: Request<v1::ListLinkMirrorsRequest>,
    ) -> Result<Response<v1::ListLinkMirrorsResponse>, Status> {
        let request = request.into_inner();
        let mut violations = Violations::default();
        let source = violations.check(validation::id(
            "source_instance_id",
            request.source_instance_id,
        ));
        let target = violations.check(validation::id(
            "target_instance_id",
            request.target_instance_id,
        ));
        let direction = violations.check(validation::direction(
            "mirror_direction",
            request.mirror_direction,
        ));
        let pair_id = violations.check(validation::id_filter("pair_id", request.pair_id));
        let limit = violations.check(validation::page_size_within(
            request.page_size,
            params::LINK_DEFAULT_PAGE_SIZE,
            params::LINK_MAX_PAGE_SIZE,
        ));
        let offset = violations.check(params::offset(request.offset));
        let rules = params::staleness_rules(
            &mut violations,
            request.stale_warning_seconds,
            request.stale_error_seconds,
            request.never_succeeded_level,
        );
        violations.finish()?;
        let (
            Some(source_instance_id),
            Some(target_instance_id),
            Some(direction),
            Some(pair_id),
            Some(limit),
            Some(offset),
            Some(rules),
        ) = (source, target, direction, pair_id, limit, offset, rules)
        else {
            return Err(ApiError::internal().into());
        };
        let page = self
            .ctx
            .storage()
            .link_mirrors(&LinkMirrorQuery {
                source_instance_id,
                target_instance_id,
                direction,
                pair_id,
                include_disabled: request.include_disabled.unwrap_or(true),
                rules,
                now: Utc::now(),
                limit,
                offset,
            })
            .await
            .map_err(storage_failure)?;
        Ok(Response::new(v1::ListLinkMirrorsResponse {
            total_size: page.total,
            mirrors: page
                .mirrors
                .into_iter()
                .map(|m| v1::LinkMirror {
                    id: m.id,
                    pair_id: m.pair_id,
                    pair_name: m.pair_name,
                    source_project_path: m.source_project_path,
                    target_project_path: m.target_project_path,
                    mirror_direction: crate::convert::direction(m.mirror_direction) as i32,
                    enabled: m.enabled,
                    last_update_status: m.last_update_status.unwrap_or_default(),
                    never_succeeded: m.last_successful_update_time.is_none(),
                    last_successful_update: m.last_successful_update_time.map(timestamp),
                    staleness: topology::health(m.staleness) as i32,
                    staleness_age_seconds: m.staleness_age_seconds,
                    health: topology::health(m.health) as i32,
                })
                .collect(),
        }))
    }
}

pub(crate) struct SearchServiceImpl {
    ctx: ApiContext,
}

impl SearchServiceImpl {
    pub(crate) fn new(ctx: ApiContext) -> Self {
        Self { ctx }
    }
}

#[tonic::async_trait]
impl SearchService for SearchServiceImpl {
    async fn search(
        &self,
        request: Request<v1::SearchRequest>,
    ) -> Result<Response<v1::SearchResponse>, Status> {
        search::search(&self.ctx, request.into_inner()).await
    }
}
