//! `hermes export systemd`: a service unit per process and a target wanting them, per host,
//! and a Prometheus scrape configuration when the topology serves metrics.
//!
//! Endpoints stay as the YAML writes them: processes on one machine share its ports as they
//! do under `hermes up`, and the runtime derives cross-host addresses from `hosts:`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::plan::{Component, Plan, Process, Program};
use super::{OutputFile, Placement, header, metrics_ports, yaml};
use hermes_build::model::RestartPolicy;

/// The units, under `<host>/` for processes placed on a host, and `prometheus.yml`.
///
/// # Errors
///
/// None today; the signature matches the other targets.
pub fn export(plan: &Plan<'_>, prefix: &Path, workdir: &Path) -> Result<Vec<OutputFile>, String> {
    let metrics = metrics_ports(plan.loaded, Placement::Hosts);
    let target = format!("hermes-{}.target", unit_part(&plan.name));
    let mut by_host: BTreeMap<Option<&str>, Vec<&Process>> = BTreeMap::new();
    for process in &plan.processes {
        by_host
            .entry(process.host.as_deref())
            .or_default()
            .push(process);
    }
    let mut files = Vec::new();
    for (host, processes) in &by_host {
        let dir = host.map_or_else(PathBuf::new, PathBuf::from);
        let mut units = Vec::new();
        for process in processes {
            let unit = unit_name(plan, &process.name);
            let mut proxies: Vec<String> = process
                .uses
                .values()
                .map(|used| &plan.processes[used.process])
                .filter(|binder| {
                    binder.host.as_deref() == *host && binder.component == Component::Proxy
                })
                .map(|binder| unit_name(plan, &binder.name))
                .collect();
            proxies.sort();
            proxies.dedup();
            let text = service(plan, process, &target, &proxies, prefix, workdir, &metrics);
            files.push(OutputFile::new(dir.join(&unit), text));
            units.push(unit);
        }
        let mut text = header("#", "systemd", plan);
        text.push_str(&format!(
            "[Unit]\nDescription=Hermes topology `{}`{}\nWants={}\nAfter=network-online.target\n\n\
             [Install]\nWantedBy=multi-user.target\n",
            specifiers(&plan.name),
            host.map(|host| format!(" on `{}`", specifiers(host)))
                .unwrap_or_default(),
            units.join(" ")
        ));
        files.push(OutputFile::new(dir.join(&target), text));
    }
    if !metrics.is_empty() {
        let mut scrapes = Vec::new();
        for process in &plan.processes {
            let Some(port) = metrics.get(&process.name) else {
                continue;
            };
            let address = process
                .host
                .as_deref()
                .and_then(|host| plan.loaded.topology.host_address(host))
                .unwrap_or("localhost");
            let mut labels = serde_json::Map::new();
            labels.insert("process".into(), json!(process.name));
            labels.insert("component".into(), json!(process.component.as_str()));
            if let Some(host) = &process.host {
                labels.insert("host".into(), json!(host));
            }
            scrapes.push(json!({ "targets": [format!("{address}:{port}")], "labels": labels }));
        }
        let config = json!({
            "scrape_configs": [{
                "job_name": format!("hermes-{}", plan.name),
                "metrics_path": "/metrics",
                "static_configs": scrapes,
            }],
        });
        let mut text = header("#", "systemd", plan);
        text.push_str(&yaml::to_yaml(&config));
        files.push(OutputFile::new("prometheus.yml", text));
    }
    Ok(files)
}

