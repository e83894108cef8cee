//! The node's identity on disk: `meta.properties` in the data directory, in Apache Kafka's
//! format (`version`, `cluster.id`, `node.id`).
//!
//! A node formats its own data directory on first start (there is no separate format
//! step): it generates a cluster id the way Kafka does (a random UUID, URL-safe base64
//! without padding) and writes the file atomically (temp file, fsync, rename, directory
//! fsync). On later starts the stored node id must match the configured one, as in Kafka.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use anyhow::{bail, Context};
use base64::Engine;

const META_FILE: &str = "meta.properties";

/// What a data directory says about the node that owns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeIdentity {
    pub cluster_id: String,
    pub node_id: i32,
    /// True when this start formatted the directory.
    pub formatted_now: bool,
}

/// A fresh Kafka-style cluster id: 16 random bytes, URL-safe base64, no padding (22 chars).
pub fn new_cluster_id() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())
}

/// Loads the identity from `data_dir`, formatting the directory if it has none yet.
pub fn load_or_format(data_dir: &Path, node_id: i32) -> anyhow::Result<NodeIdentity> {
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
    let path = data_dir.join(META_FILE);
    if path.exists() {
        let text =
            fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let props = parse_properties(&text);
        let cluster_id = props
            .get("cluster.id")
            .cloned()
            .with_context(|| format!("{} has no cluster.id", path.display()))?;
        let stored: i32 = props
            .get("node.id")
            .with_context(|| format!("{} has no node.id", path.display()))?
            .parse()
            .with_context(|| format!("{} has an invalid node.id", path.display()))?;
        if stored != node_id {
            bail!(
                "configured node id {node_id} does not match node.id={stored} stored in {}",
                path.display()
            );
        }
        return Ok(NodeIdentity {
            cluster_id,
            node_id,
            formatted_now: false,
        });
    }
    let cluster_id = new_cluster_id();
    let text =
        format!("#Written by petrel\nversion=1\ncluster.id={cluster_id}\nnode.id={node_id}\n");
    let path = data_dir.join(META_FILE);
    crate::durable::write_atomically(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(NodeIdentity {
        cluster_id,
        node_id,
        formatted_now: true,
    })
}

fn parse_properties(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with('!'))
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_once_then_keeps_the_cluster_id() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_format(dir.path(), 4).unwrap();
        assert!(first.formatted_now);
        assert_eq!(first.cluster_id.len(), 22);
        let second = load_or_format(dir.path(), 4).unwrap();
        assert!(!second.formatted_now);
        assert_eq!(second.cluster_id, first.cluster_id);
    }

    #[test]
    fn a_different_node_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        load_or_format(dir.path(), 1).unwrap();
        let err = load_or_format(dir.path(), 2).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }
}
