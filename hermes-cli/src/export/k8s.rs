//! `hermes export k8s`: a ConfigMap with the topology, per process a Deployment and a Service
//! per bound tcp socket, and Secrets with keys when the topology is secured.
//!
//! No `kustomization.yaml`: `kubectl apply -f DIR` takes the directory as it is, and a
//! kustomization is not a Kubernetes object the validators know.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::plan::{CONFIG_DIR, Component, KEYS_DIR, Plan, Process};
use super::{DEFAULT_METRICS_PORT, OutputFile, Placement, dns_label, header, metrics_ports, yaml};
use hermes_core::Endpoint;

/// The files: `configmap.yaml`, `<process>.yaml` each, and `secrets.yaml` when secured.
///
/// # Errors
///
/// What cannot cross pods ([`Plan::check_containers`]), missing key files, or an unreadable
/// messages file.
pub fn export(plan: &Plan<'_>) -> Result<Vec<OutputFile>, String> {
    plan.check_containers("pods")?;
    let metrics = metrics_ports(plan.loaded, Placement::Containers);
    let config_name = dns_label(&format!("{}-topology", plan.name));
    // Service names, one per bound tcp socket, unique.
    let mut services: BTreeMap<(usize, usize), String> = BTreeMap::new();
    let mut taken = std::collections::BTreeSet::new();
    for (p, process) in plan.processes.iter().enumerate() {
        for (b, bound) in process.binds.iter().enumerate() {
            if matches!(bound.endpoint, Endpoint::Tcp { .. }) {
                let base = dns_label(&bound.name);
                let mut name = base.clone();
                let mut n = 2;
                while !taken.insert(name.clone()) {
                    let suffix = format!("-{n}");
                    name = format!("{}{suffix}", &base[..base.len().min(63 - suffix.len())]);
                    n += 1;
                }
                services.insert((p, b), name);
            }
        }
    }
    let mut files = vec![config_map(plan, &config_name)?];
    let mut secrets = Vec::new();
    for (p, process) in plan.processes.iter().enumerate() {
        let port = metrics
            .get(&process.name)
            .copied()
            .unwrap_or(DEFAULT_METRICS_PORT);
        let host_of = |binder: &Process, bound: &super::plan::Bound| {
            let p = plan
                .processes
                .iter()
                .position(|candidate| candidate.name == binder.name)
                .unwrap_or(0);
            let b = binder
                .binds
                .iter()
                .position(|candidate| candidate.variable == bound.variable)
                .unwrap_or(0);
            services.get(&(p, b)).cloned().unwrap_or_default()
        };
        let env = plan.container_env(process, &host_of, Some(port));
        let secret_name = plan
            .secured
            .then(|| dns_label(&format!("{}-{}-keys", plan.name, process.name)));
        let mut items = Vec::new();
        if let Some(secret_name) = &secret_name {
            let (document, files) = secret(plan, process, secret_name)?;
            secrets.push(document);
            items = files;
        }
        let keys = secret_name.as_deref().map(|name| (name, &items[..]));
        let mut documents = vec![deployment(plan, process, &config_name, keys, env, port)];
        for (b, bound) in process.binds.iter().enumerate() {
            let (Some(name), Endpoint::Tcp { port, .. }) = (services.get(&(p, b)), &bound.endpoint)
            else {
                continue;
            };
            documents.push(json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {
                    "name": name,
                    "labels": labels(plan, process),
                    "annotations": { "hermes.io/socket": bound.name, "hermes.io/endpoint": bound.endpoint.to_string() },
                },
                "spec": {
                    "selector": selector(plan, process),
                    "ports": [{ "name": "zmtp", "port": port, "targetPort": port, "protocol": "TCP" }],
                },
            }));
        }
        let mut text = header("#", "k8s", plan);
        text.push_str(&documents_text(&documents));
        files.push(OutputFile::new(
            format!("{}.yaml", dns_label(&process.name)),
            text,
        ));
    }
    if !secrets.is_empty() {
        let mut text = header("#", "k8s", plan);
        text.push_str("# SECRET KEYS: keep this file out of version control.\n");
        text.push_str(&documents_text(&secrets));
        files.push(OutputFile {
            path: "secrets.yaml".into(),
            contents: text,
            secret: true,
        });
    }
    Ok(files)
}

fn documents_text(documents: &[Value]) -> String {
    documents
        .iter()
        .map(yaml::to_yaml)
        .collect::<Vec<_>>()
        .join("---\n")
}

fn labels(plan: &Plan<'_>, process: &Process) -> Value {
    json!({
        "app.kubernetes.io/name": dns_label(&process.name),
        "app.kubernetes.io/part-of": dns_label(&plan.name),
        "app.kubernetes.io/component": process.component.as_str(),
        "app.kubernetes.io/managed-by": "hermes",
    })
}

fn selector(plan: &Plan<'_>, process: &Process) -> Value {
    json!({
        "app.kubernetes.io/name": dns_label(&process.name),
        "app.kubernetes.io/part-of": dns_label(&plan.name),
    })
}

