"""Drive a running gitlab-sim with the unmodified python-gitlab client.

Usage: python_gitlab_scenario.py STATE_FILE

The state file is the JSON written by `gitlab-sim --state-file` (two
instances, demo seed, `--fast-mirrors`). Every step is a check; the script
prints one line per check and a closing `N passed, N failed` line, and exits
non-zero on any failure.
"""

import datetime
import warnings
import json
import sys
import time
import traceback

import gitlab
import requests

SOURCE = "acme/platform/backend/api-gateway"
PUSH_TARGET = "mirror-targets/target-01"
PULL_TARGET = "mirror-targets/target-02"
PRIVATE_SOURCE = "acme/platform/backend/billing-service"

RESULTS = []

# The legacy pull-mirror helpers are exercised on purpose.
warnings.filterwarnings("ignore", message=r"project\.mirror_pull", category=DeprecationWarning)


def check(name):
    def deco(fn):
        def run(*args):
            started = time.time()
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - report every failure
                RESULTS.append((name, False))
                print(f"FAIL {name}")
                traceback.print_exc()
                return
            RESULTS.append((name, True))
            print(f"ok   {name} ({time.time() - started:.2f}s)")

        return run

    return deco


def wait(what, fn, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def admin_call(inst, method, path, body=None):
    r = requests.request(
        method,
        inst["base_url"] + path,
        headers={"PRIVATE-TOKEN": inst["admin_token"]},
        json=body,
        timeout=30,
    )
    r.raise_for_status()
    return r.json() if r.content else None


class Scenario:
    def __init__(self, state):
        self.a, self.b = state["instances"][0], state["instances"][1]
        self.gl_a = gitlab.Gitlab(self.a["base_url"], private_token=self.a["admin_token"])
        self.gl_b = gitlab.Gitlab(self.b["base_url"], private_token=self.b["admin_token"])
        self.host_a = self.a["base_url"].split("://", 1)[1]
        self.host_b = self.b["base_url"].split("://", 1)[1]
        self.token = None
        self.mirror = None

    @check("auth, user and version")
    def auth(self):
        self.gl_a.auth()
        assert self.gl_a.user.username == "root"
        version, revision = self.gl_a.version()
        assert version.endswith("-ee"), version
        assert revision

    @check("projects by path")
    def projects_by_path(self):
        src = self.gl_a.projects.get(SOURCE)
        assert src.path_with_namespace == SOURCE
        assert src.default_branch == "main"
        dst = self.gl_b.projects.get(PUSH_TARGET)
        assert dst.empty_repo is True
        try:
            self.gl_a.projects.get("acme/does-not-exist")
            raise AssertionError("expected 404")
        except gitlab.exceptions.GitlabGetError as e:
            assert e.response_code == 404
            assert "404 Project Not Found" in str(e.error_message)

    @check("project access token create and rotate")
    def access_tokens(self):
        dst = self.gl_b.projects.get(PUSH_TARGET)
        expires = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
        tok = dst.access_tokens.create(
            {"name": "python-gitlab", "scopes": ["write_repository"], "access_level": 40, "expires_at": expires}
        )
        assert tok.token.startswith("glpat-")
        assert tok.expires_at == expires
        old_value = tok.token
        tok.rotate()
        assert tok.token != old_value
        listed = dst.access_tokens.list(get_all=True)
        assert [t.id for t in listed if t.active] == [tok.id]
        assert all(not hasattr(t, "token") for t in listed)
        self.token = tok

    @check("remote mirror create, list, update, sync")
    def remote_mirror(self):
        src = self.gl_a.projects.get(SOURCE)
        url = f"http://oauth2:{self.token.token}@{self.host_b}/{PUSH_TARGET}.git"
        mirror = src.remote_mirrors.create({"url": url, "enabled": True})
        assert mirror.update_status == "none"
        assert mirror.url == f"http://*****:*****@{self.host_b}/{PUSH_TARGET}.git"
        mirror.only_protected_branches = False
        mirror.save()
        mirror.sync()

        def finished():
            m = [x for x in src.remote_mirrors.list(get_all=True) if x.id == mirror.id][0]
            return m if m.update_status in ("finished", "failed") else None

        done = wait("push mirror", finished)
        assert done.update_status == "finished", done.last_error
        assert done.last_error is None
        src_branches = {b.name: b.commit["id"] for b in src.branches.list(get_all=True)}
        dst = self.gl_b.projects.get(PUSH_TARGET)
        dst_branches = {b.name: b.commit["id"] for b in dst.branches.list(get_all=True)}
        assert src_branches == dst_branches, (src_branches, dst_branches)
        src_tags = {t.name: t.commit["id"] for t in src.tags.list(get_all=True)}
        dst_tags = {t.name: t.commit["id"] for t in dst.tags.list(get_all=True)}
        assert src_tags == dst_tags
        self.mirror = done

    @check("remote mirror delete and token revoke")
    def cleanup_push(self):
        self.mirror.delete()
        src = self.gl_a.projects.get(SOURCE)
        assert src.remote_mirrors.list(get_all=True) == []
        self.token.delete()
        dst = self.gl_b.projects.get(PUSH_TARGET)
        assert [t for t in dst.access_tokens.list(get_all=True) if t.active] == []

    @check("pull mirror configure and start")
    def pull_mirror(self):
        src = self.gl_a.projects.get(PRIVATE_SOURCE)
        tok = src.access_tokens.create({"name": "pull", "scopes": ["read_repository"], "access_level": 20})
        target = self.gl_b.projects.get(PULL_TARGET)
        pm = target.pull_mirror.create(
            {
                "url": f"http://{self.host_a}/{PRIVATE_SOURCE}.git",
                "auth_user": "oauth2",
                "auth_password": tok.token,
                "enabled": True,
                "mirror_overwrites_diverged_branches": True,
            }
        )
        assert pm.enabled is True
        assert pm.url == f"http://*****:*****@{self.host_a}/{PRIVATE_SOURCE}.git"
        wait("first pull", lambda: target.pull_mirror.get().update_status == "finished")
        target.pull_mirror.start()
        details = wait(
            "manual pull",
            lambda: (lambda d: d if d.update_status == "finished" else None)(target.pull_mirror.get()),
        )
        assert details.last_successful_update_at is not None
        # The legacy helpers too.
        target.mirror_pull()
        info = target.mirror_pull_details()
        assert info["enabled"] is True
        src_branches = {b.name: b.commit["id"] for b in src.branches.list(get_all=True)}
        target = self.gl_b.projects.get(PULL_TARGET)
        wait("pull settle", lambda: target.pull_mirror.get().update_status == "finished")
        dst_branches = {b.name: b.commit["id"] for b in target.branches.list(get_all=True)}
        assert src_branches == dst_branches
        # Disable through the legacy project field.
        target.mirror = False
        target.save()
        assert self.gl_b.projects.get(PULL_TARGET).mirror is False
        tok.delete()

    @check("offset pagination through Link (iterator and get_all)")
    def pagination(self):
        first = self.gl_a.projects.list(iterator=True, per_page=4)
        total = first.total
        assert first.total_pages == -(-total // 4)
        assert total and total > 10
        seen = [p.id for p in self.gl_a.projects.list(iterator=True, per_page=4)]
        assert len(seen) == total == len(set(seen))
        everything = self.gl_a.projects.list(get_all=True, per_page=7)
        assert len(everything) == total
        groups = self.gl_a.groups.list(get_all=True, per_page=2)
        assert len(groups) >= 8
        subgroup_projects = self.gl_a.groups.get("acme").projects.list(get_all=True, include_subgroups=True, per_page=3)
        assert len(subgroup_projects) > 10

    @check("keyset pagination")
    def keyset(self):
        ids = [
            p.id
            for p in self.gl_a.projects.list(iterator=True, pagination="keyset", order_by="id", sort="asc", per_page=5)
        ]
        assert ids == sorted(ids) and len(ids) == len(set(ids)) > 10

    @check("429 retry with Retry-After (obey_rate_limit)")
    def rate_limit(self):
        admin_call(self.b, "POST", "/-/sim/stats/reset")
        admin_call(self.b, "PUT", "/-/sim/rate_limit", {"enabled": True, "authenticated": {"limit": 5, "period_secs": 2}})
        try:
            gl = gitlab.Gitlab(self.b["base_url"], private_token=self.b["admin_token"])
            for _ in range(12):
                gl.projects.get(PUSH_TARGET, obey_rate_limit=True)
            stats = admin_call(self.b, "GET", "/-/sim/stats")
            assert stats["throttled_429"] >= 1, stats["throttled_429"]
            # Without obeying, the 429 surfaces as an error.
            try:
                for _ in range(12):
                    gl.projects.get(PUSH_TARGET, obey_rate_limit=False)
                raise AssertionError("expected a 429")
            except gitlab.exceptions.GitlabGetError as e:
                assert e.response_code == 429
        finally:
            admin_call(self.b, "PUT", "/-/sim/rate_limit", {"enabled": False})

    @check("nothing left behind")
    def leftovers(self):
        for inst in (self.a, self.b):
            left = admin_call(inst, "GET", "/-/sim/leftovers")
            assert left == {
                "project_access_tokens": [],
                "personal_access_tokens": [],
                "remote_mirrors": [],
                "pull_mirrors": [],
            }, left


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        state = json.load(f)
    print(f"python-gitlab {gitlab.__version__} against {len(state['instances'])} instance(s)")
    s = Scenario(state)
    s.auth()
    s.projects_by_path()
    s.access_tokens()
    if s.token is not None:
        s.remote_mirror()
    if s.mirror is not None:
        s.cleanup_push()
    s.pull_mirror()
    s.pagination()
    s.keyset()
    s.rate_limit()
    s.leftovers()
    passed = sum(1 for _, ok in RESULTS if ok)
    failed = len(RESULTS) - passed
    print(f"python-gitlab scenario: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed == 10 else 1


if __name__ == "__main__":
    sys.exit(main())
