//! The rules. Each `check_*` function checks one rule over the whole topology and pushes a
//! [`Diagnostic`] for every violation it finds, so that one run reports everything.

use std::collections::{BTreeSet, HashMap, HashSet};

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::MessagesSource;
use crate::diagnostic::{Code, Diagnostic, FileId};
use crate::graph::{
    BindingOwner, Channel, PortId, ProxySide, TopologyGraph, Transport, parse_endpoint, port_of,
};
use crate::model::{Direction, FieldType, Port, ReservedDef, ScalarType, Span, Spanned, Topology};
use crate::suggest::{did_you_mean, identifier_problem, identifier_suggestion};
use hermes_core::Endpoint;

/// Whether a declared type is a message or an enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TypeKind {
    Message,
    Enum,
}

/// The first declaration of a type name.
#[derive(Clone, Copy)]
struct TypeDecl<'a> {
    kind: TypeKind,
    file: FileId,
    name: &'a Spanned<String>,
}

/// Everything a rule looks at.
pub(crate) struct Context<'a> {
    topology: &'a Topology,
    file: FileId,
    messages: &'a [MessagesSource],
    graph: &'a TopologyGraph,
    types: HashMap<&'a str, TypeDecl<'a>>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        topology: &'a Topology,
        file: FileId,
        messages: &'a [MessagesSource],
        graph: &'a TopologyGraph,
    ) -> Self {
        let mut types = HashMap::new();
        for source in messages {
            let declared = source
                .schema
                .messages
                .names()
                .map(|name| (TypeKind::Message, name))
                .chain(
                    source
                        .schema
                        .enums
                        .names()
                        .map(|name| (TypeKind::Enum, name)),
                );
            for (kind, name) in declared {
                types.entry(name.as_str()).or_insert(TypeDecl {
                    kind,
                    file: source.file,
                    name,
                });
            }
        }
        Context {
            topology,
            file,
            messages,
            graph,
            types,
        }
    }

    fn node_name(&self, node: usize) -> &'a Spanned<String> {
        &self.topology.nodes.entries()[node].0
    }

    fn proxy_name(&self, proxy: usize) -> &'a Spanned<String> {
        &self.topology.proxies.entries()[proxy].0
    }

    fn port(&self, id: PortId) -> Option<&'a Port> {
        port_of(self.topology, id)
    }

    fn describe(&self, channel: &Channel) -> String {
        match channel {
            Channel::Proxy(proxy) => format!("proxy `{}`", self.proxy_name(*proxy)),
            Channel::Endpoint(key) => format!("endpoint `{key}`"),
        }
    }

    fn is_message(&self, name: &str) -> bool {
        self.types
            .get(name)
            .is_some_and(|decl| decl.kind == TypeKind::Message)
    }

    fn message_names(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.types
            .values()
            .filter(|decl| decl.kind == TypeKind::Message)
            .map(|decl| decl.name.as_str())
    }
}

type Check = fn(&Context<'_>, &mut Vec<Diagnostic>);

/// Every rule, in the order findings are produced (they are sorted by position afterwards).
const CHECKS: &[Check] = &[
    check_invalid_identifiers,
    check_duplicate_names,
    check_field_types,
    check_field_ids,
    check_message_versions,
    check_reserved,
    check_port_messages,
    check_port_transports,
    check_topics,
    check_malformed_endpoints,
    check_endpoint_conflicts,
    check_inproc_across_processes,
    check_host_addresses,
    check_unknown_hosts,
    check_links_across_hosts,
    check_wrong_proxy_sides,
    check_unmatched_subscriptions,
    check_topic_type_conflicts,
    check_subscription_types,
    check_codec_mismatches,
    check_unused_publications,
    check_empty_nodes,
    check_unused_proxies,
    check_cycles,
    check_insecure_endpoints,
    check_pointless_security,
    check_security_pins,
    check_batching,
    check_resources,
];

/// Runs every rule.
pub(crate) fn run_all(cx: &Context<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for check in CHECKS {
        check(cx, &mut out);
    }
    out
}

fn quoted(items: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    items
        .into_iter()
        .map(|item| format!("`{}`", item.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `hermes::invalid_identifier`: names become Rust identifiers in generated code.
fn check_invalid_identifiers(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut check = |file: FileId, name: &Spanned<String>, what: &str| {
        if let Some(problem) = identifier_problem(name) {
            out.push(
                Diagnostic::new(
                    Code::InvalidIdentifier,
                    format!("{what} `{name}` cannot become a Rust identifier: {problem}"),
                )
                .with_label(file, name.span, format!("{what} name"))
                .with_help(format!(
                    "use letters, digits and `_`, for example `{}`",
                    identifier_suggestion(name)
                )),
            );
        }
    };
    let topology = cx.topology;
    check(cx.file, &topology.name, "topology");
    for name in topology.proxies.names() {
        check(cx.file, name, "proxy");
    }
    for name in topology.nodes.names() {
        check(cx.file, name, "node");
    }
    for source in cx.messages {
        let schema = &source.schema;
        for segment in schema.package.split('.') {
            let segment = Spanned::new(segment.to_string(), schema.package.span);
            check(source.file, &segment, "package");
        }
        for (name, definition) in schema.enums.iter() {
            check(source.file, name, "enum");
            for variant in &definition.variants {
                check(source.file, variant, "enum variant");
            }
        }
        for (name, message) in schema.messages.iter() {
            check(source.file, name, "message");
            for field in &message.fields {
                check(source.file, &field.name, "field");
            }
        }
    }
}

/// Reports names that repeat, exactly or after conversion to a Rust naming convention.
fn report_duplicates<'a>(
    names: impl IntoIterator<Item = (FileId, &'a Spanned<String>)>,
    convert: fn(&str) -> String,
    (what, what_plural): (&str, &str),
    out: &mut Vec<Diagnostic>,
) {
    let mut seen: HashMap<String, (FileId, &Spanned<String>)> = HashMap::new();
    for (file, name) in names {
        let key = convert(name);
        match seen.get(&key) {
            Some(&(first_file, first)) if first.value == name.value => out.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("{what} `{name}` is declared twice"),
                )
                .with_label(file, name.span, "declared again here")
                .with_label(first_file, first.span, "first declared here")
                .with_help("rename or remove one of them"),
            ),
            Some(&(first_file, first)) => out.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("{what_plural} `{first}` and `{name}` both become `{key}` in Rust"),
                )
                .with_label(file, name.span, format!("becomes `{key}`"))
                .with_label(first_file, first.span, format!("also becomes `{key}`"))
                .with_help("rename one of them"),
            ),
            None => {
                seen.insert(key, (file, name));
            }
        }
    }
}

