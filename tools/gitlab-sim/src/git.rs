//! Thin async wrappers around the `git` binary: bare repositories, ref
//! listing with commit details, fast-import, push and fetch.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// The git binary and the environment every invocation gets.
#[derive(Debug, Clone)]
pub struct Git {
    pub bin: PathBuf,
    /// An empty directory used as `$HOME` so no user configuration leaks in.
    pub home: PathBuf,
}

/// A commit as the API shows it.
#[derive(Debug, Clone, Default)]
pub struct CommitInfo {
    pub id: String,
    pub parent_ids: Vec<String>,
    pub title: String,
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    pub authored_date: String,
    pub committer_name: String,
    pub committer_email: String,
    pub committed_date: String,
}

/// A branch or tag with its target.
#[derive(Debug, Clone, Default)]
pub struct RefInfo {
    /// Short name (`main`, `v1.0.0`).
    pub name: String,
    /// Object the ref points at (a tag object for annotated tags).
    pub target: String,
    /// Tag message for annotated tags.
    pub tag_message: Option<String>,
    pub tag_date: Option<String>,
    pub commit: CommitInfo,
}

/// Output of a git command.
#[derive(Debug)]
pub struct GitOutput {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl Git {
    pub fn new(home: PathBuf) -> Self {
        let bin = std::env::var_os("GITLAB_SIM_GIT")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("git"));
        Self { bin, home }
    }

