//! `hermes export compose`: `compose.yaml`, a service per process, and the topology's files
//! copied beside it so the directory is complete.

use serde_json::{Map, Value, json};

use super::plan::{CONFIG_DIR, Component, KEYS_DIR, Plan, Program};
use super::{OutputFile, Placement, dns_label, header, metrics_ports, yaml};
use hermes_build::model::RestartPolicy;
use hermes_core::Endpoint;

/// `compose.yaml` and `config/` (the topology and messages files it mounts).
///
/// # Errors
///
/// What cannot cross containers ([`Plan::check_containers`]), missing key files, or an
/// unreadable messages file.
pub fn export(plan: &Plan<'_>) -> Result<Vec<OutputFile>, String> {
    plan.check_containers("containers")?;
    let metrics = metrics_ports(plan.loaded, Placement::Containers);
    let service = |name: &str| dns_label(name);
    // The topology and messages files, as configs mounted under CONFIG_DIR.
    let mut files = Vec::new();
    let mut configs = Map::new();
    let mut mounts = Vec::new();
    let topology_text = read(&plan.topology_file)?;
    let mut sources = vec![("topology.yaml".to_owned(), topology_text)];
    for (name, path) in plan.messages_files() {
        sources.push((name, read(&path)?));
    }
    for (name, text) in sources {
        if name.split('/').any(|part| part == ".." || part.is_empty()) {
            return Err(format!(
                "messages file `{name}` is outside the topology's directory; compose mounts \
                 them under {CONFIG_DIR}\nhelp: keep messages files beside the topology"
            ));
        }
        let id = config_id(&name);
        configs.insert(id.clone(), json!({ "file": format!("./config/{name}") }));
        mounts.push(json!({ "source": id, "target": format!("{CONFIG_DIR}/{name}") }));
        files.push(OutputFile::new(format!("config/{name}"), text));
    }
    let mut secrets = Map::new();
    let mut services = Map::new();
    let mut notes = Vec::new();
    for process in &plan.processes {
        let port = metrics.get(&process.name).copied();
        let env = plan.container_env(process, &|binder, _| service(&binder.name), port);
        let mut body = Map::new();
        body.insert("image".into(), json!(process.image));
        body.insert("command".into(), json!(plan.container_command(process)));
        body.insert("working_dir".into(), json!(CONFIG_DIR));
        if !env.is_empty() {
            body.insert("environment".into(), json!(env));
        }
        let tcp_ports: Vec<(u16, &Endpoint, bool)> = process
            .binds
            .iter()
            .filter_map(|bound| match bound.endpoint {
                Endpoint::Tcp { port, .. } if port != 0 => {
                    Some((port, &bound.endpoint, bound.proxy_side.is_some()))
                }
                _ => None,
            })
            .collect();
        let mut expose: Vec<String> = tcp_ports
            .iter()
            .map(|(port, ..)| port.to_string())
            .collect();
        expose.extend(port.map(|port| port.to_string()));
        if !expose.is_empty() {
            body.insert("expose".into(), json!(expose));
        }
        // Proxies' sockets are published on the host, so `hermes tap` and `stats` there reach
        // them where the topology says; on loopback only when the YAML binds loopback.
        let published: Vec<String> = tcp_ports
            .iter()
            .filter(|(_, _, proxy)| *proxy)
            .map(|(port, endpoint, _)| {
                if endpoint.is_loopback() {
                    format!("127.0.0.1:{port}:{port}")
                } else {
                    format!("{port}:{port}")
                }
            })
            .collect();
        if !published.is_empty() {
            body.insert("ports".into(), json!(published));
        }
        let restart = match process.restart {
            RestartPolicy::Always => "always",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Never => "no",
        };
        body.insert("restart".into(), json!(restart));
        let mut depends: Vec<String> = process
            .uses
            .values()
            .map(|used| &plan.processes[used.process])
            .filter(|binder| binder.component == Component::Proxy)
            .map(|binder| service(&binder.name))
            .collect();
        depends.sort();
        depends.dedup();
        if !depends.is_empty() {
            body.insert("depends_on".into(), json!(depends));
        }
        let mut labels = Map::new();
        labels.insert("io.hermes.topology".into(), json!(plan.name));
        labels.insert("io.hermes.process".into(), json!(process.name));
        labels.insert(
            "io.hermes.component".into(),
            json!(process.component.as_str()),
        );
        if !process.nodes.is_empty() {
            labels.insert("io.hermes.nodes".into(), json!(process.nodes.join(",")));
        }
        if !process.proxies.is_empty() {
            labels.insert("io.hermes.proxies".into(), json!(process.proxies.join(",")));
        }
        if let Some(port) = port {
            labels.insert("prometheus.io/scrape".into(), json!("true"));
            labels.insert("prometheus.io/port".into(), json!(port.to_string()));
            labels.insert("prometheus.io/path".into(), json!("/metrics"));
        }
        body.insert("labels".into(), Value::Object(labels));
        body.insert("configs".into(), json!(mounts));
        match port {
            Some(port) if process.default_image => {
                body.insert("healthcheck".into(), healthcheck(port));
            }
            Some(_) => notes.push(format!(
                "`{}` has no healthcheck: its image `{}` is not the exported Dockerfile's, so \
                 bash (which the check speaks HTTP with) may be missing from it.",
                service(&process.name),
                process.image
            )),
            None => {}
        }
        if plan.secured {
            let mut mounted = Vec::new();
            for (inside, path) in plan.key_files(process)? {
                let id = config_id(&format!("key/{inside}"));
                // Compose reads a relative `file:` from the compose file's directory, not
                // from where `hermes export` ran.
                let path = std::path::absolute(&path).unwrap_or(path);
                secrets.insert(id.clone(), json!({ "file": path.display().to_string() }));
                mounted.push(json!({ "source": id, "target": format!("{KEYS_DIR}/{inside}") }));
            }
            body.insert("secrets".into(), json!(mounted));
        }
        services.insert(service(&process.name), Value::Object(body));
    }
    let mut document = Map::new();
    document.insert("name".into(), json!(dns_label(&plan.name)));
    document.insert("services".into(), Value::Object(services));
    document.insert("configs".into(), Value::Object(configs));
    if !secrets.is_empty() {
        document.insert("secrets".into(), Value::Object(secrets));
    }
    let mut text = header("#", "compose", plan);
    text.push_str(
        "# Start with `docker compose -f compose.yaml up`. Services reach each other by name over\n\
         # tcp; publishers wait up to HERMES_SUBSCRIBER_WAIT seconds for their subscribers.\n",
    );
    if metrics.is_empty() {
        text.push_str(
            "# No healthchecks: the topology serves no metrics (`defaults.metrics`), and the\n\
             # health endpoints are served with them.\n",
        );
    }
    for note in notes {
        text.push_str(&format!("# {note}\n"));
    }
    if plan
        .processes
        .iter()
        .any(|p| matches!(p.program, Program::HermesProxy { .. }))
    {
        text.push_str("# Proxies run `hermes proxy`, which the image must contain.\n");
    }
    text.push_str(&yaml::to_yaml(&Value::Object(document)));
    files.insert(0, OutputFile::new("compose.yaml", text));
    Ok(files)
}

/// A healthcheck with no tool beyond bash (in `debian:bookworm-slim`): `GET /healthz` over
/// bash's `/dev/tcp`, healthy on a 200 status line.
fn healthcheck(port: u16) -> Value {
    let script = format!(
        "exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 \
         && head -n 1 <&3 | grep -q ' 200 '"
    );
    json!({
        "test": ["CMD", "bash", "-c", script],
        "interval": "10s",
        "timeout": "3s",
        "retries": 3,
        "start_period": "10s",
    })
}

/// A config or secret name for a file: its path with `/` as `-`.
fn config_id(path: &str) -> String {
    path.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn read(path: &std::path::Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|err| format!("cannot read `{}`: {err}", path.display()))
}
