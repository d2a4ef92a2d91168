//! The [`crate::Storage`] implementation of both backends, written once.
//!
//! `impl_storage!(Type, backend)` expands, inside a backend's `mod.rs`, to the trait impl for
//! `Type` (which has a `pool` field). Each method delegates to that backend's submodules
//! (`users`, `instances`, `pairs`, `mirrors`, `jobs`, `outbox`) and its `MIGRATOR`, which
//! resolve at the expansion site.

macro_rules! impl_storage {
    ($storage:ty, $backend:expr) => {
        #[async_trait::async_trait]
        impl crate::Storage for $storage {
            fn backend(&self) -> crate::Backend {
                $backend
            }

            async fn migrate(&self) -> crate::StorageResult<()> {
                MIGRATOR.run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> crate::StorageResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn close(&self) {
                self.pool.close().await;
            }

            // ---- users ----

            async fn create_user(
                &self,
                user: &crate::NewUser,
            ) -> crate::StorageResult<crate::User> {
                users::create(&self.pool, user).await
            }

            async fn get_user(&self, id: i64) -> crate::StorageResult<Option<crate::User>> {
                users::get(&self.pool, id).await
            }

            async fn get_user_by_username(
                &self,
                username: &str,
            ) -> crate::StorageResult<Option<crate::User>> {
                users::get_by_username(&self.pool, username).await
            }

            async fn count_users(&self) -> crate::StorageResult<i64> {
                users::count(&self.pool).await
            }

            async fn set_user_active(&self, id: i64, active: bool) -> crate::StorageResult<bool> {
                users::set_active(&self.pool, id, active).await
            }

            // ---- instances ----

            async fn create_instance(
                &self,
                instance: &crate::NewInstance,
                seal_token: &crate::TokenSealer,
            ) -> crate::StorageResult<crate::Instance> {
                instances::create(&self.pool, instance, seal_token).await
            }

            async fn get_instance(&self, id: i64) -> crate::StorageResult<Option<crate::Instance>> {
                instances::get(&self.pool, id).await
            }

            async fn list_instances(
                &self,
                filter: &crate::InstanceFilter,
                params: &crate::ListParams,
            ) -> crate::StorageResult<crate::Page<crate::Instance>> {
                instances::list(&self.pool, filter, params).await
            }

            async fn update_instance(
                &self,
                id: i64,
                changes: &crate::InstanceChanges,
            ) -> crate::StorageResult<Option<crate::Instance>> {
                instances::update(&self.pool, id, changes).await
            }

            async fn delete_instance(
                &self,
                id: i64,
                cascade: bool,
            ) -> crate::StorageResult<crate::DeleteInstanceOutcome> {
                instances::delete(&self.pool, id, cascade).await
            }

            async fn instance_pair_count(&self, id: i64) -> crate::StorageResult<i64> {
                instances::pair_count(&self.pool, id).await
            }

            async fn record_instance_verification(
                &self,
                id: i64,
                verification: &crate::InstanceVerification,
            ) -> crate::StorageResult<bool> {
                instances::record_verification(&self.pool, id, verification).await
            }

            // ---- pairs ----

            async fn create_pair(
                &self,
                pair: &crate::NewPair,
            ) -> crate::StorageResult<crate::Pair> {
                pairs::create(&self.pool, pair).await
            }

            async fn get_pair(&self, id: i64) -> crate::StorageResult<Option<crate::Pair>> {
                pairs::get(&self.pool, id).await
            }

            async fn list_pairs(
                &self,
                filter: &crate::PairFilter,
                params: &crate::ListParams,
            ) -> crate::StorageResult<crate::Page<crate::Pair>> {
                pairs::list(&self.pool, filter, params).await
            }

            async fn update_pair(
                &self,
                id: i64,
                changes: &crate::PairChanges,
            ) -> crate::StorageResult<Option<crate::Pair>> {
                pairs::update(&self.pool, id, changes).await
            }

            async fn delete_pair(&self, id: i64) -> crate::StorageResult<Option<i64>> {
                pairs::delete(&self.pool, id).await
            }

            async fn find_reverse_pair(
                &self,
                source_instance_id: i64,
                target_instance_id: i64,
                excluding: Option<i64>,
            ) -> crate::StorageResult<Option<i64>> {
                pairs::find_reverse(
                    &self.pool,
                    source_instance_id,
                    target_instance_id,
                    excluding,
                )
                .await
            }

            // ---- mirrors ----

            async fn insert_mirror(
                &self,
                mirror: &crate::NewMirror,
            ) -> crate::StorageResult<crate::Mirror> {
                mirrors::insert(&self.pool, mirror).await
            }

            async fn get_mirror(&self, id: i64) -> crate::StorageResult<Option<crate::Mirror>> {
                mirrors::get(&self.pool, id).await
            }

            async fn find_mirror_by_paths(
                &self,
                pair_id: i64,
                source_path: &str,
                target_path: &str,
            ) -> crate::StorageResult<Option<crate::Mirror>> {
                mirrors::find_by_paths(&self.pool, pair_id, source_path, target_path).await
            }

            async fn list_mirrors(
                &self,
                filter: &crate::MirrorFilter,
                params: &crate::MirrorListParams,
            ) -> crate::StorageResult<crate::MirrorPage> {
                mirrors::list(&self.pool, filter, params).await
            }

            async fn pair_mirrors(&self, pair_id: i64) -> crate::StorageResult<Vec<crate::Mirror>> {
                mirrors::of_pair(&self.pool, pair_id).await
            }

            async fn mirror_group_tree(
                &self,
                filter: &crate::MirrorFilter,
            ) -> crate::StorageResult<Vec<crate::MirrorGroupSummary>> {
                mirrors::group_tree(&self.pool, filter).await
            }

            async fn update_mirror(
                &self,
                id: i64,
                changes: &crate::MirrorChanges,
            ) -> crate::StorageResult<Option<crate::Mirror>> {
                mirrors::update(&self.pool, id, changes).await
            }

            async fn record_mirror_provisioning(
                &self,
                id: i64,
                provisioning: &crate::MirrorProvisioning,
            ) -> crate::StorageResult<bool> {
                mirrors::record_provisioning(&self.pool, id, provisioning).await
            }

            async fn record_mirror_status(
                &self,
                id: i64,
                status: &crate::MirrorStatusUpdate,
            ) -> crate::StorageResult<bool> {
                mirrors::record_status(&self.pool, id, status).await
            }

            async fn delete_mirror(&self, id: i64) -> crate::StorageResult<bool> {
                mirrors::delete(&self.pool, id).await
            }

            async fn count_mirrors(&self, pair_id: i64) -> crate::StorageResult<i64> {
                mirrors::count(&self.pool, pair_id).await
            }

            async fn mirrors_due_for_status_check(
                &self,
                checked_before: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> crate::StorageResult<Vec<crate::Mirror>> {
                mirrors::due_for_status_check(&self.pool, checked_before, limit).await
            }

            // ---- jobs ----

            async fn create_job(
                &self,
                job: &crate::NewJob,
            ) -> crate::StorageResult<crate::CreatedJob> {
                jobs::create(&self.pool, job).await
            }

            async fn get_job(&self, id: i64) -> crate::StorageResult<Option<crate::Job>> {
                jobs::get(&self.pool, id).await
            }

            async fn list_jobs(
                &self,
                filter: &crate::JobFilter,
                window: crate::Window,
            ) -> crate::StorageResult<crate::OffsetPage<crate::Job>> {
                jobs::list(&self.pool, filter, window).await
            }

            async fn list_job_items(
                &self,
                job_id: i64,
                state: Option<crate::ItemState>,
                window: crate::Window,
            ) -> crate::StorageResult<crate::OffsetPage<crate::JobItem>> {
                jobs::list_items(&self.pool, job_id, state, window).await
            }

            async fn get_job_item(&self, id: i64) -> crate::StorageResult<Option<crate::JobItem>> {
                jobs::get_item(&self.pool, id).await
            }

            async fn start_job_item(&self, item_id: i64) -> crate::StorageResult<crate::ItemStart> {
                jobs::start_item(&self.pool, item_id).await
            }

            async fn finish_job_item(
                &self,
                item_id: i64,
                outcome: &crate::ItemOutcome,
            ) -> crate::StorageResult<Option<crate::Job>> {
                jobs::finish_item(&self.pool, item_id, outcome).await
            }

            async fn add_job_item_warning(
                &self,
                item_id: i64,
                warning: &str,
            ) -> crate::StorageResult<()> {
                jobs::add_item_warning(&self.pool, item_id, warning).await
            }

            async fn cancel_job(&self, id: i64) -> crate::StorageResult<Option<crate::Job>> {
                jobs::cancel(&self.pool, id).await
            }

            async fn retry_failed_items(
                &self,
                job_id: i64,
                traceparent: Option<&str>,
            ) -> crate::StorageResult<Option<crate::Job>> {
                jobs::retry_failed(&self.pool, job_id, traceparent).await
            }

            // ---- outbox ----

            async fn claim_outbox(
                &self,
                limit: u32,
                lease: std::time::Duration,
            ) -> crate::StorageResult<Vec<crate::OutboxMessage>> {
                outbox::claim(&self.pool, limit, lease).await
            }

            async fn delete_outbox(&self, ids: &[i64]) -> crate::StorageResult<()> {
                outbox::delete(&self.pool, ids).await
            }

            async fn release_outbox(
                &self,
                id: i64,
                available_at: chrono::DateTime<chrono::Utc>,
            ) -> crate::StorageResult<()> {
                outbox::release(&self.pool, id, available_at).await
            }

            async fn release_outbox_claims(&self) -> crate::StorageResult<u64> {
                outbox::release_claims(&self.pool).await
            }

            async fn outbox_len(&self) -> crate::StorageResult<i64> {
                outbox::len(&self.pool).await
            }

            // ---- read models ----

            async fn mirror_status_groups(
                &self,
                pair_id: Option<i64>,
            ) -> crate::StorageResult<Vec<crate::MirrorStatusGroup>> {
                crate::backend_insights::InsightQueries::mirror_status_groups(&self.pool, pair_id)
                    .await
            }

            async fn pair_last_successes(
                &self,
            ) -> crate::StorageResult<Vec<crate::PairLastSuccess>> {
                crate::backend_insights::InsightQueries::pair_last_successes(&self.pool).await
            }

            async fn mirror_freshness(
                &self,
                fresh_since: chrono::DateTime<chrono::Utc>,
            ) -> crate::StorageResult<crate::MirrorFreshness> {
                crate::backend_insights::InsightQueries::freshness(&self.pool, fresh_since).await
            }

            async fn read_model_graph(&self) -> crate::StorageResult<crate::Graph> {
                crate::backend_insights::InsightQueries::graph(&self.pool).await
            }

            async fn recent_activity(
                &self,
                since: chrono::DateTime<chrono::Utc>,
                excluded_kind: &str,
                limit: u32,
            ) -> crate::StorageResult<Vec<crate::ActivityEntry>> {
                crate::backend_insights::InsightQueries::recent_activity(
                    &self.pool,
                    since,
                    excluded_kind,
                    limit,
                )
                .await
            }

            async fn status_refresh_rounds(
                &self,
                kind: &str,
                lease: &str,
            ) -> crate::StorageResult<crate::RefreshRounds> {
                crate::backend_insights::InsightQueries::refresh_rounds(&self.pool, kind, lease)
                    .await
            }

            async fn mirror_quick_stats(
                &self,
                query: &crate::QuickStatsQuery,
            ) -> crate::StorageResult<crate::MirrorQuickStats> {
                crate::backend_insights::InsightQueries::quick_stats(&self.pool, query).await
            }

            async fn link_mirrors(
                &self,
                query: &crate::LinkMirrorQuery,
            ) -> crate::StorageResult<crate::LinkMirrorPage> {
                crate::backend_insights::InsightQueries::link_mirrors(&self.pool, query).await
            }

            async fn search_everything(
                &self,
                text: &str,
                limit: u32,
            ) -> crate::StorageResult<crate::SearchHits> {
                crate::backend_insights::InsightQueries::search(&self.pool, text, limit).await
            }

            // ---- leases ----

            async fn try_acquire_lease(
                &self,
                name: &str,
                holder: &str,
                ttl: std::time::Duration,
            ) -> crate::StorageResult<bool> {
                outbox::try_acquire_lease(&self.pool, name, holder, ttl).await
            }

            async fn release_lease(&self, name: &str, holder: &str) -> crate::StorageResult<()> {
                outbox::release_lease(&self.pool, name, holder).await
            }
        }
    };
}

pub(crate) use impl_storage;
