//! The topology module: messages, topics, `Wiring`, a module per node and per proxy, and
//! `launch` for the whole topology.

use std::collections::{BTreeMap, BTreeSet};

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::{Gen, GenerateError, ident, messages};
use crate::graph::{Channel, PortId, ProxySide, Transport};
use crate::model::{Codec, Direction, Node, Port, PortSettings, SlowSubscriberAction};

/// How one port reaches its peers, resolved against the `Wiring` struct.
enum Attach {
    /// Connect to a side of the proxy whose `Wiring` field is given.
    Proxy(Ident, ProxySide),
    /// Bind the direct endpoint in this `Wiring` field.
    Bind(Ident),
    /// Connect to the direct endpoint in this `Wiring` field; the port's own address unless
    /// the wiring overrides it.
    Connect(Ident, String),
}

/// One port of a node, ready to generate.
struct PortPlan<'a> {
    port: &'a Port,
    direction: Direction,
    /// Field name in `Outputs` / `Sockets` (also the publish method's name).
    field: Ident,
    /// `on_<words>` for subscriptions.
    handler: Ident,
    message: Ident,
    message_name: &'a str,
    settings: PortSettings,
    attach: Attach,
    /// How the YAML says it connects, for docs and `TOPOLOGY`.
    how: String,
}

/// A direct (proxy-less) channel, with its `Wiring` field.
struct DirectChannel {
    field: Ident,
    /// Where its binder binds (or, when no port binds it, the first address written for it).
    bind: String,
    doc: String,
}

