//! `hermes pub [TOPOLOGY] TOPIC JSON`: check a JSON message against the topic's type and
//! publish it.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hermes_runtime::{Codec, Context, Error, Payload, Publisher, PythonLayout};

use crate::dynamic::Types;
use crate::interrupt::Interrupt;
use crate::tap::seconds;
use crate::topology::{self, Publication};
use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes pub`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "hermes pub [OPTIONS] [TOPOLOGY] TOPIC JSON",
    after_help = "\
The message is checked against the type the topology publishes on TOPIC (an exact topic, or \
one under a published topic by segments) and encoded with that publication's codec. The JSON \
is an object of the fields by name, a list of the fields in order, or `[dtype, ts, fields…]` as \
Python's `hermes.Message` writes it. Missing fields take their default value; unknown fields \
and wrong types are errors naming the field. Under `python-json` the message goes out in the \
publication's `python_layout` (`message`, `[dtype, ts, fields…]`, unless the YAML says \
otherwise), or `--python-layout`.

It is sent through the publication's proxy frontend, or to its `connect:` endpoint; for a \
`bind:` publication hermes pub binds the endpoint itself, standing in for the node. \
`--endpoint` connects elsewhere.

PUB/SUB drops what is sent before a subscriber's subscription arrives, so hermes pub first \
waits until a subscription matching TOPIC reaches it (at most `--wait` seconds), then sends. \
With no subscriber by then it sends anyway, with a warning.

Examples:
  hermes pub quotes/test '{\"exchange\": \"test\", \"price\": 101.5}'
  hermes pub trading/topology.yaml orders '{\"id\": 7, \"side\": \"bid\"}' --count 100 --rate 10
  hermes pub topology.yaml ticks '{\"n\": 1}' --endpoint tcp://127.0.0.1:7000 --wait 0
  hermes pub desk/topology.yaml orders/trader '[\"BTC\", \"sell\"]' --python-layout object"
)]
pub struct Args {
    /// The topology (optional, default `./topology.yaml`), the topic, and the message as JSON.
    #[arg(value_name = "ARGS", num_args = 2..=3, required = true)]
    arguments: Vec<String>,
    /// Messages per second when sending more than one.
    #[arg(long, value_name = "HZ", default_value_t = 10.0)]
    rate: f64,
    /// How many times to send the message; 0 sends until Ctrl-C.
    #[arg(long, short = 'n', value_name = "N", default_value_t = 1)]
    count: u64,
    /// Connect to this endpoint instead of the one the topology gives the topic.
    #[arg(long, value_name = "EP")]
    endpoint: Option<String>,
    /// The origin written into the envelopes.
    #[arg(long, value_name = "NAME", default_value = "hermes-pub")]
    origin: String,
    /// Longest wait, in seconds, for a subscriber before the first send.
    #[arg(long, value_name = "S", default_value_t = 2.0)]
    wait: f64,
    /// The `python-json` layout to send in, instead of the publication's: `message`, `list`
    /// or `object`.
    #[arg(long, value_name = "LAYOUT")]
    python_layout: Option<PythonLayout>,
    /// Keys, when the topology is secured: `hermes pub` then publishes as the node that declares
    /// the topic, with its key pair.
    #[command(flatten)]
    operator: crate::operator::OperatorArgs,
}

/// Where `hermes pub`'s socket goes: connected to a proxy or peer, or bound for peers.
enum PublishAt {
    Connect(String),
    Bind(String),
}

fn attach_for(loaded: &hermes_build::Loaded, publication: &Publication<'_>) -> Option<PublishAt> {
    let port = publication.port;
    if let Some(proxy) = port.via.as_ref() {
        let proxy = loaded.topology.proxies.get(proxy)?;
        return Some(PublishAt::Connect(topology::reach(
            loaded,
            proxy,
            &proxy.frontend,
        )));
    }
    if let Some(endpoint) = port.connect.as_ref() {
        return Some(PublishAt::Connect(endpoint.value.clone()));
    }
    port.bind
        .as_ref()
        .map(|endpoint| PublishAt::Bind(endpoint.value.clone()))
}

/// Publishes and returns the exit code.
pub fn run(args: &Args) -> u8 {
    match publish(args) {
        Ok(()) => SUCCESS,
        Err(code) => code,
    }
}

fn usage(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    USAGE_OR_IO
}

fn publish(args: &Args) -> Result<(), u8> {
    let (path, topic, text) = match args.arguments.as_slice() {
        [path, topic, text] => (PathBuf::from(path), topic, text),
        [topic, text] => (PathBuf::from(topology::DEFAULT_PATH), topic, text),
        _ => return Err(usage("expected `[TOPOLOGY] TOPIC JSON`")),
    };
    if !(args.rate.is_finite() && args.rate > 0.0) {
        return Err(usage(format!(
            "`--rate` expects a positive number, found {}",
            args.rate
        )));
    }
    let wait = seconds(args.wait, "--wait").map_err(usage)?;
    hermes_core::topic::validate(topic).map_err(usage)?;
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| usage(format!("the message is not valid JSON: {error}")))?;
    let loaded = topology::load(&path)?;
    let publications = topology::publications(&loaded);
    let Some(publication) = topology::publication_for(&publications, topic) else {
        let mut topics: Vec<&str> = publications
            .iter()
            .map(|publication| publication.port.topic.as_str())
            .collect();
        topics.sort_unstable();
        topics.dedup();
        eprintln!("error: the topology publishes nothing on `{topic}`");
        eprintln!("help: published topics: {}", topics.join(", "));
        return Err(USAGE_OR_IO);
    };
    let message = publication.port.message.as_str();
    let codec = publication.codec;
    let types = Types::new(&loaded);
    let layout = args.python_layout.unwrap_or(publication.python_layout);
    let bytes = types
        .encode(message, codec, layout, &value)
        .map_err(|error| {
            eprintln!("error: the message does not fit `{message}`: {error}");
            if let Some((_, definition)) = loaded.message(message) {
                let fields: Vec<String> = definition
                    .fields
                    .iter()
                    .map(|field| {
                        let optional = if field.optional { " (optional)" } else { "" };
                        format!("{}: {}{optional}", field.name, field.ty)
                    })
                    .collect();
                eprintln!("help: `{message}` has fields {}", fields.join(", "));
            }
            USAGE_OR_IO
        })?;
    let fingerprint = types.fingerprint(message).unwrap_or(0);
    let payload = Payload::new(codec, fingerprint, bytes);

    let attach = match &args.endpoint {
        Some(endpoint) => PublishAt::Connect(endpoint.clone()),
        None => attach_for(&loaded, publication)
            .ok_or_else(|| usage(format!("the publication of `{topic}` has no endpoint")))?,
    };
    let curve = match (&attach, publication.port.via.as_ref()) {
        _ if !args.operator.secured(&loaded) => None,
        (PublishAt::Connect(_), Some(proxy)) => args
            .operator
            .curve_as_node(&loaded, publication.node, proxy)
            .map_err(usage)?,
        _ => {
            return Err(usage(
                "security is on, and `hermes pub` publishes securely only through a proxy; \
                 pass `--insecure` for an endpoint without security",
            ));
        }
    };
    let context = Context::new();
    let mut publisher = open_publisher(&context, &attach, topic, &args.origin, codec, curve)?;
    let endpoint = match &attach {
        PublishAt::Connect(endpoint) | PublishAt::Bind(endpoint) => endpoint.clone(),
    };

    let interrupt = Interrupt::install();
    if !wait.is_zero() && !wait_for_subscriber(&mut publisher, wait, &interrupt)? {
        eprintln!(
            "warning: no subscriber to `{topic}` appeared within {}s; sending anyway \
             (PUB/SUB drops envelopes nobody subscribed to)",
            args.wait
        );
    }
    let interval = Duration::from_secs_f64(1.0 / args.rate);
    let start = Instant::now();
    let mut sent = 0u64;
    while args.count == 0 || sent < args.count {
        if interrupt.is_set() {
            break;
        }
        if sent > 0 {
            // An absolute schedule, so the rate holds whatever each send costs.
            let due = start + interval.mul_f64(sent as f64);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        match publisher.send(&payload) {
            Ok(()) => {}
            Err(Error::Codec(error)) => {
                return Err(usage(format!("cannot encode the envelope: {error}")));
            }
            Err(error) => {
                eprintln!("error: cannot send: {error}");
                return Err(FINDINGS);
            }
        }
        sent += 1;
    }
    eprintln!("published {sent} `{message}` envelope(s) on `{topic}` ({codec}) to {endpoint}");
    // The publisher's linger lets queued envelopes leave before the context closes.
    drop(publisher);
    drop(context);
    Ok(())
}

/// A publisher of already-encoded payloads on `topic`, on an XPUB socket: it sees
/// subscriptions, so a one-shot publish can wait for a subscriber instead of sleeping a guessed
/// time.
fn open_publisher(
    context: &Context,
    attach: &PublishAt,
    topic: &str,
    origin: &str,
    codec: Codec,
    curve: Option<hermes_runtime::Curve>,
) -> Result<Publisher<Payload>, u8> {
    let mut builder = Publisher::<Payload>::builder(context)
        .topic(topic)
        .origin(origin)
        .codec(codec)
        .hwm(100_000)
        .linger(Duration::from_secs(2))
        .xpub();
    if let Some(curve) = curve {
        builder = builder.curve(curve);
    }
    match attach {
        PublishAt::Connect(endpoint) => builder
            .connect(endpoint)
            .map_err(|error| usage(format!("cannot connect to `{endpoint}`: {error}"))),
        PublishAt::Bind(endpoint) => builder.bind(endpoint).map_err(|error| {
            usage(format!(
                "cannot bind `{endpoint}`: {error} (is the publishing node running? \
                 then use `--endpoint` to reach its subscribers another way)"
            ))
        }),
    }
}

/// Waits until a subscription to the publisher's topic arrives: true when one did, false on
/// timeout or Ctrl-C.
fn wait_for_subscriber(
    publisher: &mut Publisher<Payload>,
    wait: Duration,
    interrupt: &Interrupt,
) -> Result<bool, u8> {
    let deadline = Instant::now() + wait;
    // Short waits, so Ctrl-C is noticed.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || interrupt.is_set() {
            return Ok(false);
        }
        match publisher.wait_for_subscriber(left.min(Duration::from_millis(100))) {
            Ok(()) => return Ok(true),
            Err(Error::Timeout) => {}
            Err(error) => {
                eprintln!("error: cannot wait for a subscriber: {error}");
                return Err(FINDINGS);
            }
        }
    }
}
