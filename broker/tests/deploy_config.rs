//! The example configuration in deploy/ must load, and must state the real defaults.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use petrel_broker::config::Config;

#[test]
fn deploy_example_config_loads_and_matches_the_defaults() {
    let text = include_str!("../../deploy/petrel.yaml");
    let config = Config::from_yaml(text).expect("deploy/petrel.yaml is valid");
    assert_eq!(
        config,
        Config::default(),
        "deploy/petrel.yaml should list the defaults"
    );
}
