"""Reads a `hermes record` file with the `mcap` and `mcap-protobuf-support` packages.

Usage:
  read_recording.py FILE full TAP.jsonl   every message decoded and compared, payload field by
                                          field, with the line `hermes tap --format json`
                                          printed for it (same topic, origin, epoch, sequence)
  read_recording.py FILE killed           the envelopes of a torn file, in file order

Prints one JSON object; exits non-zero with a message when a check fails.
"""

import json
import re
import sys

from mcap.reader import NonSeekingReader, make_reader
from mcap_protobuf.decoder import DecoderFactory


def shouty(name):
    """`RiskDecision` as protobuf prefixes its enum values: `RISK_DECISION`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def element(field, value):
    if field.message_type is not None:
        return plain(value)
    if field.enum_type is not None:
        # `SIDE_BUY` is the YAML's `buy`, as tap prints it.
        name = field.enum_type.values_by_number[value].name
        prefix = shouty(field.enum_type.name) + "_"
        assert name.startswith(prefix), (field.full_name, name)
        return name[len(prefix):].lower()
    if isinstance(value, bytes):
        return list(value)
    return value


def plain(message):
    """A decoded protobuf message as `hermes tap --format json` prints its payload."""
    out = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        entry = field.message_type is not None and field.message_type.GetOptions().map_entry
        if entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {str(k): element(value_field, v) for k, v in value.items()}
        elif field.is_repeated:
            out[field.name] = [element(field, v) for v in value]
        elif field.has_presence and not message.HasField(field.name):
            out[field.name] = None
        else:
            out[field.name] = element(field, value)
    return out


def full(path, tap_path):
    tapped = {}
    for line in open(tap_path):
        line = json.loads(line)
        assert "error" not in line, line
        key = (line["topic"], line["origin"], line["epoch"], line["seq"])
        assert key not in tapped, key
        tapped[key] = line
    with open(path, "rb") as f:
        reader = make_reader(f, decoder_factories=[DecoderFactory()])
        summary = reader.get_summary()
        assert summary is not None, "no summary"
        channels = []
        for channel in summary.channels.values():
            assert channel.schema_id != 0, f"channel {channel.topic} has no schema"
            schema = summary.schemas[channel.schema_id]
            expected = "protobuf" if channel.message_encoding == "protobuf" else "jsonschema"
            assert schema.encoding == expected, (channel.topic, schema.encoding)
            for key in ("origin", "codec", "epoch", "fingerprint"):
                assert key in channel.metadata, (channel.topic, key, channel.metadata)
            channels.append({"topic": channel.topic, "schema": schema.name,
                             "schema_encoding": schema.encoding,
                             "message_encoding": channel.message_encoding})
        count = 0
        quotes = 0
        matched = set()
        for schema, channel, message, decoded in reader.iter_decoded_messages():
            count += 1
            meta = channel.metadata
            key = (channel.topic, meta["origin"], int(meta["epoch"]), message.sequence)
            assert key in tapped, f"{key} was recorded but not tapped"
            assert key not in matched, f"{key} recorded twice"
            matched.add(key)
            line = tapped[key]
            assert line["message"] == schema.name.rsplit(".", 1)[-1], (schema.name, line)
            assert message.publish_time == line["timestamp_ns"], (message.publish_time, line)
            assert message.log_time >= message.publish_time - 10**9, (message, line)
            if channel.message_encoding == "protobuf":
                payload = plain(decoded)
            else:
                payload = json.loads(message.data)
            assert payload == line["payload"], f"{key}: python {payload} != tap {line['payload']}"
            if schema.name == "trading.Quote":
                assert channel.topic == "quotes/" + decoded.exchange, channel.topic
                quotes += 1
        missing = set(tapped) - matched
        assert not missing, f"{len(missing)} tapped envelopes not recorded, such as {min(missing)}"
        stats = summary.statistics.message_count if summary.statistics else None
        print(json.dumps({"count": count, "quotes": quotes, "statistics": stats,
                          "channels": channels}))


def killed(path):
    envelopes = []
    error = None
    with open(path, "rb") as f:
        try:
            # In file order: sorting by log time would read the torn tail before yielding anything.
            for _schema, channel, message in NonSeekingReader(f).iter_messages(log_time_order=False):
                meta = channel.metadata
                envelopes.append([channel.topic, meta["origin"], int(meta["epoch"]), message.sequence])
        except Exception as e:  # the torn tail of a killed recording
            error = f"{type(e).__name__}: {e}"
    print(json.dumps({"count": len(envelopes), "envelopes": envelopes, "error": error}))


if __name__ == "__main__":
    if sys.argv[2] == "full":
        full(sys.argv[1], sys.argv[3])
    else:
        killed(sys.argv[1])