/// `hermes::duplicate_name`: types across files, fields, variants, nodes and proxies.
fn check_duplicate_names(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let types = cx.messages.iter().flat_map(|source| {
        source
            .schema
            .enums
            .names()
            .chain(source.schema.messages.names())
            .map(move |name| (source.file, name))
    });
    let types: Vec<_> = types.collect();
    for &(file, name) in &types {
        if ScalarType::from_name(name).is_some() {
            out.push(
                Diagnostic::new(
                    Code::DuplicateName,
                    format!("type `{name}` has the name of a built-in type"),
                )
                .with_label(file, name.span, "shadows the built-in type")
                .with_help("rename the type"),
            );
        }
    }
    report_duplicates(
        types,
        |name| name.to_upper_camel_case(),
        ("type", "types"),
        out,
    );
    for source in cx.messages {
        for (_, definition) in source.schema.enums.iter() {
            let variants = definition
                .variants
                .iter()
                .map(|variant| (source.file, variant));
            report_duplicates(
                variants,
                |name| name.to_upper_camel_case(),
                ("variant", "variants"),
                out,
            );
        }
        for (_, message) in source.schema.messages.iter() {
            let fields = message
                .fields
                .iter()
                .map(|field| (source.file, &field.name));
            report_duplicates(
                fields,
                |name| name.to_snake_case(),
                ("field", "fields"),
                out,
            );
        }
    }
    let nodes_and_proxies = cx
        .topology
        .proxies
        .names()
        .chain(cx.topology.nodes.names())
        .map(|name| (cx.file, name));
    report_duplicates(
        nodes_and_proxies,
        |name| name.to_snake_case(),
        ("node or proxy", "nodes or proxies"),
        out,
    );
}

/// `hermes::invalid_type` and `hermes::unknown_type`: field type expressions.
fn check_field_types(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut known: Vec<&str> = cx.types.keys().copied().collect();
    known.sort_unstable();
    let builtins = ScalarType::ALL.map(ScalarType::name);
    for source in cx.messages {
        for (_, message) in source.schema.messages.iter() {
            for field in &message.fields {
                let ty = match field.field_type() {
                    Ok(ty) => ty,
                    Err(error) => {
                        out.push(
                            Diagnostic::new(Code::InvalidType, error.message)
                                .with_label(source.file, field.ty.span, "")
                                .with_help(error.help),
                        );
                        continue;
                    }
                };
                if field.optional && ty.is_container() {
                    out.push(
                        Diagnostic::new(
                            Code::InvalidType,
                            format!("field `{}` of type `{ty}` cannot be optional", field.name),
                        )
                        .with_label(source.file, field.ty.span, "a list or map")
                        .with_help("remove `optional: true`: an empty list or map means absent"),
                    );
                }
                let Some(name) = ty.named() else {
                    continue;
                };
                if cx.types.contains_key(name) {
                    continue;
                }
                let candidates = known.iter().copied().chain(builtins);
                let help = match did_you_mean(name, candidates) {
                    Some(suggestion) => format!("did you mean `{suggestion}`?"),
                    None => format!(
                        "declare it under `messages:` or `enums:`, or use a built-in type: {}",
                        quoted(builtins)
                    ),
                };
                let label = if matches!(ty, FieldType::Named(_)) {
                    "not declared".to_string()
                } else {
                    format!("`{name}` is not declared")
                };
                out.push(
                    Diagnostic::new(
                        Code::UnknownType,
                        format!("unknown type `{name}` for field `{}`", field.name),
                    )
                    .with_label(source.file, field.ty.span, label)
                    .with_help(help),
                );
            }
        }
    }
}

/// The largest protobuf field number.
const MAX_FIELD_NUMBER: u32 = 536_870_911;

/// `hermes::invalid_field_id`: field numbers in range, not reserved, unique per message.
fn check_field_ids(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for source in cx.messages {
        for (message_name, message) in source.schema.messages.iter() {
            let mut used: HashMap<u32, &Spanned<String>> = HashMap::new();
            for (number, field) in message.numbered_fields() {
                let span = field.id.as_ref().map_or(field.name.span, |id| id.span);
                if number == 0 || number > MAX_FIELD_NUMBER || (19_000..=19_999).contains(&number) {
                    out.push(
                        Diagnostic::new(
                            Code::InvalidFieldId,
                            format!(
                                "field number {number} of `{message_name}.{}` is not allowed",
                                field.name
                            ),
                        )
                        .with_label(source.file, span, "")
                        .with_help("field numbers are 1 to 536870911, excluding 19000 to 19999"),
                    );
                    continue;
                }
                if let Some(first) = used.get(&number) {
                    out.push(
                        Diagnostic::new(
                            Code::InvalidFieldId,
                            format!(
                                "fields `{first}` and `{}` of `{message_name}` both have number {number}",
                                field.name
                            ),
                        )
                        .with_label(source.file, span, format!("number {number}"))
                        .with_label(source.file, first.span, format!("also number {number}"))
                        .with_help(
                            "a field's number is its position unless it has `id:`; give it an unused `id:`",
                        ),
                    );
                } else {
                    used.insert(number, &field.name);
                }
            }
        }
    }
}

/// `hermes::invalid_value`: a message's `version:` is 1 or more, since the lineage's versions
/// count from 1 (the default).
fn check_message_versions(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for source in cx.messages {
        for (message_name, message) in source.schema.messages.iter() {
            let Some(version) = message
                .version
                .as_ref()
                .filter(|version| version.value == 0)
            else {
                continue;
            };
            out.push(
                Diagnostic::new(
                    Code::InvalidValue,
                    format!("version 0 of `{message_name}` is not allowed, expected 1 or more"),
                )
                .with_label(source.file, version.span, "")
                .with_help(
                    "versions start at 1 (the default); raise the version for each breaking change",
                ),
            );
        }
    }
}

/// `hermes::invalid_reserved`: no field or variant uses a number or name its message or enum
/// reserves, and reserved numbers are ones a field or variant could have.
fn check_reserved(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let help = "a reserved number or name belongs to a deleted field or variant; \
                pick an unused one, or remove it from `reserved:`";
    for source in cx.messages {
        for (message_name, message) in source.schema.messages.iter() {
            let reserved = &message.reserved;
            duplicate_reserved(source.file, message_name, reserved, out);
            for number in &reserved.numbers {
                if number.value == 0 || number.value > MAX_FIELD_NUMBER {
                    out.push(
                        Diagnostic::new(
                            Code::InvalidReserved,
                            format!(
                                "reserved number {number} of `{message_name}` is not a field number"
                            ),
                        )
                        .with_label(source.file, number.span, "")
                        .with_help("field numbers are 1 to 536870911"),
                    );
                }
            }
            for (number, field) in message.numbered_fields() {
                let span = field.id.as_ref().map_or(field.name.span, |id| id.span);
                if let Some(reserved) = reserved.numbers.iter().find(|n| n.value == number) {
                    out.push(
                        Diagnostic::new(
                            Code::InvalidReserved,
                            format!(
                                "field `{message_name}.{}` has number {number}, which `{message_name}` reserves",
                                field.name
                            ),
                        )
                        .with_label(source.file, span, format!("number {number}"))
                        .with_label(source.file, reserved.span, "reserved here")
                        .with_help(help),
                    );
                }
                if let Some(reserved) = reserved.names.iter().find(|n| n.value == *field.name) {
                    out.push(
                        Diagnostic::new(
                            Code::InvalidReserved,
                            format!(
                                "field `{message_name}.{}` has a name `{message_name}` reserves",
                                field.name
                            ),
                        )
                        .with_label(source.file, field.name.span, "")
                        .with_label(source.file, reserved.span, "reserved here")
                        .with_help(help),
                    );
                }
            }
        }
        for (enum_name, definition) in source.schema.enums.iter() {
            let reserved = &definition.reserved;
            duplicate_reserved(source.file, enum_name, reserved, out);
            for number in &reserved.numbers {
                if i32::try_from(number.value).is_err() {
                    out.push(
                        Diagnostic::new(
                            Code::InvalidReserved,
                            format!(
                                "reserved number {number} of `{enum_name}` is not an enum value number"
                            ),
                        )
                        .with_label(source.file, number.span, "")
                        .with_help("enum value numbers are 0 to 2147483647"),
                    );
                }
            }
            for (index, variant) in definition.variants.iter().enumerate() {
                let number = u32::try_from(index).unwrap_or(u32::MAX);
                if let Some(reserved) = reserved.numbers.iter().find(|n| n.value == number) {
                    out.push(
                        Diagnostic::new(
                            Code::InvalidReserved,
                            format!(
                                "variant `{enum_name}.{variant}` has number {number}, which `{enum_name}` reserves"
                            ),
                        )
                        .with_label(source.file, variant.span, format!("number {number}"))
                        .with_label(source.file, reserved.span, "reserved here")
                        .with_help(
                            "a variant's number is its position: reserve only the numbers after the last variant",
                        ),
                    );
                }
                // Variants are compared by their protobuf value names, which `Hold` and `hold`
                // share.
                let value_name = variant.to_shouty_snake_case();
                if let Some(reserved) = reserved
                    .names
                    .iter()
                    .find(|n| n.to_shouty_snake_case() == value_name)
                {
                    out.push(
                        Diagnostic::new(
                            Code::InvalidReserved,
                            format!(
                                "variant `{enum_name}.{variant}` has a name `{enum_name}` reserves"
                            ),
                        )
                        .with_label(source.file, variant.span, "")
                        .with_label(source.file, reserved.span, "reserved here")
                        .with_help(help),
                    );
                }
            }
        }
    }
}

