//! The labs' output, as snapshots: what the book shows.

use ch02_watches::labs;

#[test]
fn servers_up_down() {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(labs::servers::run().join("\n"));
    });
}

#[test]
fn configuration_push() {
    insta::with_settings!({ omit_expression => true }, {
        insta::assert_snapshot!(labs::config::run().join("\n"));
    });
}
