//! `ListMirrors`, `GetMirror` and `GetMirrorTree`.

use std::collections::HashMap;

use chrono::Utc;
use mm_common::ApiError;
use mm_proto::v1;
use mm_storage::{Mirror, MirrorFilter, Pair};

use super::{convert, load_mirror, storage_failure, validation as mv};
use crate::{
    ApiContext,
    paging::OffsetPaging,
    validation::{self, Violations},
};

pub(super) async fn list(
    ctx: &ApiContext,
    request: v1::ListMirrorsRequest,
) -> Result<v1::ListMirrorsResponse, ApiError> {
    let mut violations = Violations::default();
    let limit = violations.check(validation::page_size(request.page_size));
    let pair_id = violations.check(validation::id_filter("pair_id", request.pair_id));
    let status = violations.check(validation::text_filter(
        "status",
        &request.status,
        mv::STATUS_MAX_CHARS,
    ));
    let search = violations.check(validation::search(&request.search));
    let token_status = violations.check(mv::token_status(request.token_status));
    let group_prefix = violations.check(mv::group_prefix(&request.group_prefix));
    let lifecycle = violations.check(mv::lifecycle(request.lifecycle));
    let order = violations.check(mv::order_by(&request.order_by));
    let filter_key = [
        request.pair_id.to_string(),
        status.clone().flatten().unwrap_or_default(),
        format!("{:?}", request.enabled),
        search.clone().flatten().unwrap_or_default(),
        request.token_status.to_string(),
        group_prefix.clone().flatten().unwrap_or_default(),
        request.lifecycle.to_string(),
        order
            .as_ref()
            .map(|o| format!("{:?} {}", o.sort, o.descending))
            .unwrap_or_default(),
    ];
    let paging = limit.and_then(|limit| {
        let filters: Vec<&str> = filter_key.iter().map(String::as_str).collect();
        violations.check(OffsetPaging::new(
            "mirrors",
            &filters,
            limit,
            &request.page_token,
            request.page,
        ))
    });
    violations.finish()?;
    let (
        Some(pair_id),
        Some(status),
        Some(search),
        Some(token_status),
        Some(group_prefix),
        Some(lifecycle),
        Some(order),
        Some(paging),
    ) = (
        pair_id,
        status,
        search,
        token_status,
        group_prefix,
        lifecycle,
        order,
        paging,
    )
    else {
        return Err(ApiError::internal());
    };

    let now = Utc::now();
    let filter = MirrorFilter {
        pair_id,
        status,
        enabled: request.enabled,
        lifecycle,
        search,
        token_status,
        group_prefix,
        now: Some(now),
    };
    let params = mm_storage::MirrorListParams {
        offset: paging.offset,
        limit: paging.limit,
        ..order
    };
    let page = ctx
        .storage()
        .list_mirrors(&filter, &params)
        .await
        .map_err(storage_failure)?;
    let pairs = pairs_of(ctx, &page.items).await?;
    Ok(v1::ListMirrorsResponse {
        mirrors: page
            .items
            .iter()
            .map(|mirror| convert::mirror(mirror, pairs.get(&mirror.pair_id), now))
            .collect(),
        next_page_token: paging.next_token(page.items.len(), page.total),
        total_size: page.total,
    })
}

/// The pairs of `mirrors`, each read once (a page rarely spans more than a few pairs).
async fn pairs_of(ctx: &ApiContext, mirrors: &[Mirror]) -> Result<HashMap<i64, Pair>, ApiError> {
    let mut pairs = HashMap::new();
    for mirror in mirrors {
        if pairs.contains_key(&mirror.pair_id) {
            continue;
        }
        if let Some(pair) = ctx
            .storage()
            .get_pair(mirror.pair_id)
            .await
            .map_err(storage_failure)?
        {
            pairs.insert(pair.id, pair);
        }
    }
    Ok(pairs)
}

pub(super) async fn get(ctx: &ApiContext, id: i64) -> Result<v1::GetMirrorResponse, ApiError> {
    let id = validation::require_id("id", id)?;
    let mirror = load_mirror(ctx, id).await?;
    Ok(v1::GetMirrorResponse {
        mirror: Some(with_pair(ctx, &mirror).await?),
    })
}

/// The message of `mirror` with the effective settings of its pair.
pub(super) async fn with_pair(ctx: &ApiContext, mirror: &Mirror) -> Result<v1::Mirror, ApiError> {
    let pair = ctx
        .storage()
        .get_pair(mirror.pair_id)
        .await
        .map_err(storage_failure)?;
    Ok(convert::mirror(mirror, pair.as_ref(), Utc::now()))
}

pub(super) async fn tree(
    ctx: &ApiContext,
    request: v1::GetMirrorTreeRequest,
) -> Result<v1::GetMirrorTreeResponse, ApiError> {
    let mut violations = Violations::default();
    let pair_id = violations.check(validation::id_filter("pair_id", request.pair_id));
    let search = violations.check(validation::search(&request.search));
    let status = violations.check(validation::text_filter(
        "status",
        &request.status,
        mv::STATUS_MAX_CHARS,
    ));
    let group_prefix = violations.check(mv::group_prefix(&request.group_prefix));
    violations.finish()?;
    let (Some(pair_id), Some(search), Some(status), Some(group_prefix)) =
        (pair_id, search, status, group_prefix)
    else {
        return Err(ApiError::internal());
    };
    let filter = MirrorFilter {
        pair_id,
        status,
        search,
        group_prefix,
        ..MirrorFilter::default()
    };
    let groups = ctx
        .storage()
        .mirror_group_tree(&filter)
        .await
        .map_err(storage_failure)?;
    Ok(v1::GetMirrorTreeResponse {
        groups: groups
            .into_iter()
            .map(|group| v1::MirrorGroup {
                path: group.path,
                mirror_count: group.mirror_count,
                failed_count: group.failed_count,
            })
            .collect(),
    })
}