/// Part of `hermes::invalid_reserved`: protobuf rejects a number or name reserved twice, and
/// a reserved name that is not an identifier.
fn duplicate_reserved(
    file: FileId,
    owner: &Spanned<String>,
    reserved: &ReservedDef,
    out: &mut Vec<Diagnostic>,
) {
    let mut numbers: HashMap<u32, &Spanned<u32>> = HashMap::new();
    for number in &reserved.numbers {
        if let Some(first) = numbers.insert(number.value, number) {
            out.push(
                Diagnostic::new(
                    Code::InvalidReserved,
                    format!("`{owner}` reserves number {number} twice"),
                )
                .with_label(file, number.span, "")
                .with_label(file, first.span, "first reserved here")
                .with_help("list each reserved number once"),
            );
        }
    }
    let mut names: HashMap<&str, &Spanned<String>> = HashMap::new();
    for name in &reserved.names {
        let is_identifier = name.chars().next().is_some_and(|c| !c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_identifier {
            out.push(
                Diagnostic::new(
                    Code::InvalidReserved,
                    format!("reserved name `{name}` of `{owner}` is not an identifier"),
                )
                .with_label(file, name.span, "")
                .with_help("reserved names are field or variant names: letters, digits and `_`"),
            );
        }
        if let Some(first) = names.insert(name.as_str(), name) {
            out.push(
                Diagnostic::new(
                    Code::InvalidReserved,
                    format!("`{owner}` reserves name `{name}` twice"),
                )
                .with_label(file, name.span, "")
                .with_label(file, first.span, "first reserved here")
                .with_help("list each reserved name once"),
            );
        }
    }
}

/// `hermes::unknown_message`: ports carry declared messages.
fn check_port_messages(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut messages: Vec<&str> = cx.message_names().collect();
    messages.sort_unstable();
    for (_, node) in cx.topology.nodes.iter() {
        for (_, _, port) in node.ports() {
            let name = &port.message;
            match cx.types.get(name.as_str()) {
                Some(decl) if decl.kind == TypeKind::Message => {}
                Some(decl) => out.push(
                    Diagnostic::new(
                        Code::UnknownMessage,
                        format!("`{name}` is an enum, not a message"),
                    )
                    .with_label(cx.file, name.span, "ports carry messages")
                    .with_label(decl.file, decl.name.span, "declared as an enum here")
                    .with_help("declare a message with a field of this enum type"),
                ),
                None => {
                    let help = match did_you_mean(name, messages.iter().copied()) {
                        Some(suggestion) => format!("did you mean `{suggestion}`?"),
                        None if messages.is_empty() => {
                            "no messages are declared: list a messages file under `messages:`"
                                .to_string()
                        }
                        None => {
                            format!("declared messages are {}", quoted(messages.iter().take(8)))
                        }
                    };
                    out.push(
                        Diagnostic::new(Code::UnknownMessage, format!("unknown message `{name}`"))
                            .with_label(cx.file, name.span, "not declared in any messages file")
                            .with_help(help),
                    );
                }
            }
        }
    }
}

/// `hermes::invalid_port` and `hermes::unknown_proxy`: each port says how it connects.
fn check_port_transports(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let proxies: Vec<&str> = cx
        .topology
        .proxies
        .names()
        .map(|name| name.as_str())
        .collect();
    for (node_name, node) in cx.topology.nodes.iter() {
        for (direction, _, port) in node.ports() {
            if let (Direction::Publish, Some(policy)) = (direction, &port.slow_subscriber) {
                out.push(
                    Diagnostic::new(
                        Code::InvalidPort,
                        format!(
                            "publication `{}` of node `{node_name}` sets `slow_subscriber:`",
                            port.topic
                        ),
                    )
                    .with_label(cx.file, policy.span, "only subscriptions lag behind")
                    .with_help("move it to the subscriptions that should apply it"),
                );
            }
            let set: Vec<(&str, &Spanned<String>)> = [
                ("via", port.via.as_ref()),
                ("bind", port.bind.as_ref()),
                ("connect", port.connect.as_ref()),
            ]
            .into_iter()
            .filter_map(|(key, value)| value.map(|value| (key, value)))
            .collect();
            match set.as_slice() {
                [] => out.push(
                    Diagnostic::new(
                        Code::InvalidPort,
                        format!(
                            "port `{}` of node `{node_name}` does not say how it connects",
                            port.topic
                        ),
                    )
                    .with_label(cx.file, port.topic.span, "no `via:`, `bind:` or `connect:`")
                    .with_help("add `via: <proxy>`, `bind: <endpoint>` or `connect: <endpoint>`"),
                ),
                [_] => {}
                [(first, _), (second, value), ..] => out.push(
                    Diagnostic::new(
                        Code::InvalidPort,
                        format!("port `{}` sets both `{first}:` and `{second}:`", port.topic),
                    )
                    .with_label(cx.file, value.span, format!("`{second}:` here"))
                    .with_help(
                        "a port connects one way: keep one of `via:`, `bind:` and `connect:`",
                    ),
                ),
            }
            let Some(via) = &port.via else {
                continue;
            };
            if proxies.contains(&via.as_str()) {
                continue;
            }
            let help = match did_you_mean(via, proxies.iter().copied()) {
                Some(suggestion) => format!("did you mean `{suggestion}`?"),
                None if proxies.is_empty() => {
                    "declare it under `proxies:` with a `frontend:` and a `backend:`".to_string()
                }
                None => format!("declared proxies are {}", quoted(&proxies)),
            };
            out.push(
                Diagnostic::new(Code::UnknownProxy, format!("unknown proxy `{via}`"))
                    .with_label(cx.file, via.span, "not declared under `proxies:`")
                    .with_help(help),
            );
        }
    }
}

/// `hermes::invalid_topic`: topics are `/`-separated non-empty segments without whitespace.
fn check_topics(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, node) in cx.topology.nodes.iter() {
        for (direction, _, port) in node.ports() {
            let topic = port.topic.as_str();
            let problem = if topic.is_empty() {
                (direction == Direction::Publish).then(|| "a publication needs a topic".to_string())
            } else if let Some(bad) = topic.chars().find(|c| c.is_whitespace() || c.is_control()) {
                Some(format!(
                    "topic `{}` contains {:?}",
                    topic.escape_debug(),
                    bad
                ))
            } else {
                let trimmed = match direction {
                    Direction::Subscribe => topic.strip_suffix('/').unwrap_or(topic),
                    Direction::Publish => topic,
                };
                trimmed
                    .split('/')
                    .any(str::is_empty)
                    .then(|| format!("topic `{topic}` has an empty segment"))
            };
            if let Some(problem) = problem {
                out.push(
                    Diagnostic::new(Code::InvalidTopic, problem)
                        .with_label(cx.file, port.topic.span, "")
                        .with_help(
                            "topics are segments separated by single `/`, such as `quotes/bitstamp`",
                        ),
                );
            }
        }
    }
}

