//! Typed `Publisher<M>` → `Proxy` → `Receiver<M>` against raw `zmq` PUB → `zmq::proxy` → SUB,
//! same payload, same transport, alternating runs in one process; prints both figures and the
//! ratio, and the CPU an idle node uses.
//!
//! ```text
//! cargo bench -p hermes-runtime --bench pubsub -- [--messages N] [--runs R] [--transport tcp|ipc|inproc]
//!                                                 [--payload BYTES] [--raw-padding BYTES]
//!                                                 [--raw-zero-copy] [--only raw|hermes]
//! ```
//!
//! `--raw-padding` adds bytes to each raw message, to separate what the envelope header's size
//! costs from what Hermes' code costs; `--raw-zero-copy` sends them the way Hermes' publisher
//! sends frames of 81 to 120 bytes (see `hand_over` in `src/publisher.rs`). `--only` runs one
//! side, for a profiler. `--payload` (default 64) is the protobuf payload's size in bytes,
//! the same for both sides; Hermes' blob is a `Bytes` field, so from 512 bytes the receiver
//! shares the received frame instead of copying it.

use std::time::{Duration, Instant};

use hermes_runtime::{
    Context, HermesMessage, Node, Proxy, ProxyConfig, Publisher, Receiver, Runtime,
};

const TOPIC: &str = "bench/ticks";

/// `--payload` bytes of protobuf: a 4-byte field and a blob.
#[derive(Clone, PartialEq, prost::Message, HermesMessage)]
#[hermes(name = "bench.Blob")]
struct Blob {
    #[prost(fixed32, tag = "1")]
    n: u32,
    #[prost(bytes = "bytes", tag = "2")]
    data: bytes::Bytes,
}

/// The blob's length that makes a [`Blob`] encode to `payload` bytes: the fixed32 field takes
/// 5, the blob's tag 1 and its length a varint.
fn blob_len(payload: usize) -> usize {
    let varint = |n: usize| (usize::BITS - n.max(1).leading_zeros()).div_ceil(7) as usize;
    (0..payload.saturating_sub(6))
        .rev()
        .find(|&len| 6 + varint(len) + len == payload)
        .unwrap_or_else(|| panic!("no blob encodes to {payload} bytes"))
}

struct Options {
    messages: u64,
    runs: usize,
    transport: String,
    payload: usize,
    raw_padding: usize,
    /// Hand each raw message to libzmq as a buffer of its own instead of letting it copy.
    raw_zero_copy: bool,
    /// Run one side only (`raw` or `hermes`), for profiling it alone.
    only: Option<String>,
}

fn endpoints(transport: &str, run: usize) -> (String, String) {
    match transport {
        "tcp" => ("tcp://127.0.0.1:0".into(), "tcp://127.0.0.1:0".into()),
        "ipc" => {
            let dir = std::env::temp_dir();
            let id = std::process::id();
            (
                format!("ipc://{}/hermes-bench-{id}-{run}-front", dir.display()),
                format!("ipc://{}/hermes-bench-{id}-{run}-back", dir.display()),
            )
        }
        _ => (
            format!("inproc://front-{run}"),
            format!("inproc://back-{run}"),
        ),
    }
}

