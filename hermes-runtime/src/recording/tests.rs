use std::io::{Cursor, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use super::*;

fn quote(seq: u64, epoch: u32) -> RawEnvelope {
    RawEnvelope::new(
        "quotes/kraken",
        "feed",
        Codec::Protobuf,
        Some(0xfeed_beef),
        epoch,
        seq,
        1_700_000_000_000_000_000 + seq,
        vec![0x08, (seq % 100) as u8],
    )
}

fn mixed() -> Vec<(u64, RawEnvelope)> {
    let mut envelopes = Vec::new();
    for i in 0..500u64 {
        envelopes.push((1_000 + 2 * i, quote(i, 7)));
        if i % 10 == 0 {
            envelopes.push((
                1_001 + 2 * i,
                RawEnvelope::new(
                    "orders",
                    "strategy",
                    Codec::Json,
                    Some(42),
                    3,
                    i / 10,
                    2_000 + i,
                    br#"{"size":1.5}"#.to_vec(),
                ),
            ));
        }
    }
    // A restart: the same origin with a new epoch, from sequence 0 again.
    envelopes.push((5_000, quote(0, 8)));
    // python-json carries no fingerprint, epoch or sequence number.
    envelopes.push((
        5_001,
        RawEnvelope::new(
            "legacy/ticks",
            "py",
            Codec::PythonJson,
            None,
            0,
            0,
            1_700_000_000_500_000_000,
            b"[\"Tick\", 1.5, 2]".to_vec(),
        ),
    ));
    // Sequence numbers past u32::MAX survive MCAP's u32 field.
    for seq in [
        u64::from(u32::MAX) - 1,
        u64::from(u32::MAX),
        1 << 32,
        (1 << 32) + 5,
    ] {
        envelopes.push((6_000, quote(seq, 9)));
    }
    envelopes
}

fn schemas(request: &SchemaRequest<'_>) -> Option<Schema> {
    (request.fingerprint == Some(0xfeed_beef)).then(|| Schema {
        name: "trading.Quote".to_owned(),
        encoding: "protobuf".to_owned(),
        data: vec![1, 2, 3],
    })
}

fn record(envelopes: &[(u64, RawEnvelope)], options: RecorderOptions) -> Vec<u8> {
    let mut recorder = Recorder::with_options(Cursor::new(Vec::new()), schemas, options).unwrap();
    for (log_time, raw) in envelopes {
        recorder.record(raw, *log_time).unwrap();
    }
    assert_eq!(recorder.messages(), envelopes.len() as u64);
    recorder.finish().unwrap().into_inner()
}

fn read(bytes: &[u8]) -> (Result<Vec<(u64, RawEnvelope)>, RecordingError>, bool) {
    let mut recording = Recording::from_reader(bytes);
    let envelopes = recording.by_ref().collect();
    (envelopes, recording.truncated())
}

#[test]
fn envelopes_round_trip_with_every_field() {
    let envelopes = mixed();
    let bytes = record(&envelopes, RecorderOptions::default().chunk_size(4096));
    let (read_back, truncated) = read(&bytes);
    assert_eq!(read_back.unwrap(), envelopes);
    assert!(!truncated);
}

#[test]
fn channels_carry_metadata_and_schemas_any_mcap_reader_sees() {
    let bytes = record(&mixed(), RecorderOptions::default());
    let summary = mcap::Summary::read(&bytes).unwrap().unwrap();
    // quotes at epochs 7, 8, 9; orders; legacy ticks.
    assert_eq!(summary.channels.len(), 5);
    let quotes = summary
        .channels
        .values()
        .find(|channel| channel.topic == "quotes/kraken" && channel.metadata["epoch"] == "7")
        .unwrap();
    assert_eq!(quotes.message_encoding, "protobuf");
    assert_eq!(quotes.metadata["origin"], "feed");
    assert_eq!(quotes.metadata["codec"], "protobuf");
    assert_eq!(quotes.metadata["fingerprint"], "00000000feedbeef");
    let schema = quotes.schema.as_ref().unwrap();
    assert_eq!(
        (schema.name.as_str(), schema.encoding.as_str()),
        ("trading.Quote", "protobuf")
    );
    let legacy = summary
        .channels
        .values()
        .find(|c| c.topic == "legacy/ticks")
        .unwrap();
    assert_eq!(legacy.message_encoding, "json");
    assert!(!legacy.metadata.contains_key("fingerprint"));
    assert!(legacy.schema.is_none());
    let messages = mcap::MessageStream::new(&bytes).unwrap();
    let first = messages.into_iter().next().unwrap().unwrap();
    assert_eq!(
        (first.log_time, first.publish_time, first.sequence),
        (1_000, 1_700_000_000_000_000_000, 0)
    );
}

#[test]
fn log_times_never_go_back() {
    let envelopes = [(2_000, quote(0, 1)), (1_000, quote(1, 1))];
    let (read_back, _) = read(&record(&envelopes, RecorderOptions::default()));
    let times: Vec<u64> = read_back.unwrap().iter().map(|(time, _)| *time).collect();
    assert_eq!(times, [2_000, 2_000]);
}

/// A writer whose bytes the test can see while the recorder still owns it, as a file's are.
#[derive(Clone, Default)]
struct SharedFile(Arc<Mutex<Cursor<Vec<u8>>>>);

impl SharedFile {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().get_ref().clone()
    }
}

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.0.lock().unwrap().seek(pos)
    }
}

