"""Throughput and latency of the Python original, hermes-zmq 1.3.0, for docs/benchmarks.md.

    python bench_python.py [--payload BYTES ...] [--messages N] [--rate MSG_PER_S] [--seconds S]

A PostOffice (proxy), a publishing node and a receiving node, each in a process of its own as a
hermes-zmq cluster runs, over tcp loopback. Prints one JSON object per payload size.

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
import time

from hermes import Envelope, PostOffice, Publisher, Receiver


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
    results.put({"received": received, "first": first, "last": last, "latencies": latencies})


def measure(payload, count, rate):
    frontend = "tcp://127.0.0.1:%d" % free_port()
    backend = "tcp://127.0.0.1:%d" % free_port()
    stop, ready, go, done = mp.Event(), mp.Event(), mp.Event(), mp.Event()
    results = mp.Queue()
    procs = [mp.Process(target=proxy_main, args=(frontend, backend, stop), daemon=True)]
    procs[0].start()
    time.sleep(0.3)
    procs.append(mp.Process(target=receiver_main, args=(backend, count, go, results), daemon=True))
    procs[-1].start()
    procs.append(mp.Process(
        target=publisher_main, args=(frontend, payload, count, rate, ready, go, done), daemon=True))
    procs[-1].start()
    result = results.get(timeout=300)
    stop.set()
    for proc in procs:
        proc.join(timeout=3)
        if proc.is_alive():
            proc.terminate()
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
    args = parser.parse_args()
    for payload in args.payload:
        flood = measure(payload, args.messages, 0)
        elapsed = (flood["last"] or 0) - (flood["first"] or 0)
        rate = flood["received"] / elapsed if elapsed > 0 else 0.0
        paced = measure(payload, max(10, int(args.rate * args.seconds)), args.rate)
        lat = sorted(paced["latencies"])
        print(json.dumps({
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
