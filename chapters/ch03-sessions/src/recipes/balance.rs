//! Soft load balancing (软负载均衡): live servers with visit counters; the least visited
//! takes the next client.
//!
//! The idea to take away: **a version number makes a counter safe without a lock.** Each
//! server joins `/balance` as an ephemeral node named after itself, holding how many clients
//! it was given. A client picking a server reads every counter, takes the smallest, and writes
//! the counter plus one *at the version it read*. If someone else picked the same server in
//! between, the version moved on, the write fails with `BadVersion`, and the client reads again.
//! No update is lost, and every successful pick went to a server that was least loaded when it
//! was written, so the counters never drift more than one apart.
//!
//! "Soft" because nothing forces the clients: the balancing holds as long as they all follow
//! the rule. And since the nodes are ephemeral, a server that goes down stops being picked.

use ch01_znode::{CreateMode, ZkError};

use super::{children, create, ensure_path, Result};
use crate::client::Client;

// ANCHOR: balance
/// The servers under `dir`, each with its visit count.
#[derive(Clone, Debug)]
pub struct Balancer {
    dir: String,
}

impl Balancer {
    /// The balancer at `dir`.
    pub fn new(dir: &str) -> Balancer {
        Balancer {
            dir: dir.trim_end_matches('/').to_string(),
        }
    }

    /// Server `name` is up, with no visits yet, for as long as this session lives.
    pub async fn join(&self, client: &Client, name: &str) -> Result<()> {
        ensure_path(client, &self.dir).await?;
        let path = format!("{}/{name}", self.dir);
        create(client, &path, b"0", CreateMode::Ephemeral)
            .await
            .map(drop)
    }

    /// Each live server and its visits, by name.
    pub async fn loads(&self, client: &Client) -> Result<Vec<(String, u64, i32)>> {
        let mut loads = Vec::new();
        for name in children(client, &self.dir, false).await? {
            match client
                .get_data(&format!("{}/{name}", self.dir), false)
                .await
            {
                Ok((data, stat)) => {
                    let text = String::from_utf8_lossy(&data.unwrap_or_default()).into_owned();
                    loads.push((name, text.trim().parse().unwrap_or(0), stat.version));
                }
                // Gone between the list and the read: that server just went down.
                Err(e) if e.zk_error() == Some(ZkError::NoNode) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(loads)
    }

    /// Picks the least visited server and counts the visit; `None` if no server is up.
    pub async fn pick(&self, client: &Client) -> Result<Option<String>> {
        loop {
            let loads = self.loads(client).await?;
            let Some((name, visits, version)) =
                loads.into_iter().min_by_key(|(n, v, _)| (*v, n.clone()))
            else {
                return Ok(None);
            };
            let path = format!("{}/{name}", self.dir);
            let counted = (visits + 1).to_string();
            match client.set_data(&path, counted.as_bytes(), version).await {
                Ok(_) => return Ok(Some(name)),
                // Someone counted a visit since we read (BadVersion), or the server went down
                // (NoNode): read again.
                Err(e) if matches!(e.zk_error(), Some(ZkError::BadVersion | ZkError::NoNode)) => {
                    continue
                }
                Err(e) => return Err(e),
            }
        }
    }
}
// ANCHOR_END: balance
