//! OpenAPI conformance: every route the simulator serves and every response
//! body of a broad scenario is checked against GitLab's Swagger 2.0 spec
//! (`shared/gitlab-openapi/gitlab-v4-mirror-subset.swagger.yaml`, falling
//! back to the full 17.4 spec beside it for routes outside the subset).
//! Only the defects listed in `defects` are tolerated; the test fails if the spec
//! file is missing or if a listed defect is no longer needed.
//!
//! Layout: `routes` lists the served routes GitLab's spec lacks,
//! `defects` the tolerated spec defects, `scenario` the recorded request
//! scenario; this file holds the entry point and the checks.

#[path = "../common/mod.rs"]
mod common;
mod defects;
mod routes;
mod scenario;
#[path = "../swagger/mod.rs"]
mod swagger;

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;

use common::*;
use defects::{ARRAY_DEFECTS, STATUS_DEFECTS, defects};
use gitlab_sim::{InstanceSpec, api::ROUTES};
use routes::NOT_IN_SPEC;
use scenario::scenario;
use swagger::{Spec, path_matches};

fn spec_path() -> PathBuf {
    match std::env::var_os("MM_GITLAB_OPENAPI") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/gitlab-openapi/gitlab-v4-mirror-subset.swagger.yaml"),
    }
}

fn full_spec_path() -> PathBuf {
    match std::env::var_os("MM_GITLAB_OPENAPI_FULL") {
        Some(p) => PathBuf::from(p),
        None => spec_path().with_file_name("openapi_v2.gitlab-17.4-2024-09.swagger-codegen.yaml"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulator_conforms_to_gitlab_openapi() {
    let subset = Spec::load(&spec_path());
    let full = Spec::load(&full_spec_path());
    let defects = defects();
    let mut problems: Vec<String> = vec![];

    // 1. Every served route is in a spec or explicitly listed as missing from it.
    let mut in_spec: Vec<(&str, &str)> = vec![];
    for (m, route) in ROUTES {
        let found =
            subset.op_for_template(m, route).is_some() || full.op_for_template(m, route).is_some();
        let listed = NOT_IN_SPEC.iter().any(|(lm, lr, _)| lm == m && lr == route);
        match (found, listed) {
            (true, false) => in_spec.push((m, route)),
            (false, true) => {}
            (true, true) => problems.push(format!(
                "{m} {route} is in the spec but listed in NOT_IN_SPEC"
            )),
            (false, false) => problems.push(format!(
                "{m} {route} is served but absent from the GitLab spec"
            )),
        }
    }
    for (m, r, _) in NOT_IN_SPEC {
        if !ROUTES.iter().any(|(a, b)| a == m && b == r) {
            problems.push(format!("NOT_IN_SPEC lists {m} {r}, which is not served"));
        }
    }

    // 2. Run the scenario and validate every response.
    let sim = demo_sim(vec![InstanceSpec::ee("conformance")]).await;
    let calls = scenario(&sim).await;
    sim.shutdown().await;
    let mut used_defects = HashSet::new();
    let mut used_status_defects = BTreeSet::new();
    let mut used_array_defects = BTreeSet::new();
    let mut covered: BTreeSet<(String, String)> = BTreeSet::new();
    for c in &calls {
        let served = ROUTES
            .iter()
            .filter(|(m, r)| *m == c.method && path_matches(r, &c.path))
            .min_by_key(|(_, r)| r.matches('{').count());
        let Some((_, route)) = served else {
            problems.push(format!("{} {} matched no served route", c.method, c.path));
            continue;
        };
        if !(200..300).contains(&c.status) {
            // Error answers use GitLab's shapes.
            let shaped = c.body.get("message").is_some() || c.body.get("error").is_some();
            if !shaped {
                problems.push(format!(
                    "{} {} -> {}: error body is not GitLab-shaped: {}",
                    c.method, c.path, c.status, c.text
                ));
            }
            continue;
        }
        let op = subset
            .op_for_path(&c.method, &c.path)
            .map(|o| (&subset, o))
            .or_else(|| full.op_for_path(&c.method, &c.path).map(|o| (&full, o)));
        let Some((spec, (template, op))) = op else {
            continue; // NOT_IN_SPEC route
        };
        covered.insert((c.method.clone(), route.to_string()));
        let responses = &op["responses"];
        let key = c.status.to_string();
        let declared = if responses.get(&key).is_some() {
            Some(key.clone())
        } else {
            STATUS_DEFECTS
                .iter()
                .position(|(m, t, _, real, _)| {
                    *m == c.method && *t == template && *real == c.status
                })
                .map(|ix| {
                    used_status_defects.insert(ix);
                    STATUS_DEFECTS[ix].2.to_string()
                })
        };
        let Some(declared) = declared else {
            problems.push(format!(
                "{} {} -> {} not declared by {template} in {}",
                c.method, c.path, c.status, spec.name
            ));
            continue;
        };
        if let Some(schema) = responses[&declared].get("schema") {
            let mut errs = vec![];
            let as_array = ARRAY_DEFECTS
                .iter()
                .position(|(m, t, _)| *m == c.method && *t == template);
            match (as_array, c.body.as_array()) {
                (Some(ix), Some(items)) => {
                    used_array_defects.insert(ix);
                    for (n, item) in items.iter().enumerate() {
                        spec.validate(
                            schema,
                            item,
                            &format!("$[{n}]"),
                            None,
                            &defects,
                            &mut used_defects,
                            &mut errs,
                        );
                    }
                }
                _ => spec.validate(
                    schema,
                    &c.body,
                    "$",
                    None,
                    &defects,
                    &mut used_defects,
                    &mut errs,
                ),
            }
            for e in errs {
                problems.push(format!("{} {} ({}): {e}", c.method, c.path, spec.name));
            }
        }
    }

    // 3. Every route that the spec knows was exercised successfully.
    for (m, r) in &in_spec {
        if !covered.contains(&(m.to_string(), r.to_string())) {
            problems.push(format!(
                "{m} {r} is in the spec but the scenario never got a 2xx from it"
            ));
        }
    }
    // 4. The defect lists are minimal.
    for (ix, d) in defects.iter().enumerate() {
        if !used_defects.contains(&ix) {
            problems.push(format!(
                "listed defect {}.{} ({}) was not needed",
                d.definition, d.property, d.reason
            ));
        }
    }
    for (ix, d) in STATUS_DEFECTS.iter().enumerate() {
        if !used_status_defects.contains(&ix) {
            problems.push(format!(
                "listed status defect {} {} was not needed",
                d.0, d.1
            ));
        }
    }
    for (ix, d) in ARRAY_DEFECTS.iter().enumerate() {
        if !used_array_defects.contains(&ix) {
            problems.push(format!(
                "listed array defect {} {} was not needed",
                d.0, d.1
            ));
        }
    }
    assert!(calls.len() > 80, "scenario too small: {}", calls.len());
    assert!(
        problems.is_empty(),
        "{} OpenAPI conformance problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