fn endpoint_diagnostic(file: FileId, text: &Spanned<String>, reason: &str) -> Diagnostic {
    Diagnostic::new(
        Code::MalformedEndpoint,
        format!("malformed endpoint `{text}`: {reason}"),
    )
    .with_label(file, text.span, "")
    .with_help("endpoints are `tcp://host:port`, `ipc://path` or `inproc://name`")
}

/// `hermes::malformed_endpoint`: every endpoint parses, and nothing connects to `*`.
fn check_malformed_endpoints(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (_, proxy) in cx.topology.proxies.iter() {
        let endpoints = [
            Some(&proxy.frontend),
            Some(&proxy.backend),
            proxy.capture.as_ref(),
        ];
        for text in endpoints.into_iter().flatten() {
            if let Err(error) = parse_endpoint(text) {
                out.push(endpoint_diagnostic(cx.file, text, &error.0));
            }
        }
    }
    for (_, node) in cx.topology.nodes.iter() {
        for (_, _, port) in node.ports() {
            if let Some(text) = &port.bind
                && let Err(error) = parse_endpoint(text)
            {
                out.push(endpoint_diagnostic(cx.file, text, &error.0));
            }
            if let Some(text) = &port.connect {
                match parse_endpoint(text) {
                    Err(error) => out.push(endpoint_diagnostic(cx.file, text, &error.0)),
                    Ok(Endpoint::Tcp { host, .. }) if host == "*" => out.push(endpoint_diagnostic(
                        cx.file,
                        text,
                        "cannot connect to `*`; name the host that binds it",
                    )),
                    Ok(_) => {}
                }
            }
        }
    }
}

/// The written endpoint of a binding.
fn binding_text<'a>(cx: &Context<'a>, owner: BindingOwner) -> Option<&'a Spanned<String>> {
    match owner {
        BindingOwner::Proxy(proxy, side) => {
            let proxy = &cx.topology.proxies.entries()[proxy].1;
            match side {
                ProxySide::Frontend => Some(&proxy.frontend),
                ProxySide::Backend => Some(&proxy.backend),
                ProxySide::Capture => proxy.capture.as_ref(),
            }
        }
        BindingOwner::Port(id) => cx.port(id).and_then(|port| port.bind.as_ref()),
    }
}

fn binding_owner_name(cx: &Context<'_>, owner: BindingOwner) -> String {
    match owner {
        BindingOwner::Proxy(proxy, side) => {
            format!("the {} of proxy `{}`", side.key(), cx.proxy_name(proxy))
        }
        BindingOwner::Port(id) => format!("node `{}`", cx.node_name(id.node)),
    }
}

/// `hermes::endpoint_conflict`: no two sockets bind one endpoint (or one TCP port per host).
fn check_endpoint_conflicts(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut first_by_key: HashMap<&str, BindingOwner> = HashMap::new();
    for binding in &cx.graph.bindings {
        // A port that binds a proxy's own endpoint is reported as `wrong_proxy_side`.
        if let BindingOwner::Port(id) = binding.owner
            && cx
                .graph
                .port(id)
                .is_some_and(|info| info.proxy_side.is_some())
        {
            continue;
        }
        let Some(first) = first_by_key.get(binding.key.as_str()).copied() else {
            first_by_key.insert(&binding.key, binding.owner);
            continue;
        };
        let (Some(text), Some(first_text)) =
            (binding_text(cx, binding.owner), binding_text(cx, first))
        else {
            continue;
        };
        let message = match &binding.endpoint {
            Endpoint::Tcp { port, .. } => {
                let machine = binding.key.trim_start_matches("tcp://");
                let machine = machine.rsplit_once(':').map_or(machine, |(host, _)| host);
                format!("tcp port {port} on `{machine}` is bound twice")
            }
            _ => format!("endpoint `{}` is bound twice", binding.endpoint),
        };
        out.push(
            Diagnostic::new(Code::EndpointConflict, message)
                .with_label(
                    cx.file,
                    text.span,
                    format!("bound by {}", binding_owner_name(cx, binding.owner)),
                )
                .with_label(
                    cx.file,
                    first_text.span,
                    format!("already bound by {}", binding_owner_name(cx, first)),
                )
                .with_help(
                    "give each socket its own endpoint; peers connect to the one that binds",
                ),
        );
    }
}

/// `hermes::inproc_across_processes`: `inproc://` only works inside one process.
fn check_inproc_across_processes(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    // (endpoint name) -> uses: (process, who, span)
    let mut uses: Vec<(String, String, String, Span)> = Vec::new();
    for binding in &cx.graph.bindings {
        if let Endpoint::Inproc { name } = &binding.endpoint
            && let Some(text) = binding_text(cx, binding.owner)
        {
            uses.push((
                name.clone(),
                binding.process.clone(),
                binding_owner_name(cx, binding.owner),
                text.span,
            ));
        }
    }
    for info in &cx.graph.ports {
        let (node_name, node) = &cx.topology.nodes.entries()[info.id.node];
        let process = node.process_name(node_name).to_string();
        let who = format!("node `{node_name}`");
        let Some(port) = cx.port(info.id) else {
            continue;
        };
        match (&info.transport, &info.channel, info.proxy_side) {
            (Some(Transport::Connect(Endpoint::Inproc { name })), _, _) => {
                if let Some(text) = &port.connect {
                    uses.push((name.clone(), process, who, text.span));
                }
            }
            (Some(Transport::Via), Some(Channel::Proxy(proxy)), Some(side)) => {
                let proxy = &cx.topology.proxies.entries()[*proxy].1;
                let text = if side == ProxySide::Frontend {
                    &proxy.frontend
                } else {
                    &proxy.backend
                };
                if let (Ok(Endpoint::Inproc { name }), Some(via)) =
                    (parse_endpoint(text), &port.via)
                {
                    uses.push((name, process, who, via.span));
                }
            }
            _ => {}
        }
    }
    let mut first: HashMap<&str, (&str, &str, Span)> = HashMap::new();
    let mut reported: HashSet<&str> = HashSet::new();
    for (name, process, who, span) in &uses {
        let Some(&(first_process, first_who, first_span)) = first.get(name.as_str()) else {
            first.insert(name, (process, who, *span));
            continue;
        };
        if first_process == process || !reported.insert(name) {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::InprocAcrossProcesses,
                format!(
                    "`inproc://{name}` is used by {who} and {first_who}, which run in different processes"
                ),
            )
            .with_label(cx.file, *span, format!("{who} runs in process `{process}`"))
            .with_label(cx.file, first_span, format!("{first_who} runs in process `{first_process}`"))
            .with_help(
                "inproc endpoints work within one process: give both the same `process:`, or use `ipc://` or `tcp://`",
            ),
        );
    }
}

