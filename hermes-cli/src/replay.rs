//! `hermes replay FILE [TOPOLOGY]`: re-publish a recording into a proxy with its original
//! pacing, topics, types, codecs and payloads.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hermes_runtime::recording::Recording;
use hermes_runtime::{Context, Error, RawEnvelope, RawPublisher, SharedStr, now_ns};

use crate::interrupt::Interrupt;
use crate::tap::seconds;
use crate::topology;
use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// What `hermes replay` appends to each origin unless `--keep-origin` is given.
pub const REPLAY_SUFFIX: &str = "@replay";

/// Envelopes a replay queues before a slow subscriber misses some (with `--max`).
const SEND_HWM: u32 = 100_000;

/// Arguments of `hermes replay`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "hermes replay [OPTIONS] FILE.mcap [TOPOLOGY]",
    after_help = "\
Publishes the envelopes of a recording (`hermes record`'s MCAP files) to a proxy's frontend, \
from the topology, or to `--endpoint`, spaced as they were received (divided by `--speed`), \
each with its recorded topic, codec, type fingerprint, sequence number and payload bytes, so \
nodes and `hermes tap` receive them as they received the originals. It waits (up to `--wait`) \
for a subscriber before the first envelope.

Replayed envelopes are told apart from live ones by their origin: `feed` is replayed as \
`feed@replay`, unless `--keep-origin` is given. Each replayed publisher gets a fresh epoch (on \
every pass of `--loop` too), so receivers see a publisher restart, not a jump in sequence \
numbers. Timestamps are the send time, as a live publisher's are, unless `--keep-timestamps`.

A recording whose recorder was killed is replayed up to its last complete chunk.

Examples:
  hermes replay desk.mcap trading
  hermes replay desk.mcap trading/topology.yaml --speed 10 --topics quotes
  hermes replay desk.mcap --endpoint tcp://127.0.0.1:6001 --max --loop
  hermes replay desk.mcap topology.yaml --proxy market --keep-origin"
)]
pub struct Args {
    /// The recording.
    #[arg(value_name = "FILE.mcap")]
    file: PathBuf,
    /// The topology whose proxy to publish to (default `./topology.yaml`; not read with
    /// `--endpoint` alone).
    #[arg(value_name = "TOPOLOGY")]
    topology: Option<PathBuf>,
    /// Replay this many times faster than recorded (0.5 is half speed).
    #[arg(long, value_name = "X", default_value_t = 1.0, conflicts_with = "max")]
    speed: f64,
    /// Replay as fast as possible, ignoring the recorded pacing.
    #[arg(long)]
    max: bool,
    /// Start again from the beginning at the end, until Ctrl-C.
    #[arg(long = "loop")]
    repeat: bool,
    /// Replay only these topic prefixes (by whole segments; default all).
    #[arg(long, value_name = "TOPIC", num_args = 1..)]
    topics: Vec<String>,
    /// The proxy whose frontend to publish to (default: the topology's only proxy).
    #[arg(long, value_name = "NAME", conflicts_with = "endpoint")]
    proxy: Option<String>,
    /// Publish to this endpoint instead (a proxy's frontend, or a bound subscriber).
    #[arg(long, value_name = "EP")]
    endpoint: Option<String>,
    /// Keep the recorded origins instead of appending `@replay`.
    #[arg(long)]
    keep_origin: bool,
    /// Keep the recorded timestamps instead of stamping each envelope when it is sent.
    #[arg(long)]
    keep_timestamps: bool,
    /// Seconds to wait for a subscriber before the first envelope (0: do not wait).
    #[arg(long, value_name = "S", default_value_t = 5.0)]
    wait: f64,
    /// Keys, when the topology is secured.
    #[command(flatten)]
    operator: crate::operator::OperatorArgs,
}

/// Replays and returns the exit code.
pub fn run(args: &Args) -> u8 {
    match replay(args) {
        Ok(()) => SUCCESS,
        Err(code) => code,
    }
}

fn usage(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    USAGE_OR_IO
}

