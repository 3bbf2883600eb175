use hermes_runtime::HermesMessage;

#[derive(HermesMessage)]
pub union Bits {
    pub int: u64,
    pub float: f64,
}

#[derive(HermesMessage)]
pub enum Never {}

fn main() {}