/// Messages per second through a raw zmq proxy.
fn raw(options: &Options, run: usize) -> f64 {
    let context = zmq::Context::new();
    let (front, back) = endpoints(&options.transport, run);
    let frontend = context.socket(zmq::XSUB).unwrap();
    let backend = context.socket(zmq::XPUB).unwrap();
    for socket in [&frontend, &backend] {
        socket.set_rcvhwm(0).unwrap();
        socket.set_sndhwm(0).unwrap();
    }
    frontend.bind(&front.replace(":0", ":*")).unwrap();
    backend.bind(&back.replace(":0", ":*")).unwrap();
    let front = frontend.get_last_endpoint().unwrap().unwrap();
    let back = backend.get_last_endpoint().unwrap().unwrap();
    std::thread::spawn(move || {
        let _ = zmq::proxy(&frontend, &backend);
    });
    let subscriber = context.socket(zmq::SUB).unwrap();
    subscriber.set_rcvhwm(0).unwrap();
    subscriber.set_subscribe(b"bench").unwrap();
    subscriber.connect(&back).unwrap();
    let publisher = context.socket(zmq::PUB).unwrap();
    publisher.set_sndhwm(0).unwrap();
    publisher.connect(&front).unwrap();
    // Extra bytes per message, to measure what the envelope header's size alone costs.
    let payload = vec![7u8; options.payload + options.raw_padding];
    // Handshake: send until the subscription has reached the publisher.
    loop {
        publisher.send(TOPIC, zmq::SNDMORE).unwrap();
        publisher.send(&b"warmup"[..], 0).unwrap();
        if subscriber.poll(zmq::POLLIN, 10).unwrap() > 0 {
            break;
        }
    }
    while subscriber.poll(zmq::POLLIN, 50).unwrap() > 0 {
        let _ = subscriber.recv_multipart(0).unwrap();
    }
    let messages = options.messages;
    let zero_copy = options.raw_zero_copy;
    let sender = std::thread::spawn(move || {
        for _ in 0..messages {
            publisher.send(TOPIC, zmq::SNDMORE).unwrap();
            if zero_copy {
                // A buffer of our own per message, as Hermes' publisher hands over its frames.
                publisher.send(payload.clone(), 0).unwrap();
            } else {
                publisher.send(&payload[..], 0).unwrap();
            }
        }
        publisher
    });
    let started = Instant::now();
    let mut topic = zmq::Message::new();
    let mut body = zmq::Message::new();
    for _ in 0..messages {
        subscriber.recv(&mut topic, 0).unwrap();
        subscriber.recv(&mut body, 0).unwrap();
        assert_eq!(body.len(), options.payload + options.raw_padding);
    }
    let elapsed = started.elapsed();
    drop(sender.join());
    messages as f64 / elapsed.as_secs_f64()
}

/// Messages per second through a Hermes proxy with typed sockets.
fn hermes(options: &Options, run: usize) -> f64 {
    let context = Context::new();
    let (front, back) = endpoints(&options.transport, run + 10_000);
    let mut config = ProxyConfig::new(front, back);
    config.hwm = 0;
    let proxy = Proxy::spawn(&context, config).unwrap();
    let mut receiver = Receiver::<Blob>::builder(&context)
        .topic("bench")
        .hwm(0)
        .connect(proxy.backend())
        .unwrap();
    let mut publisher = Publisher::<Blob>::builder(&context)
        .topic(TOPIC)
        .origin("bench")
        .hwm(0)
        .connect(proxy.frontend())
        .unwrap();
    let blob_len = blob_len(options.payload);
    let blob = Blob {
        n: 0,
        data: bytes::Bytes::from(vec![7u8; blob_len]),
    };
    loop {
        publisher.send(&blob).unwrap();
        if receiver.recv_timeout(Duration::from_millis(10)).is_ok() {
            break;
        }
    }
    while receiver.recv_timeout(Duration::from_millis(50)).is_ok() {}
    let messages = options.messages;
    let sender = std::thread::spawn(move || {
        let mut blob = blob;
        for n in 0..messages {
            blob.n = n as u32;
            publisher.send(&blob).unwrap();
        }
        publisher
    });
    let started = Instant::now();
    for _ in 0..messages {
        let envelope = receiver.recv().unwrap();
        assert_eq!(envelope.message.data.len(), blob_len);
    }
    let elapsed = started.elapsed();
    drop(sender.join());
    assert_eq!(receiver.stats().lost, 0);
    proxy.stop().unwrap();
    messages as f64 / elapsed.as_secs_f64()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// User plus system CPU time of this process, from /proc (Linux).
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // USER_HZ is 100 on every Linux configuration Rust supports.
    Some(Duration::from_millis(ticks * 10))
}

