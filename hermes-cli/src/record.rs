//! `hermes record TOPOLOGY [TOPIC...] -o FILE.mcap`: write every envelope passing through a
//! proxy to an MCAP file, with the schemas of the topology's messages.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hermes_build::Loaded;
use hermes_runtime::recording::{Recorder, RecordingError, Schema, SchemaRequest};
use hermes_runtime::{Codec, Context, Error, RawReceiver, now_ns};

use crate::dynamic::Types;
use crate::interrupt::Interrupt;
use crate::listen::NotEnvelopes;
use crate::tap::{seconds, split_arguments};
use crate::topology;
use crate::{FINDINGS, SUCCESS, USAGE_OR_IO};

/// Arguments of `hermes record`.
#[derive(Debug, clap::Args)]
#[command(
    override_usage = "hermes record [OPTIONS] -o FILE.mcap [TOPOLOGY] [TOPIC]...",
    after_help = "\
Writes every envelope to an MCAP file (https://mcap.dev) that Foxglove, the `mcap` CLI and the \
`mcap` Python package open: one channel per topic, origin, codec, message type and publisher \
epoch, zstd-compressed chunks, and the schema of each type from the topology's messages files \
(a protobuf FileDescriptorSet, or a JSON Schema for json and python-json ports). The mapping is \
described in docs/wire-format.md.

Like `hermes tap`, record reads the proxy's capture socket if it has one, else its backend, or \
`--endpoint`. A capture socket carries what flows through the proxy: the topics some subscriber \
subscribes to (publishers send nothing else); reading the backend subscribes the recorder \
itself. A status line on stderr shows envelopes, bytes, rate and the envelopes lost \
upstream of the recorder (sequence gaps). Ctrl-C or SIGTERM finishes the file; a recorder \
killed outright leaves every chunk but the last readable (chunks are flushed at least once a \
second).

With `--split-size`, the recording goes to FILE-1.mcap, FILE-2.mcap, ... (the `.mcap` name \
with `-N` before its extension), a new file starting once one reaches the size.

Examples:
  hermes record trading -o desk.mcap --duration 60
  hermes record trading/topology.yaml quotes -o quotes.mcap
  hermes record topology.yaml --proxy market -o market.mcap --split-size 100000000
  hermes record topology.yaml --endpoint tcp://127.0.0.1:6002 -o capture.mcap"
)]
pub struct Args {
    /// The topology (default `./topology.yaml`), then topic prefixes to record (default all).
    #[arg(value_name = "TOPOLOGY_AND_TOPICS")]
    arguments: Vec<String>,
    /// The MCAP file to write.
    #[arg(long, short = 'o', value_name = "FILE.mcap")]
    output: PathBuf,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long, value_name = "S")]
    duration: Option<f64>,
    /// Start a new file once one reaches this many bytes: FILE-1.mcap, FILE-2.mcap, ...
    #[arg(long, value_name = "BYTES")]
    split_size: Option<u64>,
    #[command(flatten)]
    source: crate::listen::Source,
}

/// Records and returns the exit code.
pub fn run(args: &Args) -> u8 {
    match record(args) {
        Ok(()) => SUCCESS,
        Err(code) => code,
    }
}

fn usage(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    USAGE_OR_IO
}

