//! A naming service (统一命名服务): names that resolve to the addresses of live servers.
//!
//! The idea to take away: **a name is a directory, and what it names is whatever is alive
//! under it.** The course's picture: nobody remembers `127.0.0.1:8081`, everybody remembers
//! `web`. A server that provides `web` binds itself as an ephemeral sequential child of
//! `/naming/web` holding its address; a client resolves `web` by reading the children's data.
//! Because the children are ephemeral, a crashed server drops out of the answer by itself, a
//! timeout after it stopped talking; a client that keeps a child watch on the name hears when
//! the set changes (the course's 服务器动态上下线, DistributeServer/DistributeClient).
//!
//! A sequential node is also the simplest way to hand out **unique names** across processes:
//! every create under one parent gets the next number, and no two processes ever get the same.

use ch01_znode::{CreateMode, ZkError};

use super::{children, create, ensure_path, Result};
use crate::client::Client;

// ANCHOR: naming
/// Names under `root` (`/naming`), each resolving to the addresses bound to it.
#[derive(Clone, Debug)]
pub struct Registry {
    root: String,
}

impl Registry {
    /// The registry under `root`.
    pub fn new(root: &str) -> Registry {
        Registry {
            root: root.trim_end_matches('/').to_string(),
        }
    }

    /// Binds `address` to `name` for as long as this session lives; returns the node.
    pub async fn bind(&self, client: &Client, name: &str, address: &str) -> Result<String> {
        let dir = format!("{}/{name}", self.root);
        ensure_path(client, &dir).await?;
        let node = format!("{dir}/addr-");
        create(
            client,
            &node,
            address.as_bytes(),
            CreateMode::EphemeralSequential,
        )
        .await
    }

    /// The addresses bound to `name` now, in the order they were bound; with `watch`, a child
    /// watch on the name rings when the set changes.
    pub async fn resolve(&self, client: &Client, name: &str, watch: bool) -> Result<Vec<String>> {
        let dir = format!("{}/{name}", self.root);
        let mut addresses = Vec::new();
        let nodes = match children(client, &dir, watch).await {
            Err(e) if e.zk_error() == Some(ZkError::NoNode) => return Ok(addresses),
            other => other?,
        };
        for node in nodes {
            match client.get_data(&format!("{dir}/{node}"), false).await {
                Ok((data, _)) => {
                    addresses.push(String::from_utf8_lossy(&data.unwrap_or_default()).into())
                }
                // Gone between the list and the read: its server just went down.
                Err(e) if e.zk_error() == Some(ZkError::NoNode) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(addresses)
    }

    /// A name nobody else will ever get from this registry: `<prefix>0000000007`.
    pub async fn unique_name(&self, client: &Client, prefix: &str) -> Result<String> {
        let dir = format!("{}/unique", self.root);
        ensure_path(client, &dir).await?;
        let path = create(
            client,
            &format!("{dir}/{prefix}"),
            b"",
            CreateMode::PersistentSequential,
        )
        .await?;
        Ok(path[dir.len() + 1..].to_string())
    }
}
// ANCHOR_END: naming
