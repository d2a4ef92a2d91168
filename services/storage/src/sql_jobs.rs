//! SQL of jobs, job items, the outbox and leases, shared by both backends (`$n` placeholders).
//! The few dialect-specific statements are marked `_PG` / `_SQLITE`; the backend modules pick
//! theirs.
//!
//! Counters only ever change by `counter = counter ± $n` in one UPDATE, never by writing back
//! a value read earlier, so concurrent finishes cannot lose an increment. The final state of a
//! job is decided here once ([`FINALIZE_JOB`]).

macro_rules! job_columns {
    () => {
        "id, kind, state, pair_id, mirror_id, instance_id, requested_by, params, total, done, \
         succeeded, failed, skipped, cancelled, warning_count, create_time, start_time, \
         end_time, update_time"
    };
}

macro_rules! item_columns {
    () => {
        "id, job_id, mirror_id, label, task_kind, payload, state, attempts, error, warnings, \
         result, duration_ms, start_time, end_time"
    };
}

pub(crate) const JOB_COLUMNS: &str = job_columns!();
pub(crate) const ITEM_COLUMNS: &str = item_columns!();

// ---- jobs ----

/// Counters of the items created with the job (finished ones included); the state is fixed
/// by [`FINALIZE_JOB`] when no item is left to run.
pub(crate) const INSERT_JOB: &str = "INSERT INTO jobs (kind, state, pair_id, mirror_id, \
     instance_id, requested_by, params, total, done, succeeded, failed, skipped, cancelled, \
     warning_count, create_time, update_time) \
     VALUES ($1, 'queued', $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13, $13) \
     RETURNING id";

pub(crate) const JOB_BY_ID: &str = concat!("SELECT ", job_columns!(), " FROM jobs WHERE id = $1");
/// Locks the job row: every statement that changes a job and its items locks the job first,
/// then items, so two such transactions never deadlock.
pub(crate) const JOB_BY_ID_FOR_UPDATE_PG: &str = concat!(
    "SELECT ",
    job_columns!(),
    " FROM jobs WHERE id = $1 FOR UPDATE"
);

/// Once every item is finished: `cancelled` stays, otherwise succeeded when nothing failed,
/// failed when nothing succeeded, partially failed else (skipped items count as neither).
pub(crate) const FINALIZE_JOB: &str = "UPDATE jobs SET state = CASE \
         WHEN state = 'cancelled' THEN 'cancelled' \
         WHEN failed = 0 THEN 'succeeded' \
         WHEN succeeded = 0 THEN 'failed' \
         ELSE 'partially_failed' END, \
     end_time = COALESCE(end_time, $2), update_time = $2 \
     WHERE id = $1 AND done = total";

/// Adds finished items to the counters.
pub(crate) const COUNT_FINISHED_ITEMS: &str = "UPDATE jobs SET done = done + $2, \
     succeeded = succeeded + $3, failed = failed + $4, skipped = skipped + $5, \
     cancelled = cancelled + $6, warning_count = warning_count + $7, update_time = $8 \
     WHERE id = $1";

/// A worker starts an item: a queued job is running from now on.
pub(crate) const JOB_RUNNING: &str = concat!(
    "UPDATE jobs SET state = CASE WHEN state = 'queued' THEN 'running' ELSE state END, \
     start_time = COALESCE(start_time, $2), update_time = $2 WHERE id = $1 RETURNING ",
    job_columns!()
);

pub(crate) const MARK_JOB_CANCELLED: &str =
    "UPDATE jobs SET state = 'cancelled', update_time = $2 WHERE id = $1";

/// Failed items go back to the queue (`$2` of them, with `$3` warnings between them).
pub(crate) const REQUEUE_JOB: &str = "UPDATE jobs SET done = done - $2, failed = failed - $2, \
     warning_count = warning_count - $3, \
     state = CASE WHEN state = 'running' THEN 'running' ELSE 'queued' END, \
     end_time = NULL, update_time = $4 WHERE id = $1";

// ---- job items ----

/// Head of a multi-row insert of items; rows bind their values in the column order.
pub(crate) const INSERT_ITEMS_HEAD: &str =
    "INSERT INTO job_items (job_id, mirror_id, label, task_kind, payload, state, error, end_time) ";

pub(crate) const ITEM_BY_ID: &str =
    concat!("SELECT ", item_columns!(), " FROM job_items WHERE id = $1");
pub(crate) const ITEM_BY_ID_FOR_UPDATE_PG: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM job_items WHERE id = $1 FOR UPDATE"
);
pub(crate) const ITEM_JOB_ID: &str = "SELECT job_id FROM job_items WHERE id = $1";

pub(crate) const START_ITEM: &str = concat!(
    "UPDATE job_items SET state = 'running', attempts = attempts + 1, \
     start_time = COALESCE(start_time, $2) WHERE id = $1 RETURNING ",
    item_columns!()
);

pub(crate) const CANCEL_ITEM: &str =
    "UPDATE job_items SET state = 'cancelled', end_time = $2 WHERE id = $1";

pub(crate) const FINISH_ITEM: &str = "UPDATE job_items SET state = $2, error = $3, \
     warnings = $4, result = $5, duration_ms = $6, end_time = $7 WHERE id = $1";

