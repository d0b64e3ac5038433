//! The recipes against a running server, each as a short story.
//!
//! ```sh
//! cargo run -- server --config conf/zoo.cfg                       # in one terminal
//! cargo run -p ch03-sessions --example recipes -- herd            # in another
//! cargo run -p ch03-sessions --example recipes -- lock election naming balance config barrier
//! cargo run -p ch03-sessions --example recipes -- --server 127.0.0.1:2181 all
//! ```
//!
//! Each story opens its own sessions, works under `/recipes/<story>` (removed first and last,
//! so a rerun prints the same) and closes them. `herd` is the lock taken by five clients in
//! both designs: watch the doorbell counts.

use std::net::SocketAddr;
use std::process::ExitCode;

use ch03_sessions::client::{Client, ClientConfig};
use ch03_sessions::recipes::demo::{self, Actor};
use ch03_sessions::recipes::lock::Design;
use ch03_sessions::recipes::Result;

const STORIES: [&str; 7] = [
    "herd", "lock", "election", "naming", "balance", "config", "barrier",
];

fn main() -> ExitCode {
    let mut server: SocketAddr = "127.0.0.1:2181".parse().expect("a literal address");
    let mut stories = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--server" => match args.next().and_then(|a| a.parse().ok()) {
                Some(addr) => server = addr,
                None => return usage("--server wants host:port, e.g. 127.0.0.1:2181"),
            },
            "all" => stories.extend(STORIES.iter().skip(1).map(|s| s.to_string())),
            s if STORIES.contains(&s) => stories.push(s.to_string()),
            other => return usage(&format!("unknown story `{other}`")),
        }
    }
    if stories.is_empty() {
        return usage("which story?");
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    for story in stories {
        println!("== {story}");
        match runtime.block_on(tell(&story, server)) {
            Ok(text) => println!("{text}"),
            Err(e) => {
                eprintln!(
                    "{story} failed against {server}: {e} (is `cargo run -- server` running?)"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn usage(why: &str) -> ExitCode {
    eprintln!(
        "{why}\nusage: recipes [--server host:port] [all | {}]...",
        STORIES.join(" | ")
    );
    ExitCode::from(2)
}

/// Opens `names.len()` sessions with `server`.
async fn actors(server: SocketAddr, names: &[&str]) -> Result<Vec<Actor>> {
    let mut actors = Vec::new();
    for name in names {
        let config = ClientConfig {
            session_timeout_ms: 10_000,
            ..ClientConfig::default()
        };
        actors.push(Actor::new(name, Client::connect(server, config).await?));
    }
    Ok(actors)
}

async fn tell(story: &str, server: SocketAddr) -> Result<String> {
    let five = ["c1", "c2", "c3", "c4", "c5"];
    match story {
        "herd" => {
            let one = demo::herd(
                actors(server, &five).await?,
                "/recipes/herd",
                Design::Predecessor,
            );
            let mut text = one.await?.text;
            text.push('\n');
            let all = demo::herd(
                actors(server, &five).await?,
                "/recipes/herd",
                Design::Parent,
            );
            text += &all.await?.text;
            Ok(text)
        }
        "lock" => {
            let three = actors(server, &five[..3]).await?;
            Ok(demo::herd(three, "/recipes/lock", Design::Predecessor)
                .await?
                .text)
        }
        "election" => {
            demo::election(actors(server, &["a", "b", "c"]).await?, "/recipes/election").await
        }
        "naming" => {
            demo::naming(
                actors(server, &["web-1", "web-2", "user"]).await?,
                "/recipes/naming",
            )
            .await
        }
        "balance" => {
            demo::balance(
                actors(server, &["s1", "s2", "s3", "user"]).await?,
                "/recipes/balance",
            )
            .await
        }
        "config" => {
            demo::config(
                actors(server, &["ops", "app-1", "app-2"]).await?,
                "/recipes/config",
            )
            .await
        }
        _ => {
            demo::barrier(
                actors(server, &["observer", "w1", "w2", "w3"]).await?,
                "/recipes/barrier",
            )
            .await
        }
    }
}
