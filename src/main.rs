//! `keeper`: the complete ensemble, assembled from the chapters.
//!
//! Each chapter crate builds one stage of ZooKeeper; this binary puts them
//! together into a server real clients can talk to. Its subcommands grow as
//! the chapters land.

use clap::Parser;

/// Keeper: a replicated znode tree, built chapter by chapter.
#[derive(Parser, Debug)]
#[command(name = "keeper", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
    println!("keeper: run `keeper --help` for the commands this build has.");
}
