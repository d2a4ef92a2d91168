//! Mirror execution: push mirrors really `git push` to their URL, pull
//! mirrors really fetch; both run GitLab's state machines over time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::Rng;

use crate::error::ApiError;
use crate::instance::Instance;

/// What a push-mirror sync request did.
#[derive(Debug, PartialEq, Eq)]
pub enum SyncOutcome {
    /// Already running: silent no-op.
    AlreadyRunning,
    /// Queued now.
    Started,
    /// Queued after the backoff delay.
    Delayed(Duration),
}

/// `RemoteMirrors::SyncService` + `RemoteMirror#sync`.
pub fn request_push_sync(inst: &Arc<Instance>, mid: u64) -> Result<SyncOutcome, ApiError> {
    let timing = inst.timing.read().clone();
    let mut db = inst.db.write();
    let m = db
        .remote_mirrors
        .get_mut(&mid)
        .ok_or_else(ApiError::record_not_found)?;
    if !m.enabled {
        return Err(ApiError::message(
            axum::http::StatusCode::BAD_REQUEST,
            "Cannot proceed with the push mirroring. Please verify your mirror configuration.",
        ));
    }
    if m.update_status == "started" {
        return Ok(SyncOutcome::AlreadyRunning);
    }
    let backoff_ms = if m.only_protected_branches {
        timing.push_backoff_protected_ms
    } else {
        timing.push_backoff_ms
    };
    let delay = match m.last_update_started_at {
        Some(t) if backoff_ms > 0 => {
            let since = (Utc::now() - t).num_milliseconds().max(0) as u64;
            (since < backoff_ms).then(|| Duration::from_millis(backoff_ms))
        }
        _ => None,
    };
    if delay.is_some() && m.scheduled {
        // A delayed run is already queued; the worker would skip duplicates.
        return Ok(SyncOutcome::Delayed(delay.unwrap_or_default()));
    }
    m.scheduled = true;
    drop(db);
    let inst2 = inst.clone();
    tokio::spawn(async move {
        if let Some(d) = delay {
            tokio::time::sleep(d).await;
        }
        run_push(inst2, mid).await;
    });
    Ok(match delay {
        Some(d) => SyncOutcome::Delayed(d),
        None => SyncOutcome::Started,
    })
}

/// After a push to a project: refresh its refs, then sync its push mirrors.
pub async fn after_push(inst: Arc<Instance>, pid: u64) {
    if let Err(e) = inst.refresh_repo(pid).await {
        tracing::warn!("refreshing project {pid}: {e:#}");
    }
    if !inst.timing.read().sync_on_push {
        return;
    }
    let mids: Vec<u64> = inst
        .db
        .read()
        .remote_mirrors
        .values()
        .filter(|m| m.project_id == pid && m.enabled)
        .map(|m| m.id)
        .collect();
    for mid in mids {
        let _ = request_push_sync(&inst, mid);
    }
}

fn stuck(p: f64) -> bool {
    p > 0.0 && rand::rng().random_bool(p.min(1.0))
}

/// Mask credentials and shorten git's stderr for `last_error`.
fn git_error(stage: &str, code: Option<i32>, stderr: &str) -> String {
    let masked = crate::util::mask_credentials_in_text(stderr.trim());
    format!(
        "13:{stage}: exit status {}, stderr: {:?}.",
        code.unwrap_or(128),
        format!("{masked}\n")
    )
}

/// One push-mirror update.
pub async fn run_push(inst: Arc<Instance>, mid: u64) {
    let timing = inst.timing.read().clone();
    let started = Instant::now();
    // update_start
    let (seq, pid, url, keep, only_protected, regex, protected, repo) = {
        let mut db = inst.db.write();
        let Some(m) = db.remote_mirrors.get_mut(&mid) else {
            return;
        };
        m.scheduled = false;
        if m.update_status == "started" {
            return;
        }
        m.update_status = "started".into();
        m.last_update_started_at = Some(Utc::now());
        m.run_seq += 1;
        let (seq, pid, url, keep, op, rx) = (
            m.run_seq,
            m.project_id,
            m.url.clone(),
            m.keep_divergent_refs,
            m.only_protected_branches,
            m.mirror_branch_regex.clone(),
        );
        let Some(p) = db.projects.get(&pid) else {
            return;
        };
        let protected: Vec<String> = p
            .protected_branches
            .iter()
            .map(|b| b.name.clone())
            .collect();
        (seq, pid, url, keep, op, rx, protected, inst.repo_path(p))
    };
    if stuck(timing.stuck_probability) {
        tokio::time::sleep(Duration::from_millis(timing.stuck_timeout_ms)).await;
        finish_push(
            &inst,
            mid,
            seq,
            Err("Remote mirror update took too long to complete.".into()),
        );
        return;
    }
    let result = push_refs(
        &inst,
        &repo,
        &url,
        keep,
        only_protected,
        regex.as_deref(),
        &protected,
        &timing,
    )
    .await;
    let min = Duration::from_millis(timing.update_duration_ms);
    if let Some(rest) = min.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let _ = pid;
    finish_push(&inst, mid, seq, result);
}

