//! Documentation generated from or describing the code must agree with it: the README's
//! table of supported APIs, and the example config in deploy/.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use petrel_broker::config::Config;

#[test]
fn readme_lists_exactly_the_supported_apis() {
    let readme = include_str!("../../README.md");
    let table = petrel_protocol::api::markdown_table();
    assert!(
        readme.contains(&table),
        "README.md's API table is stale; replace it with:\n{table}"
    );
}

#[test]
fn deploy_example_config_loads_and_states_the_defaults() {
    let text = include_str!("../../deploy/petrel.yaml");
    let config = Config::from_yaml(text).expect("deploy/petrel.yaml is valid");
    assert_eq!(
        config,
        Config::default(),
        "deploy/petrel.yaml should list the defaults"
    );
}
