//! The node's identity on disk: `meta.properties` in the data directory, in Apache Kafka's
//! format (`version`, `cluster.id`, `node.id`).
//!
//! There is no separate format step: a node reads the file if it has one ([`load`]), joins
//! the quorum, and writes the file ([`write`]) once the quorum's image has a cluster id
//! (the first controller to lead picks it, see `petrel_raft::controller`). On later starts
//! the stored node id must match the configured one and the stored cluster id the
//! quorum's, as in Kafka.

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

/// What `meta.properties` in `data_dir` says, if the file exists. A stored node id other
/// than `node_id` is an error.
pub fn load(data_dir: &Path, node_id: i32) -> anyhow::Result<Option<NodeIdentity>> {
    fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
    let path = data_dir.join(META_FILE);
    if !path.exists() {
        return Ok(None);
    }
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
    Ok(Some(NodeIdentity {
        cluster_id,
        node_id,
        formatted_now: false,
    }))
}

/// Checks the stored identity against the quorum's cluster id, writing `meta.properties`
/// if the directory has none yet.
pub fn settle(
    data_dir: &Path,
    stored: Option<NodeIdentity>,
    node_id: i32,
    cluster_id: &str,
) -> anyhow::Result<NodeIdentity> {
    if let Some(stored) = stored {
        if stored.cluster_id != cluster_id {
            bail!(
                "INCONSISTENT_CLUSTER_ID: {} belongs to cluster {} but the quorum's cluster is {}",
                data_dir.display(),
                stored.cluster_id,
                cluster_id
            );
        }
        return Ok(stored);
    }
    let text =
        format!("#Written by petrel\nversion=1\ncluster.id={cluster_id}\nnode.id={node_id}\n");
    let path = data_dir.join(META_FILE);
    crate::durable::write_atomically(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(NodeIdentity {
        cluster_id: cluster_id.to_string(),
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
    fn written_once_then_checked_against_the_quorum() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path(), 4).unwrap().is_none());
        let id = new_cluster_id();
        assert_eq!(id.len(), 22);
        let first = settle(dir.path(), None, 4, &id).unwrap();
        assert!(first.formatted_now);
        let stored = load(dir.path(), 4).unwrap().unwrap();
        assert_eq!(stored.cluster_id, id);
        assert!(
            !settle(dir.path(), Some(stored.clone()), 4, &id)
                .unwrap()
                .formatted_now
        );
        let err = settle(dir.path(), Some(stored), 4, "other").unwrap_err();
        assert!(err.to_string().contains("INCONSISTENT_CLUSTER_ID"), "{err}");
    }

    #[test]
    fn a_different_node_id_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        settle(dir.path(), None, 1, "c").unwrap();
        let err = load(dir.path(), 2).unwrap_err();
        assert!(err.to_string().contains("does not match"), "{err}");
    }
}
