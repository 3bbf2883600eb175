//! Message paths: a source socket, a sink socket, and whatever a scenario puts between them
//! (a proxy, a capture tap, relay nodes), built the same way for raw `zmq` and for Hermes.

use std::any::Any;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use hermes_runtime::{
    Access, Codec, Context, Curve, Error, KeyPair, Peer, Proxy, ProxyConfig, ProxySecurity,
    Publisher, Receiver, Runtime,
};

use crate::message::{BenchMessage, Blob, Text};
use crate::options::{RowSpec, Scenario, Transport};

/// The topic every message is published on; sinks subscribe to its first segment.
pub(crate) const TOPIC: &str = "bench/data";
const SUBSCRIPTION: &str = "bench";

/// The stamp of warm-up messages, which measurements skip.
pub(crate) const WARM_UP: u64 = 1;

/// The sending end of a path.
pub(crate) trait Source: Send {
    /// Sends one message carrying `stamp_ns`.
    fn send(&mut self, stamp_ns: u64) -> Result<(), String>;
}

/// The receiving end of a path.
pub(crate) trait Sink: Send {
    /// Waits at most `timeout` for a message; returns the stamp it carries.
    fn recv(&mut self, timeout: Duration) -> Result<Option<u64>, String>;
}

/// Which implementation a path uses, and whether its links use CURVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// Raw `zmq` sockets, `zmq_proxy`, hand-written relay threads; `padding` extra bytes per
    /// message. With `curve`, binding sockets are CURVE servers and connecting ones clients,
    /// with no ZAP handler: libzmq admits any client that knows the server's key.
    Raw { padding: usize, curve: bool },
    /// Typed Hermes sockets, `Proxy`, `Node`s. With `curve`, secured as a topology with
    /// security on runs them: CURVE servers whose ZAP handler admits exactly the declared
    /// peers, and the per-sender checks of topics and subscriptions.
    Hermes { curve: bool },
}

/// A built path; dropping it stops everything in it, in order.
pub(crate) struct Path {
    pub source: Box<dyn Source>,
    pub sink: Box<dyn Sink>,
    /// Proxies, relays, taps and contexts, stopped in this order after source and sink.
    #[allow(
        dead_code,
        reason = "never read: held so that they live as long as the path, and dropped after \
                  source and sink by field order"
    )]
    pub parts: Vec<Box<dyn Any + Send>>,
}

impl Path {
    /// Sends until the sink receives (subscriptions have propagated), then drains.
    pub(crate) fn warm_up(&mut self) -> Result<(), String> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            self.source.send(WARM_UP)?;
            if self.sink.recv(Duration::from_millis(2))?.is_some() {
                break;
            }
            if std::time::Instant::now() > deadline {
                return Err("no message got through within 10 s of warm-up".to_owned());
            }
        }
        while self.sink.recv(Duration::from_millis(10))?.is_some() {}
        Ok(())
    }
}

/// Builds the path `spec` describes on `side`, every socket with high-water mark `hwm`
/// (0 = unlimited).
pub(crate) fn open(spec: &RowSpec, side: Side, hwm: i32) -> Result<Path, String> {
    if matches!(
        side,
        Side::Raw { curve: true, .. } | Side::Hermes { curve: true }
    ) && !(spec.scenario.carries_curve() && spec.transport != Transport::Inproc)
    {
        return Err(format!(
            "CURVE is measured on direct and proxy paths over tcp or ipc, not {} over {}",
            spec.scenario, spec.transport
        ));
    }
    match side {
        Side::Raw { padding, curve } => raw::open(spec, spec.payload + padding, hwm, curve),
        Side::Hermes { curve } => match spec.scenario.codec() {
            Codec::Protobuf => typed::open::<Blob>(spec, Codec::Protobuf, hwm, curve),
            codec => typed::open::<Text>(spec, codec, hwm, curve),
        },
    }
}