fn deployment(
    plan: &Plan<'_>,
    process: &Process,
    config_name: &str,
    keys: Option<(&str, &[Value])>,
    env: BTreeMap<String, String>,
    metrics_port: u16,
) -> Value {
    let mut ports: Vec<Value> = process
        .binds
        .iter()
        .filter_map(|bound| match bound.endpoint {
            Endpoint::Tcp { port, .. } if port != 0 => {
                Some(json!({ "containerPort": port, "protocol": "TCP" }))
            }
            _ => None,
        })
        .collect();
    ports.push(json!({ "name": "metrics", "containerPort": metrics_port, "protocol": "TCP" }));
    let env: Vec<Value> = env
        .into_iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect();
    let mut container = json!({
        "name": dns_label(&process.name),
        "image": process.image,
        "command": plan.container_command(process),
        "workingDir": CONFIG_DIR,
        "env": env,
        "ports": ports,
        // Requests only: a limit would throttle a burst or kill a process that grows.
        "resources": {
            "requests": { "cpu": process.resources.cpu, "memory": process.resources.memory },
        },
        "readinessProbe": {
            "httpGet": { "path": "/readyz", "port": "metrics" },
            "periodSeconds": 5,
        },
        "livenessProbe": {
            "httpGet": { "path": "/healthz", "port": "metrics" },
            "initialDelaySeconds": 10,
            "periodSeconds": 10,
        },
        "volumeMounts": [{ "name": "topology", "mountPath": CONFIG_DIR, "readOnly": true }],
    });
    let mut volumes = vec![json!({ "name": "topology", "configMap": { "name": config_name } })];
    if let Some((secret_name, items)) = keys {
        volumes.push(json!({
            "name": "keys",
            "secret": { "secretName": secret_name, "defaultMode": 0o400, "items": items },
        }));
        if let Some(mounts) = container["volumeMounts"].as_array_mut() {
            mounts.push(json!({ "name": "keys", "mountPath": KEYS_DIR, "readOnly": true }));
        }
    }
    // A bound socket is one address: two replicas would split its subscribers, and a rolling
    // update would run two binders at once.
    let binds = !process.binds.is_empty();
    let strategy = if binds {
        json!({ "type": "Recreate" })
    } else {
        json!({ "type": "RollingUpdate" })
    };
    let mut annotations = Map::new();
    annotations.insert("prometheus.io/scrape".into(), json!("true"));
    annotations.insert("prometheus.io/port".into(), json!(metrics_port.to_string()));
    annotations.insert("prometheus.io/path".into(), json!("/metrics"));
    if !process.nodes.is_empty() {
        annotations.insert("hermes.io/nodes".into(), json!(process.nodes.join(",")));
    }
    if !process.proxies.is_empty() {
        annotations.insert("hermes.io/proxies".into(), json!(process.proxies.join(",")));
    }
    // Deployments always restart their pods; `restart:` is recorded for people and tools.
    annotations.insert(
        "hermes.io/restart".into(),
        json!(match process.restart {
            hermes_build::model::RestartPolicy::Always => "always",
            hermes_build::model::RestartPolicy::OnFailure => "on-failure",
            hermes_build::model::RestartPolicy::Never => "never",
        }),
    );
    let component = process.component == Component::Proxy;
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": dns_label(&process.name),
            "labels": labels(plan, process),
        },
        "spec": {
            "replicas": 1,
            "strategy": strategy,
            "selector": { "matchLabels": selector(plan, process) },
            "template": {
                "metadata": { "labels": labels(plan, process), "annotations": annotations },
                "spec": {
                    "containers": [container],
                    "volumes": volumes,
                    "terminationGracePeriodSeconds": if component { 5 } else { 10 },
                },
            },
        },
    })
}

fn config_map(plan: &Plan<'_>, name: &str) -> Result<OutputFile, String> {
    let mut data = Map::new();
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path)
            .map_err(|err| format!("cannot read `{}`: {err}", path.display()))
    };
    data.insert("topology.yaml".into(), json!(read(&plan.topology_file)?));
    for (file, path) in plan.messages_files() {
        if file.contains('/') {
            return Err(format!(
                "messages file `{file}` is not beside the topology; the ConfigMap holds files \
                 of one directory\nhelp: keep messages files beside the topology"
            ));
        }
        data.insert(file, json!(read(&path)?));
    }
    let map = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/part-of": dns_label(&plan.name),
                "app.kubernetes.io/managed-by": "hermes",
            },
        },
        "data": data,
    });
    let mut text = header("#", "k8s", plan);
    text.push_str(&yaml::to_yaml(&map));
    Ok(OutputFile::new("configmap.yaml", text))
}

/// A process's Secret: its members' secret key files and everyone's public ones, as files
/// under `KEYS_DIR` in `hermes keygen`'s layout: the Secret, and the volume's `items`.
fn secret(plan: &Plan<'_>, process: &Process, name: &str) -> Result<(Value, Vec<Value>), String> {
    let mut data = Map::new();
    let mut items = Vec::new();
    for (inside, path) in plan.key_files(process)? {
        let text = std::fs::read_to_string(&path)
            .map_err(|err| format!("cannot read `{}`: {err}", path.display()))?;
        // Secret keys are `[-._a-zA-Z0-9]+`; the mount lays them out again by `items`.
        let key = inside.replace('/', ".");
        items.push(json!({ "key": key, "path": inside }));
        data.insert(key, json!(text));
    }
    let secret = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": { "name": name, "labels": labels(plan, process) },
        "stringData": data,
    });
    Ok((secret, items))
}
