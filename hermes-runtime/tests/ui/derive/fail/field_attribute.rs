// The fingerprint covers every field: no field can be skipped or renamed.
use hermes_runtime::HermesMessage;

#[derive(serde::Serialize, serde::Deserialize, HermesMessage)]
#[hermes(codec = "json")]
pub enum Event {
    #[hermes(name = "tick")]
    Tick {
        #[hermes(skip)]
        seq: u64,
    },
}

fn main() {}
