//! Checks the deployment files (docker-compose.yml, deploy/**, Dockerfile, .env.example)
//! against the code: settings, ports, binaries, probe paths and file references.
//! Nothing is run; no container engine is needed.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

use serde_yaml::Value;

const BINARIES: &[&str] = &["mirror-maestro", "mm-api", "mm-gateway", "mm-worker"];
const PROBE_PATHS: &[&str] = &["/api/health/quick", "/healthz", "/readyz"];

fn root() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("services/config/src/settings.rs").is_file() {
        assert!(dir.pop(), "workspace root not found");
    }
    dir
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every YAML document of docker-compose.yml and deploy/**, with its file.
fn documents() -> Vec<(PathBuf, Value)> {
    let root = root();
    let mut files = vec![root.join("docker-compose.yml")];
    let mut stack = vec![root.join("deploy")];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml")
            ) {
                files.push(path);
            }
        }
    }
    let mut docs = Vec::new();
    for file in files {
        let text = read(&file);
        for doc in serde_yaml::Deserializer::from_str(&text) {
            let value = Value::deserialize(doc)
                .unwrap_or_else(|e| panic!("{}: invalid YAML: {e}", file.display()));
            if !value.is_null() {
                docs.push((file.clone(), value));
            }
        }
    }
    assert!(docs.len() > 5, "expected compose and kustomize files");
    docs
}

use serde::Deserialize as _;

/// `MM_*` variables the code reads: the `Settings` fields, `MM_CONFIG`, and the worker's own.
fn known_variables() -> BTreeSet<String> {
    let root = root();
    let settings = read(&root.join("services/config/src/settings.rs"));
    let start = settings
        .find("pub struct Settings {")
        .expect("Settings struct");
    let body = &settings[start..start + settings[start..].find("\n}").unwrap()];
    let mut known: BTreeSet<String> = body
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub "))
        .filter_map(|rest| rest.split_once(':'))
        .map(|(name, _)| format!("MM_{}", name.trim().to_ascii_uppercase()))
        .collect();
    assert!(
        known.contains("MM_AMQP_URL") && known.len() > 10,
        "{known:?}"
    );
    known.insert("MM_CONFIG".into());

    let worker = read(&root.join("workers/src/config.rs"));
    let start = worker
        .find("pub const VARIABLES")
        .expect("worker VARIABLES");
    let list = &worker[start..start + worker[start..].find("];").unwrap()];
    for part in list.split('"').skip(1).step_by(2) {
        known.insert(part.to_owned());
    }
    assert!(known.contains("MM_WORKER_PREFETCH"));
    known
}

/// The default port of a `Settings` address field, from the defaults in settings.rs.
fn default_port(field: &str) -> u16 {
    let settings = read(&root().join("services/config/src/settings.rs"));
    let needle = format!("{field}: \"");
    let start = settings
        .find(&needle)
        .unwrap_or_else(|| panic!("default for {field}"))
        + needle.len();
    let value = &settings[start..start + settings[start..].find('"').unwrap()];
    value.rsplit(':').next().unwrap().parse().unwrap()
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Sequence(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Mapping(map) => {
            for (k, v) in map {
                collect_strings(k, out);
                collect_strings(v, out);
            }
        }
        Value::Tagged(tagged) => collect_strings(&tagged.value, out),
        _ => {}
    }
}

/// Every `MM_*` token in a text (keys, `${MM_X}` interpolations, `name: MM_X`).
fn mm_tokens(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(pos) = text[i..].find("MM_") {
        let start = i + pos;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let mut end = start + 3;
        while end < bytes.len()
            && (bytes[end].is_ascii_uppercase()
                || bytes[end].is_ascii_digit()
                || bytes[end] == b'_')
        {
            end += 1;
        }
        if boundary && end > start + 3 {
            tokens.push(text[start..end].to_owned());
        }
        i = end;
    }
    tokens
}

fn get<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |v, key| v.get(*key))
}

fn as_str(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str)
}

fn kind_docs<'a>(docs: &'a [(PathBuf, Value)], kind: &str) -> Vec<&'a Value> {
    docs.iter()
        .filter(|(_, d)| as_str(d.get("kind")) == Some(kind))
        .map(|(_, d)| d)
        .collect()
}

fn compose() -> Value {
    serde_yaml::from_str(&read(&root().join("docker-compose.yml"))).unwrap()
}

/// The binary a compose service or container runs (first word of its command).
fn command_binary(command: Option<&Value>) -> Option<String> {
    match command? {
        Value::Sequence(items) => items.first()?.as_str().map(str::to_owned),
        Value::String(s) => s.split_whitespace().next().map(str::to_owned),
        _ => None,
    }
}

#[test]
fn every_mm_variable_is_a_real_setting() {
    let known = known_variables();
    let root = root();
    let mut used = BTreeMap::new();
    for (file, doc) in documents() {
        let mut strings = Vec::new();
        collect_strings(&doc, &mut strings);
        for token in strings.iter().flat_map(|s| mm_tokens(s)) {
            used.insert(token, file.display().to_string());
        }
    }
    for file in [".env.example", "Dockerfile"] {
        for token in mm_tokens(&read(&root.join(file))) {
            used.insert(token, file.to_owned());
        }
    }
    assert!(used.contains_key("MM_AMQP_URL"));
    let unknown: Vec<_> = used
        .iter()
        .filter(|(name, _)| !known.contains(*name))
        .collect();
    assert!(unknown.is_empty(), "unknown MM_* variables: {unknown:?}");
}

#[test]
fn addresses_and_ports_match_the_code_defaults() {
    let http = default_port("http_addr");
    let grpc = default_port("grpc_addr");
    let worker = default_port("worker_addr");
    assert_eq!((http, grpc, worker), (8080, 50051, 9091));
    let expect = [
        ("MM_HTTP_ADDR", http),
        ("MM_GRPC_ADDR", grpc),
        ("MM_WORKER_ADDR", worker),
        ("MM_API_URL", grpc),
    ];

    let compose = compose();
    let env = get(&compose, &["x-mm-env"]).expect("shared compose environment");
    let configmap = kind_docs(&documents(), "ConfigMap")
        .into_iter()
        .find_map(|d| d.get("data").cloned())
        .expect("ConfigMap data");
    for source in [env, &configmap] {
        for (variable, port) in expect {
            let value = as_str(source.get(variable)).unwrap_or_else(|| panic!("{variable} set"));
            assert!(value.ends_with(&format!(":{port}")), "{variable}={value}");
        }
    }
    let ports: Vec<_> = get(&compose, &["services", "mm-gateway", "ports"])
        .and_then(Value::as_sequence)
        .expect("gateway ports")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(ports, [format!("{http}:{http}")]);

    let docs = documents();
    for deployment in kind_docs(&docs, "Deployment") {
        let container = &get(deployment, &["spec", "template", "spec", "containers"])
            .and_then(Value::as_sequence)
            .unwrap()[0];
        let binary = command_binary(container.get("command")).unwrap();
        let port = match binary.as_str() {
            "mm-api" => grpc,
            "mm-gateway" => http,
            "mm-worker" => worker,
            other => panic!("unexpected deployment binary {other}"),
        };
        let declared: Vec<u64> = container["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|p| p["containerPort"].as_u64())
            .collect();
        assert_eq!(declared, [u64::from(port)], "{binary}");
    }
}

#[test]
fn services_run_binaries_of_the_workspace() {
    let root = root();
    let manifest: toml::Value = toml::from_str(&read(&root.join("Cargo.toml"))).unwrap();
    let mut binaries = BTreeSet::new();
    for member in manifest["workspace"]["members"].as_array().unwrap() {
        let dir = root.join(member.as_str().unwrap());
        let package: toml::Value = toml::from_str(&read(&dir.join("Cargo.toml"))).unwrap();
        for bin in package
            .get("bin")
            .and_then(|b| b.as_array())
            .into_iter()
            .flatten()
        {
            binaries.insert(bin["name"].as_str().unwrap().to_owned());
        }
    }
    for binary in BINARIES {
        assert!(
            binaries.contains(*binary),
            "{binary} is not a workspace binary: {binaries:?}"
        );
    }

    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    let mut ran = BTreeSet::new();
    for (name, service) in services {
        if let Some(binary) = command_binary(service.get("command")) {
            assert!(
                BINARIES.contains(&binary.as_str()),
                "{name:?} runs {binary}"
            );
            ran.insert(binary);
        }
    }
    let docs = documents();
    for kind in ["Deployment", "Job"] {
        for doc in kind_docs(&docs, kind) {
            for container in get(doc, &["spec", "template", "spec", "containers"])
                .and_then(Value::as_sequence)
                .unwrap()
            {
                let binary = command_binary(container.get("command")).expect("explicit command");
                assert!(BINARIES.contains(&binary.as_str()), "{kind} runs {binary}");
                ran.insert(binary);
            }
        }
    }
    assert_eq!(ran.len(), BINARIES.len(), "{ran:?}");
}

#[test]
fn probes_use_paths_the_services_serve() {
    let root = root();
    let worker_routes = read(&root.join("workers/src/health.rs"));
    for path in ["/healthz", "/readyz", "/metrics"] {
        assert!(
            worker_routes.contains(&format!("\"{path}\"")),
            "worker serves {path}"
        );
    }
    let docs = documents();
    for deployment in kind_docs(&docs, "Deployment") {
        let container = &get(deployment, &["spec", "template", "spec", "containers"])
            .and_then(Value::as_sequence)
            .unwrap()[0];
        let binary = command_binary(container.get("command")).unwrap();
        let live = as_str(get(container, &["livenessProbe", "httpGet", "path"])).unwrap();
        let ready = as_str(get(container, &["readinessProbe", "httpGet", "path"])).unwrap();
        let expected = match binary.as_str() {
            "mm-gateway" => ("/api/health/quick", "/api/health/quick"),
            "mm-worker" => ("/healthz", "/readyz"),
            _ => ("/healthz", "/healthz"),
        };
        assert_eq!((live, ready), expected, "{binary}");
    }

    let compose = compose();
    for (name, service) in compose["services"].as_mapping().unwrap() {
        let health = service
            .get("healthcheck")
            .unwrap_or_else(|| panic!("{name:?} has a healthcheck"));
        if health.get("disable").and_then(Value::as_bool) == Some(true) {
            assert_eq!(
                as_str(service.get("restart")),
                Some("no"),
                "only one-shot jobs skip health"
            );
            continue;
        }
        let mut test = Vec::new();
        collect_strings(&health["test"], &mut test);
        for url in test.iter().filter(|s| s.starts_with("http://")) {
            let path = &url[url[7..].find('/').unwrap() + 7..];
            assert!(PROBE_PATHS.contains(&path), "{name:?} probes {path}");
        }
        for dependency in service
            .get("depends_on")
            .and_then(Value::as_mapping)
            .into_iter()
            .flatten()
        {
            let condition = as_str(dependency.1.get("condition")).unwrap();
            assert!(
                matches!(
                    condition,
                    "service_healthy" | "service_completed_successfully"
                ),
                "{name:?}: {condition}"
            );
        }
    }
    assert_eq!(
        get(&compose, &["services", "mm-worker", "deploy", "replicas"]).and_then(Value::as_u64),
        Some(2)
    );
}

#[test]
fn kustomization_lists_existing_files_and_every_manifest() {
    let dir = root().join("deploy/k8s");
    let kustomization: Value =
        serde_yaml::from_str(&read(&dir.join("kustomization.yaml"))).unwrap();
    let listed: BTreeSet<String> = kustomization["resources"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    for resource in &listed {
        assert!(
            dir.join(resource).is_file(),
            "{resource} is listed but missing"
        );
    }
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            assert!(
                listed.contains(&name),
                "{name} is not listed in kustomization.yaml"
            );
        }
    }
}

#[test]
fn kubernetes_objects_are_complete_and_hardened() {
    let docs = documents();
    let deployments = kind_docs(&docs, "Deployment");
    assert_eq!(deployments.len(), 3);
    let worker = deployments
        .iter()
        .find(|d| {
            command_binary(
                get(d, &["spec", "template", "spec", "containers"]).unwrap()[0].get("command"),
            )
            .as_deref()
                == Some("mm-worker")
        })
        .expect("worker deployment");
    let worker_name = as_str(get(worker, &["metadata", "name"])).unwrap();
    let worker_labels = get(worker, &["spec", "selector", "matchLabels"]).unwrap();

    let hpas = kind_docs(&docs, "HorizontalPodAutoscaler");
    assert_eq!(hpas.len(), 1);
    let target = get(hpas[0], &["spec", "scaleTargetRef"]).unwrap();
    assert_eq!(as_str(target.get("kind")), Some("Deployment"));
    assert_eq!(as_str(target.get("name")), Some(worker_name));
    let pdbs = kind_docs(&docs, "PodDisruptionBudget");
    assert_eq!(pdbs.len(), 1);
    assert_eq!(
        get(pdbs[0], &["spec", "selector", "matchLabels"]),
        Some(worker_labels)
    );

    for kind in ["Deployment", "Job"] {
        for doc in kind_docs(&docs, kind) {
            let pod = get(doc, &["spec", "template", "spec"]).unwrap();
            assert_eq!(
                get(pod, &["securityContext", "runAsNonRoot"]).and_then(Value::as_bool),
                Some(true)
            );
            for container in pod["containers"].as_sequence().unwrap() {
                let security = &container["securityContext"];
                assert_eq!(security["readOnlyRootFilesystem"].as_bool(), Some(true));
                assert_eq!(security["allowPrivilegeEscalation"].as_bool(), Some(false));
                for section in ["requests", "limits"] {
                    for resource in ["cpu", "memory"] {
                        assert!(
                            get(container, &["resources", section, resource]).is_some(),
                            "{kind} {section}.{resource}"
                        );
                    }
                }
                if kind == "Deployment" {
                    assert!(
                        container.get("livenessProbe").is_some()
                            && container.get("readinessProbe").is_some()
                    );
                }
            }
        }
    }

    let services: Vec<_> = kind_docs(&docs, "Service")
        .into_iter()
        .filter_map(|s| as_str(get(s, &["metadata", "name"])))
        .collect();
    let ingress = kind_docs(&docs, "Ingress");
    assert_eq!(ingress.len(), 1);
    let mut backends = Vec::new();
    collect_strings(&ingress[0]["spec"], &mut backends);
    assert!(backends.iter().any(|s| s == "mm-gateway") && services.contains(&"mm-gateway"));
    assert_eq!(kind_docs(&docs, "Job").len(), 1);

    let secret = kind_docs(&docs, "Secret");
    assert_eq!(secret.len(), 1);
    let data = secret[0]["stringData"].as_mapping().unwrap();
    let keys: BTreeSet<_> = data.keys().filter_map(Value::as_str).collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "MM_ADMIN_PASSWORD",
            "MM_AMQP_URL",
            "MM_DATABASE_URL",
            "MM_ENCRYPTION_KEY",
            "MM_JWT_SECRET"
        ])
    );
    for (key, value) in data {
        assert!(
            value.as_str().unwrap().contains("CHANGE-ME"),
            "{key:?} must stay a placeholder"
        );
    }
    let configmap = kind_docs(&docs, "ConfigMap");
    let config_keys: Vec<_> = configmap[0]["data"]
        .as_mapping()
        .unwrap()
        .keys()
        .filter_map(Value::as_str)
        .collect();
    for key in &keys {
        assert!(
            !config_keys.contains(key),
            "{key} belongs in the Secret only"
        );
    }
}

#[test]
fn dockerfile_builds_every_binary_and_exposes_the_ports() {
    let root = root();
    let dockerfile = read(&root.join("Dockerfile"));
    assert!(dockerfile.contains("FROM rust:1.95-slim-bookworm AS builder"));
    assert!(dockerfile.contains("FROM debian:bookworm-slim"));
    assert!(dockerfile.contains("cargo build --release --locked"));
    for binary in BINARIES {
        assert!(
            dockerfile.contains(&format!("--bin {binary}")),
            "builds {binary}"
        );
        assert!(
            dockerfile.contains(&format!("/out/{binary}")),
            "copies {binary}"
        );
    }
    let expose = dockerfile
        .lines()
        .find(|l| l.starts_with("EXPOSE"))
        .expect("EXPOSE");
    let ports: BTreeSet<u16> = expose
        .split_whitespace()
        .skip(1)
        .map(|p| p.parse().unwrap())
        .collect();
    let expected = BTreeSet::from([
        default_port("http_addr"),
        default_port("grpc_addr"),
        default_port("worker_addr"),
    ]);
    assert_eq!(ports, expected);
    let user = dockerfile
        .lines()
        .rfind(|l| l.starts_with("USER"))
        .expect("USER");
    assert!(!user.contains("root") && !user.contains(" 0"), "{user}");
    assert!(dockerfile.contains("HEALTHCHECK"));

    let ignore = read(&root.join(".dockerignore"));
    assert!(ignore.lines().any(|l| l.trim() == "target/"));
    assert!(ignore.lines().any(|l| l.trim() == ".env"));
    let env_example = read(&root.join(".env.example"));
    for line in env_example.lines().filter(|l| l.starts_with("MM_")) {
        assert!(line.contains("change-me"), "{line} must be a placeholder");
    }
}
