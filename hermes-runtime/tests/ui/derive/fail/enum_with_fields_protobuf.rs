use hermes_runtime::HermesMessage;

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
pub enum Shape {
    Point,
    Circle(f64),
}

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(codec = "protobuf")]
pub enum Command {
    Stop,
    Move { x: i32, y: i32 },
}

fn main() {}
