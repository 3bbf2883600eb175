//! The protobuf model of a topology's messages files ([`hermes_core::proto`]), built once from
//! the YAML: the `.proto` files, the generated Rust types and the `hermes` command's runtime
//! descriptors are all made from it.

use std::collections::{BTreeMap, HashMap};

use hermes_core::proto::{Cardinality, Enum, Field, File, Kind, Message, TypeName};

use crate::Loaded;
use crate::model::{FieldDef, FieldType};

/// Every declared type name: its package, and whether it is an enum.
pub(crate) fn declared_types(loaded: &Loaded) -> HashMap<&str, (&str, bool)> {
    let mut names = HashMap::new();
    for source in &loaded.messages {
        let package = source.schema.package.as_str();
        for name in source.schema.enums.names() {
            names.insert(name.as_str(), (package, true));
        }
        for name in source.schema.messages.names() {
            names.insert(name.as_str(), (package, false));
        }
    }
    names
}

/// The protobuf model of `field`, numbered `number`; `None` when its type does not parse or
/// names an undeclared type (the checks report those).
pub(crate) fn field(
    types: &HashMap<&str, (&str, bool)>,
    number: u32,
    field: &FieldDef,
) -> Option<Field> {
    let ty = field.field_type().ok()?;
    let element = |ty: &FieldType| -> Option<Kind> {
        match ty {
            FieldType::Scalar(scalar) => Some(Kind::Scalar(*scalar)),
            FieldType::Named(name) => {
                let (package, is_enum) = *types.get(name.as_str())?;
                let target = TypeName {
                    package: package.to_owned(),
                    name: name.clone(),
                };
                Some(if is_enum {
                    Kind::Enum(target)
                } else {
                    Kind::Message(target)
                })
            }
            FieldType::List(_) | FieldType::Map(_) => None,
        }
    };
    let (cardinality, kind) = match &ty {
        FieldType::List(inner) => (Cardinality::Repeated, element(inner)?),
        FieldType::Map(inner) => (Cardinality::Map, element(inner)?),
        single if field.optional => (Cardinality::Optional, element(single)?),
        single => (Cardinality::Single, element(single)?),
    };
    Some(Field {
        name: field.name.value.clone(),
        number,
        doc: field.doc.clone(),
        cardinality,
        kind,
    })
}

/// One [`File`] per package, sorted by package; enums and messages sorted by name.
///
/// # Examples
///
/// ```
/// # let dir = tempfile::tempdir().unwrap();
/// # std::fs::write(dir.path().join("messages.yaml"), "package: demo\nmessages:\n  Tick:\n    fields:\n      - { name: n, type: u64 }\n").unwrap();
/// # std::fs::write(dir.path().join("topology.yaml"), "name: demo\nmessages: [messages.yaml]\n").unwrap();
/// # let path = dir.path().join("topology.yaml");
/// let loaded = hermes_build::load(&path)?;
/// let files = hermes_build::proto::files(&loaded);
/// assert_eq!(files[0].package, "demo");
/// assert_eq!(files[0].messages[0].fields[0].number, 1);
/// # Ok::<(), hermes_build::LoadError>(())
/// ```
pub fn files(loaded: &Loaded) -> Vec<File> {
    let types = declared_types(loaded);
    let mut packages: BTreeMap<&str, File> = BTreeMap::new();
    for source in &loaded.messages {
        let package = source.schema.package.as_str();
        let file = packages.entry(package).or_insert_with(|| File {
            package: package.to_owned(),
            enums: Vec::new(),
            messages: Vec::new(),
        });
        for (name, definition) in source.schema.enums.iter() {
            file.enums.push(Enum {
                name: name.value.clone(),
                variants: definition
                    .variants
                    .iter()
                    .map(|v| v.value.clone())
                    .collect(),
                reserved: definition.reserved.to_proto(),
            });
        }
        for (name, definition) in source.schema.messages.iter() {
            file.messages.push(Message {
                name: name.value.clone(),
                doc: definition.doc.clone(),
                fields: definition
                    .numbered_fields()
                    .filter_map(|(number, definition)| field(&types, number, definition))
                    .collect(),
                reserved: definition.reserved.to_proto(),
            });
        }
    }
    let mut files: Vec<File> = packages.into_values().collect();
    for file in &mut files {
        file.enums.sort_by(|a, b| a.name.cmp(&b.name));
        file.messages.sort_by(|a, b| a.name.cmp(&b.name));
    }
    files
}