    /// A `git` command with a clean environment.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.bin);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("GIT_") {
                c.env_remove(&k);
            }
        }
        c.env("HOME", &self.home)
            .env("XDG_CONFIG_HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "/bin/false")
            .env("SSH_ASKPASS", "/bin/false")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        c
    }

    /// Run to completion, with an optional time limit.
    pub async fn run(
        &self,
        repo: Option<&Path>,
        args: &[&str],
        timeout: Option<Duration>,
    ) -> anyhow::Result<GitOutput> {
        let mut c = self.command();
        if let Some(r) = repo {
            c.arg("--git-dir").arg(r);
        }
        c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = c
            .spawn()
            .with_context(|| format!("spawning {}", self.bin.display()))?;
        let fut = child.wait_with_output();
        let out = match timeout {
            Some(t) => match tokio::time::timeout(t, fut).await {
                Ok(o) => o?,
                Err(_) => {
                    return Ok(GitOutput {
                        success: false,
                        stdout: String::new(),
                        stderr: "timed out".into(),
                        timed_out: true,
                    });
                }
            },
            None => fut.await?,
        };
        Ok(GitOutput {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            timed_out: false,
        })
    }

    /// Run and fail on a non-zero exit.
    pub async fn check(&self, repo: Option<&Path>, args: &[&str]) -> anyhow::Result<String> {
        let o = self.run(repo, args, None).await?;
        if !o.success {
            bail!("git {} failed: {}", args.join(" "), o.stderr.trim());
        }
        Ok(o.stdout)
    }

    /// `git init --bare` with the given initial branch.
    pub async fn init_bare(&self, path: &Path, default_branch: &str) -> anyhow::Result<()> {
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        let p = path.to_string_lossy().to_string();
        let ib = format!("--initial-branch={default_branch}");
        self.check(None, &["init", "--quiet", "--bare", &ib, &p])
            .await?;
        // Let pushes rewrite history like GitLab (force pushes, mirrors).
        self.check(
            Some(path),
            &["config", "receive.denyNonFastForwards", "false"],
        )
        .await?;
        self.check(Some(path), &["config", "receive.denyDeletes", "false"])
            .await?;
        Ok(())
    }

    /// Feed a fast-import stream.
    pub async fn fast_import(&self, repo: &Path, stream: &[u8]) -> anyhow::Result<()> {
        let mut c = self.command();
        c.arg("--git-dir")
            .arg(repo)
            .args(["fast-import", "--quiet", "--done"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = c.spawn()?;
        let mut stdin = child.stdin.take().context("stdin")?;
        stdin.write_all(stream).await?;
        stdin.write_all(b"done\n").await?;
        drop(stdin);
        let out = child.wait_with_output().await?;
        if !out.status.success() {
            bail!(
                "fast-import failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Point `HEAD` at a branch.
    pub async fn set_head(&self, repo: &Path, branch: &str) -> anyhow::Result<()> {
        let r = format!("refs/heads/{branch}");
        self.check(Some(repo), &["symbolic-ref", "HEAD", &r])
            .await?;
        Ok(())
    }

    /// Branch `HEAD` points at (even when unborn).
    pub async fn head_branch(&self, repo: &Path) -> Option<String> {
        let o = self
            .run(Some(repo), &["symbolic-ref", "--short", "HEAD"], None)
            .await
            .ok()?;
        o.success.then(|| o.stdout.trim().to_string())
    }

    /// All refs under `prefix` (`refs/heads/`, `refs/tags/`) → (full name, sha).
    pub async fn ref_shas(
        &self,
        repo: &Path,
        prefix: &str,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let out = self
            .check(
                Some(repo),
                &["for-each-ref", "--format=%(refname) %(objectname)", prefix],
            )
            .await?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect())
    }

    /// Branches or tags with commit details (one process).
    pub async fn refs_detailed(&self, repo: &Path, prefix: &str) -> anyhow::Result<Vec<RefInfo>> {
        // Fields separated by 0x1f, records by 0x1e. For annotated tags the
        // `*` variants describe the peeled commit.
        const F: &str = "%(refname:strip=2)%1f%(objectname)%1f%(objecttype)%1f%(contents)%1f%(creatordate:iso-strict)\
%1f%(objectname)%1f%(parent)%1f%(contents:subject)%1f%(contents)%1f%(authorname)%1f%(authoremail:trim)%1f%(authordate:iso-strict)%1f%(committername)%1f%(committeremail:trim)%1f%(committerdate:iso-strict)\
%1f%(*objectname)%1f%(*parent)%1f%(*contents:subject)%1f%(*contents)%1f%(*authorname)%1f%(*authoremail:trim)%1f%(*authordate:iso-strict)%1f%(*committername)%1f%(*committeremail:trim)%1f%(*committerdate:iso-strict)%1e";
        let fmt = format!("--format={F}");
        let out = self
            .check(
                Some(repo),
                &["for-each-ref", "--sort=refname", &fmt, prefix],
            )
            .await?;
        let mut res = vec![];
        for rec in out.split('\u{1e}') {
            let rec = rec.trim_start_matches('\n');
            if rec.is_empty() {
                continue;
            }
            let f: Vec<&str> = rec.split('\u{1f}').collect();
            if f.len() < 25 {
                continue;
            }
            let annotated = f[2] == "tag";
            let c = if annotated { &f[15..25] } else { &f[5..15] };
            res.push(RefInfo {
                name: f[0].to_string(),
                target: f[1].to_string(),
                tag_message: annotated.then(|| f[3].trim_end().to_string()),
                tag_date: annotated.then(|| f[4].to_string()),
                commit: CommitInfo {
                    id: c[0].to_string(),
                    parent_ids: c[1].split_whitespace().map(str::to_string).collect(),
                    title: c[2].to_string(),
                    message: c[3].to_string(),
                    author_name: c[4].to_string(),
                    author_email: c[5].to_string(),
                    authored_date: c[6].to_string(),
                    committer_name: c[7].to_string(),
                    committer_email: c[8].to_string(),
                    committed_date: c[9].to_string(),
                },
            });
        }
        Ok(res)
    }

    /// Is `a` an ancestor of `b`?
    pub async fn is_ancestor(&self, repo: &Path, a: &str, b: &str) -> bool {
        matches!(
            self.run(Some(repo), &["merge-base", "--is-ancestor", a, b], None).await,
            Ok(o) if o.success
        )
    }

    /// Apply `update-ref --stdin` instructions.
    pub async fn update_refs(&self, repo: &Path, instructions: &str) -> anyhow::Result<()> {
        let mut c = self.command();
        c.arg("--git-dir")
            .arg(repo)
            .args(["update-ref", "--stdin"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = c.spawn()?;
        let mut stdin = child.stdin.take().context("stdin")?;
        stdin.write_all(instructions.as_bytes()).await?;
        drop(stdin);
        let out = child.wait_with_output().await?;
        if !out.status.success() {
            bail!(
                "update-ref failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }
}
