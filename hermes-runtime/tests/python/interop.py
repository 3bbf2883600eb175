"""The Python side of the interop tests: hermes-zmq 1.3 nodes talking to Rust through a proxy.

    interop.py publish FRONTEND COUNT     # warm up, wait for "go" on stdin, publish COUNT quotes
    interop.py receive BACKEND COUNT      # print each received envelope as a JSON line

Every line printed on stdout is one JSON object, so the Rust test can read it.
"""
import json
import sys
import time

from hermes import Envelope, Publisher, Receiver


def emit(**fields):
    print(json.dumps(fields), flush=True)


def publish(frontend, count):
    publisher = Publisher(frontend, "py-publisher")
    publisher.start()
    # Warm up until the Rust side has seen us (it says "go" on stdin), as PUB/SUB needs.
    import select
    while True:
        publisher.publish(Envelope("warmup", "python", ["warmup"]))
        ready, _, _ = select.select([sys.stdin], [], [], 0.02)
        if ready and sys.stdin.readline().strip() == "go":
            break
    for n in range(count):
        while not publisher.publish(Envelope("quotes/bitstamp", "bitstamp", ["Quote", n, 101.5 + n])):
            time.sleep(0.001)
    # The publisher thread sends from a queue: wait until it is empty before stopping.
    deadline = time.time() + 10
    while not publisher.q.empty() and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    publisher.stop(timeout=2)
    emit(done=count)


def receive(backend, count):
    # The topic frame is a JSON string: subscribing to `quotes` means the prefix `"quotes`.
    receiver = Receiver(backend, "py-receiver", topics='"quotes')
    receiver.daemon = True
    receiver.start()
    seen = 0
    subscribed = False
    deadline = time.time() + 30
    while seen < count and time.time() < deadline:
        envelope = receiver.recv()
        if envelope is None:
            time.sleep(0.001)
            continue
        if envelope.topic == "quotes/warmup":
            if not subscribed:
                subscribed = True
                emit(subscribed=True)
            continue
        seen += 1
        emit(topic=envelope.topic, origin=envelope.origin, data=envelope.data, ts=envelope.ts)
    receiver._running.clear()
    emit(done=seen)


if __name__ == "__main__":
    mode, endpoint, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    {"publish": publish, "receive": receive}[mode](endpoint, count)
