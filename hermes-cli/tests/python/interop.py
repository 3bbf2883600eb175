"""The Python side of the interop tests: hermes-zmq 1.3 nodes talking to Rust through `hermes proxy`.

    interop.py publish FRONTEND COUNT     # warm up until "go", publish COUNT quotes, stop on "stop"
    interop.py receive BACKEND COUNT      # print each received envelope as a JSON line
    interop.py publish-generated FRONTEND COUNT GENERATED  # as publish, `desk.Order`s from `hermes gen --python`
    interop.py publish-plain FRONTEND COUNT    # as publish, orders as plain lists, dicts and Message arrays
    interop.py receive-generated BACKEND COUNT GENERATED   # as receive on `fills`, also decoded with `desk.Order`
    interop.py import GENERATED           # import the generated module next to hermes-zmq

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


def publish(frontend, count, warmup=None, envelopes=None):
    threading.Thread(target=read_stdin, daemon=True).start()
    publisher = Publisher(frontend, "py-publisher")
    publisher.start()
    deadline = time.time() + DEADLINE_SECONDS
    warmup = warmup or Envelope("warmup", "python", ["warmup"])
    # PUB/SUB drops what is sent before the subscription arrives: warm up until the Rust side
    # has seen an envelope and says "go".
    while True:
        if time.time() > deadline:
            sys.exit("publish: no `go` from the Rust side")
        publisher.publish(warmup)
        if stdin_said("go", 0.02):
            break
    if envelopes is None:
        envelopes = [Envelope("quotes/bitstamp", "bitstamp", ["Quote", n, 101.5 + n]) for n in range(count)]
    for envelope in envelopes:
        # `publish` is false until the publisher thread's socket is up.
        while not publisher.publish(envelope):
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


def generated(directory):
    """The module `hermes gen --python` wrote into `directory`."""
    sys.path.insert(0, directory)
    import desk

    return desk


def order(desk, n):
    """The `n`th order the Rust side expects, made with the generated classes."""
    return desk.Order(
        symbol="BTC-%d" % n,
        side=desk.Side.sell,
        best=desk.Level(price=101.5 + n, size=n),
        levels=[desk.Level(price=1.5, size=1), desk.Level(price=2.5, size=2)],
        limits={"max": 1e-07, "min": 0.5},
        note=None if n % 2 == 0 else "\u00e9\u20ac note",
        raw=bytes([0, 255, n % 256]),
    )


def publish_generated(frontend, count, directory):
    desk = generated(directory)
    node = desk.nodes.trader
    warmup = Envelope(node.PUBLISH_ORDERS_TRADER + "/warmup", node.NAME, order(desk, 0))
    envelopes = [Envelope(node.PUBLISH_ORDERS_TRADER, node.NAME, order(desk, n)) for n in range(count)]
    publish(frontend, count, warmup, envelopes)


def plain(n):
    """The `n`th order as Python code without the generated classes sends it."""
    if n % 3 == 0:
        return ["ETH", "buy", [3.5, n], [[3.5, n]], {"max": 2.0}, None, [1, 2]]
    if n % 3 == 1:
        return {
            "symbol": "ETH",
            "side": "buy",
            "best": {"price": 3.5, "size": n},
            "levels": [{"price": 3.5, "size": n}],
            "limits": {"max": 2.0},
            "raw": [1, 2],
        }
    return ["Order", time.time(), "ETH", "buy", [3.5, n], [[3.5, n]], {"max": 2.0}, None, [1, 2]]


def publish_plain(frontend, count):
    warmup = Envelope("orders/trader/warmup", "trader", plain(0))
    envelopes = [Envelope("orders/trader", "trader", plain(n)) for n in range(count)]
    publish(frontend, count, warmup, envelopes)


def receive_generated(backend, count, directory):
    desk = generated(directory)
    receiver = Receiver(backend, "py-blotter", topics=desk.nodes.blotter.SUBSCRIBE_FILLS)
    receiver.daemon = True
    receiver.start()
    seen = 0
    subscribed = False
    deadline = time.time() + DEADLINE_SECONDS
    while seen < count and time.time() < deadline:
        try:
            envelope = receiver.q.get(timeout=0.05)
        except queue.Empty:
            continue
        if envelope.topic.endswith("/warmup"):
            if not subscribed:
                subscribed = True
                emit(subscribed=True)
            continue
        seen += 1
        decoded = desk.Order.from_data(envelope.data)
        emit(
            topic=envelope.topic,
            origin=envelope.origin,
            data=envelope.data,
            decoded=decoded.to_dict(),
            side_is_enum=isinstance(decoded.side, desk.Side),
            best_is_level=isinstance(decoded.best, desk.Level),
            raw_is_bytes=isinstance(decoded.raw, bytes),
        )
    receiver._running.clear()
    emit(done=seen)


def import_generated(directory):
    import hermes

    desk = generated(directory)
    emit(
        message=issubclass(desk.Order, hermes.Message),
        slots=desk.Order.__slots__,
        all_slots=desk.Order()._slots(),
        enum=[member.value for member in desk.Side],
        serialized=json.loads(order(desk, 1).serialize().decode()),
        subscribe=desk.nodes.risk.SUBSCRIBE_ORDERS,
    )


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "import":
        import_generated(sys.argv[2])
    elif mode in ("publish-generated", "receive-generated"):
        handler = {"publish-generated": publish_generated, "receive-generated": receive_generated}[mode]
        handler(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        endpoint, count = sys.argv[2], int(sys.argv[3])
        {"publish": publish, "receive": receive, "publish-plain": publish_plain}[mode](endpoint, count)