fn service(
    plan: &Plan<'_>,
    process: &Process,
    target: &str,
    proxies: &[String],
    prefix: &Path,
    workdir: &Path,
    metrics: &BTreeMap<String, u16>,
) -> String {
    let what = match (process.proxies.len(), process.nodes.len()) {
        (1, 0) => format!("proxy `{}`", process.name),
        (0, 1) if process.nodes[0] == process.name => format!("node `{}`", process.name),
        _ => format!("process `{}`", process.name),
    };
    let mut after = vec!["network-online.target".to_owned()];
    after.extend(proxies.iter().cloned());
    let mut wants = vec!["network-online.target".to_owned()];
    wants.extend(proxies.iter().cloned());
    let bin = prefix.join("bin");
    let command: Vec<String> = match &process.program {
        Program::HermesProxy { proxy } => {
            let mut command = vec![bin.join("hermes").display().to_string(), "proxy".to_owned()];
            if let Some(config) = plan.loaded.topology.proxies.get(proxy) {
                command.extend([
                    "--name".to_owned(),
                    proxy.clone(),
                    "--frontend".to_owned(),
                    config.frontend.value.clone(),
                    "--backend".to_owned(),
                    config.backend.value.clone(),
                ]);
                match &config.capture {
                    Some(capture) => {
                        command.extend(["--capture".to_owned(), capture.value.clone()])
                    }
                    None => command.push("--no-capture".to_owned()),
                }
                command.extend(crate::proxy::liveness_flags(
                    plan.loaded.topology.liveness(config.liveness.as_ref()),
                ));
            }
            command
        }
        Program::CrateBinary(name) => vec![bin.join(name).display().to_string()],
        Program::Shell(line) => vec!["/bin/sh".to_owned(), "-c".to_owned(), line.clone()],
        Program::Args(args) if args[0].starts_with('/') => args.clone(),
        // systemd wants an absolute program; env finds it on PATH, or relative to the
        // working directory, as `hermes up` would.
        Program::Args(args) => std::iter::once("/usr/bin/env".to_owned())
            .chain(args.iter().cloned())
            .collect(),
    };
    let mut env = Vec::new();
    if let Some(port) = metrics.get(&process.name) {
        env.push(format!("HERMES_METRICS=0.0.0.0:{port}"));
    }
    if let Some(security) = &plan.loaded.topology.security {
        let keys = workdir.join(security.keys.as_str());
        env.push(format!("HERMES_KEYS={}", keys.display()));
    }
    let restart = match process.restart {
        RestartPolicy::Always => "always",
        RestartPolicy::OnFailure => "on-failure",
        RestartPolicy::Never => "no",
    };
    let mut text = header("#", "systemd", plan);
    text.push_str(&format!(
        "[Unit]\nDescription=Hermes topology `{}`: {}\nPartOf={target}\nAfter={}\nWants={}\n\n",
        specifiers(&plan.name),
        specifiers(&what),
        after.join(" "),
        wants.join(" ")
    ));
    text.push_str("[Service]\nType=simple\n");
    text.push_str(&format!(
        "ExecStart={}\n",
        command
            .iter()
            .map(|arg| exec_word(arg))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    text.push_str(&format!(
        "WorkingDirectory={}\n",
        specifiers(&workdir.display().to_string())
    ));
    for line in env {
        text.push_str(&format!("Environment={}\n", exec_word(&line)));
    }
    text.push_str(&format!(
        "Restart={restart}\nRestartSec=1\nKillSignal=SIGTERM\nTimeoutStopSec=5\n\n"
    ));
    text.push_str(&format!("[Install]\nWantedBy={target}\n"));
    text
}

/// `hermes-<topology>-<process>.service`.
fn unit_name(plan: &Plan<'_>, process: &str) -> String {
    format!(
        "hermes-{}-{}.service",
        unit_part(&plan.name),
        unit_part(process)
    )
}

/// A name as a unit name may hold it: letters, digits, `_`, `.` and `-`.
fn unit_part(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `%` as systemd's specifiers need it.
fn specifiers(text: &str) -> String {
    text.replace('%', "%%")
}

/// One word of `ExecStart=` or `Environment=`: quoted when it holds spaces, quotes or
/// backslashes; `%` and `$` doubled so systemd passes them through.
fn exec_word(word: &str) -> String {
    let word = specifiers(word).replace('$', "$$");
    if !word.is_empty()
        && !word
            .chars()
            .any(|c| c.is_whitespace() || "\"'\\;".contains(c))
    {
        return word;
    }
    let mut quoted = String::from("\"");
    for c in word.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_words_are_quoted_and_escaped_only_when_needed() {
        assert_eq!(exec_word("tcp://*:6000"), "tcp://*:6000");
        assert_eq!(exec_word("echo $HOME 50%"), "\"echo $$HOME 50%%\"");
        assert_eq!(exec_word("say \"hi\""), "\"say \\\"hi\\\"\"");
        assert_eq!(exec_word(""), "\"\"");
    }
}
