//! Global search over instances, pairs and mirrors: one indexed, limited query per kind.

use mm_common::ApiError;
use mm_proto::v1;
use tonic::{Response, Status};

use crate::{ApiContext, convert::direction, errors::internal, validation::Violations};

use super::params;

fn lifecycle(value: mm_storage::MirrorLifecycle) -> v1::MirrorLifecycle {
    match value {
        mm_storage::MirrorLifecycle::Creating => v1::MirrorLifecycle::Creating,
        mm_storage::MirrorLifecycle::Ready => v1::MirrorLifecycle::Ready,
        mm_storage::MirrorLifecycle::CreateFailed => v1::MirrorLifecycle::CreateFailed,
        mm_storage::MirrorLifecycle::Deleting => v1::MirrorLifecycle::Deleting,
    }
}

pub(super) async fn search(
    ctx: &ApiContext,
    request: v1::SearchRequest,
) -> Result<Response<v1::SearchResponse>, Status> {
    let mut violations = Violations::default();
    let query = violations.check(params::search_query(&request.query));
    let limit = violations.check(params::search_limit(request.limit));
    violations.finish()?;
    let (Some(query), Some(limit)) = (query, limit) else {
        return Err(ApiError::internal().into());
    };
    let hits = ctx
        .storage()
        .search_everything(&query, limit)
        .await
        .map_err(|error| Status::from(internal("search failed", error)))?;
    Ok(Response::new(v1::SearchResponse {
        instances: hits
            .instances
            .into_iter()
            .map(|hit| v1::InstanceSearchHit {
                id: hit.id,
                name: hit.name,
                url: hit.url,
            })
            .collect(),
        pairs: hits
            .pairs
            .into_iter()
            .map(|hit| v1::PairSearchHit {
                id: hit.id,
                name: hit.name,
                mirror_direction: direction(hit.mirror_direction) as i32,
            })
            .collect(),
        mirrors: hits
            .mirrors
            .into_iter()
            .map(|hit| v1::MirrorSearchHit {
                id: hit.id,
                pair_id: hit.pair_id,
                source_project_path: hit.source_project_path,
                target_project_path: hit.target_project_path,
                last_update_status: hit.last_update_status.unwrap_or_default(),
                lifecycle: lifecycle(hit.lifecycle) as i32,
            })
            .collect(),
        more_instances: hits.more_instances,
        more_pairs: hits.more_pairs,
        more_mirrors: hits.more_mirrors,
    }))
}