fn record(args: &Args) -> Result<(), u8> {
    let (path, topics) = split_arguments(&args.arguments);
    let duration = args
        .duration
        .map(|s| seconds(s, "--duration"))
        .transpose()
        .map_err(usage)?;
    if args.split_size == Some(0) {
        return Err(usage("`--split-size` expects a positive number of bytes"));
    }
    if args.output.as_os_str().is_empty() || args.output.is_dir() {
        return Err(usage(format!(
            "`-o` expects a file to write, found `{}`",
            args.output.display()
        )));
    }
    let loaded = topology::load(&path)?;
    let mut files = Files::new(&args.output, args.split_size, SchemaTable::new(&loaded));
    let mut recorder = files.next().map_err(usage)?;
    let context = Context::new();
    let (endpoint, mut receiver) = args
        .source
        .connect(&loaded, &context, &topics)
        .map_err(usage)?;
    eprintln!(
        "recording {endpoint} to {} (Ctrl-C to stop)",
        files.current.display()
    );
    let interrupt = Interrupt::install();
    let deadline = duration.map(|duration| Instant::now() + duration);
    let mut status = Status::new();
    let mut not_envelopes = NotEnvelopes::new();
    let outcome = loop {
        let now = Instant::now();
        if let Some(warning) = not_envelopes.due(&receiver, now) {
            status.clear();
            eprintln!("{warning}");
        }
        status.show(&receiver, &files, &recorder, now);
        if interrupt.is_set() || deadline.is_some_and(|deadline| now >= deadline) {
            break Ok(());
        }
        let received = match receiver.recv_timeout(Duration::from_millis(100)) {
            Ok(received) => received,
            Err(Error::Timeout) => {
                if let Err(error) = recorder.flush_if_due() {
                    break Err(files.write_error(&error));
                }
                continue;
            }
            // A signal interrupts the wait.
            Err(_) if interrupt.is_set() => break Ok(()),
            Err(error) => {
                status.clear();
                eprintln!("error: cannot receive from `{endpoint}`: {error}");
                break Err(FINDINGS);
            }
        };
        status.bytes += received.wire_size as u64;
        if let Err(error) = recorder.record(&received, now_ns()) {
            break Err(files.write_error(&error));
        }
        if files.full(&recorder) {
            let full = files.current.clone();
            let next = match files.next() {
                Ok(next) => next,
                Err(error) => break Err(usage(error)),
            };
            if let Err(code) = files.finish(std::mem::replace(&mut recorder, next), &full) {
                break Err(code);
            }
        }
    };
    status.clear();
    let last = files.current.clone();
    let finished = files.finish(recorder, &last);
    let stats = receiver.stats();
    eprintln!(
        "recorded {} envelopes ({} lost upstream) to {}",
        files.messages,
        stats.lost,
        files.written.join(", ")
    );
    outcome.and(finished)
}

/// The file or files of one recording.
struct Files {
    output: PathBuf,
    split_size: Option<u64>,
    schemas: SchemaTable,
    /// The file being written.
    current: PathBuf,
    /// How many files were started.
    count: u32,
    /// The files finished, for the summary.
    written: Vec<String>,
    /// Envelopes in the files finished.
    messages: u64,
}

impl Files {
    fn new(output: &Path, split_size: Option<u64>, schemas: SchemaTable) -> Files {
        Files {
            output: output.to_owned(),
            split_size,
            schemas,
            current: output.to_owned(),
            count: 0,
            written: Vec::new(),
            messages: 0,
        }
    }

    /// Creates the next file and a recorder writing to it.
    fn next(&mut self) -> Result<Recorder<BufWriter<File>>, String> {
        self.count += 1;
        self.current = match self.split_size {
            Some(_) => split_path(&self.output, self.count),
            None => self.output.clone(),
        };
        let file = File::create(&self.current)
            .map_err(|error| format!("cannot create `{}`: {error}", self.current.display()))?;
        Recorder::new(BufWriter::new(file), self.schemas.clone())
            .map_err(|error| format!("cannot write `{}`: {error}", self.current.display()))
    }

    /// Whether the current file has reached the split size.
    fn full(&self, recorder: &Recorder<BufWriter<File>>) -> bool {
        self.split_size
            .is_some_and(|limit| recorder.bytes_written() >= limit)
    }