pub(crate) const CANCEL_QUEUED_ITEMS: &str = "UPDATE job_items SET state = 'cancelled', \
     end_time = $2 WHERE job_id = $1 AND state = 'queued'";

/// Mirrors that cancelled items were to create and nothing was created for yet (still
/// `creating`, no GitLab id recorded) are removed; nothing exists on GitLab for them.
pub(crate) const DELETE_UNSTARTED_NEW_MIRRORS: &str = "DELETE FROM mirrors \
     WHERE lifecycle = 'creating' AND gitlab_mirror_id IS NULL AND gitlab_token_id IS NULL \
     AND id IN (SELECT mirror_id FROM job_items WHERE job_id = $1 AND state = 'cancelled' \
     AND mirror_id IS NOT NULL)";

/// The rest (an earlier attempt recorded GitLab ids) stay visible as failed creations, so
/// an operator can delete them with their GitLab cleanup.
pub(crate) const FAIL_CANCELLED_NEW_MIRRORS: &str = "UPDATE mirrors \
     SET lifecycle = 'create_failed', last_error = 'creation cancelled', update_time = $2 \
     WHERE lifecycle = 'creating' \
     AND id IN (SELECT mirror_id FROM job_items WHERE job_id = $1 AND state = 'cancelled' \
     AND mirror_id IS NOT NULL)";

pub(crate) const FAILED_ITEM_WARNINGS: &str =
    "SELECT warnings FROM job_items WHERE job_id = $1 AND state = 'failed'";

pub(crate) const REQUEUE_FAILED_ITEMS: &str = "UPDATE job_items SET state = 'queued', \
     error = NULL, warnings = '[]', result = 'null', duration_ms = NULL, end_time = NULL \
     WHERE job_id = $1 AND state = 'failed'";

/// Only running items take warnings: the job counts an item's warnings when it finishes (so
/// a finished item's are counted already, and a queued item cancelled never has any).
pub(crate) const ADD_ITEM_WARNING_PG: &str = "UPDATE job_items \
     SET warnings = warnings || jsonb_build_array($2::text) \
     WHERE id = $1 AND state = 'running'";
pub(crate) const ADD_ITEM_WARNING_SQLITE: &str = "UPDATE job_items \
     SET warnings = json_insert(warnings, '$[#]', $2) \
     WHERE id = $1 AND state = 'running'";

// ---- outbox ----

pub(crate) const RELEASE_OUTBOX_CLAIMS: &str =
    "UPDATE outbox SET locked_until = NULL WHERE locked_until IS NOT NULL";

/// One message per item of job `$1` in state `$2`, in item order.
pub(crate) const QUEUE_ITEMS: &str = "INSERT INTO outbox (job_id, item_id, task_kind, payload, \
     traceparent, available_at, claims, create_time) \
     SELECT job_id, id, task_kind, payload, $3, $4, 0, $4 FROM job_items \
     WHERE job_id = $1 AND state = $2 ORDER BY id";

/// Messages of the job's cancelled items: nothing is left to deliver.
pub(crate) const DELETE_CANCELLED_ITEMS_OUTBOX: &str = "DELETE FROM outbox WHERE job_id = $1 \
     AND item_id IN (SELECT id FROM job_items WHERE job_id = $1 AND state = 'cancelled')";

/// Rows locked by another claimer are skipped, so no message goes to two claimers. `claims`
/// is returned as it was before this claim.
pub(crate) const CLAIM_OUTBOX_PG: &str = "WITH picked AS ( \
         SELECT id FROM outbox \
         WHERE available_at <= $1 AND (locked_until IS NULL OR locked_until <= $1) \
         ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) \
     UPDATE outbox SET locked_until = $3, claims = outbox.claims + 1 \
     FROM picked WHERE outbox.id = picked.id \
     RETURNING outbox.id, outbox.job_id, outbox.item_id, outbox.task_kind, outbox.payload, \
         outbox.traceparent, outbox.claims - 1 AS claims";

/// SQLite has one writer at a time: a single UPDATE in a write transaction is atomic.
pub(crate) const CLAIM_OUTBOX_SQLITE: &str = "UPDATE outbox \
     SET locked_until = $3, claims = claims + 1 \
     WHERE id IN (SELECT id FROM outbox \
         WHERE available_at <= $1 AND (locked_until IS NULL OR locked_until <= $1) \
         ORDER BY id LIMIT $2) \
     RETURNING id, job_id, item_id, task_kind, payload, traceparent, claims - 1 AS claims";

pub(crate) const RELEASE_OUTBOX: &str =
    "UPDATE outbox SET available_at = $2, locked_until = NULL WHERE id = $1";

/// Followed by a list of ids and `)`.
pub(crate) const DELETE_OUTBOX_HEAD: &str = "DELETE FROM outbox WHERE id IN (";

pub(crate) const OUTBOX_LEN: &str = "SELECT COUNT(*) FROM outbox";

// ---- leases ----

/// Takes a free or expired lease, or renews one's own; returns a row only when `$2` holds
/// the lease afterwards.
pub(crate) const ACQUIRE_LEASE: &str = "INSERT INTO leases (name, holder, expires_at) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
     WHERE leases.expires_at <= $4 OR leases.holder = excluded.holder \
     RETURNING holder";

pub(crate) const RELEASE_LEASE: &str = "DELETE FROM leases WHERE name = $1 AND holder = $2";