/// `hermes::malformed_endpoint` for `hosts:`: an address must make `tcp://<address>:<port>`.
fn check_host_addresses(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (name, host) in cx.topology.hosts.iter() {
        let address = &host.address;
        let problem = match Endpoint::parse(&format!("tcp://{}:1", address.value)) {
            _ if address.value == "*" => {
                Some("`*` binds every interface; it is not an address".to_owned())
            }
            Ok(Endpoint::Tcp { .. }) => None,
            Ok(_) => Some("expected an IP address or a DNS name".to_owned()),
            Err(error) => Some(error.0),
        };
        if let Some(problem) = problem {
            out.push(
                Diagnostic::new(
                    Code::MalformedEndpoint,
                    format!("host `{name}` has address `{}`: {problem}", address.value),
                )
                .with_label(cx.file, address.span, "not an address")
                .with_help("write the IP address or DNS name other hosts reach it at, without a scheme or port"),
            );
        }
    }
}

/// The declared `host:` of every proxy and node, with who is placed there.
fn placements<'a>(cx: &Context<'a>) -> Vec<(String, &'a Spanned<String>)> {
    let proxies = cx.topology.proxies.iter().filter_map(|(name, proxy)| {
        proxy
            .host
            .as_ref()
            .map(|host| (format!("proxy `{name}`"), host))
    });
    let nodes = cx.topology.nodes.iter().filter_map(|(name, node)| {
        node.host
            .as_ref()
            .map(|host| (format!("node `{name}`"), host))
    });
    proxies.chain(nodes).collect()
}

/// `hermes::unknown_host`: every `host:` names a host of `hosts:`.
fn check_unknown_hosts(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let declared: Vec<&str> = cx
        .topology
        .hosts
        .names()
        .map(|name| name.as_str())
        .collect();
    for (who, host) in placements(cx) {
        if declared.contains(&host.as_str()) {
            continue;
        }
        let help = match did_you_mean(host, declared.iter().copied()) {
            Some(suggestion) => format!("did you mean `{suggestion}`?"),
            None => format!(
                "declare it under `hosts:` with the address other hosts reach it at: \
                 `hosts: {{ {host}: {{ address: <ip or dns name> }} }}`",
                host = host.value
            ),
        };
        out.push(
            Diagnostic::new(
                Code::UnknownHost,
                format!(
                    "{who} is placed on host `{}`, which `hosts:` does not declare",
                    host.value
                ),
            )
            .with_label(cx.file, host.span, "unknown host")
            .with_help(help),
        );
    }
}

/// One link between a connecting port and the socket it reaches: the port's node and `via:`
/// or `connect:`, and the bound side.
struct Link<'a> {
    port_host: Option<&'a str>,
    port_who: String,
    port_span: Span,
    bound: Endpoint,
    bound_text: &'a Spanned<String>,
    bound_host: Option<&'a str>,
    bound_who: String,
}

/// Every link of a port that connects: to its proxy's side, or to the port that binds its
/// endpoint.
fn links<'a>(cx: &Context<'a>) -> Vec<Link<'a>> {
    let mut links = Vec::new();
    for info in &cx.graph.ports {
        let (node_name, node) = &cx.topology.nodes.entries()[info.id.node];
        let Some(port) = cx.port(info.id) else {
            continue;
        };
        let Some(port_text) = port.via.as_ref().or(port.connect.as_ref()) else {
            continue;
        };
        let owner = match (&info.channel, info.proxy_side) {
            (Some(Channel::Proxy(proxy)), Some(side)) => BindingOwner::Proxy(*proxy, side),
            (Some(Channel::Endpoint(key)), None) => {
                let binder = cx.graph.bindings.iter().find(|binding| &binding.key == key);
                match binder {
                    Some(binding) => binding.owner,
                    None => continue,
                }
            }
            _ => continue,
        };
        let Some(bound_text) = binding_text(cx, owner) else {
            continue;
        };
        let Ok(bound) = parse_endpoint(bound_text) else {
            continue;
        };
        let bound_host = match owner {
            BindingOwner::Proxy(proxy, _) => cx.topology.proxies.entries()[proxy].1.host.as_ref(),
            BindingOwner::Port(id) => cx.topology.nodes.entries()[id.node].1.host.as_ref(),
        };
        links.push(Link {
            port_host: node.host.as_ref().map(|host| host.as_str()),
            port_who: format!("node `{node_name}`"),
            port_span: port_text.span,
            bound,
            bound_text,
            bound_host: bound_host.map(|host| host.as_str()),
            bound_who: binding_owner_name(cx, owner),
        });
    }
    links
}

fn host_label(host: Option<&str>) -> String {
    match host {
        Some(host) => format!("host `{host}`"),
        None => "the local machine (no `host:`)".to_owned(),
    }
}

/// `hermes::local_transport_across_hosts` and `hermes::loopback_across_hosts`: a link between
/// sockets on different hosts must be tcp, to an address the connecting host can reach.
fn check_links_across_hosts(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for link in links(cx) {
        let same_host = match (link.port_host, link.bound_host) {
            (Some(here), Some(there)) => here.eq_ignore_ascii_case(there),
            (here, there) => here == there,
        };
        if same_host {
            continue;
        }
        let places = format!(
            "{} runs on {}, {} on {}",
            link.port_who,
            host_label(link.port_host),
            link.bound_who,
            host_label(link.bound_host)
        );
        match &link.bound {
            Endpoint::Ipc { .. } | Endpoint::Inproc { .. } => out.push(
                Diagnostic::new(
                    Code::LocalTransportAcrossHosts,
                    format!("`{}` cannot cross hosts: {places}", link.bound_text.value),
                )
                .with_label(cx.file, link.port_span, "links across hosts")
                .with_label(cx.file, link.bound_text.span, "bound here")
                .with_help("bind a tcp endpoint such as `tcp://*:6000`, or place both on one host"),
            ),
            Endpoint::Tcp { host, .. } if link.bound.is_loopback() => {
                // A host whose own address is a loopback one (hosts on 127.0.0.2 and 127.0.0.3,
                // as tests run them) is reached there by design.
                let own_address = link
                    .bound_host
                    .and_then(|name| cx.topology.host_address(name))
                    .is_some_and(|address| address.eq_ignore_ascii_case(host));
                if own_address {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        Code::LoopbackAcrossHosts,
                        format!(
                            "`{}` is a loopback address, which only its own host reaches: {places}",
                            link.bound_text.value
                        ),
                    )
                    .with_label(cx.file, link.port_span, "links across hosts")
                    .with_label(cx.file, link.bound_text.span, "bound to loopback")
                    .with_help(
                        "bind every interface (`tcp://*:PORT`, reached at the host's address) or \
                         the host's own address",
                    ),
                );
            }
            Endpoint::Tcp { .. } => {}
        }
    }
}

