#!/usr/bin/env python3
"""Writes src/constants.rs from libzmq's zmq.h: every `#define ZMQ_<NAME> <integer>` outside the
DRAFT API, aliases resolved. Usage: tools/constants.py path/to/zmq.h > src/constants.rs

The test `constants_match_the_header` checks the output against the header zeromq-src builds."""
import re
import sys

SKIP = {"ZMQ_VERSION_MAJOR", "ZMQ_VERSION_MINOR", "ZMQ_VERSION_PATCH", "ZMQ_DEFINED_STDINT"}


def defines(text):
    nesting = []
    for line in text.split("\n"):
        line = line.strip()
        if line.startswith("#if"):
            nesting.append("DRAFT" in line)
        elif line.startswith("#endif"):
            nesting.pop()
        elif not any(nesting):
            match = re.match(r"#define\s+(ZMQ_\w+)\s+(\S+)$", line)
            if match and match.group(1) not in SKIP:
                yield match.group(1), match.group(2)


def main():
    values = {}
    order = []
    for name, value in defines(open(sys.argv[1]).read()):
        if value in values:
            value = values[value]
        else:
            try:
                value = int(value, 0)
            except ValueError:
                continue
        if name not in values:
            order.append(name)
        values[name] = value
    print("//! The integer constants of `zmq.h` (libzmq 4.3), outside its DRAFT API.")
    print("//!")
    print("//! Written by `tools/constants.py` from the header; `constants_match_the_header` checks them.")
    print()
    print('#![allow(missing_docs, reason = "named as in zmq.h, documented there")]')
    print()
    for name in order:
        value = values[name]
        kind = "i32" if value < 0 else "u32"
        print(f"pub const {name}: {kind} = {value};")


main()
