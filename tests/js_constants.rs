//! The protocol constants `js/activity.js` writes as literals (it is evaluated before the
//! wasm is instantiated, so it cannot read them from the core) equal the core's tables.

use tidepool::core::activity::constants::{ack_stage, envelope_state, error_code, message_type};

/// `NAME: value` pairs of `export const <group> = Object.freeze({ ... });` in the JS source.
fn js_table(source: &str, group: &str) -> Vec<(String, i64)> {
    let start = format!("export const {group} = Object.freeze({{");
    let body = &source[source
        .find(&start)
        .unwrap_or_else(|| panic!("{group} not in js/activity.js"))
        + start.len()..];
    let body = &body[..body.find("});").expect("Object.freeze(...) closes")];
    body.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (name, value) = entry.split_once(':').expect("NAME: value");
            (
                name.trim().to_owned(),
                value.trim().parse().expect("an integer"),
            )
        })
        .collect()
}

#[test]
fn js_literals_equal_the_core_tables() {
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/js/activity.js")).unwrap();
    for (group, table) in [
        ("AckStage", ack_stage::TABLE),
        ("EnvelopeState", envelope_state::TABLE),
        ("ErrorCode", error_code::TABLE),
        ("MessageType", message_type::TABLE),
    ] {
        let core: Vec<(String, i64)> = table
            .iter()
            .map(|&(name, value)| (name.to_owned(), value))
            .collect();
        assert_eq!(js_table(&source, group), core, "{group}");
    }
}