/// `hermes::wrong_proxy_side`: publishers connect to a frontend, subscribers to a backend
/// (or capture), and no port binds a proxy's endpoint.
fn check_wrong_proxy_sides(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for info in &cx.graph.ports {
        let (Some(Channel::Proxy(proxy)), Some(side), Some(port)) =
            (&info.channel, info.proxy_side, cx.port(info.id))
        else {
            continue;
        };
        let proxy_name = cx.proxy_name(*proxy);
        let proxy_def = &cx.topology.proxies.entries()[*proxy].1;
        match (&info.transport, info.id.direction, side) {
            (Some(Transport::Bind(endpoint)), _, _) => {
                if let Some(text) = &port.bind {
                    out.push(
                        Diagnostic::new(
                            Code::WrongProxySide,
                            format!(
                                "port binds `{endpoint}`, the {} of proxy `{proxy_name}`",
                                side.key()
                            ),
                        )
                        .with_label(cx.file, text.span, "the proxy binds this endpoint")
                        .with_help(format!("connect to the proxy instead: `via: {proxy_name}`")),
                    );
                }
            }
            (
                Some(Transport::Connect(endpoint)),
                Direction::Publish,
                ProxySide::Backend | ProxySide::Capture,
            ) => {
                if let Some(text) = &port.connect {
                    out.push(
                        Diagnostic::new(
                            Code::WrongProxySide,
                            format!(
                                "publisher connects to `{endpoint}`, the {} of proxy `{proxy_name}`",
                                side.key()
                            ),
                        )
                        .with_label(cx.file, text.span, format!("the {} side", side.key()))
                        .with_label(cx.file, proxy_def.frontend.span, "publishers connect to the frontend")
                        .with_help(format!(
                            "connect to `{}`, or write `via: {proxy_name}`",
                            proxy_def.frontend
                        )),
                    );
                }
            }
            (Some(Transport::Connect(endpoint)), Direction::Subscribe, ProxySide::Frontend) => {
                if let Some(text) = &port.connect {
                    out.push(
                        Diagnostic::new(
                            Code::WrongProxySide,
                            format!(
                                "subscriber connects to `{endpoint}`, the frontend of proxy `{proxy_name}`"
                            ),
                        )
                        .with_label(cx.file, text.span, "the frontend side")
                        .with_label(cx.file, proxy_def.backend.span, "subscribers connect to the backend")
                        .with_help(format!(
                            "connect to `{}`, or write `via: {proxy_name}`",
                            proxy_def.backend
                        )),
                    );
                }
            }
            _ => {}
        }
    }
}

/// Whether a port is wired to a proxy side it should not use (reported separately).
fn wired_wrongly(info: &crate::graph::ResolvedPort) -> bool {
    matches!(
        (&info.transport, info.id.direction, info.proxy_side),
        (Some(Transport::Bind(_)), _, Some(_))
            | (
                Some(Transport::Connect(_)),
                Direction::Publish,
                Some(ProxySide::Backend | ProxySide::Capture)
            )
            | (
                Some(Transport::Connect(_)),
                Direction::Subscribe,
                Some(ProxySide::Frontend)
            )
    )
}

/// `hermes::unmatched_subscription`: every subscription matches some publication on its
/// channel, by segment prefix.
fn check_unmatched_subscriptions(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let mut topics_by_channel: HashMap<&Channel, Vec<&str>> = HashMap::new();
    for topic in &cx.graph.topics {
        topics_by_channel
            .entry(&topic.channel)
            .or_default()
            .push(&topic.topic);
    }
    // Publications whose wiring is already reported; a subscription they would match is not
    // reported again.
    let unwired: Vec<&str> = cx
        .graph
        .ports
        .iter()
        .filter(|info| info.id.direction == Direction::Publish && info.channel.is_none())
        .filter_map(|info| cx.port(info.id))
        .map(|port| port.topic.as_str())
        .collect();
    for info in &cx.graph.ports {
        if info.id.direction != Direction::Subscribe
            || !info.topics.is_empty()
            || wired_wrongly(info)
        {
            continue;
        }
        let (Some(channel), Some(port)) = (&info.channel, cx.port(info.id)) else {
            continue;
        };
        let subscription = port.topic.as_str();
        if unwired
            .iter()
            .any(|topic| hermes_core::topic::matches(subscription, topic))
        {
            continue;
        }
        let published = topics_by_channel
            .get(channel)
            .map_or(&[][..], Vec::as_slice);
        // Offer whole topics and their segment prefixes: `quote` should suggest `quotes`.
        let mut candidates: BTreeSet<&str> = BTreeSet::new();
        for topic in published {
            candidates.insert(topic);
            for (index, _) in topic.match_indices('/') {
                candidates.insert(&topic[..index]);
            }
        }
        let elsewhere = cx.graph.topics.iter().find(|topic| {
            &topic.channel != channel && hermes_core::topic::matches(subscription, &topic.topic)
        });
        let help = if let Some(suggestion) = did_you_mean(subscription, candidates.iter().copied())
        {
            format!("did you mean `{suggestion}`? topics match by whole `/`-separated segments")
        } else if let Some(topic) = elsewhere {
            format!(
                "`{}` is published on {}, not on {}",
                topic.topic,
                cx.describe(&topic.channel),
                cx.describe(channel)
            )
        } else if published.is_empty() {
            format!("nothing is published on {}", cx.describe(channel))
        } else {
            format!(
                "topics published on {} are {}",
                cx.describe(channel),
                quoted(published.iter().take(5))
            )
        };
        out.push(
            Diagnostic::new(
                Code::UnmatchedSubscription,
                format!(
                    "no publisher matches subscription `{subscription}` of node `{}` on {}",
                    cx.node_name(info.id.node),
                    cx.describe(channel)
                ),
            )
            .with_label(cx.file, port.topic.span, "matches no publication")
            .with_help(help),
        );
    }
}

/// `hermes::topic_type_conflict`: one topic, one message type.
fn check_topic_type_conflicts(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for topic in &cx.graph.topics {
        let mut first_by_type: Vec<(&str, &Spanned<String>)> = Vec::new();
        for &publisher in &topic.publishers {
            let Some(port) = cx.port(publisher) else {
                continue;
            };
            if first_by_type
                .iter()
                .any(|(name, _)| *name == port.message.as_str())
            {
                continue;
            }
            if let Some(&(first_type, first)) = first_by_type.first() {
                out.push(
                    Diagnostic::new(
                        Code::TopicTypeConflict,
                        format!(
                            "topic `{}` on {} is published as both `{first_type}` and `{}`",
                            topic.topic,
                            cx.describe(&topic.channel),
                            port.message
                        ),
                    )
                    .with_label(
                        cx.file,
                        port.message.span,
                        format!("published as `{}` here", port.message),
                    )
                    .with_label(
                        cx.file,
                        first.span,
                        format!("published as `{first_type}` here"),
                    )
                    .with_help("give each message type its own topic"),
                );
            }
            first_by_type.push((port.message.as_str(), &port.message));
        }
    }
}

/// `hermes::subscription_type_mismatch`: a subscription receives only its own message type.
fn check_subscription_types(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for info in &cx.graph.ports {
        if info.id.direction != Direction::Subscribe {
            continue;
        }
        let Some(port) = cx.port(info.id) else {
            continue;
        };
        if !cx.is_message(&port.message) {
            continue;
        }
        let mismatch = info.topics.iter().find_map(|&topic| {
            let topic = &cx.graph.topics[topic];
            topic.publishers.iter().find_map(|&publisher| {
                let published = cx.port(publisher)?;
                (published.message.value != port.message.value && cx.is_message(&published.message))
                    .then_some((topic, published))
            })
        });
        let Some((topic, published)) = mismatch else {
            continue;
        };
        out.push(
            Diagnostic::new(
                Code::SubscriptionTypeMismatch,
                format!(
                    "subscription `{}` expects `{}` but receives `{}` published as `{}`",
                    port.topic, port.message, topic.topic, published.message
                ),
            )
            .with_label(
                cx.file,
                port.message.span,
                format!("expects `{}`", port.message),
            )
            .with_label(
                cx.file,
                published.message.span,
                format!(
                    "`{}` is published as `{}` here",
                    topic.topic, published.message
                ),
            )
            .with_help("subscribe to a narrower topic, or make the message types agree"),
        );
    }
}

