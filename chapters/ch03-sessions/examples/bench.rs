//! Measures create/set/get throughput and p50/p99 latency of any ZooKeeper
//! server (Keeper or the real one) over the wire:
//!
//! ```text
//! cargo run --release -p ch03-sessions --example bench -- --server 127.0.0.1:2181
//! ```
//!
//! Prints a markdown table, one row per operation.

use std::net::SocketAddr;

use ch03_sessions::client::bench::{run, BenchConfig, OpReport};
use clap::Parser;

#[derive(Parser)]
#[command(about = "ZooKeeper wire-protocol load generator")]
struct Args {
    /// Server address.
    #[arg(long, default_value = "127.0.0.1:2181")]
    server: SocketAddr,
    /// Sessions to open.
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Requests in flight per session.
    #[arg(long, default_value_t = 64)]
    outstanding: usize,
    /// Nodes per phase.
    #[arg(long, default_value_t = 50_000)]
    requests: usize,
    /// Bytes of data per node.
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Parent node for the benchmark's nodes.
    #[arg(long, default_value = "/keeper-bench")]
    root: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let config = BenchConfig {
        server: args.server,
        connections: args.connections,
        outstanding: args.outstanding,
        requests: args.requests,
        value_size: args.size,
        root: args.root,
    };
    println!(
        "server {} · {} connections × {} outstanding · {} nodes of {} bytes\n",
        config.server, config.connections, config.outstanding, config.requests, config.value_size
    );
    match run(&config).await {
        Ok(reports) => {
            println!("{}", OpReport::TABLE_HEADER);
            for r in reports {
                println!("{r}");
            }
        }
        Err(e) => {
            eprintln!("bench failed: {e}");
            std::process::exit(1);
        }
    }
}
