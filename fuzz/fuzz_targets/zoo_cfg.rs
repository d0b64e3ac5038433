//! Any zoo.cfg text is a config with its warnings, or an error naming the line: never a
//! panic.
#![no_main]

use ch03_sessions::config::ZooCfg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = ZooCfg::parse(text);
    }
});
