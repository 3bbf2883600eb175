//! The model as prost-types descriptors, for tools that reflect on payloads at run time.

use prost_types::descriptor_proto::ReservedRange;
use prost_types::enum_descriptor_proto::EnumReservedRange;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{
    DescriptorProto, EnumDescriptorProto, EnumValueDescriptorProto, FieldDescriptorProto,
    FileDescriptorProto, MessageOptions, OneofDescriptorProto,
};

use super::{Cardinality, Field, File, Kind, Scalar};

impl File {
    /// The file as a `FileDescriptorProto`, matching [`to_proto`](File::to_proto) field for
    /// field (maps become their `<Field>Entry` message, proto3 `optional` its synthetic oneof).
    pub fn to_descriptor(&self) -> FileDescriptorProto {
        FileDescriptorProto {
            name: Some(self.file_name()),
            package: Some(self.package.clone()),
            syntax: Some("proto3".to_owned()),
            dependency: self
                .imports()
                .into_iter()
                .map(|package| format!("{package}.proto"))
                .collect(),
            enum_type: self
                .enums
                .iter()
                .map(|definition| EnumDescriptorProto {
                    name: Some(definition.name.clone()),
                    value: definition
                        .variants
                        .iter()
                        .enumerate()
                        .map(|(number, variant)| EnumValueDescriptorProto {
                            name: Some(definition.value_name(variant)),
                            number: i32::try_from(number).ok(),
                            options: None,
                        })
                        .collect(),
                    reserved_range: definition
                        .reserved
                        .numbers
                        .iter()
                        .filter_map(|&number| i32::try_from(number).ok())
                        .map(|number| EnumReservedRange {
                            start: Some(number),
                            end: Some(number),
                        })
                        .collect(),
                    reserved_name: definition
                        .reserved
                        .names
                        .iter()
                        .map(|name| definition.value_name(name))
                        .collect(),
                    ..EnumDescriptorProto::default()
                })
                .collect(),
            message_type: self
                .messages
                .iter()
                .map(|message| {
                    let mut descriptor = DescriptorProto {
                        name: Some(message.name.clone()),
                        // Message reserved ranges are end-exclusive, enum ones inclusive.
                        reserved_range: message
                            .reserved
                            .numbers
                            .iter()
                            .filter_map(|&number| i32::try_from(number).ok())
                            .map(|number| ReservedRange {
                                start: Some(number),
                                end: number.checked_add(1),
                            })
                            .collect(),
                        reserved_name: message.reserved.names.clone(),
                        ..DescriptorProto::default()
                    };
                    for field in &message.fields {
                        let field = self.field(&message.name, field, &mut descriptor);
                        descriptor.field.push(field);
                    }
                    descriptor
                })
                .collect(),
            ..FileDescriptorProto::default()
        }
    }

    /// The descriptor of `field` of message `message`, adding its map entry or synthetic oneof
    /// to `parent`.
    fn field(
        &self,
        message: &str,
        field: &Field,
        parent: &mut DescriptorProto,
    ) -> FieldDescriptorProto {
        let (kind, type_name) = element(&field.kind);
        let mut descriptor = FieldDescriptorProto {
            name: Some(field.name.clone()),
            number: i32::try_from(field.number).ok(),
            json_name: Some(field.name.clone()),
            label: Some(Label::Optional as i32),
            r#type: Some(kind as i32),
            type_name,
            ..FieldDescriptorProto::default()
        };
        match field.cardinality {
            Cardinality::Single => {}
            Cardinality::Optional => {
                if kind != Type::Message {
                    descriptor.proto3_optional = Some(true);
                    descriptor.oneof_index = i32::try_from(parent.oneof_decl.len()).ok();
                    parent.oneof_decl.push(OneofDescriptorProto {
                        name: Some(format!("_{}", field.name)),
                        options: None,
                    });
                }
            }
            Cardinality::Repeated => descriptor.label = Some(Label::Repeated as i32),
            Cardinality::Map => {
                let entry = map_entry_name(&field.name);
                parent
                    .nested_type
                    .push(map_entry(&entry, kind, descriptor.type_name.take()));
                descriptor.label = Some(Label::Repeated as i32);
                descriptor.r#type = Some(Type::Message as i32);
                descriptor.type_name = Some(format!(".{}.{message}.{entry}", self.package));
            }
        }
        descriptor
    }
}

/// protoc's name for the entry message of map field `field`: `tags` → `TagsEntry`.
fn map_entry_name(field: &str) -> String {
    use heck::ToUpperCamelCase as _;
    format!("{}Entry", field.to_upper_camel_case())
}

fn element(kind: &Kind) -> (Type, Option<String>) {
    match kind {
        Kind::Scalar(scalar) => (scalar_type(*scalar), None),
        Kind::Enum(target) => (Type::Enum, Some(format!(".{}", target.full_name()))),
        Kind::Message(target) => (Type::Message, Some(format!(".{}", target.full_name()))),
    }
}

fn scalar_type(scalar: Scalar) -> Type {
    match scalar {
        Scalar::Bool => Type::Bool,
        Scalar::I32 => Type::Int32,
        Scalar::I64 => Type::Int64,
        Scalar::U32 => Type::Uint32,
        Scalar::U64 | Scalar::Timestamp => Type::Uint64,
        Scalar::F32 => Type::Float,
        Scalar::F64 => Type::Double,
        Scalar::String => Type::String,
        Scalar::Bytes => Type::Bytes,
    }
}

fn map_entry(name: &str, kind: Type, type_name: Option<String>) -> DescriptorProto {
    let field =
        |field: &str, number: i32, kind: Type, type_name: Option<String>| FieldDescriptorProto {
            name: Some(field.to_owned()),
            number: Some(number),
            json_name: Some(field.to_owned()),
            label: Some(Label::Optional as i32),
            r#type: Some(kind as i32),
            type_name,
            ..FieldDescriptorProto::default()
        };
    DescriptorProto {
        name: Some(name.to_owned()),
        field: vec![
            field("key", 1, Type::String, None),
            field("value", 2, kind, type_name),
        ],
        options: Some(MessageOptions {
            map_entry: Some(true),
            ..MessageOptions::default()
        }),
        ..DescriptorProto::default()
    }
}
