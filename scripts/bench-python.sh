#!/usr/bin/env bash
# Measures the Python original, hermes-zmq 1.3.0, for the comparison table in
# docs/benchmarks.md: PostOffice proxy, publisher and receiver over tcp, in three processes, with
# the proxy apart and the two nodes in one process, and all in one process (`--layout`).
# Not part of CI (it installs from PyPI and its figures vary with Python's scheduling).
#
#   scripts/bench-python.sh [--payload BYTES ...] [--messages N] [--rate MSG_PER_S] [--seconds S]
#                           [--layout processes|shared|threads ...]
#
# The virtual environment goes to $HERMES_BENCH_VENV (default: target/bench-python-venv) and is
# reused by later runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${HERMES_BENCH_VENV:-$root/target/bench-python-venv}"
if ! "$venv/bin/python" -c 'import hermes, zmq' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        hermes-zmq==1.3.0 pyzmq==27.3.0
fi
exec "$venv/bin/python" "$root/scripts/bench_python.py" "$@"