/// A fresh endpoint on `transport` (port 0 for tcp: the OS picks).
pub(crate) fn endpoint(transport: Transport) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    match transport {
        Transport::Tcp => "tcp://127.0.0.1:0".to_owned(),
        Transport::Ipc => format!(
            "ipc://{}/hermes-bench-{pid}-{n}",
            std::env::temp_dir().display()
        ),
        Transport::Inproc => format!("inproc://hermes-bench-{pid}-{n}"),
    }
}

/// A thread polling a flag, stopped and joined on drop.
pub(crate) struct Worker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    fn spawn(
        name: &str,
        body: impl FnOnce(Arc<AtomicBool>) + Send + 'static,
    ) -> Result<Worker, String> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || body(flag))
            .map_err(|err| format!("cannot start thread `{name}`: {err}"))?;
        Ok(Worker {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads and discards everything `socket` receives until stopped: the capture tap.
fn drain(socket: zmq::Socket, stop: &AtomicBool) {
    let mut frame = zmq::Message::new();
    while !stop.load(Ordering::Relaxed) {
        if !matches!(socket.poll(zmq::POLLIN, 50), Ok(n) if n > 0) {
            continue;
        }
        while socket.recv(&mut frame, zmq::DONTWAIT).is_ok() {}
    }
}

/// A raw SUB socket on the capture endpoint, read by a thread.
pub(crate) fn capture_tap(
    context: &zmq::Context,
    endpoint: &str,
    hwm: i32,
) -> Result<Worker, String> {
    let socket = context
        .socket(zmq::SUB)
        .map_err(zmq_error("capture socket"))?;
    socket.set_rcvhwm(hwm).map_err(zmq_error("capture hwm"))?;
    socket
        .set_subscribe(b"")
        .map_err(zmq_error("capture subscribe"))?;
    socket
        .connect(endpoint)
        .map_err(zmq_error("capture connect"))?;
    Worker::spawn("bench-tap", move |stop| drain(socket, &stop))
}

fn zmq_error(what: &'static str) -> impl Fn(zmq::Error) -> String {
    move |err| format!("{what}: {err}")
}

mod raw {
    use super::*;

    struct RawSource {
        socket: zmq::Socket,
        payload: Vec<u8>,
    }

    impl Source for RawSource {
        fn send(&mut self, stamp_ns: u64) -> Result<(), String> {
            self.payload[..8].copy_from_slice(&stamp_ns.to_le_bytes());
            self.socket
                .send(TOPIC.as_bytes(), zmq::SNDMORE)
                .and_then(|()| self.socket.send(&self.payload[..], 0))
                .map_err(zmq_error("send"))
        }
    }

    struct RawSink {
        socket: zmq::Socket,
        topic: zmq::Message,
        body: zmq::Message,
    }

    impl RawSink {
        /// Reads one message if one is waiting.
        fn try_read(&mut self) -> Result<Option<u64>, String> {
            match self.socket.recv(&mut self.topic, zmq::DONTWAIT) {
                Ok(()) => {}
                Err(zmq::Error::EAGAIN) => return Ok(None),
                Err(err) => return Err(format!("receive: {err}")),
            }
            let mut more = self.topic.get_more();
            while more {
                self.socket
                    .recv(&mut self.body, 0)
                    .map_err(zmq_error("receive"))?;
                more = self.body.get_more();
            }
            let mut stamp = [0u8; 8];
            let body: &[u8] = &self.body;
            stamp.copy_from_slice(body.get(..8).ok_or("short raw message")?);
            Ok(Some(u64::from_le_bytes(stamp)))
        }
    }

    impl Sink for RawSink {
        fn recv(&mut self, timeout: Duration) -> Result<Option<u64>, String> {
            if let Some(stamp) = self.try_read()? {
                return Ok(Some(stamp));
            }
            let millis = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX);
            if self
                .socket
                .poll(zmq::POLLIN, millis)
                .map_err(zmq_error("poll"))?
                == 0
            {
                return Ok(None);
            }
            self.try_read()
        }
    }

    /// Binds `socket` to `endpoint` and returns the endpoint as bound.
    fn bind(socket: &zmq::Socket, endpoint: &str) -> Result<String, String> {
        let wildcard = endpoint.replace("127.0.0.1:0", "127.0.0.1:*");
        socket.bind(&wildcard).map_err(zmq_error("bind"))?;
        socket
            .get_last_endpoint()
            .map_err(zmq_error("last endpoint"))?
            .map_err(|_| "endpoint is not UTF-8".to_owned())
    }

    fn socket(
        context: &zmq::Context,
        kind: zmq::SocketType,
        hwm: i32,
    ) -> Result<zmq::Socket, String> {
        let socket = context.socket(kind).map_err(zmq_error("socket"))?;
        socket.set_sndhwm(hwm).map_err(zmq_error("hwm"))?;
        socket.set_rcvhwm(hwm).map_err(zmq_error("hwm"))?;
        socket.set_linger(0).map_err(zmq_error("linger"))?;
        Ok(socket)
    }

    /// CURVE keys for a raw path: the binding sockets' (servers) and the connecting ones'
    /// (clients). No ZAP handler runs, as raw libzmq has no access rules to apply; a ZAP
    /// handler would be asked once per connection anyway, never per message.
    struct RawCurve {
        server: zmq::CurveKeyPair,
        client: zmq::CurveKeyPair,
    }

    impl RawCurve {
        fn generate() -> Result<RawCurve, String> {
            Ok(RawCurve {
                server: zmq::CurveKeyPair::new().map_err(zmq_error("CURVE key pair"))?,
                client: zmq::CurveKeyPair::new().map_err(zmq_error("CURVE key pair"))?,
            })
        }

        /// Makes `socket` a CURVE server (before it binds).
        fn serve(&self, socket: &zmq::Socket) -> Result<(), String> {
            socket
                .set_curve_server(true)
                .and_then(|()| socket.set_curve_secretkey(&self.server.secret_key))
                .map_err(zmq_error("CURVE server"))
        }

        /// Makes `socket` a CURVE client of the server (before it connects).
        fn join(&self, socket: &zmq::Socket) -> Result<(), String> {
            socket
                .set_curve_serverkey(&self.server.public_key)
                .and_then(|()| socket.set_curve_publickey(&self.client.public_key))
                .and_then(|()| socket.set_curve_secretkey(&self.client.secret_key))
                .map_err(zmq_error("CURVE client"))
        }
    }

    fn sink(
        context: &zmq::Context,
        endpoint: &str,
        hwm: i32,
        curve: Option<&RawCurve>,
    ) -> Result<RawSink, String> {
        let socket = socket(context, zmq::SUB, hwm)?;
        if let Some(curve) = curve {
            curve.join(&socket)?;
        }
        socket
            .set_subscribe(SUBSCRIPTION.as_bytes())
            .map_err(zmq_error("subscribe"))?;
        socket.connect(endpoint).map_err(zmq_error("connect"))?;
        Ok(RawSink {
            socket,
            topic: zmq::Message::new(),
            body: zmq::Message::new(),
        })
    }

    /// `zmq_proxy` (steerable, so it can be stopped) on a thread; stopped on drop.
    struct RawProxy {
        control: zmq::Socket,
        thread: Option<JoinHandle<()>>,
    }

    impl Drop for RawProxy {
        fn drop(&mut self) {
            let _ = self.control.send("TERMINATE", 0);
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }

    /// A relay thread: SUB in, PUB out, frames forwarded without copying.
    fn relay(
        context: &zmq::Context,
        from: &str,
        transport: Transport,
        hwm: i32,
    ) -> Result<(Worker, String), String> {
        let input = sink(context, from, hwm, None)?.socket;
        let output = socket(context, zmq::PUB, hwm)?;
        let bound = bind(&output, &endpoint(transport))?;
        let worker = Worker::spawn("bench-relay", move |stop| {
            let mut frame = zmq::Message::new();
            while !stop.load(Ordering::Relaxed) {
                if !matches!(input.poll(zmq::POLLIN, 50), Ok(n) if n > 0) {
                    continue;
                }
                for _ in 0..256 {
                    if input.recv(&mut frame, zmq::DONTWAIT).is_err() {
                        break;
                    }
                    let flags = if frame.get_more() { zmq::SNDMORE } else { 0 };
                    if output
                        .send(std::mem::replace(&mut frame, zmq::Message::new()), flags)
                        .is_err()
                    {
                        return;
                    }
                }
            }
        })?;
        Ok((worker, bound))
    }

    pub(super) fn open(
        spec: &RowSpec,
        payload: usize,
        hwm: i32,
        curve: bool,
    ) -> Result<Path, String> {
        let curve = if curve {
            Some(RawCurve::generate()?)
        } else {
            None
        };
        let curve = curve.as_ref();
        let context = zmq::Context::new();
        let mut parts: Vec<Box<dyn Any + Send>> = Vec::new();
        let publisher = socket(&context, zmq::PUB, hwm)?;
        let source = RawSource {
            socket: publisher,
            payload: vec![0x5a; payload.max(8)],
        };
        let sink = match spec.scenario {
            Scenario::Direct => {
                if let Some(curve) = curve {
                    curve.serve(&source.socket)?;
                }
                let bound = bind(&source.socket, &endpoint(spec.transport))?;
                sink(&context, &bound, hwm, curve)?
            }
            Scenario::Pipeline => {
                let mut upstream = bind(&source.socket, &endpoint(spec.transport))?;
                for _ in 0..2 {
                    // Relay queues are unbounded, as the generated relays' YAML declares.
                    let (worker, bound) = relay(&context, &upstream, spec.transport, 0)?;
                    parts.push(Box::new(worker));
                    upstream = bound;
                }
                sink(&context, &upstream, hwm, None)?
            }
            _ => {
                let frontend = socket(&context, zmq::XSUB, hwm)?;
                let backend = socket(&context, zmq::XPUB, hwm)?;
                if let Some(curve) = curve {
                    curve.serve(&frontend)?;
                    curve.serve(&backend)?;
                    curve.join(&source.socket)?;
                }
                let front = bind(&frontend, &endpoint(spec.transport))?;
                let back = bind(&backend, &endpoint(spec.transport))?;
                let capture = if spec.scenario == Scenario::Capture {
                    let capture = socket(&context, zmq::PUB, hwm)?;
                    let bound = bind(&capture, &endpoint(spec.transport))?;
                    Some((capture, bound))
                } else {
                    None
                };
                let control_endpoint = endpoint(Transport::Inproc);
                let control_in = context.socket(zmq::PAIR).map_err(zmq_error("control"))?;
                control_in
                    .bind(&control_endpoint)
                    .map_err(zmq_error("control bind"))?;
                let control = context.socket(zmq::PAIR).map_err(zmq_error("control"))?;
                control
                    .connect(&control_endpoint)
                    .map_err(zmq_error("control connect"))?;
                let tap_endpoint = capture.as_ref().map(|(_, bound)| bound.clone());
                let thread = std::thread::Builder::new()
                    .name("bench-raw-proxy".to_owned())
                    .spawn(move || {
                        let (mut frontend, mut backend, mut control_in) =
                            (frontend, backend, control_in);
                        let _ = match capture {
                            Some((mut capture, _)) => zmq::proxy_steerable_with_capture(
                                &mut frontend,
                                &mut backend,
                                &mut capture,
                                &mut control_in,
                            ),
                            None => {
                                zmq::proxy_steerable(&mut frontend, &mut backend, &mut control_in)
                            }
                        };
                    })
                    .map_err(|err| format!("cannot start the raw proxy: {err}"))?;
                parts.push(Box::new(RawProxy {
                    control,
                    thread: Some(thread),
                }));
                if let Some(tap) = tap_endpoint {
                    parts.push(Box::new(capture_tap(&context, &tap, hwm)?));
                }
                source
                    .socket
                    .connect(&front)
                    .map_err(zmq_error("connect"))?;
                sink(&context, &back, hwm, curve)?
            }
        };
        parts.push(Box::new(context));
        Ok(Path {
            source: Box::new(source),
            sink: Box::new(sink),
            parts,
        })
    }
}

mod typed {
    use super::*;

    struct TypedSource<M> {
        publisher: Publisher<M>,
        message: M,
    }

    impl<M: BenchMessage> Source for TypedSource<M> {
        fn send(&mut self, stamp_ns: u64) -> Result<(), String> {
            self.message.set_stamp(stamp_ns);
            self.publisher
                .send(&self.message)
                .map_err(|err| err.to_string())
        }
    }

    struct TypedSink<M> {
        receiver: Receiver<M>,
    }

    impl<M: BenchMessage> Sink for TypedSink<M> {
        fn recv(&mut self, timeout: Duration) -> Result<Option<u64>, String> {
            match self.receiver.recv_timeout(timeout) {
                Ok(envelope) => {
                    std::hint::black_box(envelope.message.data_len());
                    Ok(Some(envelope.message.stamp()))
                }
                Err(Error::Timeout) => Ok(None),
                Err(err) => Err(err.to_string()),
            }
        }
    }

    /// A runtime of relay nodes, stopped and joined on drop.
    struct Relays(Option<Runtime>);

    impl Drop for Relays {
        fn drop(&mut self) {
            if let Some(runtime) = self.0.take() {
                runtime.stop();
                let _ = runtime.wait_timeout(Duration::from_secs(5));
            }
        }
    }

    fn publisher<M: BenchMessage>(
        context: &Context,
        codec: Codec,
        origin: &str,
        hwm: i32,
        curve: Option<Curve>,
        batching: Option<hermes_runtime::Batching>,
    ) -> Result<Publisher<M>, String> {
        let mut builder = Publisher::<M>::builder(context)
            .topic(TOPIC)
            .origin(origin)
            .codec(codec)
            .hwm(hwm.unsigned_abs())
            .linger(Duration::ZERO);
        if let Some(batching) = batching {
            builder = builder.batching(batching);
        }
        match curve {
            Some(curve) => builder.curve(curve),
            None => builder,
        }
        .build()
        .map_err(|err| err.to_string())
    }

    fn receiver<M: BenchMessage>(
        context: &Context,
        codec: Codec,
        endpoint: &str,
        hwm: i32,
        curve: Option<Curve>,
    ) -> Result<Receiver<M>, String> {
        let builder = Receiver::<M>::builder(context)
            .topic(SUBSCRIPTION)
            .codec(codec)
            .hwm(hwm.unsigned_abs());
        match curve {
            Some(curve) => builder.curve(curve),
            None => builder,
        }
        .connect(endpoint)
        .map_err(|err| err.to_string())
    }

    /// The keys of a secured path and who may do what, as a topology with security on
    /// declares them: the source publishes `TOPIC`, the sink subscribes to `SUBSCRIPTION`.
    struct Keys {
        server: KeyPair,
        source: KeyPair,
        sink: KeyPair,
    }

    impl Keys {
        fn generate() -> Result<Keys, String> {
            let pair = || KeyPair::generate().map_err(|err| err.to_string());
            Ok(Keys {
                server: pair()?,
                source: pair()?,
                sink: pair()?,
            })
        }

        fn source(&self) -> Peer {
            Peer::new("source", self.source.public()).publishes([TOPIC])
        }

        fn sink(&self) -> Peer {
            Peer::new("sink", self.sink.public()).subscribes([SUBSCRIPTION])
        }

        fn client(&self, keys: &KeyPair) -> Curve {
            Curve::Client {
                keys: keys.clone(),
                server: self.server.public(),
            }
        }
    }

    pub(super) fn open<M: BenchMessage>(
        spec: &RowSpec,
        codec: Codec,
        hwm: i32,
        curve: bool,
    ) -> Result<Path, String> {
        let keys = if curve { Some(Keys::generate()?) } else { None };
        let context = Context::new();
        let mut parts: Vec<Box<dyn Any + Send>> = Vec::new();
        let error = |err: Error| err.to_string();
        let source_curve = keys.as_ref().map(|keys| match spec.scenario {
            // A publisher that binds is the server, and applies only declared subscriptions.
            Scenario::Direct => Curve::Server {
                keys: keys.server.clone(),
                access: Access::new([keys.sink()]),
            },
            _ => keys.client(&keys.source),
        });
        let sink_curve = keys.as_ref().map(|keys| keys.client(&keys.sink));
        let mut source = TypedSource {
            publisher: publisher::<M>(
                &context,
                codec,
                "source",
                hwm,
                source_curve,
                (spec.scenario == Scenario::Batched).then_some(hermes_runtime::Batching::DEFAULT),
            )?,
            message: M::sized(spec.payload, codec),
        };
        let receiver = match spec.scenario {
            Scenario::Direct => {
                let bound = source
                    .publisher
                    .bind(&endpoint(spec.transport))
                    .map_err(error)?;
                receiver::<M>(&context, codec, &bound, hwm, sink_curve)?
            }
            Scenario::Pipeline => {
                // The two relays are generated nodes (`pipeline/topology.yaml`).
                let upstream = source
                    .publisher
                    .bind(&endpoint(spec.transport))
                    .map_err(error)?;
                let (runtime, upstream) = M::relays(&context, spec.transport, &upstream)?;
                parts.push(Box::new(Relays(Some(runtime))));
                receiver::<M>(&context, codec, &upstream, hwm, sink_curve)?
            }
            _ => {
                let mut config =
                    ProxyConfig::new(endpoint(spec.transport), endpoint(spec.transport));
                config.hwm = hwm.unsigned_abs();
                if spec.scenario == Scenario::Capture {
                    config = config.with_capture(endpoint(spec.transport));
                }
                if let Some(keys) = &keys {
                    config = config.with_security(
                        ProxySecurity::new(keys.server.clone())
                            .frontend(Access::new([keys.source()]))
                            .backend(Access::new([keys.sink()])),
                    );
                }
                let proxy = Proxy::spawn(&context, config).map_err(error)?;
                source.publisher.connect(proxy.frontend()).map_err(error)?;
                let sink = receiver::<M>(&context, codec, proxy.backend(), hwm, sink_curve)?;
                let tap = proxy.capture().map(str::to_owned);
                parts.push(Box::new(proxy));
                if let Some(tap) = tap {
                    parts.push(Box::new(capture_tap(
                        hermes_runtime::__private::zmq_context(&context),
                        &tap,
                        hwm,
                    )?));
                }
                sink
            }
        };
        parts.push(Box::new(context));
        Ok(Path {
            source: Box::new(source),
            sink: Box::new(TypedSink { receiver }),
            parts,
        })
    }
}

/// Bytes on the wire per message (all frames) for Hermes and for raw, with `spec`'s payload.
pub(crate) fn wire_bytes(spec: &RowSpec) -> (usize, usize) {
    // No public API encodes an envelope without a socket; the encoder is reached as hidden.
    use hermes_runtime::__private::envelope::{Frames, Stamp, encode};
    let codec = spec.scenario.codec();
    let stamp = Stamp {
        codec,
        topic: TOPIC,
        origin: "source",
        epoch: 1,
        seq: 1000,
        timestamp_ns: 1_700_000_000_000_000_000,
        python_layout: hermes_runtime::PythonLayout::Message,
    };
    let mut frames = Frames::new();
    let encoded = match codec {
        Codec::Protobuf => encode(&stamp, &Blob::sized(spec.payload, codec), &mut frames),
        _ => encode(&stamp, &Text::sized(spec.payload, codec), &mut frames),
    };
    let hermes = encoded.map_or(0, |()| frames.parts().iter().map(Vec::len).sum());
    (hermes, TOPIC.len() + spec.payload)
}
