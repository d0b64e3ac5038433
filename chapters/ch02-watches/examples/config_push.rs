//! Configuration push: `cargo run -p ch02-watches --example config_push`.
//! The code is in `src/labs/config.rs`; its output is checked by `tests/labs.rs`.

fn main() {
    for line in ch02_watches::labs::config::run() {
        println!("{line}");
    }
}