fn replay(args: &Args) -> Result<(), u8> {
    let valid_speed = args.speed.is_finite() && args.speed > 0.0;
    if !args.max && !valid_speed {
        return Err(usage(format!(
            "`--speed` expects a positive number, found {}",
            args.speed
        )));
    }
    let wait = seconds(args.wait, "--wait").map_err(usage)?;
    for topic in &args.topics {
        hermes_core::topic::validate(topic).map_err(usage)?;
    }
    // Fail on an unreadable file before connecting anywhere.
    let cannot_read = |error| usage(format!("cannot read `{}`: {error}", args.file.display()));
    if let Some(Err(error)) = Recording::open(&args.file).map_err(cannot_read)?.next() {
        return Err(cannot_read(error));
    }
    let context = Context::new();
    let (endpoint, mut publisher) = connect(args, &context)?;
    eprintln!(
        "replaying {} to {endpoint} (Ctrl-C to stop)",
        args.file.display()
    );
    let interrupt = Interrupt::install();
    let mut replayed = 0u64;
    let mut waited = wait.is_zero();
    let started = Instant::now();
    loop {
        let pass = Pass {
            args,
            interrupt: &interrupt,
            epochs: HashMap::new(),
        };
        let outcome = pass.run(&mut publisher, &mut waited, wait, &mut replayed)?;
        if outcome == Outcome::Interrupted || !args.repeat {
            break;
        }
    }
    eprintln!(
        "replayed {replayed} envelopes in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The endpoint and a publisher connected to it.
fn connect(args: &Args, context: &Context) -> Result<(String, RawPublisher), u8> {
    let builder = RawPublisher::builder(context)
        .hwm(SEND_HWM)
        .linger(Duration::from_secs(5));
    if let (Some(endpoint), None) = (&args.endpoint, &args.topology) {
        let publisher = builder
            .connect(endpoint)
            .map_err(|error| usage(format!("cannot connect to `{endpoint}`: {error}")))?;
        return Ok((endpoint.clone(), publisher));
    }
    let path = args
        .topology
        .clone()
        .unwrap_or_else(|| PathBuf::from(topology::DEFAULT_PATH));
    let loaded = topology::load(&path)?;
    let (name, endpoint) = match &args.endpoint {
        Some(endpoint) => (
            topology::listened_proxy(&loaded, args.proxy.as_deref(), None),
            endpoint.clone(),
        ),
        None => {
            let proxies = &loaded.topology.proxies;
            let (name, proxy) = match &args.proxy {
                Some(name) => proxies
                    .iter()
                    .find(|(known, _)| known.as_str() == name)
                    .ok_or_else(|| usage(format!("no proxy `{name}` in the topology")))?,
                None => match proxies.entries() {
                    [(name, proxy)] => (name, proxy),
                    [] => {
                        return Err(usage(
                            "the topology declares no proxy; name an endpoint with `--endpoint`",
                        ));
                    }
                    _ => {
                        return Err(usage(
                            "the topology declares several proxies; choose one with `--proxy`",
                        ));
                    }
                },
            };
            (
                Some(name.value.clone()),
                topology::reach(&loaded, proxy, &proxy.frontend),
            )
        }
    };
    let builder = match name {
        Some(name) => match args.operator.curve_to_proxy(&loaded, &name) {
            Ok(Some(curve)) => builder.curve(curve),
            Ok(None) => builder,
            Err(error) => return Err(usage(error)),
        },
        None => builder,
    };
    let publisher = builder
        .connect(&endpoint)
        .map_err(|error| usage(format!("cannot connect to `{endpoint}`: {error}")))?;
    Ok((endpoint, publisher))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    Interrupted,
}

/// One pass through the recording.
struct Pass<'a> {
    args: &'a Args,
    interrupt: &'a Interrupt,
    /// A fresh epoch for each recorded (origin, epoch).
    epochs: HashMap<(SharedStr, u32), u32>,
}

impl Pass<'_> {
    fn run(
        mut self,
        publisher: &mut RawPublisher,
        waited: &mut bool,
        wait: Duration,
        replayed: &mut u64,
    ) -> Result<Outcome, u8> {
        let path: &Path = &self.args.file;
        let mut recording = Recording::open(path)
            .map_err(|error| usage(format!("cannot read `{}`: {error}", path.display())))?;
        let mut clock: Option<(u64, Instant)> = None;
        for item in recording.by_ref() {
            let (log_time, recorded) = match item {
                Ok(item) => item,
                Err(error) => {
                    eprintln!("error: cannot read `{}`: {error}", path.display());
                    return Err(FINDINGS);
                }
            };
            if !self.selected(&recorded.topic) {
                continue;
            }
            if !*waited {
                *waited = true;
                if !self.wait_for_subscriber(publisher, &recorded, wait) {
                    return Ok(Outcome::Interrupted);
                }
            }
            let (first, start) = *clock.get_or_insert((log_time, Instant::now()));
            if !self.args.max {
                let offset =
                    Duration::from_nanos(log_time.saturating_sub(first)).div_f64(self.args.speed);
                if !self.sleep_until(start + offset) {
                    return Ok(Outcome::Interrupted);
                }
            } else if self.interrupt.is_set() {
                return Ok(Outcome::Interrupted);
            }
            let envelope = self.restamp(recorded);
            if let Err(error) = publisher.send(&envelope) {
                eprintln!("error: cannot send: {error}");
                return Err(FINDINGS);
            }
            *replayed += 1;
        }
        if recording.truncated() {
            eprintln!(
                "warning: `{}` ends before its summary (its recorder was stopped abruptly): \
                 replayed up to its last complete chunk",
                path.display()
            );
        }
        Ok(Outcome::Done)
    }

    fn selected(&self, topic: &str) -> bool {
        self.args.topics.is_empty()
            || self.args.topics.iter().any(|prefix| {
                topic == prefix
                    || topic
                        .strip_prefix(prefix.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
    }

    /// Waits for a subscriber to `first`'s topic; `false` when interrupted.
    fn wait_for_subscriber(
        &self,
        publisher: &mut RawPublisher,
        first: &RawEnvelope,
        wait: Duration,
    ) -> bool {
        let deadline = Instant::now() + wait;
        loop {
            if self.interrupt.is_set() {
                return false;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                eprintln!(
                    "warning: no subscriber to `{}` appeared within {}s; replaying anyway",
                    first.topic,
                    wait.as_secs_f64()
                );
                return true;
            }
            match publisher.wait_for_subscriber(
                first.codec,
                &first.topic,
                left.min(Duration::from_millis(100)),
            ) {
                Ok(()) => return true,
                Err(Error::Timeout) => {}
                Err(error) => {
                    eprintln!("warning: cannot wait for a subscriber: {error}");
                    return true;
                }
            }
        }
    }

    /// Sleeps until `due`, in short steps so Ctrl-C is noticed; `false` when interrupted.
    fn sleep_until(&self, due: Instant) -> bool {
        loop {
            if self.interrupt.is_set() {
                return false;
            }
            let left = due.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return true;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }

    /// The envelope as replayed: `@replay` origin, fresh epoch, send-time timestamp, as the
    /// options say.
    fn restamp(&mut self, recorded: RawEnvelope) -> RawEnvelope {
        let origin: SharedStr = if self.args.keep_origin {
            recorded.origin.clone()
        } else {
            format!("{}{REPLAY_SUFFIX}", recorded.origin).into()
        };
        let epoch = if recorded.epoch == 0 {
            0
        } else {
            *self
                .epochs
                .entry((recorded.origin.clone(), recorded.epoch))
                .or_insert_with(fresh_epoch)
        };
        let timestamp_ns = if self.args.keep_timestamps {
            recorded.timestamp_ns
        } else {
            now_ns()
        };
        RawEnvelope::new(
            recorded.topic,
            origin,
            recorded.codec,
            recorded.fingerprint,
            epoch,
            recorded.seq,
            timestamp_ns,
            recorded.payload,
        )
    }
}

/// An epoch no earlier publisher is likely to have had: never 0, which means "none".
fn fresh_epoch() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(now_ns());
    hasher.write_u32(std::process::id());
    (hasher.finish() as u32).max(1)
}