#[test]
fn a_killed_recorder_leaves_every_flushed_chunk_readable() {
    let file = SharedFile::default();
    let options = RecorderOptions::default().chunk_size(2048);
    let mut recorder = Recorder::with_options(file.clone(), schemas, options).unwrap();
    let envelopes = mixed();
    let (flushed, unflushed) = envelopes.split_at(300);
    for (log_time, raw) in flushed {
        recorder.record(raw, *log_time).unwrap();
    }
    recorder.flush().unwrap();
    let at_flush = file.bytes();
    for (log_time, raw) in unflushed {
        recorder.record(raw, *log_time).unwrap();
    }
    // What a SIGKILL leaves: complete chunks, then perhaps part of one more.
    let killed = file.bytes();
    assert!(killed.len() > at_flush.len());
    for cut in [
        at_flush.len(),
        at_flush.len() + 7,
        killed.len() - 1,
        killed.len(),
    ] {
        let (read_back, truncated) = read(&killed[..cut]);
        let read_back = read_back.unwrap();
        assert!(truncated, "cut at {cut}");
        assert!(
            read_back.len() >= flushed.len(),
            "cut at {cut}: {}",
            read_back.len()
        );
        assert_eq!(read_back[..], envelopes[..read_back.len()], "cut at {cut}");
    }
    std::mem::forget(recorder);
}

#[test]
fn every_cut_of_a_file_reads_a_prefix_or_fails_cleanly() {
    let envelopes: Vec<_> = mixed().into_iter().take(40).collect();
    let bytes = record(&envelopes, RecorderOptions::default().chunk_size(256));
    for cut in 0..bytes.len() {
        match read(&bytes[..cut]).0 {
            Ok(read_back) => assert_eq!(read_back[..], envelopes[..read_back.len()]),
            Err(RecordingError::Format(_)) => {}
            Err(other) => panic!("cut at {cut}: {other}"),
        }
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let mut noise = Vec::new();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..10_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        noise.push(state as u8);
    }
    let valid = record(&mixed(), RecorderOptions::default().chunk_size(1024));
    let mut magic_then_noise = valid[..8].to_vec();
    magic_then_noise.extend_from_slice(&noise);
    let mut corrupted = valid.clone();
    for byte in corrupted.iter_mut().skip(40).step_by(97) {
        *byte ^= 0x5a;
    }
    for (name, bytes) in [
        ("empty", &[][..]),
        ("noise", &noise[..]),
        ("text", b"not an mcap file at all\n"),
        ("magic then noise", &magic_then_noise[..]),
        ("corrupted", &corrupted[..]),
    ] {
        let (read_back, _) = read(bytes);
        assert!(
            read_back.is_err(),
            "{name} read as {:?}",
            read_back.map(|v| v.len())
        );
    }
}

#[test]
fn foreign_channels_are_named_in_the_error() {
    let mut writer = mcap::Writer::new(Cursor::new(Vec::new())).unwrap();
    let channel = writer
        .add_channel(0, "/camera", "cdr", &BTreeMap::new())
        .unwrap();
    let header = MessageHeader {
        channel_id: channel,
        sequence: 0,
        log_time: 1,
        publish_time: 1,
    };
    writer.write_to_known_channel(&header, b"x").unwrap();
    writer.finish().unwrap();
    let bytes = writer.into_inner().into_inner();
    let err = read(&bytes).0.unwrap_err();
    assert_eq!(
        err.to_string(),
        "channel 1 (`/camera`) is not a Hermes channel: no `codec` in its metadata"
    );
}

#[test]
fn sequences_unwrap_across_u32() {
    assert_eq!(unwrap_sequence(None, 5), 5);
    assert_eq!(unwrap_sequence(Some(u64::from(u32::MAX)), 0), 1 << 32);
    assert_eq!(unwrap_sequence(Some((1 << 32) + 3), 4), (1 << 32) + 4);
    assert_eq!(unwrap_sequence(Some(10), 9), 9);
}
