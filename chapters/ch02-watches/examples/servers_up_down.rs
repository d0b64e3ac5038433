//! The servers up/down lab: `cargo run -p ch02-watches --example servers_up_down`.
//! The code is in `src/labs/servers.rs`; its output is checked by `tests/labs.rs`.

fn main() {
    for line in ch02_watches::labs::servers::run() {
        println!("{line}");
    }
}
