//! The `pipeline` scenario's relays: generated nodes, from `pipeline/topology.yaml`, each
//! forwarding every blob it receives.

use hermes_runtime::__private::driver;
use hermes_runtime::topology::DirectEndpoint;
use hermes_runtime::{Context, Envelope, HandlerResult, Hooks, Runtime};

use crate::options::Transport;

/// The runtime, by the path the generated code names (`build.rs` sets it).
pub(crate) use hermes_runtime as runtime;

#[allow(
    dead_code,
    reason = "the benchmark runs the relays, not every generated entry point"
)]
mod generated {
    hermes_runtime::include_topology!("pipeline");
}

pub(crate) use self::generated::pipeline::Blob;
use self::generated::pipeline::TOPOLOGY;
use self::generated::pipeline::nodes::{relay1, relay2};

/// Relay 1's handler: what comes in goes out.
struct Relay1;

impl Hooks<relay1::Outputs> for Relay1 {}

impl relay1::Handler for Relay1 {
    fn on_bench(
        &mut self,
        envelope: Envelope<Blob>,
        outputs: &mut relay1::Outputs,
    ) -> HandlerResult {
        outputs.bench_data(&envelope.message).map_err(Into::into)
    }
}

/// Relay 2's handler: what comes in goes out.
struct Relay2;

impl Hooks<relay2::Outputs> for Relay2 {}

impl relay2::Handler for Relay2 {
    fn on_bench(
        &mut self,
        envelope: Envelope<Blob>,
        outputs: &mut relay2::Outputs,
    ) -> HandlerResult {
        outputs.bench_data(&envelope.message).map_err(Into::into)
    }
}

/// Starts both relays on a runtime of `context`, the first reading `upstream` (where the
/// source bound), each binding a new `endpoint(transport)`; returns the runtime and where the
/// sink connects. Their queues are unbounded, as the YAML declares.
///
/// # Errors
///
/// The first socket or thread error, as text.
pub(crate) fn relays(
    context: &Context,
    transport: Transport,
    upstream: &str,
    endpoint: impl Fn(Transport) -> String,
) -> Result<(Runtime, String), String> {
    let error = |err: hermes_runtime::Error| err.to_string();
    // Loopback tcp binds an ephemeral port, which `bind` records for the next hop; ipc and
    // inproc endpoints are unique names, bound and connected as they are.
    let hop = || {
        let endpoint = endpoint(transport);
        if transport == Transport::Tcp {
            DirectEndpoint::new(endpoint)
        } else {
            DirectEndpoint::shared(endpoint)
        }
    };
    let mut wiring = TOPOLOGY.wiring();
    for (channel, endpoint) in [
        ("source_bench_data", DirectEndpoint::shared(upstream)),
        ("relay1_bench_data", hop()),
        ("relay2_bench_data", hop()),
    ] {
        if let Some(entry) = wiring.channel_mut(channel) {
            *entry = endpoint;
        }
    }
    let mut runtime = Runtime::with_context(context).map_err(error)?;
    // One node after the other, so the second finds where the first bound.
    driver::spawn_into::<relay1::Node, _>(&mut runtime, &mut wiring, Relay1).map_err(error)?;
    driver::spawn_into::<relay2::Node, _>(&mut runtime, &mut wiring, Relay2).map_err(error)?;
    let sink = wiring
        .channel("relay2_bench_data")
        .map(|channel| channel.connect_endpoint(&channel.bind).to_owned())
        .ok_or("the pipeline topology has no channel `relay2_bench_data`")?;
    Ok((runtime, sink))
}