pub(crate) fn topology_module(generator: &Gen<'_>) -> Result<TokenStream, GenerateError> {
    let rt = &generator.rt;
    let loaded = generator.loaded;
    let topology = &loaded.topology;
    let module = ident::snake(&topology.name);
    let topology_name = topology.name.as_str();

    // Wiring fields: proxies first, then direct channels, all in one namespace.
    let mut wiring_names = ident::Names::default();
    let mut proxies: Vec<(usize, &str, Ident)> = topology
        .proxies
        .iter()
        .enumerate()
        .map(|(index, (name, _))| (index, name.as_str(), ident::snake(name)))
        .collect();
    proxies.sort_by(|a, b| a.1.cmp(b.1));
    let mut proxy_fields: BTreeMap<usize, Ident> = BTreeMap::new();
    for (index, _, field) in &proxies {
        let claimed = wiring_names.claim(&field.to_string());
        proxy_fields.insert(*index, ident::escape(claimed.trim_start_matches("r#")));
    }
    let channels = direct_channels(generator, &mut wiring_names);

    // Nodes sorted by name, with their ports planned.
    let mut nodes: Vec<(usize, &str, &Node)> = topology
        .nodes
        .iter()
        .enumerate()
        .map(|(index, (name, node))| (index, name.as_str(), node))
        .collect();
    nodes.sort_by(|a, b| a.1.cmp(b.1));

    let messages_tokens = messages_module(generator)?;
    let topics = topics_module(generator);
    let hwm_default = topology
        .defaults
        .hwm
        .as_ref()
        .map_or(PortSettings::DEFAULT_HWM, |hwm| hwm.value);
    let proxy_hwm = unsuffixed(i32::try_from(hwm_default).unwrap_or(i32::MAX));

    // `Wiring`.
    let mut wiring_fields = Vec::new();
    let mut wiring_default = Vec::new();
    let mut wiring_inproc = Vec::new();
    let mut wiring_loopback = Vec::new();
    for (index, name, _) in &proxies {
        let field = &proxy_fields[index];
        let Some(proxy) = topology.proxies.get(name) else {
            continue;
        };
        let frontend = proxy.frontend.as_str();
        let backend = proxy.backend.as_str();
        let doc = format!(" Proxy `{name}`: where it binds, and where ports connect to it.");
        wiring_fields.push(quote! { #[doc = #doc] pub #field: #rt::ProxyConfig, });
        let capture_default = proxy.capture.as_ref().map(|capture| {
            let capture = capture.as_str();
            quote!(.with_capture(#capture))
        });
        wiring_default.push(quote! {
            #field: #rt::ProxyConfig {
                hwm: #proxy_hwm,
                ..#rt::ProxyConfig::new(#frontend, #backend) #capture_default
            },
        });
        let inproc = |side: &str| format!("inproc://{{prefix}}/{name}/{side}");
        let (front_inproc, back_inproc, capture_inproc) =
            (inproc("frontend"), inproc("backend"), inproc("capture"));
        let capture_inproc = proxy
            .capture
            .as_ref()
            .map(|_| quote!(.with_capture(::std::format!(#capture_inproc))));
        wiring_inproc.push(quote! {
            #field: #rt::ProxyConfig {
                hwm: #proxy_hwm,
                ..#rt::ProxyConfig::new(::std::format!(#front_inproc), ::std::format!(#back_inproc)) #capture_inproc
            },
        });
        let capture_loopback = proxy
            .capture
            .as_ref()
            .map(|_| quote!(.with_capture("tcp://127.0.0.1:0")));
        wiring_loopback.push(quote! {
            #field: #rt::ProxyConfig {
                hwm: #proxy_hwm,
                ..#rt::ProxyConfig::new("tcp://127.0.0.1:0", "tcp://127.0.0.1:0") #capture_loopback
            },
        });
    }
    for channel in channels.values() {
        let DirectChannel { field, bind, doc } = channel;
        wiring_fields.push(quote! { #[doc = #doc] pub #field: #rt::DirectEndpoint, });
        wiring_default.push(quote! { #field: #rt::DirectEndpoint::new(#bind), });
        let inproc = format!("inproc://{{prefix}}/{field}");
        wiring_inproc
            .push(quote! { #field: #rt::DirectEndpoint::shared(::std::format!(#inproc)), });
        wiring_loopback.push(quote! { #field: #rt::DirectEndpoint::new("tcp://127.0.0.1:0"), });
    }

    let mut node_modules = Vec::new();
    let mut handler_fields = Vec::new();
    let mut sockets_new = Vec::new();
    let mut sockets_bind = Vec::new();
    let mut sockets_connect = Vec::new();
    let mut sockets_spawn = Vec::new();
    let mut node_infos = Vec::new();
    for &(index, name, node) in &nodes {
        let node_ident = ident::snake(name);
        let plans = plan_ports(generator, index, node, &proxy_fields, &channels);
        node_modules.push(node_module(generator, name, node, &plans));
        let doc = format!(" The handler of node `{name}`.");
        handler_fields.push(quote! {
            #[doc = #doc]
            pub #node_ident: ::std::boxed::Box<dyn nodes::#node_ident::Handler>,
        });
        let sockets = format_ident!(
            "{}_sockets",
            node_ident.to_string().trim_start_matches("r#")
        );
        sockets_new
            .push(quote! { let mut #sockets = nodes::#node_ident::Sockets::new(&context)?; });
        sockets_bind.push(quote! { #sockets.bind(&mut wiring)?; });
        sockets_connect.push(quote! { #sockets.connect(&wiring)?; });
        sockets_spawn.push(quote! {
            runtime.spawn_node(nodes::#node_ident::node(#sockets, handlers.#node_ident))?;
        });
        node_infos.push(node_info(generator, name, &plans));
    }
    let mut proxy_modules = Vec::new();
    let mut proxy_spawns = Vec::new();
    let mut proxy_infos = Vec::new();
    for (index, name, proxy_ident) in &proxies {
        let field = &proxy_fields[index];
        let Some(proxy) = topology.proxies.get(name) else {
            continue;
        };
        proxy_modules.push(proxy_module(generator, name, proxy_ident, field));
        proxy_spawns.push(quote! { proxies::#proxy_ident::spawn(runtime, wiring)?; });
        let (frontend, backend) = (proxy.frontend.as_str(), proxy.backend.as_str());
        let capture = match &proxy.capture {
            Some(capture) => {
                let capture = capture.as_str();
                quote!(::core::option::Option::Some(#capture))
            }
            None => quote!(::core::option::Option::None),
        };
        proxy_infos.push(quote! {
            #rt::ProxyInfo { name: #name, frontend: #frontend, backend: #backend, capture: #capture },
        });
    }
    let no_proxies = proxy_spawns
        .is_empty()
        .then(|| quote!(let _ = (runtime, wiring);));
    let no_nodes = sockets_spawn
        .is_empty()
        .then(|| quote!(let _ = (&context, handlers);));
    let message_infos = generator
        .types
        .values()
        .filter(|target| matches!(target.kind, messages::Kind::Message))
        .map(|target| {
            let ident = &target.ident;
            quote! {
                #rt::MessageInfo {
                    name: <messages::#ident as #rt::Message>::NAME,
                    fingerprint: <messages::#ident as #rt::Message>::FINGERPRINT,
                },
            }
        });

    let module_doc = format!(
        " Typed messages and wiring of the Hermes topology `{topology_name}`, generated by \
         hermes-build."
    );
    let launch_doc = format!(
        " Spawns every proxy and node of `{topology_name}` on `runtime`, wired by `wiring`, \
         and returns the wiring with the endpoints the proxies and binding ports actually got \
         (`tcp://127.0.0.1:0` becomes a real port).\n\n Sockets are made first, then every \
         `bind:` port binds, then every port connects, so ports can find each other on \
         ephemeral endpoints.\n\n # Errors\n\n The first socket, bind, connect or thread error."
    );
    Ok(quote! {
        #[doc = #module_doc]
        #[allow(missing_docs, clippy::all, clippy::pedantic, clippy::nursery, reason = "generated code")]
        pub mod #module {
            pub use self::messages::*;

            /// The topology's name.
            pub const NAME: &str = #topology_name;

            #messages_tokens
            #topics

            /// Where every socket of the topology binds or connects: a field per proxy and per
            /// direct (`bind:`/`connect:`) endpoint. `Default` is what the YAML says; override
            /// fields to run elsewhere, or use [`Wiring::inproc`] or [`Wiring::loopback`] in
            /// tests.
            #[derive(::core::clone::Clone, ::core::fmt::Debug, ::core::cmp::PartialEq, ::core::cmp::Eq)]
            pub struct Wiring {
                #(#wiring_fields)*
            }

            impl ::core::default::Default for Wiring {
                fn default() -> Self {
                    Wiring { #(#wiring_default)* }
                }
            }

            impl Wiring {
                /// Every endpoint on `inproc://<prefix>/...`: the whole topology in one process,
                /// isolated from other tests that use another prefix.
                pub fn inproc(prefix: &str) -> Self {
                    Wiring { #(#wiring_inproc)* }
                }

                /// Every endpoint on `tcp://127.0.0.1:0`: ephemeral loopback ports that
                /// [`launch`] resolves.
                pub fn loopback() -> Self {
                    Wiring { #(#wiring_loopback)* }
                }
            }

            /// The topology as a value, for tools and tests.
            pub static TOPOLOGY: #rt::TopologyInfo = #rt::TopologyInfo {
                name: #topology_name,
                messages: &[#(#message_infos)*],
                proxies: &[#(#proxy_infos)*],
                nodes: &[#(#node_infos)*],
            };

            /// A module per node: its typed outputs, handler trait, sockets and entry points.
            pub mod nodes {
                #(#node_modules)*
            }

            /// A module per proxy: its entry points.
            pub mod proxies {
                #(#proxy_modules)*
            }

            /// A handler for every node, to [`launch`] the whole topology.
            pub struct Handlers {
                #(#handler_fields)*
            }

            /// Spawns every proxy on `runtime`, recording the endpoints they bound in `wiring`.
            ///
            /// # Errors
            ///
            /// The first proxy that cannot bind.
            pub fn spawn_proxies(runtime: &mut #rt::Runtime, wiring: &mut Wiring) -> ::core::result::Result<(), #rt::Error> {
                #(#proxy_spawns)*
                #no_proxies
                ::core::result::Result::Ok(())
            }

            #[doc = #launch_doc]
            pub fn launch(runtime: &mut #rt::Runtime, wiring: &Wiring, handlers: Handlers) -> ::core::result::Result<Wiring, #rt::Error> {
                let mut wiring = wiring.clone();
                spawn_proxies(runtime, &mut wiring)?;
                let context = runtime.context().clone();
                #(#sockets_new)*
                #(#sockets_bind)*
                #(#sockets_connect)*
                #(#sockets_spawn)*
                #no_nodes
                ::core::result::Result::Ok(wiring)
            }

            /// Runs the whole topology in this process until SIGINT or SIGTERM.
            ///
            /// # Errors
            ///
            /// Every node that failed, or the error that kept the topology from starting.
            pub fn run(wiring: &Wiring, handlers: Handlers) -> ::core::result::Result<(), ::std::vec::Vec<#rt::NodeFailure>> {
                let failed = |error| ::std::vec![#rt::NodeFailure::Failed { node: NAME.to_owned(), error }];
                let mut runtime = #rt::Runtime::new().map_err(failed)?;
                launch(&mut runtime, wiring, handlers).map_err(failed)?;
                runtime.run_until_signal()
            }

            /// [`run`] with the YAML's wiring, for `fn main`: reports failures on stderr.
            pub fn main(handlers: Handlers) -> ::std::process::ExitCode {
                #rt::exit_code(run(&Wiring::default(), handlers))
            }
        }
    })
}

/// The `messages` module.
fn messages_module(generator: &Gen<'_>) -> Result<TokenStream, GenerateError> {
    let rt = &generator.rt;
    let mut items: Vec<(String, TokenStream)> = Vec::new();
    for source in &generator.loaded.messages {
        let package = source.schema.package.as_str();
        for (name, definition) in source.schema.enums.iter() {
            let extra = generator.extra_attributes(package, name)?;
            items.push((
                ident::upper_camel(name),
                messages::enumeration(name, definition, generator, &extra),
            ));
        }
        for (name, message) in source.schema.messages.iter() {
            let extra = generator.extra_attributes(package, name)?;
            let full_name = format!("{package}.{name}");
            items.push((
                ident::upper_camel(name),
                messages::message(name, &full_name, message, generator, &extra),
            ));
        }
    }
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let items = items.into_iter().map(|(_, tokens)| tokens);
    Ok(quote! {
        /// The messages and enums of the topology's message schemas.
        pub mod messages {
            #[allow(unused_imports, reason = "prost's `btree_map` and schemars' field defaults name these crates by relative path")]
            use #rt::__private::{prost, serde};

            #(#items)*
        }
    })
}

/// The `topics` module: a constant per topic published or subscribed to.
fn topics_module(generator: &Gen<'_>) -> TokenStream {
    let mut topics = BTreeSet::new();
    for (_, node) in generator.loaded.topology.nodes.iter() {
        for (_, _, port) in node.ports() {
            topics.insert(port.topic.as_str());
        }
    }
    let mut names = ident::Names::default();
    let mut constants: Vec<(String, &str)> = topics
        .into_iter()
        .map(|topic| {
            let name = ident::shouty(&ident::topic_words(topic)).to_string();
            (names.claim(&name), topic)
        })
        .collect();
    constants.sort();
    let constants = constants.into_iter().map(|(name, topic)| {
        let ident = ident::escape(name.trim_start_matches("r#"));
        let doc = format!(" `{topic}`");
        quote! { #[doc = #doc] pub const #ident: &str = #topic; }
    });
    quote! {
        /// Every topic of the topology.
        pub mod topics {
            #(#constants)*
        }
    }
}

/// A port on a direct channel: node, topic and endpoint as written.
type PortAddress = (String, String, String);

/// The direct channels, keyed by channel key, with their `Wiring` fields.
fn direct_channels(
    generator: &Gen<'_>,
    names: &mut ident::Names,
) -> BTreeMap<String, DirectChannel> {
    let topology = &generator.loaded.topology;
    // channel key -> (its binder, the first port that names it)
    let mut found: BTreeMap<String, (Option<PortAddress>, PortAddress)> = BTreeMap::new();
    for info in &generator.loaded.graph.ports {
        let Some(Channel::Endpoint(key)) = &info.channel else {
            continue;
        };
        let Some((node_name, node)) = topology.nodes.entries().get(info.id.node) else {
            continue;
        };
        let Some(port) = port_at(node, info.id) else {
            continue;
        };
        let endpoint = match &info.transport {
            Some(Transport::Bind(endpoint) | Transport::Connect(endpoint)) => endpoint.to_string(),
            _ => continue,
        };
        let here = (node_name.value.clone(), port.topic.value.clone(), endpoint);
        let entry = found
            .entry(key.clone())
            .or_insert_with(|| (None, here.clone()));
        if matches!(info.transport, Some(Transport::Bind(_))) && entry.0.is_none() {
            entry.0 = Some(here);
        }
    }
    let mut bases: Vec<(String, String, String, String)> = found
        .into_iter()
        .map(|(key, (binder, first))| {
            let (node, topic, endpoint) = binder.clone().unwrap_or(first);
            let base = format!(
                "{}_{}",
                ident::snake_string(&node),
                ident::topic_words(&topic)
            );
            let doc = match binder {
                Some(_) => format!(
                    " `{endpoint}`, bound by node `{node}` for `{topic}`; `connect` overrides \
                     where its peers connect (by default, the address each one's YAML gives)."
                ),
                None => format!(
                    " `{endpoint}`, which no port of the topology binds (first written by node \
                     `{node}` for `{topic}`)."
                ),
            };
            (base, key, endpoint, doc)
        })
        .collect();
    bases.sort();
    bases
        .into_iter()
        .map(|(base, key, bind, doc)| {
            let field = ident::escape(&names.claim(&base));
            (key, DirectChannel { field, bind, doc })
        })
        .collect()
}

fn port_at(node: &Node, id: PortId) -> Option<&Port> {
    match id.direction {
        Direction::Publish => node.publishes.get(id.index),
        Direction::Subscribe => node.subscribes.get(id.index),
    }
}

fn plan_ports<'a>(
    generator: &'a Gen<'_>,
    node_index: usize,
    node: &'a Node,
    proxy_fields: &BTreeMap<usize, Ident>,
    channels: &BTreeMap<String, DirectChannel>,
) -> Vec<PortPlan<'a>> {
    let topology = &generator.loaded.topology;
    let mut fields = ident::Names::with_reserved(&["outputs"]);
    let mut handlers = ident::Names::with_reserved(&["start", "stop", "tick"]);
    let mut plans = Vec::new();
    for (direction, index, port) in node.ports() {
        let id = PortId {
            node: node_index,
            direction,
            index,
        };
        let Some(info) = generator.loaded.graph.port(id) else {
            continue;
        };
        let Some(target) = generator.types.get(port.message.as_str()) else {
            continue;
        };
        let attach = match (&info.channel, info.proxy_side, &info.transport) {
            (Some(Channel::Proxy(proxy)), Some(side), _) => {
                let Some(field) = proxy_fields.get(proxy) else {
                    continue;
                };
                Attach::Proxy(field.clone(), side)
            }
            (Some(Channel::Endpoint(key)), _, Some(Transport::Bind(_))) => {
                let Some(channel) = channels.get(key) else {
                    continue;
                };
                Attach::Bind(channel.field.clone())
            }
            (Some(Channel::Endpoint(key)), _, Some(Transport::Connect(endpoint))) => {
                let Some(channel) = channels.get(key) else {
                    continue;
                };
                Attach::Connect(channel.field.clone(), endpoint.to_string())
            }
            _ => continue,
        };
        let how = match (&port.via, &port.bind, &port.connect) {
            (Some(via), _, _) => format!("via proxy `{via}`"),
            (_, Some(bind), _) => format!("binding `{bind}`"),
            (_, _, Some(connect)) => format!("connected to `{connect}`"),
            _ => String::new(),
        };
        let words = ident::topic_words(&port.topic);
        let field = ident::escape(&fields.claim(&words));
        let handler = match direction {
            Direction::Subscribe => {
                let words = handlers.claim(&words);
                format_ident!("on_{}", words)
            }
            Direction::Publish => format_ident!("on_unused"),
        };
        plans.push(PortPlan {
            port,
            direction,
            field,
            handler,
            message: target.ident.clone(),
            message_name: port.message.as_str(),
            settings: topology.port_settings(port),
            attach,
            how,
        });
    }
    plans
}

fn unsuffixed(value: i32) -> proc_macro2::Literal {
    proc_macro2::Literal::i32_unsuffixed(value)
}

fn codec_tokens(rt: &TokenStream, codec: Codec) -> TokenStream {
    match codec {
        Codec::Protobuf => quote!(#rt::Codec::Protobuf),
        Codec::Json => quote!(#rt::Codec::Json),
        Codec::PythonJson => quote!(#rt::Codec::PythonJson),
    }
}

fn node_module(
    generator: &Gen<'_>,
    name: &str,
    node: &Node,
    plans: &[PortPlan<'_>],
) -> TokenStream {
    let rt = &generator.rt;
    let module = ident::snake(name);
    let publications: Vec<&PortPlan<'_>> = plans
        .iter()
        .filter(|plan| plan.direction == Direction::Publish)
        .collect();
    let subscriptions: Vec<&PortPlan<'_>> = plans
        .iter()
        .filter(|plan| plan.direction == Direction::Subscribe)
        .collect();

    let output_fields = publications.iter().map(|plan| {
        let (field, message) = (&plan.field, &plan.message);
        quote! { #field: #rt::Publisher<messages::#message>, }
    });
    let output_methods = publications.iter().map(|plan| {
        let (field, message) = (&plan.field, &plan.message);
        let mut doc = format!(
            " Publishes a `{}` on `{}`, {}.",
            plan.message_name, plan.port.topic, plan.how
        );
        if let Some(port_doc) = &plan.port.doc {
            doc.push_str("\n\n ");
            doc.push_str(port_doc.trim());
        }
        let doc = doc + "\n\n # Errors\n\n As `hermes_runtime::Publisher::send`.";
        quote! {
            #[doc = #doc]
            pub fn #field(&mut self, message: &messages::#message) -> ::core::result::Result<(), #rt::Error> {
                self.#field.send(message)
            }
        }
    });
    let handler_methods: Vec<TokenStream> = subscriptions
        .iter()
        .map(|plan| {
            let (handler, message) = (&plan.handler, &plan.message);
            let mut doc = format!(
                " Called with each `{}` received on `{}`, {}.",
                plan.message_name, plan.port.topic, plan.how
            );
            if let Some(port_doc) = &plan.port.doc {
                doc.push_str("\n\n ");
                doc.push_str(port_doc.trim());
            }
            quote! {
                #[doc = #doc]
                fn #handler(&mut self, envelope: #rt::Envelope<messages::#message>, outputs: &mut Outputs) -> #rt::HandlerResult;
            }
        })
        .collect();
    let box_methods = subscriptions.iter().map(|plan| {
        let (handler, message) = (&plan.handler, &plan.message);
        quote! {
            fn #handler(&mut self, envelope: #rt::Envelope<messages::#message>, outputs: &mut Outputs) -> #rt::HandlerResult {
                (**self).#handler(envelope, outputs)
            }
        }
    });
    let receiver_fields = subscriptions.iter().map(|plan| {
        let (field, message) = (&plan.field, &plan.message);
        let doc = format!(
            " Receives `{}` on `{}`, {}.",
            plan.message_name, plan.port.topic, plan.how
        );
        quote! { #[doc = #doc] pub #field: #rt::Receiver<messages::#message>, }
    });
    let new_publishers = publications.iter().map(|plan| {
        let (field, message) = (&plan.field, &plan.message);
        let topic = plan.port.topic.as_str();
        let codec = codec_tokens(rt, plan.settings.codec);
        let hwm = unsuffixed(i32::try_from(plan.settings.hwm).unwrap_or(i32::MAX));
        quote! {
            #field: #rt::Publisher::<messages::#message>::builder(context)
                .topic(#topic)
                .origin(NAME)
                .codec(#codec)
                .hwm(#hwm)
                .build()?,
        }
    });
    let new_receivers = subscriptions.iter().map(|plan| {
        let (field, message) = (&plan.field, &plan.message);
        let topic = plan.port.topic.as_str();
        let codec = codec_tokens(rt, plan.settings.codec);
        let hwm = unsuffixed(i32::try_from(plan.settings.hwm).unwrap_or(i32::MAX));
        let lag = proc_macro2::Literal::u64_unsuffixed(plan.settings.slow_subscriber.max_lag_ms);
        let action = match plan.settings.slow_subscriber.action {
            SlowSubscriberAction::Warn => quote!(Warn),
            SlowSubscriberAction::Drop => quote!(Drop),
            SlowSubscriberAction::Disconnect => quote!(Disconnect),
        };
        quote! {
            #field: #rt::Receiver::<messages::#message>::builder(context)
                .topic(#topic)
                .codec(#codec)
                .hwm(#hwm)
                .slow_subscriber(#rt::SlowSubscriber::new(
                    ::core::time::Duration::from_millis(#lag),
                    #rt::SlowSubscriberAction::#action,
                ))
                .build()?,
        }
    });
    let socket_of = |plan: &PortPlan<'_>| {
        let field = &plan.field;
        match plan.direction {
            Direction::Publish => quote!(self.outputs.#field),
            Direction::Subscribe => quote!(self.#field),
        }
    };
    let binds: Vec<TokenStream> = plans
        .iter()
        .filter_map(|plan| match &plan.attach {
            Attach::Bind(field) => {
                let socket = socket_of(plan);
                Some(quote! {
                    let bound = #socket.bind(&wiring.#field.bind)?;
                    wiring.#field.record_bound(&bound);
                })
            }
            _ => None,
        })
        .collect();
    let connects: Vec<TokenStream> = plans
        .iter()
        .filter_map(|plan| {
            let socket = socket_of(plan);
            match &plan.attach {
                Attach::Proxy(field, ProxySide::Frontend) => {
                    Some(quote!(#socket.connect(&wiring.#field.frontend)?;))
                }
                Attach::Proxy(field, ProxySide::Backend) => {
                    Some(quote!(#socket.connect(&wiring.#field.backend)?;))
                }
                Attach::Proxy(field, ProxySide::Capture) => {
                    let reason = format!("the wiring of proxy `{field}` has no capture endpoint");
                    Some(quote! {
                        let capture = wiring.#field.capture.as_deref().ok_or_else(|| #rt::Error::Endpoint {
                            endpoint: ::std::string::String::new(),
                            reason: #reason.to_owned(),
                        })?;
                        #socket.connect(capture)?;
                    })
                }
                Attach::Connect(field, declared) => {
                    Some(quote!(#socket.connect(wiring.#field.connect_endpoint(#declared))?;))
                }
                Attach::Bind(_) => None,
            }
        })
        .collect();
    let bind_wiring = if binds.is_empty() {
        quote!(_wiring)
    } else {
        quote!(wiring)
    };
    let connect_wiring = if connects.is_empty() {
        quote!(_wiring)
    } else {
        quote!(wiring)
    };
    let receiver_names: Vec<&Ident> = subscriptions.iter().map(|plan| &plan.field).collect();
    let subscribe_calls = subscriptions.iter().map(|plan| {
        let (field, handler, message) = (&plan.field, &plan.handler, &plan.message);
        quote! {
            .subscribe(#field, |(handler, outputs): &mut (H, Outputs), envelope: #rt::Envelope<messages::#message>| {
                handler.#handler(envelope, outputs)
            })
        }
    });
    let node_doc = match &node.doc {
        Some(doc) => format!(" Node `{name}`: {}", doc.trim()),
        None => format!(" Node `{name}`."),
    };
    let main_doc = format!(
        " Runs node `{name}` alone with the YAML's wiring until SIGINT or SIGTERM, for \
         `src/bin/{name}.rs`: `fn main() -> ExitCode {{ {name}::main(MyHandler) }}`; reports \
         failures on stderr."
    );
    quote! {
        #[doc = #node_doc]
        pub mod #module {
            #[allow(unused_imports, reason = "not every node uses every import")]
            use super::super::{messages, Wiring};

            /// The node's name, also the origin of everything it publishes.
            pub const NAME: &str = #name;

            /// The node's publishers: a method per declared publication, accepting only that
            /// topic's message type.
            pub struct Outputs {
                #(#output_fields)*
            }

            impl Outputs {
                #(#output_methods)*
            }

            impl ::core::fmt::Debug for Outputs {
                fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    f.debug_struct("Outputs").finish_non_exhaustive()
                }
            }

            /// What the node does: a method per subscription, and optional start, tick and stop
            /// hooks. Every method may publish through `outputs`.
            pub trait Handler: ::core::marker::Send + 'static {
                #(#handler_methods)*

                /// Called once, after every socket is connected and before the first envelope.
                fn on_start(&mut self, outputs: &mut Outputs) -> #rt::HandlerResult {
                    let _ = outputs;
                    ::core::result::Result::Ok(())
                }

                /// How often to call [`on_tick`](Handler::on_tick); `None` (the default) for never.
                /// Asked once, when the node is built.
                fn tick_interval(&self) -> ::core::option::Option<::core::time::Duration> {
                    ::core::option::Option::None
                }

                /// Called every [`tick_interval`](Handler::tick_interval).
                fn on_tick(&mut self, outputs: &mut Outputs) -> #rt::HandlerResult {
                    let _ = outputs;
                    ::core::result::Result::Ok(())
                }

                /// Called once when the node stops without failing.
                fn on_stop(&mut self, outputs: &mut Outputs) -> #rt::HandlerResult {
                    let _ = outputs;
                    ::core::result::Result::Ok(())
                }
            }

            impl<H: Handler + ?::core::marker::Sized> Handler for ::std::boxed::Box<H> {
                #(#box_methods)*

                fn on_start(&mut self, outputs: &mut Outputs) -> #rt::HandlerResult {
                    (**self).on_start(outputs)
                }

                fn tick_interval(&self) -> ::core::option::Option<::core::time::Duration> {
                    (**self).tick_interval()
                }

                fn on_tick(&mut self, outputs: &mut Outputs) -> #rt::HandlerResult {
                    (**self).on_tick(outputs)
                }

                fn on_stop(&mut self, outputs: &mut Outputs) -> #rt::HandlerResult {
                    (**self).on_stop(outputs)
                }
            }

            /// Every socket of the node: its publishers (in `outputs`) and a receiver per
            /// subscription, configured as declared (topic, codec, HWM, slow-subscriber policy).
            #[derive(::core::fmt::Debug)]
            pub struct Sockets {
                /// The publishers.
                pub outputs: Outputs,
                #(#receiver_fields)*
            }

            impl Sockets {
                /// Makes every socket, neither bound nor connected.
                ///
                /// # Errors
                ///
                /// The first socket that cannot be made.
                pub fn new(context: &#rt::Context) -> ::core::result::Result<Self, #rt::Error> {
                    ::core::result::Result::Ok(Sockets {
                        outputs: Outputs { #(#new_publishers)* },
                        #(#new_receivers)*
                    })
                }

                /// Binds the `bind:` ports, recording in `wiring` where ephemeral endpoints ended up.
                ///
                /// # Errors
                ///
                /// The first endpoint that cannot be bound.
                pub fn bind(&mut self, #bind_wiring: &mut Wiring) -> ::core::result::Result<(), #rt::Error> {
                    #(#binds)*
                    ::core::result::Result::Ok(())
                }

                /// Connects the other ports: to their proxy, or to their peer's endpoint.
                ///
                /// # Errors
                ///
                /// The first endpoint that cannot be connected to.
                pub fn connect(&mut self, #connect_wiring: &Wiring) -> ::core::result::Result<(), #rt::Error> {
                    #(#connects)*
                    ::core::result::Result::Ok(())
                }

                /// [`new`](Sockets::new), [`bind`](Sockets::bind) and [`connect`](Sockets::connect).
                ///
                /// # Errors
                ///
                /// As those.
                pub fn open(context: &#rt::Context, wiring: &Wiring) -> ::core::result::Result<Self, #rt::Error> {
                    let mut wiring = ::core::clone::Clone::clone(wiring);
                    let mut sockets = Sockets::new(context)?;
                    sockets.bind(&mut wiring)?;
                    sockets.connect(&wiring)?;
                    ::core::result::Result::Ok(sockets)
                }
            }

            /// The node, ready for `Runtime::spawn_node`: each receiver calls its handler method.
            pub fn node<H: Handler>(sockets: Sockets, handler: H) -> #rt::Node<(H, Outputs)> {
                let Sockets { outputs, #(#receiver_names),* } = sockets;
                let tick = handler.tick_interval();
                let node = #rt::Node::new(NAME, (handler, outputs))
                    #(#subscribe_calls)*
                    .on_start(|(handler, outputs): &mut (H, Outputs)| handler.on_start(outputs))
                    .on_stop(|(handler, outputs): &mut (H, Outputs)| handler.on_stop(outputs));
                match tick {
                    ::core::option::Option::Some(period) => node.on_tick(period, |(handler, outputs): &mut (H, Outputs)| handler.on_tick(outputs)),
                    ::core::option::Option::None => node,
                }
            }

            /// Opens the node's sockets as `wiring` says and runs it on `runtime`.
            ///
            /// # Errors
            ///
            /// As [`Sockets::open`], or when the thread cannot start.
            pub fn spawn<H: Handler>(runtime: &mut #rt::Runtime, wiring: &Wiring, handler: H) -> ::core::result::Result<(), #rt::Error> {
                let sockets = Sockets::open(runtime.context(), wiring)?;
                runtime.spawn_node(node(sockets, handler))
            }

            /// Runs the node alone in this process until SIGINT or SIGTERM.
            ///
            /// # Errors
            ///
            /// The node's failure, or the error that kept it from starting.
            pub fn run<H: Handler>(wiring: &Wiring, handler: H) -> ::core::result::Result<(), ::std::vec::Vec<#rt::NodeFailure>> {
                let failed = |error| ::std::vec![#rt::NodeFailure::Failed { node: NAME.to_owned(), error }];
                let mut runtime = #rt::Runtime::new().map_err(failed)?;
                spawn(&mut runtime, wiring, handler).map_err(failed)?;
                runtime.run_until_signal()
            }

            #[doc = #main_doc]
            pub fn main<H: Handler>(handler: H) -> ::std::process::ExitCode {
                #rt::exit_code(run(&::core::default::Default::default(), handler))
            }
        }
    }
}

fn proxy_module(generator: &Gen<'_>, name: &str, module: &Ident, field: &Ident) -> TokenStream {
    let rt = &generator.rt;
    let doc = format!(" Proxy `{name}`.");
    let main_doc = format!(
        " Runs proxy `{name}` alone with the YAML's wiring until SIGINT or SIGTERM, for \
         `src/bin/{name}.rs`; reports failures on stderr."
    );
    quote! {
        #[doc = #doc]
        pub mod #module {
            use super::super::Wiring;

            /// The proxy's name.
            pub const NAME: &str = #name;

            /// Starts the proxy on `runtime`, recording the endpoints it bound in `wiring`.
            ///
            /// # Errors
            ///
            /// As `Runtime::spawn_proxy`.
            pub fn spawn(runtime: &mut #rt::Runtime, wiring: &mut Wiring) -> ::core::result::Result<(), #rt::Error> {
                let endpoints = runtime.spawn_proxy(NAME, ::core::clone::Clone::clone(&wiring.#field))?;
                wiring.#field.frontend = endpoints.frontend;
                wiring.#field.backend = endpoints.backend;
                wiring.#field.capture = endpoints.capture;
                ::core::result::Result::Ok(())
            }

            /// Runs the proxy alone in this process until SIGINT or SIGTERM.
            ///
            /// # Errors
            ///
            /// Its failure, or the error that kept it from starting.
            pub fn run(wiring: &Wiring) -> ::core::result::Result<(), ::std::vec::Vec<#rt::NodeFailure>> {
                let failed = |error| ::std::vec![#rt::NodeFailure::Failed { node: NAME.to_owned(), error }];
                let mut runtime = #rt::Runtime::new().map_err(failed)?;
                let mut wiring = ::core::clone::Clone::clone(wiring);
                spawn(&mut runtime, &mut wiring).map_err(failed)?;
                runtime.run_until_signal()
            }

            #[doc = #main_doc]
            pub fn main() -> ::std::process::ExitCode {
                #rt::exit_code(run(&::core::default::Default::default()))
            }
        }
    }
}

fn node_info(generator: &Gen<'_>, name: &str, plans: &[PortPlan<'_>]) -> TokenStream {
    let rt = &generator.rt;
    let port_info = |plan: &PortPlan<'_>| {
        let topic = plan.port.topic.as_str();
        let message = &plan.message;
        let codec = codec_tokens(rt, plan.settings.codec);
        let hwm = proc_macro2::Literal::u32_unsuffixed(plan.settings.hwm);
        let wiring = match (&plan.port.via, &plan.port.bind, &plan.port.connect) {
            (Some(via), _, _) => {
                let via = via.as_str();
                quote!(#rt::PortWiring::Via(#via))
            }
            (_, Some(bind), _) => {
                let bind = bind.as_str();
                quote!(#rt::PortWiring::Bind(#bind))
            }
            (_, _, Some(connect)) => {
                let connect = connect.as_str();
                quote!(#rt::PortWiring::Connect(#connect))
            }
            _ => quote!(#rt::PortWiring::Via("")),
        };
        quote! {
            #rt::PortInfo {
                topic: #topic,
                message: <messages::#message as #rt::Message>::NAME,
                fingerprint: <messages::#message as #rt::Message>::FINGERPRINT,
                codec: #codec,
                hwm: #hwm,
                wiring: #wiring,
            },
        }
    };
    let publishes = plans
        .iter()
        .filter(|plan| plan.direction == Direction::Publish)
        .map(port_info);
    let subscribes = plans
        .iter()
        .filter(|plan| plan.direction == Direction::Subscribe)
        .map(port_info);
    quote! {
        #rt::NodeInfo { name: #name, publishes: &[#(#publishes)*], subscribes: &[#(#subscribes)*] },
    }
}
