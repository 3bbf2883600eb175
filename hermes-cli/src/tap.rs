//! `hermes tap [TOPOLOGY] [TOPIC...]`: print every envelope passing through a proxy, decoded
//! with the types of the topology's messages files.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hermes_build::Loaded;
use hermes_runtime::{Codec, Context, Error, RawEnvelope};
use serde_json::{Value, json};

use crate::dynamic::Types;
use crate::interrupt::Interrupt;
use crate::listen::NotEnvelopes;
use crate::topology::{self, Publication};
use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes tap`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "hermes tap [OPTIONS] [TOPOLOGY] [TOPIC]...",
    after_help = "\
The first argument is the topology when it ends in `.yaml`/`.yml` or names an existing file or \
directory; otherwise it is a topic and `./topology.yaml` is used. Topics match by whole \
`/`-separated segments: `quotes` shows `quotes` and `quotes/kraken`.

Without `--endpoint`, tap connects to the proxy's capture socket if it has one (it sees \
everything and adds no subscriber upstream), else to its backend.

Examples:
  hermes tap                                    # everything, ./topology.yaml's only proxy
  hermes tap trading/topology.yaml quotes       # quotes/* on the only proxy
  hermes tap trading --proxy market --count 10 --format json
  hermes tap topology.yaml --endpoint tcp://127.0.0.1:6002 orders"
)]
pub struct Args {
    /// The topology (default `./topology.yaml`), then topic prefixes to show (default all).
    #[arg(value_name = "TOPOLOGY_AND_TOPICS")]
    arguments: Vec<String>,
    #[command(flatten)]
    source: crate::listen::Source,
    /// Exit after printing this many envelopes.
    #[arg(long, short = 'n', value_name = "N")]
    count: Option<u64>,
    /// Give up after this many seconds; exits 1 if `--count` envelopes did not arrive.
    #[arg(long, value_name = "S")]
    timeout: Option<f64>,
    /// One line per envelope for people, or one JSON object per line for tools.
    #[arg(long, value_enum, default_value_t = Format::Pretty)]
    format: Format,
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// `topic origin#seq lag=1.2ms Message {json}`.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Splits `[TOPOLOGY] [TOPIC]...` arguments.
pub fn split_arguments(arguments: &[String]) -> (PathBuf, Vec<String>) {
    match arguments.split_first() {
        Some((first, rest)) if topology::looks_like_topology(first) => {
            (PathBuf::from(first), rest.to_vec())
        }
        _ => (PathBuf::from(topology::DEFAULT_PATH), arguments.to_vec()),
    }
}

/// Parses a duration in seconds given on the command line.
pub fn seconds(value: f64, option: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("`{option}` expects a non-negative number of seconds, found {value}"))
}

/// Runs the tap and returns the exit code.
pub fn run(args: &Args) -> u8 {
    let (path, topics) = split_arguments(&args.arguments);
    let loaded = match topology::load(&path) {
        Ok(loaded) => loaded,
        Err(code) => return code,
    };
    let timeout = match args.timeout.map(|s| seconds(s, "--timeout")).transpose() {
        Ok(timeout) => timeout,
        Err(error) => {
            eprintln!("error: {error}");
            return USAGE_OR_IO;
        }
    };
    let context = Context::new();
    let (endpoint, mut receiver) = match args.source.connect(&loaded, &context, &topics) {
        Ok(connected) => connected,
        Err(error) => {
            eprintln!("error: {error}");
            return USAGE_OR_IO;
        }
    };
    eprintln!("tapping {endpoint} (Ctrl-C to stop)");
    let decoder = Decoder::new(&loaded);
    let interrupt = Interrupt::install();
    let deadline = timeout.map(|timeout| Instant::now() + timeout);
    let mut not_envelopes = NotEnvelopes::new();
    let mut printed = 0u64;
    let stdout = std::io::stdout();
    let code = loop {
        let now = Instant::now();
        if let Some(warning) = not_envelopes.due(&receiver, now) {
            eprintln!("{warning}");
        }
        if args.count.is_some_and(|count| printed >= count) || interrupt.is_set() {
            break SUCCESS;
        }
        if deadline.is_some_and(|deadline| now >= deadline) {
            eprintln!("timed out after {printed} envelopes");
            break if args.count.is_some() {
                FINDINGS
            } else {
                SUCCESS
            };
        }
        let received = match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(received) => received,
            Err(Error::Timeout) => continue,
            // A signal interrupts the wait: Ctrl-C is the normal way to stop.
            Err(_) if interrupt.is_set() => break SUCCESS,
            Err(error) => {
                eprintln!("error: cannot receive from `{endpoint}`: {error}");
                break FINDINGS;
            }
        };
        let decoded = decoder.decode(&received);
        let line = match args.format {
            Format::Pretty => pretty(&received, &decoded),
            Format::Json => json_line(&received, &decoded).to_string(),
        };
        let mut out = stdout.lock();
        if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
            // The reader went away (`hermes tap | head`): not an error.
            break SUCCESS;
        }
        printed += 1;
    };
    if let Some(warning) = not_envelopes.rest(&receiver) {
        eprintln!("{warning}");
    }
    code
}

