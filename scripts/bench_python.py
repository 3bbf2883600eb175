"""Throughput and latency of the Python original, hermes-zmq 1.3.0, for docs/benchmarks.md.

    python bench_python.py [--payload BYTES ...] [--messages N] [--rate MSG_PER_S] [--seconds S]
                           [--layout processes|shared|threads ...]

A PostOffice (proxy), a publishing node and a receiving node over tcp loopback, in three
layouts (`--layout`, default all three):

- `processes`: each in a process of its own, as a hermes-zmq cluster runs;
- `shared`: the PostOffice in a process of its own, publisher and receiver threads in one;
- `threads`: all three in one process.

hermes-zmq's Publisher and Receiver threads busy-poll, so in `processes` three busy processes
share the machine's cores and, on two cores, starve each other; in one process the GIL lets
only one of them run Python at a time, and `zmq.proxy` runs without it. Which layout is fastest
depends on the machine, so each is measured. Prints one JSON object per layout and payload size.

- Throughput: the publisher hands N envelopes to `Publisher.publish` as fast as it can; the
  receiver counts what its `Receiver.recv()` returns, first to last.
- Latency: envelopes published at a fixed rate; one-way latency is the time `recv()` returned
  minus the envelope's `ts`, which hermes-zmq stamps when it serialises the envelope (so the
  publisher's in-memory queue is not counted; the receiver's is).

hermes-zmq's Publisher and Receiver threads busy-poll, so each uses a core while running (and
while idle). The Receiver's one-second "suicidal snail" check is switched off (timeout set to a
day) so a lagging receiver is measured rather than stopped.
"""
import argparse
import json
import multiprocessing as mp
import socket
import threading
import time

from hermes import Envelope, PostOffice, Publisher, Receiver

LAYOUTS = ("processes", "shared", "threads")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proxy_main(frontend, backend, stop):
    office = PostOffice(frontend, backend)
    office.daemon = True
    office.start()
    stop.wait()


def publisher_main(frontend, payload, count, rate, ready, go, done):
    publisher = Publisher(frontend, "bench-publisher")
    publisher.daemon = True
    publisher.start()
    data = "z" * max(0, payload - 2)  # a JSON string of `payload` bytes
    while not publisher.publish(Envelope("bench/warmup", "bench", "warmup")):
        time.sleep(0.001)
    ready.set()
    # Warm up until the receiver says the subscription has arrived.
    while not go.is_set():
        publisher.publish(Envelope("bench/warmup", "bench", "warmup"))
        time.sleep(0.005)
    started = time.time()
    for n in range(count):
        if rate:
            due = started + n / rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
        publisher.publish(Envelope("bench/data", "bench", data))
    deadline = time.time() + 60
    while not publisher.q.empty() and time.time() < deadline:
        time.sleep(0.001)
    done.set()
    time.sleep(0.5)
    publisher.stop(timeout=2)


def receiver_main(backend, count, go, results):
    receiver = Receiver(backend, "bench-receiver", topics='"bench')
    receiver.timeout = 86400.0
    receiver.daemon = True
    receiver.start()
    received, first, last, latencies = 0, None, None, []
    idle_since = time.time()
    while received < count:
        envelope = receiver.recv()
        now = time.time()
        if envelope is None:
            if received and now - idle_since > 3:
                break
            if not received and now - idle_since > 60:
                break
            continue
        idle_since = now
        if envelope.topic == "bench/warmup":
            go.set()
            continue
        if first is None:
            first = now
        last = now
        received += 1
        latencies.append(now - float(envelope.ts))
    # In a shared process its busy-polling thread would otherwise slow the next measurement.
    receiver.stop(timeout=2)
    results.put({"received": received, "first": first, "last": last, "latencies": latencies})


def measure(layout, payload, count, rate):
    """Runs one flood (`rate` 0) or paced run in `layout`; returns the receiver's result."""
    frontend = "tcp://127.0.0.1:%d" % free_port()
    backend = "tcp://127.0.0.1:%d" % free_port()
    stop, ready, go, done = mp.Event(), mp.Event(), mp.Event(), mp.Event()
    results = mp.Queue()
    # The proxy's process, unless everything shares one.
    if layout == "threads":
        proxy = threading.Thread(target=proxy_main, args=(frontend, backend, stop), daemon=True)
    else:
        proxy = mp.Process(target=proxy_main, args=(frontend, backend, stop), daemon=True)
    proxy.start()
    time.sleep(0.3)
    # The nodes: a process each, or threads of this process.
    node = mp.Process if layout == "processes" else threading.Thread
    nodes = [
        node(target=receiver_main, args=(backend, count, go, results), daemon=True),
        node(target=publisher_main,
             args=(frontend, payload, count, rate, ready, go, done), daemon=True),
    ]
    for each in nodes:
        each.start()
    result = results.get(timeout=300)
    stop.set()
    for each in nodes + [proxy]:
        each.join(timeout=3)
        if isinstance(each, mp.Process) and each.is_alive():
            each.terminate()
    return result


def percentile(sorted_values, q):
    if not sorted_values:
        return 0.0
    rank = max(1, int(-(-q * len(sorted_values) // 1)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payload", type=int, nargs="+", default=[64, 1024])
    parser.add_argument("--messages", type=int, default=50000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--layout", nargs="+", choices=LAYOUTS, default=list(LAYOUTS))
    args = parser.parse_args()
    for payload in args.payload:
        for layout in args.layout:
            report(args, layout, payload)


def report(args, layout, payload):
    """Measures `layout` at `payload` bytes and prints the figures as one JSON line."""
    flood = measure(layout, payload, args.messages, 0)
    elapsed = (flood["last"] or 0) - (flood["first"] or 0)
    rate = flood["received"] / elapsed if elapsed > 0 else 0.0
    paced = measure(layout, payload, max(10, int(args.rate * args.seconds)), args.rate)
    lat = sorted(paced["latencies"])
    print(json.dumps({
        "layout": layout,
        "payload_bytes": payload,
        "messages": args.messages,
        "received": flood["received"],
        "msg_per_s": round(rate),
        "mb_per_s": round(rate * payload / 1e6, 2),
        "latency_rate": args.rate,
        "latency_samples": len(lat),
        "p50_us": round(percentile(lat, 0.5) * 1e6, 1),
        "p99_us": round(percentile(lat, 0.99) * 1e6, 1),
        "p999_us": round(percentile(lat, 0.999) * 1e6, 1),
    }), flush=True)


if __name__ == "__main__":
    main()
