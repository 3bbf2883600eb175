//! How the publishers of nodes under test hand their frames to the engine.

use crossbeam_channel::Sender;

use crate::error::{Error, Result};

/// The frames of one envelope a node under test published, with where they came from.
pub(crate) struct Published {
    /// The node's position in the backtest.
    pub(crate) node: usize,
    /// The publication's position in the node's port table.
    pub(crate) port: usize,
    /// The envelope's frames, as a socket would have sent them.
    pub(crate) frames: Vec<Vec<u8>>,
}

/// A publisher's end of the engine's queue: everything published waits there, in the order
/// it was published, until the engine delivers it.
pub(crate) struct Outbox {
    sender: Sender<Published>,
    node: usize,
    port: usize,
}

impl Outbox {
    /// The outbox of publication `port` of node `node`.
    pub(crate) fn new(sender: Sender<Published>, node: usize, port: usize) -> Outbox {
        Outbox { sender, node, port }
    }

    /// Queues the frames of one envelope.
    ///
    /// # Errors
    ///
    /// [`Error::Disconnected`] once the backtest is gone.
    pub(crate) fn send(&self, frames: &[Vec<u8>]) -> Result<()> {
        self.sender
            .send(Published {
                node: self.node,
                port: self.port,
                frames: frames.to_vec(),
            })
            .map_err(|_| Error::Disconnected)
    }
}
