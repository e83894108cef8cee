//! The README's table of supported APIs must be the one generated from the single table
//! (`petrel_protocol::api::markdown_table`), so documentation cannot drift from the code.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[test]
fn readme_lists_exactly_the_supported_apis() {
    let readme = include_str!("../../README.md");
    let table = petrel_protocol::api::markdown_table();
    assert!(
        readme.contains(&table),
        "README.md's API table is stale; replace it with:\n{table}"
    );
}