/// CPU share of a runtime with a proxy and a node that waits for input that never comes.
fn idle_cpu() -> Option<f64> {
    let mut runtime = Runtime::new().ok()?;
    let proxy = runtime
        .spawn_proxy(
            "idle",
            ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"),
        )
        .ok()?;
    let inbox = Receiver::<Blob>::builder(runtime.context())
        .topic("never")
        .connect(&proxy.backend)
        .ok()?;
    runtime
        .spawn_node(Node::new("idle", ()).subscribe(inbox, |_, _| Ok(())))
        .ok()?;
    let stop = runtime.shutdown();
    let waiter = std::thread::spawn(move || runtime.wait_timeout(Duration::from_secs(60)));
    std::thread::sleep(Duration::from_millis(200));
    let (before, started) = (process_cpu()?, Instant::now());
    std::thread::sleep(Duration::from_secs(3));
    let used = process_cpu()? - before;
    let share = used.as_secs_f64() / started.elapsed().as_secs_f64();
    stop.trigger();
    let _ = waiter.join();
    Some(share)
}

fn main() {
    let mut options = Options {
        messages: 200_000,
        runs: 5,
        transport: "tcp".into(),
        payload: 64,
        raw_padding: 0,
        raw_zero_copy: false,
        only: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--messages" => {
                options.messages = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--messages N")
            }
            "--runs" => options.runs = args.next().and_then(|v| v.parse().ok()).expect("--runs R"),
            "--transport" => options.transport = args.next().expect("--transport tcp|ipc|inproc"),
            "--payload" => {
                options.payload = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--payload BYTES")
            }
            "--raw-padding" => {
                options.raw_padding = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--raw-padding BYTES")
            }
            "--raw-zero-copy" => options.raw_zero_copy = true,
            "--only" => options.only = args.next(),
            _ => {} // cargo bench passes --bench
        }
    }
    let (mut raws, mut typed) = (Vec::new(), Vec::new());
    let (mut raw_cpu, mut hermes_cpu) = (Vec::new(), Vec::new());
    let cpu_per_message = |before: Option<Duration>| {
        let used = process_cpu()
            .zip(before)
            .map(|(after, before)| after - before);
        used.map_or(f64::NAN, |used| {
            used.as_secs_f64() * 1e6 / options.messages as f64
        })
    };
    for run in 0..options.runs {
        if options.only.as_deref() != Some("hermes") {
            let before = process_cpu();
            raws.push(raw(&options, run));
            raw_cpu.push(cpu_per_message(before));
        }
        if options.only.as_deref() != Some("raw") {
            let before = process_cpu();
            typed.push(hermes(&options, run));
            hermes_cpu.push(cpu_per_message(before));
        }
    }
    let (raw, hermes) = (median(raws), median(typed));
    let (raw_cpu, hermes_cpu) = (median(raw_cpu), median(hermes_cpu));
    println!(
        "pub → proxy → sub, {} B payload, {}, {} messages × {} alternating runs (median){}",
        options.payload,
        options.transport,
        options.messages,
        options.runs,
        if options.raw_padding > 0 {
            format!(", raw padded by {} B", options.raw_padding)
        } else {
            String::new()
        },
    );
    if options.raw_zero_copy {
        println!("raw messages handed to libzmq zero-copy");
    }
    println!("| path | msg/s | MB/s (payload) | CPU µs/msg (all threads) |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, rate, cpu) in [
        ("raw zmq", raw, raw_cpu),
        ("hermes typed", hermes, hermes_cpu),
    ] {
        println!(
            "| {name} | {rate:.0} | {:.1} | {cpu:.2} |",
            rate * options.payload as f64 / 1e6
        );
    }
    println!("ratio hermes/raw: {:.3} (target ≥ 0.95)", hermes / raw);
    match idle_cpu() {
        Some(share) => println!(
            "idle node + proxy: {:.2} % of a core (target < 1 %)",
            share * 100.0
        ),
        None => println!("idle node + proxy: not measured (needs /proc)"),
    }
}
