//! The operator's credentials of `tap`, `stats` and `pub`: on a secured topology they connect
//! to a proxy as CURVE clients with an operator's key pair.

use std::path::PathBuf;

use hermes_build::Loaded;
use hermes_runtime::{Curve, KeyRole, KeyStore};

/// The security options `tap`, `stats` and `pub` share.
#[derive(Debug, Clone, clap::Args)]
pub struct OperatorArgs {
    /// The key directory, as `hermes keygen` wrote it; default: the topology's
    /// `security.keys`. Giving it turns security on for a topology without `security:`.
    #[arg(long, value_name = "DIR", env = "HERMES_KEYS")]
    keys: Option<PathBuf>,
    /// The operator whose key pair to use (`operators/NAME.key_secret`).
    #[arg(long, value_name = "NAME", default_value = "operator")]
    operator: String,
    /// Connect without CURVE, even to a topology with `security:`.
    #[arg(long, conflicts_with = "keys")]
    insecure: bool,
}

impl OperatorArgs {
    /// The CURVE client settings for connecting to proxy `proxy` of `loaded`: `None` when
    /// security is off.
    ///
    /// # Errors
    ///
    /// A message naming the key file that is missing, unreadable, malformed or too open.
    pub fn curve_to_proxy(&self, loaded: &Loaded, proxy: &str) -> Result<Option<Curve>, String> {
        let Some(store) = self.store(loaded) else {
            return Ok(None);
        };
        let keys = store
            .pair(KeyRole::Operator, &self.operator)
            .map_err(|error| format!("{error}\nhelp: `hermes keygen` writes operator keys"))?;
        let server = store
            .public(KeyRole::Proxy, proxy)
            .map_err(|error| error.to_string())?;
        Ok(Some(Curve::Client { keys, server }))
    }

    /// The CURVE settings for `tap` and `stats` listening as `proxy` and `endpoint` (their
    /// `--proxy` and `--endpoint`) say.
    ///
    /// # Errors
    ///
    /// As [`curve_to_proxy`](OperatorArgs::curve_to_proxy), and when security is on but the
    /// endpoint is no proxy's, so the server's key is unknown.
    pub fn curve_to_listen(
        &self,
        loaded: &Loaded,
        proxy: Option<&str>,
        endpoint: &str,
    ) -> Result<Option<Curve>, String> {
        if self.store(loaded).is_none() {
            return Ok(None);
        }
        let explicit = proxy.is_none().then_some(endpoint);
        match crate::topology::listened_proxy(loaded, proxy, explicit) {
            Some(name) => self.curve_to_proxy(loaded, &name),
            None => Err(format!(
                "security is on, and `{endpoint}` is no proxy's backend or capture, so its \
                 server key is unknown\nhelp: name the proxy with `--proxy`, or pass \
                 `--insecure` for an endpoint without security"
            )),
        }
    }

    /// The CURVE settings for `hermes pub` standing in for node `node`, which publishes through
    /// proxy `proxy`: the node's own key pair, since a secured proxy admits on its frontend only
    /// the nodes that publish through it.
    ///
    /// # Errors
    ///
    /// A message naming the key file that is missing, unreadable, malformed or too open.
    pub fn curve_as_node(
        &self,
        loaded: &Loaded,
        node: &str,
        proxy: &str,
    ) -> Result<Option<Curve>, String> {
        let Some(store) = self.store(loaded) else {
            return Ok(None);
        };
        let keys = store.pair(KeyRole::Node, node).map_err(|error| {
            format!("{error}\nhelp: on a secured topology, `hermes pub` publishes as the node that declares the topic")
        })?;
        let server = store
            .public(KeyRole::Proxy, proxy)
            .map_err(|error| error.to_string())?;
        Ok(Some(Curve::Client { keys, server }))
    }

    /// Whether security is on for `loaded`.
    pub fn secured(&self, loaded: &Loaded) -> bool {
        self.store(loaded).is_some()
    }

    /// The key store, when security is on.
    fn store(&self, loaded: &Loaded) -> Option<KeyStore> {
        if self.insecure {
            return None;
        }
        match (&self.keys, &loaded.topology.security) {
            (Some(dir), _) => Some(KeyStore::new(dir)),
            (None, Some(_)) => Some(KeyStore::new(crate::keygen::key_directory(loaded))),
            (None, None) => None,
        }
    }
}
