//! The deployment files against the real CLI: the Dockerfile,
//! docker-compose.yml and every manifest under k8s/ (all documents) use only
//! subcommands, flags and environment variables that `claimtrail` declares in
//! its `--help`, probe `/healthz` and `/readyz`, and keep the operating rules:
//! one anchor with the Recreate strategy, a grace period above the shutdown
//! timeout, kustomizations whose paths exist.
//!
//! Kubernetes schema validation is not here (no validator ships offline with
//! cargo); docs/operations.md says how to run one.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use claimtrail_e2e::{SERVICES, claimtrail_bin};
use serde_json::{Map, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Variables that claimtrail containers may carry without the CLI declaring them.
const ENV_ALLOWED: [&str; 4] = [
    // OTLP trace export (libs/runtime/src/telemetry.rs): the collector, and the name in traces.
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_SERVICE_NAME",
    // tracing-subscriber's EnvFilter.
    "RUST_LOG",
];
/// The environment prefixes that belong to the CLI: any such variable anywhere must be declared.
const CLI_ENV_PREFIXES: [&str; 3] = ["CLAIMTRAIL_", "DATABASE_URL", "NATS_URL"];
const HEALTH_PATHS: [&str; 2] = ["/healthz", "/readyz"];
/// The anchor's log key file inside CLAIMTRAIL_KEY_DIR (services/anchor/src/keys.rs).
const LOG_KEY_FILE: &str = "ledger-log.key";
const PROBES: [&str; 3] = ["startupProbe", "livenessProbe", "readinessProbe"];

#[test]
fn every_claimtrail_invocation_in_the_deploy_files_is_a_real_subcommand_with_real_flags() {
    let mut problems = Vec::new();
    let dockerfile = Dockerfile::load();
    let entrypoint = dockerfile.last_stage_json("ENTRYPOINT");
    if entrypoint != ["claimtrail"] {
        problems.push(format!("Dockerfile: ENTRYPOINT is {entrypoint:?}, not [\"claimtrail\"]"));
    }
    let mut invocations = vec![("Dockerfile CMD".to_owned(), dockerfile.last_stage_json("CMD"))];
    invocations.extend(compose_invocations(&mut problems));
    invocations.extend(kubernetes_invocations(&mut problems));

    for (origin, args) in &invocations {
        if let Err(reason) = check_invocation(args) {
            problems.push(format!("{origin}: `claimtrail {}`: {reason}", args.join(" ")));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn compose_and_kubernetes_each_run_the_four_services_once() {
    let mut problems = Vec::new();
    // The four services, fraud, and the dashboard that calls their APIs.
    let four: BTreeSet<String> = SERVICES.iter().map(|s| (*s).to_owned()).chain(["dashboard".to_owned(), "fraud".to_owned()]).collect();
    // docker-compose also runs a witness (on Kubernetes a witness belongs to another party).
    let with_witness: BTreeSet<String> = four.iter().cloned().chain(["witness".to_owned()]).collect();
    for (label, invocations, expected) in
        [("docker-compose.yml", compose_invocations(&mut problems), with_witness), ("k8s/base", base_invocations(&mut problems), four)]
    {
        let served: Vec<String> =
            invocations.iter().filter(|(_, args)| args.first().is_some_and(|a| a == "serve")).filter_map(|(_, args)| args.get(1).cloned()).collect();
        let unique: BTreeSet<String> = served.iter().cloned().collect();
        if unique != expected || served.len() != expected.len() {
            problems.push(format!("{label} serves {served:?}, expected each of {expected:?} once"));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn every_environment_variable_given_to_claimtrail_is_declared_by_the_cli_or_allow_listed() {
    let mut problems = Vec::new();
    for name in Dockerfile::load().last_stage_env().keys() {
        problems.extend(env_problem("Dockerfile ENV", name, true));
    }

    let compose = Compose::load();
    for (service, definition) in compose.services() {
        let image = definition["image"].as_str().unwrap_or_default();
        for name in compose_environment(definition).keys() {
            if image.starts_with("postgres") {
                if !is_postgres_image_env(name) {
                    problems.push(format!("docker-compose.yml {service}: {name} is not a variable of the postgres image"));
                }
                continue;
            }
            problems.extend(env_problem(&format!("docker-compose.yml {service}"), name, compose.is_claimtrail(definition)));
        }
    }

    let k8s = Kubernetes::load();
    let mut env_sources: BTreeSet<(&str, String)> = BTreeSet::new();
    for workload in k8s.workloads() {
        for container in workload.containers() {
            let origin = format!("{} {} container {}", workload.doc.path, workload.doc.name(), container["name"].as_str().unwrap_or("?"));
            let claimtrail = is_claimtrail_container(container);
            let postgres = container["image"].as_str().is_some_and(|image| image.starts_with("postgres"));
            for name in container["env"].as_array().into_iter().flatten().filter_map(|e| e["name"].as_str()) {
                if postgres && !is_postgres_image_env(name) {
                    problems.push(format!("{origin}: {name} is not a variable of the postgres image"));
                } else if !postgres {
                    problems.extend(env_problem(&origin, name, claimtrail));
                }
            }
            for source in container["envFrom"].as_array().into_iter().flatten() {
                if let Some(name) = source["configMapRef"]["name"].as_str() {
                    env_sources.insert(("ConfigMap", name.to_owned()));
                }
                if let Some(name) = source["secretRef"]["name"].as_str() {
                    env_sources.insert(("Secret", name.to_owned()));
                }
            }
        }
    }
    for (kind, name) in &env_sources {
        let mut found = false;
        for doc in k8s.docs.iter().filter(|d| d.kind() == *kind && d.name() == name) {
            found = true;
            for field in ["data", "stringData"] {
                for key in doc.value[field].as_object().into_iter().flat_map(Map::keys) {
                    problems.extend(env_problem(&format!("{} {kind} {name}", doc.path), key, true));
                }
            }
        }
        if !found {
            problems.push(format!("k8s: the {kind} {name} is used through envFrom but defined nowhere under k8s/"));
        }
    }
    assert!(!env_sources.is_empty(), "no claimtrail container takes its environment from a ConfigMap or Secret");
    assert_no_problems(&problems);
}

#[test]
fn every_probe_and_health_check_points_at_healthz_or_readyz() {
    let mut problems = Vec::new();
    let k8s = Kubernetes::load();
    let mut n_claimtrail_workloads = 0;
    for workload in k8s.workloads() {
        for container in workload.containers() {
            let origin = format!("{} {} container {}", workload.doc.path, workload.doc.name(), container["name"].as_str().unwrap_or("?"));
            for probe in PROBES {
                if let Some(path) = container[probe]["httpGet"]["path"].as_str()
                    && !HEALTH_PATHS.contains(&url_path(path))
                {
                    problems.push(format!("{origin}: {probe} GETs {path}"));
                }
            }
            if workload.is_complete() && is_claimtrail_container(container) {
                n_claimtrail_workloads += 1;
                for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
                    let actual = container[probe]["httpGet"]["path"].as_str();
                    if actual != Some(path) {
                        problems.push(format!("{origin}: {probe} must GET {path}, found {actual:?}"));
                    }
                }
            }
        }
    }
    if n_claimtrail_workloads < SERVICES.len() {
        problems.push(format!("k8s: only {n_claimtrail_workloads} claimtrail workloads found"));
    }

    let compose = Compose::load();
    let runtime_installs = Dockerfile::load().last_stage_text("RUN");
    for (service, definition) in compose.services() {
        let test = compose_healthcheck(definition);
        for url in test.iter().filter(|part| part.contains("://")) {
            if !HEALTH_PATHS.contains(&url_path(url)) {
                problems.push(format!("docker-compose.yml {service}: the health check GETs {url}"));
            }
        }
        if !compose.is_claimtrail(definition) {
            continue;
        }
        if !test.iter().any(|part| part.ends_with("/readyz")) {
            problems.push(format!("docker-compose.yml {service}: the health check does not GET /readyz: {test:?}"));
        }
        // `CMD <tool> ...` runs a program of the image: the runtime stage must install it.
        if test.first().is_some_and(|t| t == "CMD")
            && let Some(tool) = test.get(1)
            && !runtime_installs.split_whitespace().any(|word| word == tool)
        {
            problems.push(format!("docker-compose.yml {service}: the health check runs {tool}, which the Dockerfile's runtime stage does not install"));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn the_anchor_runs_alone_with_the_recreate_strategy() {
    let mut problems = Vec::new();
    let k8s = Kubernetes::load();
    let mut n_complete = 0;
    for doc in k8s.docs.iter().filter(|d| d.kind() == "Deployment" && d.name() == "anchor") {
        let spec = &doc.value["spec"];
        let complete = !spec["selector"].is_null();
        n_complete += usize::from(complete);
        if (complete || !spec["replicas"].is_null()) && spec["replicas"].as_i64() != Some(1) {
            problems.push(format!("{}: the anchor Deployment has replicas {}, not 1", doc.path, spec["replicas"]));
        }
        if (complete || !spec["strategy"].is_null()) && spec["strategy"]["type"].as_str() != Some("Recreate") {
            problems.push(format!("{}: the anchor Deployment's strategy is {}, not Recreate", doc.path, spec["strategy"]));
        }
    }
    if n_complete != 1 {
        problems.push(format!("k8s: {n_complete} complete anchor Deployments, expected 1"));
    }
    for doc in k8s.kustomizations() {
        for replicas in doc.value["replicas"].as_array().into_iter().flatten() {
            if replicas["name"] == "anchor" && replicas["count"].as_i64() != Some(1) {
                problems.push(format!("{}: sets the anchor's replicas to {}", doc.path, replicas["count"]));
            }
        }
    }
    for doc in k8s.docs.iter().filter(|d| d.kind() == "HorizontalPodAutoscaler") {
        if doc.value["spec"]["scaleTargetRef"]["name"] == "anchor" || doc.name() == "anchor" {
            problems.push(format!("{}: an autoscaler on the anchor", doc.path));
        }
    }

    let compose = Compose::load();
    let anchor = compose.service("anchor");
    for field in [&anchor["deploy"]["replicas"], &anchor["scale"]] {
        if !field.is_null() && field.as_i64() != Some(1) {
            problems.push(format!("docker-compose.yml anchor: {field} replicas"));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn the_anchor_reads_its_log_key_from_a_secret_mounted_at_its_key_dir() {
    let mut problems = Vec::new();
    let k8s = Kubernetes::load();
    let anchor = k8s.claimtrail_workload("anchor");
    let container = anchor.container("anchor");
    let key_dir = k8s.effective_env(container, "CLAIMTRAIL_KEY_DIR");
    let mount = container["volumeMounts"].as_array().into_iter().flatten().find(|m| m["mountPath"].as_str() == Some(key_dir.as_str()));
    match mount {
        None => problems.push(format!("k8s anchor: nothing is mounted at the key dir {key_dir}")),
        Some(mount) => {
            let volume_name = mount["name"].as_str().unwrap_or_default();
            let volume = anchor.pod_spec()["volumes"].as_array().into_iter().flatten().find(|v| v["name"].as_str() == Some(volume_name));
            let secret_name = volume.and_then(|v| v["secret"]["secretName"].as_str());
            match secret_name {
                None => problems.push(format!("k8s anchor: the volume {volume_name} at {key_dir} is not a Secret")),
                Some(secret_name) => {
                    let items: Vec<&str> =
                        volume.into_iter().flat_map(|v| v["secret"]["items"].as_array()).flatten().filter_map(|i| i["path"].as_str()).collect();
                    if !items.is_empty() && !items.contains(&LOG_KEY_FILE) {
                        problems.push(format!("k8s anchor: the Secret volume projects {items:?}, not {LOG_KEY_FILE}"));
                    }
                    let secret = k8s.docs.iter().find(|d| d.kind() == "Secret" && d.name() == secret_name);
                    let has_key = secret.is_some_and(|s| !s.value["data"][LOG_KEY_FILE].is_null() || !s.value["stringData"][LOG_KEY_FILE].is_null());
                    if !has_key {
                        problems.push(format!("k8s: no Secret {secret_name} with a {LOG_KEY_FILE} key under k8s/"));
                    }
                }
            }
        }
    }

    let compose = Compose::load();
    let key_dir = compose.effective_env(compose.service("anchor"), "CLAIMTRAIL_KEY_DIR");
    let mounted =
        compose.service("anchor")["volumes"].as_array().into_iter().flatten().filter_map(Value::as_str).any(|v| v.split(':').nth(1) == Some(key_dir.as_str()));
    if !mounted {
        problems.push(format!("docker-compose.yml anchor: no volume at the key dir {key_dir}, so the log key would not survive a new container"));
    }
    assert_no_problems(&problems);
}

#[test]
fn the_termination_grace_period_outlasts_the_shutdown_timeout() {
    let mut problems = Vec::new();
    let default_ms = cli_default("CLAIMTRAIL_SHUTDOWN_TIMEOUT_MS").parse::<u64>().expect("a numeric default shutdown timeout");

    let k8s = Kubernetes::load();
    let set_anywhere = k8s.values_of("CLAIMTRAIL_SHUTDOWN_TIMEOUT_MS").into_iter().map(|v| v.parse::<u64>().unwrap_or(u64::MAX));
    let timeout_ms = set_anywhere.chain([default_ms]).max().unwrap_or(default_ms);
    for workload in k8s.workloads().filter(|w| w.containers().any(is_claimtrail_container)) {
        let grace = &workload.pod_spec()["terminationGracePeriodSeconds"];
        if grace.is_null() && !workload.is_complete() {
            continue;
        }
        match grace.as_u64() {
            Some(seconds) if seconds * 1_000 > timeout_ms => {}
            _ => problems.push(format!(
                "{} {}: terminationGracePeriodSeconds {grace} does not exceed the shutdown timeout of {timeout_ms} ms",
                workload.doc.path,
                workload.doc.name()
            )),
        }
    }

    let compose = Compose::load();
    for (service, definition) in compose.services().filter(|(_, d)| compose.is_claimtrail(d)) {
        let timeout_ms: u64 = compose.effective_env(definition, "CLAIMTRAIL_SHUTDOWN_TIMEOUT_MS").parse().unwrap_or(u64::MAX);
        // Compose's default stop_grace_period is 10 s.
        let grace = definition["stop_grace_period"].as_str().unwrap_or("10s");
        let grace_ms = compose_duration_ms(grace);
        if grace_ms.is_none_or(|ms| ms <= timeout_ms) {
            problems.push(format!("docker-compose.yml {service}: stop_grace_period {grace} does not exceed the shutdown timeout of {timeout_ms} ms"));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn autoscalers_target_only_the_stateless_consumers() {
    let mut problems = Vec::new();
    let k8s = Kubernetes::load();
    let deployments: BTreeSet<&str> = k8s.docs.iter().filter(|d| d.kind() == "Deployment" && !d.value["spec"]["selector"].is_null()).map(Doc::name).collect();
    let mut targets = BTreeSet::new();
    for doc in k8s.docs.iter().filter(|d| d.kind() == "HorizontalPodAutoscaler" && !d.value["spec"]["scaleTargetRef"].is_null()) {
        let target = &doc.value["spec"]["scaleTargetRef"];
        let name = target["name"].as_str().unwrap_or_default();
        if target["kind"] != "Deployment" || !deployments.contains(name) {
            problems.push(format!("{}: the autoscaler targets {target}, which is not a Deployment under k8s/", doc.path));
        }
        targets.insert(name);
    }
    if targets != BTreeSet::from(["adjudication", "settlement"]) {
        problems.push(format!("k8s: autoscalers target {targets:?}, expected adjudication and settlement"));
    }
    for doc in k8s.docs.iter().filter(|d| d.kind() == "Deployment" && targets.contains(d.name())) {
        if !doc.value["spec"]["replicas"].is_null() {
            problems.push(format!("{}: {} sets replicas, which every apply would reset under its autoscaler", doc.path, doc.name()));
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn every_path_a_kustomization_lists_exists() {
    let mut problems = Vec::new();
    let k8s = Kubernetes::load();
    let kustomizations: Vec<&Doc> = k8s.kustomizations().collect();
    assert!(kustomizations.iter().any(|k| k.path == "k8s/base/kustomization.yaml"), "k8s/base/kustomization.yaml is missing");
    assert!(kustomizations.iter().any(|k| k.path == "k8s/overlays/production/kustomization.yaml"), "the production overlay is missing");
    for doc in kustomizations {
        let dir = repo_root().join(&doc.path).parent().expect("a kustomization has a directory").to_path_buf();
        for (field, listed) in kustomization_paths(&doc.value) {
            if listed.contains("://") || listed.starts_with("github.com/") {
                problems.push(format!("{}: {field} lists the remote {listed}; keep the deployment self-contained", doc.path));
                continue;
            }
            let path = dir.join(&listed);
            let exists = if field == "resources" || field == "components" { path.is_file() || kustomization_file(&path).is_some() } else { path.is_file() };
            if !exists {
                problems.push(format!("{}: {field} lists {listed}, which does not exist", doc.path));
            }
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn every_manifest_under_k8s_is_used_by_a_kustomization() {
    let k8s = Kubernetes::load();
    let mut used = BTreeSet::new();
    for doc in k8s.kustomizations() {
        let dir = repo_root().join(&doc.path).parent().expect("a kustomization has a directory").to_path_buf();
        for (_, listed) in kustomization_paths(&doc.value) {
            if let Ok(path) = dir.join(listed).canonicalize() {
                used.insert(path);
            }
        }
    }
    let unused: Vec<String> = yaml_files(&repo_root().join("k8s"))
        .into_iter()
        .filter(|path| path.file_name().is_none_or(|name| name != "kustomization.yaml"))
        .filter(|path| !path.canonicalize().is_ok_and(|p| used.contains(&p)))
        .map(|path| relative(&path))
        .collect();
    assert!(unused.is_empty(), "YAML under k8s/ that no kustomization lists: {unused:?}");
}

#[test]
fn the_dockerfile_builds_claimtrail_in_release_and_runs_it_unprivileged() {
    let mut problems = Vec::new();
    let dockerfile = Dockerfile::load();
    let stages = &dockerfile.stages;
    let builder_image = &stages.first().expect("a FROM").image;
    let rust_version = workspace_rust_version();
    match builder_image.strip_prefix("rust:").and_then(|tag| tag.split('-').next()).and_then(parse_version) {
        Some(image_version) if image_version >= rust_version => {}
        _ => problems.push(format!("Dockerfile: the first stage is {builder_image}, not a rust image at least the workspace's rust-version {rust_version:?}")),
    }
    let build_runs = dockerfile
        .instructions
        .iter()
        .filter(|i| i.keyword == "RUN" && i.args.contains("cargo build") && i.args.contains("--release") && i.args.contains("-p claimtrail"));
    if build_runs.count() == 0 {
        problems.push("Dockerfile: no `cargo build --release -p claimtrail`".to_owned());
    }
    let runtime = stages.last().expect("a FROM");
    if runtime.image != "debian:bookworm-slim" {
        problems.push(format!("Dockerfile: the runtime stage is {}, not debian:bookworm-slim", runtime.image));
    }
    if !dockerfile.last_stage_text("COPY").contains("--from=") {
        problems.push("Dockerfile: the runtime stage copies nothing from a build stage".to_owned());
    }
    match dockerfile.user_id() {
        Some(uid) if uid != 0 => {}
        user => problems.push(format!("Dockerfile: the runtime stage runs as {user:?}; give USER a non-zero numeric uid")),
    }
    assert_no_problems(&problems);
}

#[test]
fn claimtrail_pods_run_as_the_image_user_with_a_read_only_root_and_resource_limits() {
    let mut problems = Vec::new();
    let image_uid = Dockerfile::load().user_id();
    let k8s = Kubernetes::load();
    for workload in k8s.workloads().filter(|w| w.is_complete() && w.containers().any(is_claimtrail_container)) {
        let origin = format!("{} {}", workload.doc.path, workload.doc.name());
        let pod_security = &workload.pod_spec()["securityContext"];
        if pod_security["runAsNonRoot"] != true {
            problems.push(format!("{origin}: runAsNonRoot is not true"));
        }
        if pod_security["runAsUser"].as_u64() != image_uid {
            problems.push(format!("{origin}: runAsUser {} differs from the image's USER {image_uid:?}", pod_security["runAsUser"]));
        }
        for container in workload.containers() {
            let security = &container["securityContext"];
            if security["readOnlyRootFilesystem"] != true || security["allowPrivilegeEscalation"] != false {
                problems.push(format!("{origin}: the container needs readOnlyRootFilesystem: true and allowPrivilegeEscalation: false"));
            }
            for (class, resource) in [("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory")] {
                if container["resources"][class][resource].is_null() {
                    problems.push(format!("{origin}: no resources.{class}.{resource}"));
                }
            }
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn the_listen_address_is_reachable_and_its_port_matches_ports_probes_and_services() {
    let mut problems = Vec::new();
    let k8s = Kubernetes::load();
    let mut listens: BTreeSet<String> = k8s.values_of("CLAIMTRAIL_LISTEN").into_iter().collect();
    if listens.is_empty() {
        listens.insert(Dockerfile::load().last_stage_env().get("CLAIMTRAIL_LISTEN").cloned().unwrap_or_else(|| cli_default("CLAIMTRAIL_LISTEN")));
    }
    let mut ports = BTreeSet::new();
    for listen in &listens {
        let (host, port) = host_port(listen);
        if is_loopback(&host) {
            problems.push(format!("k8s: CLAIMTRAIL_LISTEN {listen} is loopback, unreachable from other pods"));
        }
        ports.insert(port);
    }
    let ports: Vec<u16> = ports.into_iter().collect();
    let [port] = ports[..] else {
        panic!("k8s: CLAIMTRAIL_LISTEN values {listens:?} do not agree on one port");
    };
    let mut port_names = BTreeSet::new();
    for workload in k8s.workloads().filter(Workload::is_complete) {
        for container in workload.containers().filter(|c| is_claimtrail_container(c)) {
            let origin = format!("{} {}", workload.doc.path, workload.doc.name());
            let declared = container["ports"].as_array().into_iter().flatten().find(|p| p["containerPort"].as_u64() == Some(u64::from(port)));
            let Some(declared) = declared else {
                problems.push(format!("{origin}: no containerPort {port}"));
                continue;
            };
            let name = declared["name"].as_str().unwrap_or_default().to_owned();
            for probe in PROBES {
                let probe_port = &container[probe]["httpGet"]["port"];
                if !probe_port.is_null() && probe_port.as_u64() != Some(u64::from(port)) && probe_port.as_str() != Some(name.as_str()) {
                    problems.push(format!("{origin}: {probe} port {probe_port} is not the listen port {port}"));
                }
            }
            port_names.insert(name);
        }
    }
    for doc in k8s
        .docs
        .iter()
        .filter(|d| d.kind() == "Service" && SERVICES.contains(&d.value["spec"]["selector"]["app.kubernetes.io/name"].as_str().unwrap_or_default()))
    {
        for service_port in doc.value["spec"]["ports"].as_array().into_iter().flatten() {
            let target = &service_port["targetPort"];
            let matches = target.as_u64() == Some(u64::from(port)) || target.as_str().is_some_and(|n| port_names.contains(n));
            if !matches {
                problems.push(format!("{}: Service {} targets {target}, not the listen port {port}", doc.path, doc.name()));
            }
        }
    }

    let compose = Compose::load();
    for (service, definition) in compose.services().filter(|(_, d)| compose.is_claimtrail(d)) {
        let (host, port) = host_port(&compose.effective_env(definition, "CLAIMTRAIL_LISTEN"));
        if is_loopback(&host) {
            problems.push(format!("docker-compose.yml {service}: listens on loopback {host}"));
        }
        for mapping in definition["ports"].as_array().into_iter().flatten().filter_map(Value::as_str) {
            let container_port = mapping.rsplit(':').next().and_then(|p| p.split('/').next()).and_then(|p| p.parse::<u16>().ok());
            if container_port != Some(port) {
                problems.push(format!("docker-compose.yml {service}: publishes {mapping}, but the service listens on {port}"));
            }
        }
        for url in compose_healthcheck(definition).iter().filter(|part| part.contains("://")) {
            if url_host_port(url).1 != Some(port) {
                problems.push(format!("docker-compose.yml {service}: the health check GETs {url}, but the service listens on {port}"));
            }
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn the_database_and_bus_urls_name_hosts_that_the_deployment_defines() {
    let mut problems = Vec::new();
    let compose = Compose::load();
    let compose_services: BTreeSet<&str> = compose.services().map(|(name, _)| name).collect();
    for (service, definition) in compose.services().filter(|(_, d)| compose.is_claimtrail(d)) {
        for variable in ["DATABASE_URL", "NATS_URL", "OTEL_EXPORTER_OTLP_ENDPOINT"] {
            let Some(url) = compose_environment(definition).get(variable).cloned() else {
                continue;
            };
            let host = url_host_port(&url).0;
            if !compose_services.contains(host.as_str()) {
                problems.push(format!("docker-compose.yml {service}: {variable} names the host {host}, which is no service"));
            }
        }
    }

    let k8s = Kubernetes::load();
    let k8s_services: BTreeSet<&str> = k8s.docs.iter().filter(|d| d.kind() == "Service").map(Doc::name).collect();
    for variable in ["DATABASE_URL", "NATS_URL"] {
        let urls = k8s.values_of(variable);
        if urls.is_empty() {
            problems.push(format!("k8s: {variable} is set nowhere"));
        }
        for url in urls {
            let host = url_host_port(&url).0;
            let service = host.split('.').next().unwrap_or_default();
            if !k8s_services.contains(service) {
                problems.push(format!("k8s: {variable} names the host {host}, which is no Service under k8s/"));
            }
        }
    }
    assert_no_problems(&problems);
}

#[test]
fn compose_services_wait_for_a_healthy_postgres_and_nats() {
    let mut problems = Vec::new();
    let compose = Compose::load();
    for (service, definition) in compose.services().filter(|(_, d)| compose.is_claimtrail(d)) {
        for dependency in ["postgres", "nats"] {
            if definition["depends_on"][dependency]["condition"] != "service_healthy" {
                problems.push(format!("docker-compose.yml {service}: does not wait for {dependency} to be healthy"));
            }
            if compose_healthcheck(compose.service(dependency)).is_empty() {
                problems.push(format!("docker-compose.yml {dependency}: no health check, so service_healthy never holds"));
            }
        }
    }
    assert_no_problems(&problems);
}

// ---------------------------------------------------------------------------
// The CLI, from its own --help.

/// What `claimtrail <path> --help` declares.
#[derive(Debug, Default, Clone)]
struct Help {
    subcommands: BTreeSet<String>,
    /// Long and short flags, each with whether it takes a value.
    flags: BTreeMap<String, bool>,
    /// Positional arguments in order: (required, possible values; empty means any).
    positionals: Vec<(bool, Vec<String>)>,
    /// Environment variables of the options, with the option's default if any.
    env: BTreeMap<String, Option<String>>,
}

impl Help {
    fn parse(text: &str) -> Help {
        let mut help = Help::default();
        let mut section = "";
        // (the option's first line, the option's whole text)
        let mut option_blocks: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if !line.starts_with(' ') && line.ends_with(':') {
                section = line.trim_end_matches(':');
                continue;
            }
            let trimmed = line.trim_start();
            match section {
                "Commands" if line.starts_with("  ") && !line.starts_with("   ") => {
                    if let Some(name) = trimmed.split_whitespace().next().filter(|name| *name != "help") {
                        help.subcommands.insert(name.to_owned());
                    }
                }
                "Arguments" if trimmed.starts_with('<') || trimmed.starts_with('[') => {
                    let possible =
                        between(trimmed, "[possible values: ", "]").map(|values| values.split(", ").map(str::to_owned).collect()).unwrap_or_default();
                    help.positionals.push((trimmed.starts_with('<'), possible));
                }
                "Options" if trimmed.starts_with('-') => option_blocks.push((trimmed.to_owned(), trimmed.to_owned())),
                "Options" => {
                    if let Some((_, block)) = option_blocks.last_mut() {
                        block.push(' ');
                        block.push_str(trimmed);
                    }
                }
                _ => {}
            }
        }
        for (first_line, block) in option_blocks {
            // `-h, --help`, `--listen <LISTEN>`; a short help puts the description after two spaces.
            let head: Vec<&str> = first_line.split("  ").next().unwrap_or_default().split_whitespace().collect();
            let takes_value = head.iter().any(|word| word.starts_with('<'));
            for word in head.iter().filter(|word| word.starts_with('-')) {
                help.flags.insert(word.trim_end_matches(',').to_owned(), takes_value);
            }
            // `[env: NAME=value]`, or `[env: NAME]` for a secret (`hide_env_values`).
            if let Some(name) = between(&block, "[env: ", "]").map(|env| env.split('=').next().unwrap_or(env)) {
                help.env.insert(name.to_owned(), between(&block, "[default: ", "]").map(|d| d.trim_matches('"').to_owned()));
            }
        }
        help
    }
}

/// `claimtrail <path> --help`, run once per path with an empty environment
/// (clap prints the current value of each variable otherwise).
fn help(path: &[String]) -> Help {
    static CACHE: OnceLock<Mutex<HashMap<Vec<String>, Help>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(help) = cache.lock().expect("help cache").get(path) {
        return help.clone();
    }
    let output = Command::new(claimtrail_bin()).args(path).arg("--help").env_clear().output().expect("running claimtrail --help");
    assert!(output.status.success(), "claimtrail {} --help failed: {}", path.join(" "), String::from_utf8_lossy(&output.stderr));
    let parsed = Help::parse(&String::from_utf8_lossy(&output.stdout));
    cache.lock().expect("help cache").insert(path.to_vec(), parsed.clone());
    parsed
}

fn serve_help() -> &'static Help {
    static SERVE: OnceLock<Help> = OnceLock::new();
    SERVE.get_or_init(|| {
        let serve = help(&["serve".to_owned()]);
        assert!(serve.env.len() > 10, "`claimtrail serve --help` declares only {:?}", serve.env.keys());
        serve
    })
}

fn cli_default(variable: &str) -> String {
    serve_help().env.get(variable).cloned().flatten().unwrap_or_else(|| panic!("`claimtrail serve --help` gives no default for {variable}"))
}

/// Walks `args` through the subcommands and checks every flag and positional
/// against the help of the command it reaches.
fn check_invocation(args: &[String]) -> Result<(), String> {
    let mut path: Vec<String> = Vec::new();
    let mut command = help(&path);
    let mut rest = args;
    while let Some((first, tail)) = rest.split_first()
        && command.subcommands.contains(first)
    {
        path.push(first.clone());
        command = help(&path);
        rest = tail;
    }
    if !command.subcommands.is_empty() && !rest.iter().any(|a| a == "--help" || a == "--version") {
        let got = rest.first().map_or("nothing".to_owned(), |a| format!("`{a}`"));
        return Err(format!("expected one of the subcommands {:?}, got {got}", command.subcommands));
    }
    let mut positional_idx = 0;
    let mut tokens = rest.iter();
    while let Some(token) = tokens.next() {
        if token.starts_with('-') {
            let (flag, inline_value) = match token.split_once('=') {
                Some((flag, _)) => (flag, true),
                None => (token.as_str(), false),
            };
            match command.flags.get(flag) {
                None => {
                    return Err(format!("`{flag}` is not a flag of `claimtrail {}`", path.join(" ")));
                }
                Some(true) if !inline_value => {
                    tokens.next().ok_or_else(|| format!("`{flag}` needs a value"))?;
                }
                Some(_) => {}
            }
            continue;
        }
        let Some((_, possible)) = command.positionals.get(positional_idx) else {
            return Err(format!("unexpected argument `{token}`"));
        };
        if !possible.is_empty() && !possible.contains(token) {
            return Err(format!("`{token}` is not one of {possible:?}"));
        }
        positional_idx += 1;
    }
    let n_required = command.positionals.iter().filter(|(required, _)| *required).count();
    if positional_idx < n_required && !rest.iter().any(|a| a == "--help") {
        return Err(format!("{n_required} positional arguments required, {positional_idx} given"));
    }
    Ok(())
}

/// Why `name`, set for a container (a claimtrail one or not), is wrong, if it is.
fn env_problem(origin: &str, name: &str, is_claimtrail: bool) -> Option<String> {
    if is_cli_env(name) && !serve_help().env.contains_key(name) {
        Some(format!("{origin}: {name} is not declared by `claimtrail serve --help`"))
    } else if is_claimtrail && !is_cli_env(name) && !ENV_ALLOWED.contains(&name) {
        Some(format!("{origin}: {name} is neither declared by the CLI nor in the allow-list {ENV_ALLOWED:?}"))
    } else {
        None
    }
}

fn is_cli_env(name: &str) -> bool {
    CLI_ENV_PREFIXES.iter().any(|prefix| name.starts_with(prefix))
}

fn is_postgres_image_env(name: &str) -> bool {
    name.starts_with("POSTGRES_") || name == "PGDATA"
}

// ---------------------------------------------------------------------------
// Files.

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(repo_root()).unwrap_or(path).display().to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|ext| ext == "yaml" || ext == "yml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Every document of a YAML file as JSON, with aliases resolved and `<<` merge keys applied.
fn load_yaml(path: &Path) -> Vec<Value> {
    let documents = YamlLoader::load_from_str(&read(path)).unwrap_or_else(|e| panic!("{} is not YAML: {e}", relative(path)));
    documents.iter().map(to_json).filter(|doc| !doc.is_null()).collect()
}

fn to_json(yaml: &Yaml) -> Value {
    match yaml {
        Yaml::Real(text) => text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map_or_else(|| Value::String(text.clone()), Value::Number),
        Yaml::Integer(n) => Value::from(*n),
        Yaml::String(text) => Value::String(text.clone()),
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        Yaml::Hash(hash) => {
            let mut map = Map::new();
            let mut merged = Vec::new();
            for (key, value) in hash {
                let key = match to_json(key) {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                if key == "<<" {
                    merged.extend(match value {
                        Yaml::Array(sources) => sources.iter().map(to_json).collect(),
                        source => vec![to_json(source)],
                    });
                } else {
                    map.insert(key, to_json(value));
                }
            }
            // Explicit keys win over merged ones, and earlier merge sources over later ones.
            for source in merged {
                for (key, value) in source.as_object().into_iter().flatten() {
                    map.entry(key.clone()).or_insert_with(|| value.clone());
                }
            }
            Value::Object(map)
        }
        Yaml::Alias(_) | Yaml::Null | Yaml::BadValue => Value::Null,
    }
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let len = text[from..].find(end)?;
    Some(&text[from..from + len])
}

/// (host, port) of `scheme://user@host:port/path` or of `host:port`.
fn url_host_port(url: &str) -> (String, Option<u16>) {
    let authority = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = authority.split(['/', '?']).next().unwrap_or_default();
    let authority = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    match authority.rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.parse().ok()),
        None => (authority.to_owned(), None),
    }
}

fn host_port(listen: &str) -> (String, u16) {
    match url_host_port(listen) {
        (host, Some(port)) => (host, port),
        _ => panic!("{listen} has no port"),
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.starts_with("127.") || host == "[::1]"
}

/// The path of a URL or of an absolute path with a query.
fn url_path(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest.find('/').map_or("", |idx| &rest[idx..]));
    after_scheme.split('?').next().unwrap_or_default()
}

fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn workspace_rust_version() -> (u32, u32) {
    let manifest = read(&repo_root().join("Cargo.toml"));
    let line = manifest.lines().find(|l| l.trim_start().starts_with("rust-version")).expect("the workspace declares a rust-version");
    between(line, "\"", "\"").and_then(parse_version).expect("rust-version is MAJOR.MINOR")
}

fn assert_no_problems(problems: &[String]) {
    assert!(problems.is_empty(), "{} problem(s):\n  {}", problems.len(), problems.join("\n  "));
}

// ---------------------------------------------------------------------------
// Dockerfile.

struct Instruction {
    keyword: String,
    args: String,
    stage_idx: usize,
}

struct Stage {
    image: String,
}

struct Dockerfile {
    instructions: Vec<Instruction>,
    stages: Vec<Stage>,
}

impl Dockerfile {
    fn load() -> Dockerfile {
        let text = read(&repo_root().join("Dockerfile"));
        let mut logical_lines = Vec::new();
        let mut current = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
                continue;
            }
            match trimmed.strip_suffix('\\') {
                Some(continued) => {
                    current.push_str(continued);
                    current.push(' ');
                }
                None => {
                    current.push_str(trimmed);
                    logical_lines.push(std::mem::take(&mut current));
                }
            }
        }
        let mut build_args: HashMap<String, String> = HashMap::new();
        let mut instructions = Vec::new();
        let mut stages: Vec<Stage> = Vec::new();
        for line in logical_lines.into_iter().filter(|l| !l.is_empty()) {
            let (keyword, args) = line.split_once(char::is_whitespace).unwrap_or((line.as_str(), ""));
            let keyword = keyword.to_ascii_uppercase();
            let args = args.trim().to_owned();
            if keyword == "ARG"
                && stages.is_empty()
                && let Some((name, default)) = args.split_once('=')
            {
                build_args.insert(name.to_owned(), default.to_owned());
            }
            if keyword == "FROM" {
                let image = args.split_whitespace().find(|word| !word.starts_with("--")).unwrap_or_default();
                let image = build_args
                    .iter()
                    .fold(image.to_owned(), |image, (name, value)| image.replace(&format!("${{{name}}}"), value).replace(&format!("${name}"), value));
                stages.push(Stage { image });
            }
            instructions.push(Instruction { keyword, args, stage_idx: stages.len().saturating_sub(1) });
        }
        assert!(!stages.is_empty(), "the Dockerfile has no FROM");
        Dockerfile { instructions, stages }
    }

    fn last_stage(&self) -> impl Iterator<Item = &Instruction> {
        let last = self.stages.len() - 1;
        self.instructions.iter().filter(move |i| i.stage_idx == last)
    }

    /// The exec form (`["a", "b"]`) of the runtime stage's last `keyword`.
    fn last_stage_json(&self, keyword: &str) -> Vec<String> {
        let args = self.last_stage().filter(|i| i.keyword == keyword).last().map(|i| i.args.clone()).unwrap_or_default();
        serde_json::from_str(&args).unwrap_or_else(|_| panic!("Dockerfile: {keyword} {args} is not in the exec form"))
    }

    fn last_stage_text(&self, keyword: &str) -> String {
        self.last_stage().filter(|i| i.keyword == keyword).map(|i| i.args.as_str()).collect::<Vec<_>>().join("\n")
    }

    fn last_stage_env(&self) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for instruction in self.last_stage().filter(|i| i.keyword == "ENV") {
            if instruction.args.contains('=') {
                for pair in instruction.args.split_whitespace() {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    env.insert(name.to_owned(), value.trim_matches('"').to_owned());
                }
            } else if let Some((name, value)) = instruction.args.split_once(char::is_whitespace) {
                env.insert(name.to_owned(), value.trim().to_owned());
            }
        }
        env
    }

    fn user_id(&self) -> Option<u64> {
        let user = self.last_stage().filter(|i| i.keyword == "USER").last()?;
        user.args.split(':').next()?.parse().ok()
    }
}

// ---------------------------------------------------------------------------
// docker-compose.yml.

struct Compose {
    value: Value,
}

impl Compose {
    fn load() -> Compose {
        let mut documents = load_yaml(&repo_root().join("docker-compose.yml"));
        assert_eq!(documents.len(), 1, "docker-compose.yml holds one document");
        Compose { value: documents.remove(0) }
    }

    fn services(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.value["services"].as_object().expect("docker-compose.yml has services").iter().map(|(name, definition)| (name.as_str(), definition))
    }

    fn service(&self, name: &str) -> &Value {
        let service = &self.value["services"][name];
        assert!(!service.is_null(), "docker-compose.yml has no service {name}");
        service
    }

    fn is_claimtrail(&self, definition: &Value) -> bool {
        definition["image"].as_str().is_some_and(|image| image_name(image) == "claimtrail")
            || definition["build"].is_object()
            || definition["build"].is_string()
    }

    /// The service's environment, then the image's ENV, then the CLI's default.
    fn effective_env(&self, definition: &Value, variable: &str) -> String {
        compose_environment(definition)
            .get(variable)
            .cloned()
            .or_else(|| Dockerfile::load().last_stage_env().get(variable).cloned())
            .unwrap_or_else(|| cli_default(variable))
    }
}

fn compose_environment(definition: &Value) -> BTreeMap<String, String> {
    let scalar = |value: &Value| match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match &definition["environment"] {
        Value::Object(map) => map.iter().map(|(name, value)| (name.clone(), scalar(value))).collect(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|item| {
                let (name, value) = item.split_once('=').unwrap_or((item, ""));
                (name.to_owned(), value.to_owned())
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// A compose `command`/`entrypoint`/`healthcheck.test` as words.
fn compose_words(value: &Value) -> Vec<String> {
    match value {
        Value::String(text) => text.split_whitespace().map(str::to_owned).collect(),
        Value::Array(items) => items.iter().map(|item| item.as_str().map_or_else(|| item.to_string(), str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

fn compose_healthcheck(definition: &Value) -> Vec<String> {
    compose_words(&definition["healthcheck"]["test"])
}

fn compose_invocations(problems: &mut Vec<String>) -> Vec<(String, Vec<String>)> {
    let compose = Compose::load();
    let mut invocations = Vec::new();
    for (service, definition) in compose.services().filter(|(_, d)| compose.is_claimtrail(d)) {
        let entrypoint = compose_words(&definition["entrypoint"]);
        let mut args: Vec<String> = match entrypoint.split_first() {
            None => Vec::new(),
            Some((program, rest)) if is_claimtrail_program(program) => rest.to_vec(),
            Some((program, _)) => {
                problems.push(format!("docker-compose.yml {service}: the entrypoint {program} is not claimtrail"));
                continue;
            }
        };
        args.extend(compose_words(&definition["command"]));
        invocations.push((format!("docker-compose.yml {service}"), args));
    }
    invocations
}

/// (duration in ms) of a compose duration such as `15s`, `1m30s` or `500ms`.
fn compose_duration_ms(text: &str) -> Option<u64> {
    let mut total = 0;
    let mut digits = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(next) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
            unit.push(*next);
            chars.next();
        }
        let n: u64 = std::mem::take(&mut digits).parse().ok()?;
        total += n * match unit.as_str() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            _ => return None,
        };
    }
    digits.is_empty().then_some(total)
}

// ---------------------------------------------------------------------------
// Kubernetes.

struct Doc {
    /// Relative to the repository root.
    path: String,
    value: Value,
}

impl Doc {
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }

    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }
}

struct Kubernetes {
    docs: Vec<Doc>,
}

/// A Deployment, StatefulSet, Job, ... document: complete, or a patch of one.
struct Workload<'a> {
    doc: &'a Doc,
    pod_spec: &'a Value,
}

impl<'a> Workload<'a> {
    fn pod_spec(&self) -> &'a Value {
        self.pod_spec
    }

    /// A whole workload rather than a patch of one.
    fn is_complete(&self) -> bool {
        !self.doc.value["spec"]["selector"].is_null() || self.doc.kind() == "Pod" || self.doc.kind().ends_with("Job")
    }

    fn containers(&self) -> impl Iterator<Item = &'a Value> {
        let pod_spec = self.pod_spec;
        ["initContainers", "containers"].into_iter().flat_map(move |field| pod_spec[field].as_array().into_iter().flatten())
    }

    fn container(&self, name: &str) -> &'a Value {
        self.containers().find(|c| c["name"] == name).unwrap_or_else(|| panic!("{} has no container {name}", self.doc.name()))
    }
}

impl Kubernetes {
    fn load() -> Kubernetes {
        let docs: Vec<Doc> = yaml_files(&repo_root().join("k8s"))
            .into_iter()
            .flat_map(|path| load_yaml(&path).into_iter().map(move |value| Doc { path: relative(&path), value }))
            .collect();
        assert!(docs.len() > 10, "only {} YAML documents under k8s/", docs.len());
        Kubernetes { docs }
    }

    fn kustomizations(&self) -> impl Iterator<Item = &Doc> {
        self.docs.iter().filter(|d| d.path.ends_with("/kustomization.yaml"))
    }

    fn workloads(&self) -> impl Iterator<Item = Workload<'_>> {
        self.docs.iter().filter_map(|doc| {
            let pod_spec = match doc.kind() {
                "Pod" => &doc.value["spec"],
                "CronJob" => &doc.value["spec"]["jobTemplate"]["spec"]["template"]["spec"],
                "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => &doc.value["spec"]["template"]["spec"],
                _ => return None,
            };
            (!pod_spec.is_null()).then_some(Workload { doc, pod_spec })
        })
    }

    fn claimtrail_workload(&self, service: &str) -> Workload<'_> {
        self.workloads()
            .find(|w| w.is_complete() && w.doc.name() == service && w.containers().any(is_claimtrail_container))
            .unwrap_or_else(|| panic!("k8s: no complete {service} workload"))
    }

    /// Every value `variable` is given under k8s/: container env and ConfigMap or Secret data.
    fn values_of(&self, variable: &str) -> Vec<String> {
        let mut values = Vec::new();
        for doc in &self.docs {
            for field in ["data", "stringData"] {
                if matches!(doc.kind(), "ConfigMap" | "Secret")
                    && let Some(value) = doc.value[field][variable].as_str()
                {
                    values.push(value.to_owned());
                }
            }
        }
        for workload in self.workloads() {
            for container in workload.containers() {
                let env = container["env"].as_array().into_iter().flatten();
                values.extend(env.filter(|e| e["name"] == variable).filter_map(|e| e["value"].as_str()).map(str::to_owned));
            }
        }
        values
    }

    /// The container's own env, then its envFrom ConfigMaps (base), then the image's ENV, then the CLI's default.
    fn effective_env(&self, container: &Value, variable: &str) -> String {
        let own = container["env"].as_array().into_iter().flatten().find(|e| e["name"] == variable).and_then(|e| e["value"].as_str());
        let from_config_map = || {
            container["envFrom"].as_array().into_iter().flatten().filter_map(|source| source["configMapRef"]["name"].as_str()).find_map(|name| {
                self.docs
                    .iter()
                    .filter(|d| d.path.starts_with("k8s/base/") && d.kind() == "ConfigMap" && d.name() == name)
                    .find_map(|d| d.value["data"][variable].as_str())
            })
        };
        own.or_else(from_config_map)
            .map(str::to_owned)
            .or_else(|| Dockerfile::load().last_stage_env().get(variable).cloned())
            .unwrap_or_else(|| cli_default(variable))
    }
}

fn image_name(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or_default();
    let last = without_digest.rsplit('/').next().unwrap_or_default();
    last.split(':').next().unwrap_or_default()
}

fn is_claimtrail_container(container: &Value) -> bool {
    match container["image"].as_str() {
        Some(image) => image_name(image) == "claimtrail",
        // A patch names the container only.
        None => container["name"].as_str().is_some_and(|name| SERVICES.contains(&name)),
    }
}

fn is_claimtrail_program(program: &str) -> bool {
    Path::new(program).file_name().is_some_and(|name| name == "claimtrail")
}

fn kubernetes_invocations(problems: &mut Vec<String>) -> Vec<(String, Vec<String>)> {
    invocations_in(&Kubernetes::load(), |_| true, problems)
}

fn base_invocations(problems: &mut Vec<String>) -> Vec<(String, Vec<String>)> {
    invocations_in(&Kubernetes::load(), |doc| doc.path.starts_with("k8s/base/"), problems)
}

fn invocations_in(k8s: &Kubernetes, keep: impl Fn(&Doc) -> bool, problems: &mut Vec<String>) -> Vec<(String, Vec<String>)> {
    let mut invocations = Vec::new();
    for workload in k8s.workloads().filter(|w| keep(w.doc)) {
        for container in workload.containers().filter(|c| is_claimtrail_container(c)) {
            let origin = format!("{} {} container {}", workload.doc.path, workload.doc.name(), container["name"].as_str().unwrap_or("?"));
            let words = |field: &str| -> Vec<String> {
                container[field].as_array().into_iter().flatten().map(|w| w.as_str().map_or_else(|| w.to_string(), str::to_owned)).collect()
            };
            let command = words("command");
            let mut args = match command.split_first() {
                None => Vec::new(),
                Some((program, rest)) if is_claimtrail_program(program) => rest.to_vec(),
                Some((program, _)) => {
                    problems.push(format!("{origin}: the command {program} is not claimtrail"));
                    continue;
                }
            };
            args.extend(words("args"));
            if command.is_empty() && args.is_empty() && !workload.is_complete() {
                continue;
            }
            invocations.push((origin, args));
        }
    }
    invocations
}

/// The paths a kustomization lists, with the field that lists each.
fn kustomization_paths(kustomization: &Value) -> Vec<(&'static str, String)> {
    let mut paths = Vec::new();
    let strings = |value: &Value| -> Vec<String> { value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect() };
    for field in ["resources", "components", "crds"] {
        paths.extend(strings(&kustomization[field]).into_iter().map(|p| (field, p)));
    }
    // Inline patches hold YAML, not a path.
    paths.extend(strings(&kustomization["patchesStrategicMerge"]).into_iter().filter(|p| !p.contains('\n')).map(|p| ("patchesStrategicMerge", p)));
    for field in ["patches", "patchesJson6902", "replacements"] {
        for entry in kustomization[field].as_array().into_iter().flatten() {
            if let Some(path) = entry["path"].as_str() {
                paths.push((field, path.to_owned()));
            }
        }
    }
    for field in ["configMapGenerator", "secretGenerator"] {
        for generator in kustomization[field].as_array().into_iter().flatten() {
            for file in strings(&generator["files"]) {
                let path = file.split_once('=').map_or(file.as_str(), |(_, path)| path).to_owned();
                paths.push((field, path));
            }
            paths.extend(strings(&generator["envs"]).into_iter().map(|p| (field, p)));
        }
    }
    paths
}

fn kustomization_file(dir: &Path) -> Option<PathBuf> {
    ["kustomization.yaml", "kustomization.yml", "Kustomization"].into_iter().map(|name| dir.join(name)).find(|path| path.is_file())
}

#[test]
fn a_configuration_file_is_checked_at_start_naming_its_line() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("claimtrail.conf");
    std::fs::write(&file, "# intake\ndatabase-url = postgres://127.0.0.1:1/none\nbatch-maxx = 10\n").expect("writing the file");
    let output = Command::new(claimtrail_bin()).args(["serve", "intake", "--config"]).arg(&file).env_clear().output().expect("running claimtrail");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3") && stderr.contains("batch-maxx"), "{stderr}");
    std::fs::write(&file, "batch-max = 0\n").expect("writing the file");
    let output = Command::new(claimtrail_bin())
        .args(["serve", "intake", "--database-url", "postgres://x/y", "--config"])
        .arg(&file)
        .env_clear()
        .output()
        .expect("running claimtrail");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--batch-max") && stderr.contains("'0'"), "{stderr}");
}

/// `kubernetes-validate` from PyPI (the Kubernetes OpenAPI schemas bundled,
/// no network at validation time), installed once under ~/.cache/claimtrail.
fn kubernetes_validate() -> PathBuf {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let venv = home.join(".cache/claimtrail/kubernetes-validate");
    let tool = venv.join("bin/kubernetes-validate");
    if !tool.exists() {
        let created = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("running python3 -m venv");
        assert!(created.success(), "python3 -m venv {} failed", venv.display());
        let installed = Command::new(venv.join("bin/pip")).args(["install", "-q", "kubernetes-validate==1.37.0"]).status().expect("running pip");
        assert!(installed.success(), "pip install kubernetes-validate failed");
    }
    tool
}

#[test]
fn the_base_manifests_validate_strictly_against_the_kubernetes_schemas() {
    // The base holds complete resources; the production overlay holds strategic-merge
    // patches, which only validate once kustomize has merged them.
    let files: Vec<PathBuf> = yaml_files(&repo_root().join("k8s/base")).into_iter().filter(|f| !f.ends_with("kustomization.yaml")).collect();
    assert!(files.len() >= 8, "{files:?}");
    let output = Command::new(kubernetes_validate())
        .args(["--strict", "--quiet", "--kubernetes-version", "1.31.0"])
        .args(&files)
        .output()
        .expect("running kubernetes-validate");
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && !text.contains("ERROR"), "kubernetes-validate refused the base manifests:\n{text}");
}