/// An envelope's payload, decoded as far as the topology allows.
#[derive(Debug)]
pub struct Decoded {
    /// The declared message it carries, when known.
    pub message: Option<String>,
    /// The payload as JSON, or why it could not be decoded.
    pub payload: Result<Value, String>,
}

/// Tells which declared message an envelope carries and decodes it.
pub struct Decoder<'a> {
    types: Types,
    publications: Vec<Publication<'a>>,
}

impl<'a> Decoder<'a> {
    /// A decoder for the types and publications of `loaded`.
    pub fn new(loaded: &'a Loaded) -> Decoder<'a> {
        Decoder {
            types: Types::new(loaded),
            publications: topology::publications(loaded),
        }
    }

    /// The declared message of an envelope: by its fingerprint when it has one, else (for
    /// `python-json` and untyped JSON publishers) by the publication its topic falls under.
    pub fn message_of(&self, received: &RawEnvelope) -> Option<String> {
        match received.type_fingerprint() {
            Some(fingerprint) => self.types.by_fingerprint(fingerprint).map(str::to_string),
            None => topology::publication_for(&self.publications, &received.topic)
                .map(|publication| publication.port.message.value.clone())
                .filter(|name| self.types.contains(name)),
        }
    }

    /// Decodes an envelope's payload.
    pub fn decode(&self, received: &RawEnvelope) -> Decoded {
        let message = self.message_of(received);
        let payload = match (&message, received.codec) {
            (Some(name), codec) => self.types.decode(name, codec, &received.payload),
            // JSON describes itself even when its type is unknown.
            (None, Codec::Json) => serde_json::from_slice(&received.payload)
                .map_err(|error| format!("payload is not JSON: {error}")),
            // Python writes `NaN` and `Infinity`, which plain JSON readers refuse.
            (None, Codec::PythonJson) => {
                <Value as hermes_runtime::Message>::decode(Codec::PythonJson, &received.payload)
                    .map_err(|error| format!("payload is not JSON: {error}"))
            }
            (None, Codec::Protobuf) => Err(match received.fingerprint {
                Some(fingerprint) => {
                    format!("no declared message has fingerprint {fingerprint:#018x}")
                }
                None => "unknown message type".to_string(),
            }),
        };
        Decoded { message, payload }
    }
}

fn lag_text(lag_ns: u64) -> String {
    let millis = lag_ns as f64 / 1e6;
    if millis < 10.0 {
        format!("{millis:.2}ms")
    } else if millis < 10_000.0 {
        format!("{millis:.0}ms")
    } else {
        format!("{:.0}s", millis / 1000.0)
    }
}

fn hex(bytes: &[u8], limit: usize) -> String {
    let mut text: String = bytes
        .iter()
        .take(limit)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    if bytes.len() > limit {
        text.push('…');
    }
    text
}

/// How long ago `received` was sent, in nanoseconds.
pub fn lag_ns(received: &RawEnvelope) -> u64 {
    u64::try_from(received.lag().as_nanos()).unwrap_or(u64::MAX)
}

fn pretty(received: &RawEnvelope, decoded: &Decoded) -> String {
    let head = format!(
        "{} {}#{} lag={}",
        received.topic,
        received.origin,
        received.seq,
        lag_text(lag_ns(received))
    );
    let name = decoded.message.as_deref().unwrap_or("?");
    match &decoded.payload {
        Ok(value) => format!("{head} {name} {value}"),
        Err(error) => format!(
            "{head} {name} <{} bytes {}: {}> ({error})",
            received.payload.len(),
            received.codec,
            hex(&received.payload, 32)
        ),
    }
}

fn json_line(received: &RawEnvelope, decoded: &Decoded) -> Value {
    let lag_ms = lag_ns(received) as f64 / 1e6;
    let mut line = json!({
        "topic": received.topic.as_str(),
        "origin": received.origin.as_str(),
        "seq": received.seq,
        "epoch": received.epoch,
        "timestamp_ns": received.timestamp_ns,
        "lag_ms": lag_ms,
        "codec": received.codec.name(),
        "message": decoded.message,
    });
    match &decoded.payload {
        Ok(value) => line["payload"] = value.clone(),
        Err(error) => {
            line["payload"] = Value::Null;
            line["raw_hex"] = Value::String(hex(&received.payload, usize::MAX));
            line["error"] = Value::String(error.clone());
        }
    }
    line
}