    /// Writes the summary of `recorder`, which wrote `path`.
    fn finish(&mut self, recorder: Recorder<BufWriter<File>>, path: &Path) -> Result<(), u8> {
        self.messages += recorder.messages();
        match recorder.finish() {
            Ok(_) => {
                self.written.push(path.display().to_string());
                Ok(())
            }
            Err(error) => {
                eprintln!("error: cannot finish `{}`: {error}", path.display());
                Err(USAGE_OR_IO)
            }
        }
    }

    fn write_error(&self, error: &RecordingError) -> u8 {
        eprintln!("error: cannot write `{}`: {error}", self.current.display());
        USAGE_OR_IO
    }
}

/// `desk.mcap` split: `desk-1.mcap`, `desk-2.mcap`, ...
fn split_path(output: &Path, index: u32) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match output.extension() {
        Some(extension) => format!("{stem}-{index}.{}", extension.to_string_lossy()),
        None => format!("{stem}-{index}"),
    };
    output.with_file_name(name)
}

/// The live status line on stderr: redrawn in place on a terminal, a line every few seconds
/// otherwise.
struct Status {
    terminal: bool,
    last: Instant,
    last_messages: u64,
    bytes: u64,
    shown: bool,
}

impl Status {
    fn new() -> Status {
        Status {
            terminal: std::io::stderr().is_terminal(),
            last: Instant::now(),
            last_messages: 0,
            bytes: 0,
            shown: false,
        }
    }

    fn show(
        &mut self,
        receiver: &RawReceiver,
        files: &Files,
        recorder: &Recorder<BufWriter<File>>,
        now: Instant,
    ) {
        let every = if self.terminal {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(5)
        };
        let elapsed = now.duration_since(self.last);
        if elapsed < every {
            return;
        }
        let messages = files.messages + recorder.messages();
        let rate = (messages - self.last_messages) as f64 / elapsed.as_secs_f64();
        let stats = receiver.stats();
        let line = format!(
            "{messages} envelopes, {:.1} MB received, {rate:.0}/s, {} lost, {} written to {}",
            self.bytes as f64 / 1e6,
            stats.lost,
            megabytes(recorder.bytes_written()),
            files.current.display(),
        );
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
            let _ = std::io::stderr().flush();
            self.shown = true;
        } else {
            eprintln!("{line}");
        }
        self.last = now;
        self.last_messages = messages;
    }

    /// Ends the status line on a terminal, so the next line starts clean.
    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// The schemas of a topology's messages, for the recorder: owned, so the recorder may keep it.
#[derive(Debug, Clone)]
struct SchemaTable {
    /// Protobuf schemas by fingerprint.
    protobuf: HashMap<u64, Schema>,
    /// JSON Schemas (object form) by fingerprint.
    json: HashMap<u64, Schema>,
    /// Publications whose envelopes name no type (`python-json`, untyped JSON publishers):
    /// topic, and the schema of their message in their codec and layout.
    by_topic: Vec<(String, Codec, Schema)>,
}

impl SchemaTable {
    fn new(loaded: &Loaded) -> SchemaTable {
        let types = Types::new(loaded);
        let mut protobuf = HashMap::new();
        let mut json = HashMap::new();
        for (name, full_name, fingerprint) in types.messages() {
            if let Ok((full_name, data)) = types.file_descriptor_set(name) {
                protobuf.insert(
                    fingerprint,
                    Schema {
                        name: full_name,
                        encoding: "protobuf".to_owned(),
                        data,
                    },
                );
            }
            if let Some(schema) = types.json_schema(name, None) {
                json.insert(fingerprint, json_schema(full_name, &schema));
            }
        }
        let by_topic = topology::publications(loaded)
            .iter()
            .filter_map(|publication| {
                let name = publication.port.message.as_str();
                let layout =
                    (publication.codec == Codec::PythonJson).then_some(publication.python_layout);
                let full_name = types
                    .messages()
                    .find(|(known, _, _)| *known == name)
                    .map(|(_, full_name, _)| full_name.to_owned())?;
                let schema = types.json_schema(name, layout)?;
                Some((
                    publication.port.topic.value.clone(),
                    publication.codec,
                    json_schema(&full_name, &schema),
                ))
            })
            .collect();
        SchemaTable {
            protobuf,
            json,
            by_topic,
        }
    }

