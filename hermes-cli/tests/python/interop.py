"""The Python side of the interop tests: hermes-zmq 1.3 nodes talking to Rust through `hermes proxy`.

    interop.py publish FRONTEND COUNT     # warm up until "go", publish COUNT quotes, stop on "stop"
    interop.py receive BACKEND COUNT      # print each received envelope as a JSON line

Every line printed on stdout is one JSON object, so the Rust test can read it; every wait here
has a deadline, so a test that goes wrong cannot leave this process behind for long.
"""
import json
import queue
import sys
import threading
import time

from hermes import Envelope, Publisher, Receiver

DEADLINE_SECONDS = 30


def emit(**fields):
    print(json.dumps(fields), flush=True)


STDIN = queue.Queue()


def read_stdin():
    for line in sys.stdin:
        STDIN.put(line.strip())


def stdin_said(word, wait):
    """Whether the next line on stdin, if one arrives within `wait` seconds, is `word`."""
    try:
        return STDIN.get(timeout=wait) == word
    except queue.Empty:
        return False


def publish(frontend, count):
    threading.Thread(target=read_stdin, daemon=True).start()
    publisher = Publisher(frontend, "py-publisher")
    publisher.start()
    deadline = time.time() + DEADLINE_SECONDS
    # PUB/SUB drops what is sent before the subscription arrives: warm up until the Rust side
    # has seen an envelope and says "go".
    while True:
        if time.time() > deadline:
            sys.exit("publish: no `go` from the Rust side")
        publisher.publish(Envelope("warmup", "python", ["warmup"]))
        if stdin_said("go", 0.02):
            break
    for n in range(count):
        # `publish` is false until the publisher thread's socket is up.
        while not publisher.publish(Envelope("quotes/bitstamp", "bitstamp", ["Quote", n, 101.5 + n])):
            if time.time() > deadline:
                sys.exit("publish: the publisher socket never came up")
    # hermes-zmq's publisher destroys its context with linger 0 on stop, dropping what it has not
    # sent yet: stop only once the Rust side says it has every quote.
    while not stdin_said("stop", 0.1):
        if time.time() > deadline:
            sys.exit("publish: no `stop` from the Rust side")
    publisher.stop(timeout=2)
    emit(done=count)


def receive(backend, count):
    # The topic frame is a JSON string: subscribing to `quotes` means the prefix `"quotes`.
    receiver = Receiver(backend, "py-receiver", topics='"quotes')
    receiver.daemon = True
    receiver.start()
    seen = 0
    subscribed = False
    deadline = time.time() + DEADLINE_SECONDS
    while seen < count and time.time() < deadline:
        # `Receiver.recv` never blocks on an empty queue; wait on the queue itself.
        try:
            envelope = receiver.q.get(timeout=0.05)
        except queue.Empty:
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
