//! The CI smoke run: `hermes-bench --smoke --json` measures every scenario and reports a ratio
//! for each row and target (and the recorder's figures). No thresholds: people check those in the full run's table.

use std::process::Command;

use serde_json::Value;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hermes-bench"))
        .args(args)
        .output()
        .expect("start hermes-bench")
}

#[test]
fn smoke_json_has_every_scenario_and_its_ratios() {
    let output = run(&["--smoke", "--json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "hermes-bench failed: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(report["errors"], Value::Array(vec![]), "{stderr}");
    let rows = report["rows"].as_array().expect("rows");
    for scenario in [
        "direct",
        "proxy",
        "batched",
        "pipeline",
        "capture",
        "json",
        "python-json",
    ] {
        assert!(
            rows.iter().any(|row| row["scenario"] == scenario),
            "no row for `{scenario}`"
        );
    }
    for transport in ["tcp", "ipc", "inproc"] {
        assert!(rows.iter().any(|row| row["transport"] == transport));
    }
    for row in rows {
        for ratio in [
            &row["throughput"]["ratio"],
            &row["throughput"]["ratio_vs_padded"],
            &row["default_hwm"]["ratio"],
            &row["latency"]["ratio_p50"],
            &row["round_trip"]["ratio_p50"],
        ] {
            let ratio = ratio.as_f64().expect("a numeric ratio");
            assert!(ratio > 0.0, "{row}");
        }
        assert!(row["throughput"]["hermes"]["cpu_s_per_million"].as_f64() > Some(0.0));
        assert!(row["latency"]["hermes"]["samples"].as_u64() > Some(0));
        // One round in a smoke run: its ratio is the one reported, and its spread is nil.
        let spread = &row["throughput"]["ratio_spread"];
        assert_eq!(spread["rounds"].as_array().map(Vec::len), Some(1), "{row}");
        assert_eq!(spread["min"], row["throughput"]["ratio"], "{row}");
        // Latency under load on the direct and proxy rows, at 10, 50 and 90 % of the rate.
        let load = row["load"].as_array().expect("load points");
        if row["scenario"] == "direct" || row["scenario"] == "proxy" {
            let percents: Vec<u64> = load.iter().filter_map(|p| p["percent"].as_u64()).collect();
            assert_eq!(percents, [10, 50, 90], "{row}");
            for point in load {
                assert!(point["rate"].as_u64() > Some(0), "{point}");
                assert!(point["raw"]["samples"].as_u64() > Some(0), "{point}");
                assert!(point["hermes"]["samples"].as_u64() > Some(0), "{point}");
                assert!(point["ratio_p99"].as_f64() > Some(0.0), "{point}");
            }
        } else {
            assert!(load.is_empty(), "{row}");
        }
    }
    assert!(report["idle"]["cpu_pct"].is_number());
    // Memory under a stalled subscriber is a correctness property, not a speed target: every
    // process (publisher, proxy, subscriber) stays within its queues' HWM × message size.
    let processes = report["stall"]["processes"]
        .as_array()
        .expect("stall processes");
    assert_eq!(processes.len(), 3);
    for process in processes {
        assert_eq!(process["bounded"], Value::Bool(true), "{process}");
    }
    assert_eq!(
        report["curve"],
        Value::Array(vec![]),
        "CURVE rows only with `--curve`"
    );
    // The recorder: both sides recorded something to a file, with RSS sampled; whether 200,000
    // envelopes a second were kept up with is the target's business, not this test's.
    let record = &report["record"];
    for side in [
        "raw",
        "hermes",
        "raw_default_hwm",
        "hermes_default_hwm",
        "hermes_capture",
    ] {
        let run = &record[side];
        assert!(run["recorded"].as_u64() > Some(0), "{record}");
        assert!(run["file_bytes"].as_u64() > Some(0), "{record}");
        assert!(run["rss"]["samples"].as_u64() > Some(0), "{record}");
        assert!(
            run["gaps"].is_u64() && run["kept_up"].is_boolean(),
            "{record}"
        );
    }
    let targets = report["targets"].as_array().expect("targets");
    // Every target has a value, or none, a reason and `met: false`.
    assert!(
        targets.iter().all(|t| t["met"].is_boolean()
            && (t["value"].is_number()
                || (t["value"].is_null() && t["note"].is_string() && t["met"] == false))),
        "{targets:?}"
    );
    assert!(
        targets.iter().any(|t| t["name"]
            .as_str()
            .is_some_and(|name| name.contains("Zenoh"))
            && t["value"].is_null()),
        "the Zenoh target is reported, not measured: {targets:?}"
    );
    assert!(
        targets.iter().any(|t| t["name"]
            .as_str()
            .is_some_and(|name| name.starts_with("record tcp 64 B"))),
        "{targets:?}"
    );
    // 64 B only: every row against raw + header and its p50, proxy tcp and ipc against raw,
    // idle, the batched row against Zenoh and its p50 at 10,000 msg/s, stall and record.
    let rows = rows.len();
    assert_eq!(
        targets.len(),
        rows + rows + 2 + 1 + 2 + 3 + 2,
        "{targets:#?}"
    );
}

#[test]
fn smoke_curve_rows_compare_secured_hermes_with_raw_curve_and_unsecured_hermes() {
    let output = run(&[
        "--smoke",
        "--curve",
        "--scenario",
        "direct,proxy",
        "--transport",
        "tcp,ipc",
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "hermes-bench failed: {stderr}");
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(report["errors"], Value::Array(vec![]), "{stderr}");
    let rows = report["curve"].as_array().expect("curve rows");
    // direct and proxy, each over tcp and ipc, at 64 B.
    assert_eq!(rows.len(), 4, "{report}");
    for (scenario, transport) in [
        ("direct", "tcp"),
        ("direct", "ipc"),
        ("proxy", "tcp"),
        ("proxy", "ipc"),
    ] {
        assert!(
            rows.iter()
                .any(|row| row["scenario"] == scenario && row["transport"] == transport),
            "no CURVE row for {scenario} over {transport}"
        );
    }
    for row in rows {
        for ratio in [
            &row["throughput"]["ratio"],
            &row["throughput"]["ratio_vs_unsecured"],
            &row["throughput"]["raw_ratio"],
            &row["latency"]["ratio_p50"],
            &row["latency"]["ratio_p99"],
            &row["latency"]["ratio_p50_vs_unsecured"],
            &row["latency"]["ratio_p99_vs_unsecured"],
        ] {
            let ratio = ratio.as_f64().expect("a numeric ratio");
            assert!(ratio > 0.0, "{row}");
        }
        assert!(row["latency"]["hermes_curve"]["samples"].as_u64() > Some(0));
    }
}

#[test]
fn curve_without_a_row_that_carries_it_exits_2() {
    let output = run(&["--curve", "--scenario", "pipeline"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`--curve`"), "{stderr}");
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let output = run(&["--payload", "4", "--scenario", "proxy"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`--payload` expected 16"), "{stderr}");

    let output = run(&["--scenario", "warp-drive"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("warp-drive"));

    let output = run(&["--payload", "12 parsecs"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("12 parsecs"));

    let output = run(&["--duration=-1"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`--duration`"));

    let output = run(&["--load", "0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--load"));

    let output = run(&["--load", "50", "--no-load"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--no-load"));
}

#[test]
fn one_row_is_measured_against_raw_zmq() {
    let output = run(&[
        "--scenario",
        "direct",
        "--transport",
        "inproc",
        "--payload",
        "64",
        "--runs",
        "1",
        "--duration",
        "0.02",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON report");
    let rows = report["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["scenario"], "direct");
    assert_eq!(rows[0]["transport"], "inproc");
    assert!(
        rows[0]["throughput"]["ratio"].as_f64() > Some(0.0),
        "{report}"
    );
}

#[test]
fn help_shows_examples_and_exits_0() {
    let output = run(&["--help"]);
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(help.contains("Examples"), "{help}");
    assert!(help.contains("hermes-bench --smoke"), "{help}");
    assert!(
        !help.contains("--role"),
        "internal options stay hidden: {help}"
    );
}

#[test]
fn plot_from_a_saved_report_writes_an_svg() {
    let dir = tempfile::tempdir().expect("temp dir");
    let json = dir.path().join("report.json");
    let svg = dir.path().join("bench.svg");
    let output = run(&[
        "--scenario",
        "direct",
        "--payload",
        "64,1k",
        "--runs",
        "1",
        "--duration",
        "0.02",
        "--json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::write(&json, &output.stdout).expect("write report");
    let output = run(&[
        "--plot-from",
        json.to_str().expect("utf-8 path"),
        "--plot",
        svg.to_str().expect("utf-8 path"),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let drawing = std::fs::read_to_string(&svg).expect("svg written");
    assert!(drawing.starts_with("<svg") && drawing.contains("hermes"));
    // The direct rows were measured under load too, so latency against load is drawn beside.
    let load = std::fs::read_to_string(dir.path().join("bench-load.svg")).expect("load svg");
    assert!(
        load.starts_with("<svg") && load.contains("hermes p99"),
        "{load}"
    );
    assert!(load.contains("direct tcp 1 KiB"), "{load}");
}