    fn schema(&self, request: &SchemaRequest<'_>) -> Option<Schema> {
        let typed = request
            .fingerprint
            .filter(|&fingerprint| fingerprint != hermes_core::ANY_FINGERPRINT);
        match (request.codec, typed) {
            (Codec::Protobuf, Some(fingerprint)) => self.protobuf.get(&fingerprint).cloned(),
            (Codec::Json, Some(fingerprint)) => self.json.get(&fingerprint).cloned(),
            (codec, _) => self
                .by_topic
                .iter()
                .filter(|(topic, publication_codec, _)| {
                    *publication_codec == codec && topic_falls_under(topic, request.topic)
                })
                .max_by_key(|(topic, _, _)| topic.len())
                .map(|(_, _, schema)| schema.clone()),
        }
    }
}

impl hermes_runtime::recording::SchemaSource for SchemaTable {
    fn schema(&mut self, request: &SchemaRequest<'_>) -> Option<Schema> {
        SchemaTable::schema(self, request)
    }
}

fn json_schema(full_name: &str, schema: &serde_json::Value) -> Schema {
    Schema {
        name: full_name.to_owned(),
        encoding: "jsonschema".to_owned(),
        data: schema.to_string().into_bytes(),
    }
}

/// Whether `topic` is `publication` or falls under it by whole segments.
fn topic_falls_under(publication: &str, topic: &str) -> bool {
    topic == publication
        || topic
            .strip_prefix(publication)
            .is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hermes_runtime::RawEnvelope;

    #[test]
    fn split_files_number_before_the_extension() {
        assert_eq!(
            split_path(Path::new("out/desk.mcap"), 2),
            Path::new("out/desk-2.mcap")
        );
        assert_eq!(split_path(Path::new("desk"), 1), Path::new("desk-1"));
    }

    /// Records `envelopes` with the schemas of the topology at `path`, and returns each channel's
    /// topic, message encoding and schema as an MCAP reader sees them.
    fn recorded_channels(
        path: &str,
        envelopes: &[RawEnvelope],
    ) -> HashMap<String, (String, mcap::Schema<'static>)> {
        let loaded = hermes_build::load(path).expect("valid");
        let mut recorder = Recorder::new(Vec::new(), SchemaTable::new(&loaded)).unwrap();
        for envelope in envelopes {
            recorder.record(envelope, 1).unwrap();
        }
        let bytes = recorder.finish().unwrap();
        let summary = mcap::Summary::read(&bytes).unwrap().expect("a summary");
        summary
            .channels
            .values()
            .map(|channel| {
                let schema = channel.schema.as_deref().expect("a schema").clone();
                let schema = mcap::Schema {
                    data: schema.data.into_owned().into(),
                    ..schema
                };
                (
                    channel.topic.clone(),
                    (channel.message_encoding.clone(), schema),
                )
            })
            .collect()
    }

    #[test]
    fn json_and_python_json_channels_carry_json_schemas() {
        let path = "tests/fixtures/live/topology.yaml";
        let types = Types::new(&hermes_build::load(path).expect("valid"));
        let fingerprint = |name| types.fingerprint(name);
        let envelope = |topic, codec, fingerprint, payload: &str| {
            RawEnvelope::new(topic, "feed", codec, fingerprint, 1, 0, 1, payload.into())
        };
        let channels = recorded_channels(
            path,
            &[
                envelope("levels", Codec::Protobuf, fingerprint("Level"), ""),
                envelope(
                    "notes",
                    Codec::Json,
                    fingerprint("Note"),
                    r#"{"text":"hi","side":"bid"}"#,
                ),
                envelope(
                    "legacy",
                    Codec::PythonJson,
                    None,
                    r#"["Level",1.0,2.5,3.0]"#,
                ),
            ],
        );
        let (encoding, levels) = &channels["levels"];
        assert_eq!(
            (
                encoding.as_str(),
                levels.encoding.as_str(),
                levels.name.as_str()
            ),
            ("protobuf", "protobuf", "live.Level")
        );
        for (topic, name) in [("notes", "live.Note"), ("legacy", "live.Level")] {
            let (encoding, schema) = &channels[topic];
            assert_eq!(encoding, "json", "{topic}");
            assert_eq!(schema.encoding, "jsonschema", "{topic}");
            assert_eq!(schema.name, name);
            let json: serde_json::Value = serde_json::from_slice(&schema.data).expect("JSON");
            assert_eq!(json["title"], name, "{json}");
            assert_eq!(
                json["$schema"], "https://json-schema.org/draft/2020-12/schema",
                "{json}"
            );
        }
        // `json` writes an object of the fields; `python-json` (default layout `message`) a
        // list led by the type's name and the send time.
        let notes: serde_json::Value = serde_json::from_slice(&channels["notes"].1.data).unwrap();
        assert!(notes["properties"]["text"].is_object(), "{notes}");
        let legacy: serde_json::Value = serde_json::from_slice(&channels["legacy"].1.data).unwrap();
        assert_eq!(legacy["prefixItems"][0]["const"], "Level", "{legacy}");
        assert_eq!(legacy["minItems"], 4, "{legacy}");
    }

    #[test]
    fn a_protobuf_schema_holds_the_files_its_message_imports() {
        // `evo.Order` has a field of type `book.Level`, declared in another package's file.
        let path = "../hermes-build/tests/fixtures/evolution/move_message_to_other_package/new/topology.yaml";
        let types = Types::new(&hermes_build::load(path).expect("valid"));
        let order = RawEnvelope::new(
            "orders",
            "trader",
            Codec::Protobuf,
            types.fingerprint("Order"),
            1,
            0,
            1,
            Vec::new(),
        );
        let channels = recorded_channels(path, &[order]);
        let (_, schema) = &channels["orders"];
        assert_eq!(
            (schema.name.as_str(), schema.encoding.as_str()),
            ("evo.Order", "protobuf")
        );
        let set = <prost_types::FileDescriptorSet as prost::Message>::decode(&schema.data[..])
            .expect("a FileDescriptorSet");
        let packages: Vec<_> = set.file.iter().map(|file| file.package()).collect();
        // Imports come before the files that import them, as protoc writes a set.
        assert_eq!(packages, ["book", "evo"]);
        assert_eq!(set.file[1].dependency, [set.file[0].name()]);
        // The set stands alone: a reader resolves `Order`'s field to `book.Level` from it.
        let pool = prost_reflect::DescriptorPool::from_file_descriptor_set(set).expect("complete");
        let order = pool.get_message_by_name("evo.Order").unwrap();
        let field = order.get_field_by_name("x").unwrap();
        assert_eq!(field.kind().as_message().unwrap().full_name(), "book.Level");
    }

    #[test]
    fn every_trading_message_has_both_schemas() {
        let loaded = hermes_build::load("../examples/trading/topology.yaml").expect("valid");
        let table = SchemaTable::new(&loaded);
        let types = Types::new(&loaded);
        for (name, full_name, fingerprint) in types.messages() {
            let protobuf = table.protobuf.get(&fingerprint).expect(name);
            assert_eq!(protobuf.name, full_name);
            let set =
                <prost_types::FileDescriptorSet as prost::Message>::decode(&protobuf.data[..])
                    .expect("a FileDescriptorSet");
            assert!(!set.file.is_empty());
            let json: serde_json::Value =
                serde_json::from_slice(&table.json[&fingerprint].data).expect("JSON");
            assert_eq!(json["title"], full_name);
        }
    }
}