/// `hermes::codec_mismatch`: publisher and subscriber agree on the encoding.
fn check_codec_mismatches(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for info in &cx.graph.ports {
        if info.id.direction != Direction::Subscribe {
            continue;
        }
        let Some(port) = cx.port(info.id) else {
            continue;
        };
        let codec = cx.topology.port_settings(port).codec;
        let mismatch = info.topics.iter().find_map(|&topic| {
            let topic = &cx.graph.topics[topic];
            topic.publishers.iter().find_map(|&publisher| {
                let published = cx.port(publisher)?;
                let published_codec = cx.topology.port_settings(published).codec;
                (published_codec != codec).then_some((topic, published, published_codec))
            })
        });
        let Some((topic, published, published_codec)) = mismatch else {
            continue;
        };
        let span = port
            .codec
            .as_ref()
            .map_or(port.topic.span, |codec| codec.span);
        let published_span = published
            .codec
            .as_ref()
            .map_or(published.topic.span, |codec| codec.span);
        out.push(
            Diagnostic::new(
                Code::CodecMismatch,
                format!(
                    "subscription `{}` decodes {codec} but `{}` is published as {published_codec}",
                    port.topic, topic.topic
                ),
            )
            .with_label(cx.file, span, format!("decodes {codec}"))
            .with_label(
                cx.file,
                published_span,
                format!("encodes {published_codec}"),
            )
            .with_help("set the same `codec:` on both ports, or leave both to `defaults.codec`"),
        );
    }
}

/// `hermes::unused_publication` (warning): somebody subscribes to every publication.
fn check_unused_publications(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for topic in &cx.graph.topics {
        if !topic.subscribers.is_empty() {
            continue;
        }
        for &publisher in &topic.publishers {
            let Some(port) = cx.port(publisher) else {
                continue;
            };
            out.push(
                Diagnostic::new(
                    Code::UnusedPublication,
                    format!(
                        "nobody subscribes to `{}` on {}",
                        topic.topic,
                        cx.describe(&topic.channel)
                    ),
                )
                .with_label(cx.file, port.topic.span, "published but never received")
                .with_help("subscribe to it or remove the publication (`deny: [unused_publication]` makes this an error)"),
            );
        }
    }
}

/// `hermes::empty_node` (warning): every node has a port.
fn check_empty_nodes(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    for (name, node) in cx.topology.nodes.iter() {
        if node.publishes.is_empty() && node.subscribes.is_empty() {
            out.push(
                Diagnostic::new(Code::EmptyNode, format!("node `{name}` has no ports"))
                    .with_label(cx.file, name.span, "neither publishes nor subscribes")
                    .with_help("add `publishes:` or `subscribes:`, or remove the node"),
            );
        }
    }
}

/// `hermes::unused_proxy` (warning): every proxy carries something.
fn check_unused_proxies(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let used: HashSet<usize> = cx
        .graph
        .ports
        .iter()
        .filter_map(|info| match info.channel {
            Some(Channel::Proxy(proxy)) => Some(proxy),
            _ => None,
        })
        .collect();
    for (index, name) in cx.topology.proxies.names().enumerate() {
        if !used.contains(&index) {
            out.push(
                Diagnostic::new(Code::UnusedProxy, format!("no port uses proxy `{name}`"))
                    .with_label(cx.file, name.span, "unused")
                    .with_help(format!(
                        "route ports through it with `via: {name}`, or remove it"
                    )),
            );
        }
    }
}

/// `hermes::cycle` (warning): nodes that feed each other's subscriptions.
fn check_cycles(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let flow = cx.graph.data_flow();
    // Each node that hears itself, with the first topic it does so on.
    let mut looping: HashSet<usize> = HashSet::new();
    let mut self_loops: Vec<(usize, &str)> = Vec::new();
    for topic in &cx.graph.topics {
        for publisher in &topic.publishers {
            let hears_itself = topic
                .subscribers
                .iter()
                .any(|subscriber| subscriber.node == publisher.node);
            if hears_itself && looping.insert(publisher.node) {
                self_loops.push((publisher.node, &topic.topic));
            }
        }
    }
    for (node, topic) in self_loops {
        let name = cx.node_name(node);
        out.push(
            Diagnostic::new(
                Code::Cycle,
                format!("node `{name}` receives its own publication `{topic}`"),
            )
            .with_label(
                cx.file,
                name.span,
                "publishes and subscribes to the same topic",
            )
            .with_help("feedback loops can amplify traffic: break the loop unless it is intended"),
        );
    }
    for component in tarjan_scc(&flow) {
        if component.len() < 2 {
            continue;
        }
        let members: HashSet<NodeIndex> = component.iter().copied().collect();
        let Some(&start) = component.iter().min() else {
            continue;
        };
        let path = shortest_cycle(&flow, start, &members);
        let names: Vec<String> = path
            .iter()
            .chain(std::iter::once(&start))
            .map(|node| format!("`{}`", cx.node_name(node.index())))
            .collect();
        let name = cx.node_name(start.index());
        out.push(
            Diagnostic::new(
                Code::Cycle,
                format!("nodes form a cycle: {}", names.join(" → ")),
            )
            .with_label(cx.file, name.span, "the cycle starts here")
            .with_help("feedback loops can amplify traffic: break the loop unless it is intended"),
        );
    }
}

/// The nodes of a shortest cycle through `start` within one strongly connected component,
/// starting with `start`.
fn shortest_cycle(
    flow: &DiGraph<usize, ()>,
    start: NodeIndex,
    members: &HashSet<NodeIndex>,
) -> Vec<NodeIndex> {
    let mut previous: HashMap<NodeIndex, NodeIndex> = HashMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        let mut successors: Vec<NodeIndex> = flow.neighbors(node).collect();
        successors.sort_unstable();
        for next in successors {
            if next == start {
                let mut path = vec![node];
                let mut current = node;
                while let Some(&before) = previous.get(&current) {
                    path.push(before);
                    current = before;
                }
                path.reverse();
                return path;
            }
            if members.contains(&next) && !previous.contains_key(&next) && next != start {
                previous.insert(next, node);
                queue.push_back(next);
            }
        }
    }
    vec![start]
}

/// Every endpoint the topology writes, with where: proxies' three sockets and ports' `bind:`
/// and `connect:`.
fn written_endpoints<'a>(cx: &Context<'a>) -> Vec<&'a Spanned<String>> {
    let topology = cx.topology;
    let mut endpoints = Vec::new();
    for (_, proxy) in &topology.proxies {
        endpoints.push(&proxy.frontend);
        endpoints.push(&proxy.backend);
        endpoints.extend(proxy.capture.as_ref());
    }
    for (_, node) in &topology.nodes {
        for (_, _, port) in node.ports() {
            endpoints.extend(port.bind.as_ref());
            endpoints.extend(port.connect.as_ref());
        }
    }
    endpoints
}

/// `hermes::insecure_endpoint` (warning): without `security:`, a tcp endpoint that other hosts
/// can reach carries every message in the clear and admits anyone.
fn check_insecure_endpoints(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    if cx.topology.security.is_some() {
        return;
    }
    for endpoint in written_endpoints(cx) {
        let Ok(parsed) = Endpoint::parse(endpoint) else {
            continue;
        };
        if parsed.is_loopback() {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::InsecureEndpoint,
                format!("`{endpoint}` is reachable beyond this host, in the clear and by anyone"),
            )
            .with_label(cx.file, endpoint.span, "not loopback")
            .with_help(
                "add `security: { keys: keys }` and run `hermes keygen` to encrypt every link \
                 and admit only declared nodes, or bind to 127.0.0.1",
            ),
        );
    }
}