fn finish_push(inst: &Instance, mid: u64, seq: u64, result: Result<(), String>) {
    let mut db = inst.db.write();
    let Some(m) = db.remote_mirrors.get_mut(&mid) else {
        return;
    };
    if m.run_seq != seq || m.update_status != "started" {
        return;
    }
    let now = Utc::now();
    match result {
        Ok(()) => {
            m.update_status = "finished".into();
            m.last_update_at = Some(now);
            m.last_successful_update_at = Some(now);
            m.last_error = None;
        }
        Err(e) => {
            m.update_status = "failed".into();
            m.last_update_at = Some(now);
            m.last_error = Some(e);
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn push_refs(
    inst: &Instance,
    repo: &std::path::Path,
    url: &str,
    keep_divergent: bool,
    only_protected: bool,
    regex: Option<&str>,
    protected: &[String],
    timing: &crate::config::MirrorTiming,
) -> Result<(), String> {
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err(git_error(
            "get remote references: create git ls-remote",
            Some(128),
            "fatal: only http(s) mirror URLs are supported by the simulator",
        ));
    }
    let force = if keep_divergent { "" } else { "+" };
    let mut args: Vec<String> = vec!["push".into(), "--porcelain".into()];
    let filtered = only_protected || regex.is_some();
    if !filtered && !keep_divergent {
        args.push("--prune".into());
    }
    args.push(url.to_string());
    if filtered {
        let branches = inst
            .git
            .ref_shas(repo, "refs/heads/")
            .await
            .map_err(|e| e.to_string())?;
        let re = regex.and_then(|r| regex::Regex::new(r).ok());
        for (full, _) in branches {
            let name = full.trim_start_matches("refs/heads/");
            let ok = if only_protected {
                protected.iter().any(|p| p == name)
            } else {
                re.as_ref().is_none_or(|re| re.is_match(name))
            };
            if ok {
                args.push(format!("{force}{full}:{full}"));
            }
        }
    } else {
        args.push(format!("{force}refs/heads/*:refs/heads/*"));
    }
    args.push(format!("{force}refs/tags/*:refs/tags/*"));
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = inst
        .git
        .run(
            Some(repo),
            &argv,
            Some(Duration::from_millis(timing.git_timeout_ms)),
        )
        .await
        .map_err(|e| e.to_string())?;
    if out.timed_out {
        return Err("Remote mirror update took too long to complete.".into());
    }
    let mut divergent = vec![];
    let mut other_rejects = vec![];
    for line in out.stdout.lines() {
        let mut parts = line.split('\t');
        if parts.next() != Some("!") {
            continue;
        }
        let refs = parts.next().unwrap_or("");
        let summary = parts.next().unwrap_or("");
        let dst = refs.split(':').nth(1).unwrap_or(refs).to_string();
        if summary.contains("non-fast-forward")
            || summary.contains("fetch first")
            || summary.contains("already exists")
        {
            divergent.push(dst);
        } else {
            other_rejects.push(format!("{dst} {summary}"));
        }
    }
    if !divergent.is_empty() && other_rejects.is_empty() {
        return Err(format!(
            "Some refs have diverged and have not been updated on the remote:\n\n{}",
            divergent.join("\n")
        ));
    }
    if !out.success {
        let stage = if out.stdout.trim().is_empty() {
            "get remote references: create git ls-remote"
        } else {
            "push to mirror: git push"
        };
        return Err(git_error(
            stage,
            Some(if out.stdout.trim().is_empty() { 128 } else { 1 }),
            &out.stderr,
        ));
    }
    Ok(())
}

// ----- pull mirrors ---------------------------------------------------------

/// `POST /projects/:id/mirror/pull` (`StartPullMirroringService`).
pub fn request_pull(inst: &Arc<Instance>, pid: u64) -> Result<(), ApiError> {
    let timing = inst.timing.read().clone();
    let mut db = inst.db.write();
    let p = db
        .projects
        .get_mut(&pid)
        .ok_or_else(|| ApiError::not_found("Project"))?;
    if !p.mirror {
        return Err(ApiError::message(
            axum::http::StatusCode::BAD_REQUEST,
            "The project is not mirrored",
        ));
    }
    let st = p.import_state.get_or_insert_with(Default::default);
    if st.hard_failed {
        return Err(ApiError::message(
            axum::http::StatusCode::FORBIDDEN,
            "Mirroring for the project is on pause",
        ));
    }
    if st.status == "scheduled" || st.status == "started" {
        return Ok(());
    }
    let now = Utc::now();
    let interval = chrono::Duration::milliseconds(timing.pull_interval_ms as i64);
    let due = match (st.last_successful_update_at, st.last_update_at) {
        (None, _) | (_, None) => true,
        (_, Some(last)) => last + interval <= now,
    };
    let delay = if due {
        st.status = "scheduled".into();
        st.next_execution = Some(now);
        Duration::ZERO
    } else {
        let next = st.last_update_at.unwrap_or(now) + interval;
        if st.next_execution.is_some_and(|n| n > now) {
            // Already deferred to the next allowed time.
            return Ok(());
        }
        st.next_execution = Some(next);
        (next - now).to_std().unwrap_or_default()
    };
    drop(db);
    let inst2 = inst.clone();
    tokio::spawn(async move {
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        run_pull(inst2, pid).await;
    });
    Ok(())
}

/// One-off repository import from `import_url` (`POST /projects` with
/// `import_url` and no mirroring): overwrite everything once.
pub async fn run_import(inst: Arc<Instance>, pid: u64) {
    let timing = inst.timing.read().clone();
    let (url, repo, mirror) = {
        let mut db = inst.db.write();
        let Some(p) = db.projects.get_mut(&pid) else {
            return;
        };
        let Some(url) = p.import_url.clone() else {
            return;
        };
        if let Some(s) = p.import_state.as_mut() {
            s.status = "started".into();
            s.last_update_started_at = Some(Utc::now());
        }
        (url, inst.repo_path(p), p.mirror)
    };
    if mirror {
        // The mirror's first update does the import.
        if let Some(s) = inst
            .db
            .write()
            .projects
            .get_mut(&pid)
            .and_then(|p| p.import_state.as_mut())
        {
            s.status = "none".into();
        }
        let _ = request_pull(&inst, pid);
        return;
    }
    let res = fetch_and_update(&inst, &repo, &url, false, true, None, &[], None, &timing).await;
    let _ = inst.refresh_repo(pid).await;
    let mut db = inst.db.write();
    if let Some(s) = db
        .projects
        .get_mut(&pid)
        .and_then(|p| p.import_state.as_mut())
    {
        let now = Utc::now();
        s.last_update_at = Some(now);
        match res {
            Ok(()) => {
                s.status = "finished".into();
                s.last_successful_update_at = Some(now);
            }
            Err(e) => {
                s.status = "failed".into();
                s.last_error = Some(e);
            }
        }
    }
}

/// One pull-mirror update (`Projects::UpdateMirrorService`).
pub async fn run_pull(inst: Arc<Instance>, pid: u64) {
    let timing = inst.timing.read().clone();
    let started = Instant::now();
    let (seq, url, repo, only_protected, overwrite, regex, protected, default_branch) = {
        let mut db = inst.db.write();
        let Some(p) = db.projects.get_mut(&pid) else {
            return;
        };
        if !p.mirror {
            return;
        }
        let Some(url) = p.import_url.clone() else {
            return;
        };
        let st = p.import_state.get_or_insert_with(Default::default);
        if st.status == "started" || st.hard_failed {
            return;
        }
        st.status = "started".into();
        st.last_update_started_at = Some(Utc::now());
        st.next_execution = None;
        st.run_seq += 1;
        let seq = st.run_seq;
        let protected: Vec<String> = p
            .protected_branches
            .iter()
            .map(|b| b.name.clone())
            .collect();
        (
            seq,
            url,
            inst.repo_path(p),
            p.only_mirror_protected_branches.unwrap_or(false),
            p.mirror_overwrites_diverged_branches,
            p.mirror_branch_regex.clone(),
            protected,
            p.default_branch.clone(),
        )
    };
    let result = if stuck(timing.stuck_probability) {
        tokio::time::sleep(Duration::from_millis(timing.stuck_timeout_ms)).await;
        Err(format!(
            "Import timed out. Import took longer than {} seconds",
            timing.stuck_timeout_ms / 1000
        ))
    } else {
        fetch_and_update(
            &inst,
            &repo,
            &url,
            only_protected,
            overwrite,
            regex.as_deref(),
            &protected,
            default_branch.as_deref(),
            &timing,
        )
        .await
    };
    if result.is_ok() {
        let _ = inst.refresh_repo(pid).await;
    }
    let min = Duration::from_millis(timing.update_duration_ms);
    if let Some(rest) = min.checked_sub(started.elapsed()) {
        tokio::time::sleep(rest).await;
    }
    let mut db = inst.db.write();
    let Some(p) = db.projects.get_mut(&pid) else {
        return;
    };
    let Some(st) = p.import_state.as_mut() else {
        return;
    };
    if st.run_seq != seq {
        return;
    }
    let now = Utc::now();
    st.last_update_at = Some(now);
    match result {
        Ok(()) => {
            st.status = "finished".into();
            st.last_successful_update_at = Some(now);
            st.last_error = None;
            st.retry_count = 0;
        }
        Err(e) => {
            st.status = "failed".into();
            st.last_error = Some(e);
            st.retry_count += 1;
            if st.retry_count > timing.pull_max_retry {
                st.hard_failed = true;
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn fetch_and_update(
    inst: &Instance,
    repo: &std::path::Path,
    url: &str,
    only_protected: bool,
    overwrite: bool,
    regex: Option<&str>,
    protected: &[String],
    default_branch: Option<&str>,
    timing: &crate::config::MirrorTiming,
) -> Result<(), String> {
    if !url.starts_with("http://") && !url.starts_with("https://") {
        return Err("Fetching remote upstream failed: only http(s) mirror URLs are supported by the simulator".into());
    }
    let args = [
        "fetch",
        "--prune",
        "--no-write-fetch-head",
        "--quiet",
        url,
        "+refs/heads/*:refs/upstream/heads/*",
        "+refs/tags/*:refs/tags/*",
    ];
    let out = inst
        .git
        .run(
            Some(repo),
            &args,
            Some(Duration::from_millis(timing.git_timeout_ms)),
        )
        .await
        .map_err(|e| e.to_string())?;
    if out.timed_out {
        return Err("Fetching remote upstream failed: timed out".into());
    }
    if !out.success {
        return Err(format!(
            "Fetching remote upstream failed: {}",
            crate::util::mask_credentials_in_text(out.stderr.trim())
        ));
    }
    let upstream = inst
        .git
        .ref_shas(repo, "refs/upstream/heads/")
        .await
        .map_err(|e| e.to_string())?;
    let local: std::collections::HashMap<String, String> = inst
        .git
        .ref_shas(repo, "refs/heads/")
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .collect();
    let re = regex.and_then(|r| regex::Regex::new(r).ok());
    let mut updates = String::new();
    let mut errors = vec![];
    for (uref, usha) in upstream {
        let name = uref.trim_start_matches("refs/upstream/heads/");
        if only_protected && !protected.iter().any(|p| p == name) {
            continue;
        }
        if re.as_ref().is_some_and(|re| !re.is_match(name)) {
            continue;
        }
        let lref = format!("refs/heads/{name}");
        match local.get(&lref) {
            None => updates.push_str(&format!("create {lref} {usha}\n")),
            Some(l) if *l == usha => {}
            Some(l) => {
                if inst.git.is_ancestor(repo, l, &usha).await || overwrite {
                    updates.push_str(&format!("update {lref} {usha} {l}\n"));
                } else if default_branch == Some(name) {
                    errors.push(format!(
                        "The default branch ({name}) has diverged from its upstream counterpart and could not be updated automatically."
                    ));
                }
            }
        }
    }
    if !updates.is_empty() {
        inst.git
            .update_refs(repo, &updates)
            .await
            .map_err(|e| e.to_string())?;
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n\n"))
    }
}
