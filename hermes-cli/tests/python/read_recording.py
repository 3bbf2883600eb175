"""Reads a `hermes record` file with the `mcap` and `mcap-protobuf-support` packages.

Usage: read_recording.py FILE (full|killed). Prints one JSON object; exits non-zero with a
message when a check fails.
"""

import json
import sys

from mcap.reader import NonSeekingReader, make_reader
from mcap_protobuf.decoder import DecoderFactory

EXCHANGES = {"bitstamp", "kraken", "coinbase"}


def full(path):
    with open(path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        summary = reader.get_summary()
        assert summary is not None, "no summary"
        for channel in summary.channels.values():
            assert channel.schema_id != 0, f"channel {channel.topic} has no schema"
            schema = summary.schemas[channel.schema_id]
            expected = "protobuf" if channel.message_encoding == "protobuf" else "jsonschema"
            assert schema.encoding == expected, (channel.topic, schema.encoding)
            for key in ("origin", "codec", "epoch", "fingerprint"):
                assert key in channel.metadata, (channel.topic, key, channel.metadata)
        count = 0
        quotes = 0
        for schema, channel, message, decoded in reader.iter_decoded_messages():
            count += 1
            if schema.name == "trading.Quote":
                assert decoded.exchange in EXCHANGES, decoded.exchange
                assert channel.topic == "quotes/" + decoded.exchange, channel.topic
                assert 0 < decoded.bid < decoded.ask, (decoded.bid, decoded.ask)
                assert message.publish_time > 0 and message.log_time >= message.publish_time - 10**9
                quotes += 1
        stats = summary.statistics.message_count if summary.statistics else None
        print(json.dumps({"count": count, "quotes": quotes, "statistics": stats,
                          "channels": len(summary.channels)}))


def killed(path):
    count = 0
    error = None
    with open(path, "rb") as f:
        try:
            # In file order: sorting by log time would read the torn tail before yielding anything.
            for _schema, _channel, _message in NonSeekingReader(f).iter_messages(log_time_order=False):
                count += 1
        except Exception as e:  # the torn tail of a killed recording
            error = f"{type(e).__name__}: {e}"
    print(json.dumps({"count": count, "error": error}))


if __name__ == "__main__":
    {"full": full, "killed": killed}[sys.argv[2]](sys.argv[1])