/// `hermes::pointless_security` (warning): CURVE covers tcp and ipc; a topology whose every
/// link is inproc gains nothing from `security:`.
fn check_pointless_security(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(security) = &cx.topology.security else {
        return;
    };
    let endpoints = written_endpoints(cx);
    let all_inproc = !endpoints.is_empty()
        && endpoints
            .iter()
            .all(|endpoint| matches!(Endpoint::parse(endpoint), Ok(Endpoint::Inproc { .. })));
    if all_inproc {
        out.push(
            Diagnostic::new(
                Code::PointlessSecurity,
                "`security:` is on, but every link is inproc: CURVE does not cover inproc, and \
                 no other process can reach it",
            )
            .with_label(cx.file, security.keys.span, "security declared here")
            .with_help("remove `security:`, or use tcp or ipc endpoints"),
        );
    }
}

/// `hermes::invalid_value` for pinned keys: each is 40 characters of Z85 and names a declared
/// node, proxy or operator.
fn check_security_pins(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let Some(security) = &cx.topology.security else {
        return;
    };
    let z85 = |c: char| c.is_ascii_alphanumeric() || ".-:+=^!/*?&<>()[]{}@%$#".contains(c);
    let operators = security.operator_names();
    let groups = [
        (
            "node",
            &security.pins.nodes,
            cx.topology
                .nodes
                .names()
                .map(|n| n.value.as_str())
                .collect::<Vec<_>>(),
        ),
        (
            "proxy",
            &security.pins.proxies,
            cx.topology
                .proxies
                .names()
                .map(|n| n.value.as_str())
                .collect(),
        ),
        ("operator", &security.pins.operators, operators),
    ];
    for (what, pins, declared) in groups {
        for (name, key) in pins {
            if !declared.contains(&name.as_str()) {
                out.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("a key is pinned for {what} `{name}`, which is not declared"),
                    )
                    .with_label(cx.file, name.span, "no such name")
                    .with_optional_help(
                        did_you_mean(name, declared.iter().copied())
                            .map(|found| format!("did you mean `{found}`?")),
                    ),
                );
            }
            if key.chars().count() != 40 || !key.chars().all(z85) {
                out.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!(
                            "the key pinned for {what} `{name}` is not a Z85 public key: expected \
                             40 characters, found {}",
                            key.chars().count()
                        ),
                    )
                    .with_label(cx.file, key.span, "not a public key")
                    .with_help(format!(
                        "copy the `public-key` of `{}/{name}.key`, as `hermes keygen` wrote it",
                        match what {
                            "node" => "nodes",
                            "proxy" => "proxies",
                            _ => "operators",
                        }
                    )),
                );
            }
        }
    }
}

/// `hermes::invalid_value`: the bounds of `batch:` sections are within their limits.
fn check_batching(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let sections = std::iter::once(("`defaults`".to_owned(), cx.topology.defaults.batch.as_ref()))
        .chain(
            cx.topology
                .nodes
                .iter()
                .map(|(name, node)| (format!("node `{name}`"), node.batch.as_ref())),
        );
    for (owner, section) in sections {
        let Some(section) = section else { continue };
        let bounds = [
            (
                "max_delay_us",
                section.max_delay_us.as_ref(),
                1,
                crate::model::Batching::MAX_DELAY_US,
                "microseconds",
            ),
            (
                "max_bytes",
                section.max_bytes.as_ref(),
                crate::model::Batching::MIN_BYTES,
                crate::model::Batching::MAX_BYTES,
                "bytes",
            ),
        ];
        for (key, value, min, max, unit) in bounds {
            let Some(value) = value else { continue };
            if !(min..=max).contains(&value.value) {
                out.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!(
                            "`batch.{key}` of {owner} is {}, expected {min} to {max} {unit}",
                            value.value
                        ),
                    )
                    .with_label(cx.file, value.span, "out of range")
                    .with_help(format!("write a value from {min} to {max}")),
                );
            }
        }
    }
}

/// `hermes::invalid_value`: `resources:` are quantities Kubernetes accepts, so a typo is found
/// here rather than when `kubectl apply` refuses the exported Deployment (offline validators
/// take any string).
fn check_resources(cx: &Context<'_>, out: &mut Vec<Diagnostic>) {
    let topology = cx.topology;
    let sections = std::iter::once((
        "`defaults`".to_owned(),
        topology.defaults.resources.as_ref(),
    ))
    .chain(
        topology
            .proxies
            .iter()
            .map(|(name, proxy)| (format!("proxy `{name}`"), proxy.resources.as_ref())),
    )
    .chain(
        topology
            .nodes
            .iter()
            .map(|(name, node)| (format!("node `{name}`"), node.resources.as_ref())),
    );
    for (owner, section) in sections {
        let Some(section) = section else { continue };
        let keys = [
            ("cpu", section.cpu.as_ref(), "`100m` or `0.5`"),
            ("memory", section.memory.as_ref(), "`64Mi` or `1Gi`"),
        ];
        for (key, value, examples) in keys {
            let Some(value) = value else { continue };
            if !is_kubernetes_quantity(&value.value) {
                out.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!(
                            "`resources.{key}` of {owner} is `{}`, expected a Kubernetes \
                             quantity such as {examples}",
                            value.value
                        ),
                    )
                    .with_label(cx.file, value.span, "not a quantity")
                    .with_help(
                        "write a number with an optional suffix: `m`, `k`, `M`, `G`, `T`, `P`, \
                         `E`, or `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`",
                    ),
                );
            }
        }
    }
}

/// Whether `text` is a non-negative Kubernetes quantity: digits with an optional fraction,
/// then an SI suffix (`m`, `k`, `M` … `E`), a binary one (`Ki` … `Ei`), or an exponent (`e3`).
fn is_kubernetes_quantity(text: &str) -> bool {
    let text = text.strip_prefix('+').unwrap_or(text);
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(number_end);
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.len() + fraction.len() == 0 || !digits(whole) || !digits(fraction) {
        return false;
    }
    match suffix {
        "" | "m" | "k" | "M" | "G" | "T" | "P" | "E" => true,
        "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei" => true,
        _ => suffix
            .strip_prefix(['e', 'E'])
            .map(|exponent| exponent.strip_prefix(['+', '-']).unwrap_or(exponent))
            .is_some_and(|exponent| !exponent.is_empty() && digits(exponent)),
    }
}

#[cfg(test)]
mod tests {
    use super::is_kubernetes_quantity;

    #[test]
    fn kubernetes_quantities_are_numbers_with_a_suffix_or_an_exponent() {
        for valid in [
            "100m",
            "0.5",
            "2",
            "1.",
            ".5",
            "64Mi",
            "1Gi",
            "128974848",
            "129e6",
            "1E3",
            "+1k",
            "0",
        ] {
            assert!(is_kubernetes_quantity(valid), "{valid}");
        }
        for invalid in [
            "", "lots", "-1", ".", "64MB", "1 Gi", "1.2.3", "e3", "1e", "Mi", "100mm", "1e+",
        ] {
            assert!(!is_kubernetes_quantity(invalid), "{invalid}");
        }
    }
}
