//! Metadata a single-node data directory kept before the metadata quorum existed: the
//! topic list in `petrel-topics.json` and the producer-id reservation in
//! `petrel-producer-ids`. On the first start with the quorum the node's controller imports
//! both into the image (`Op::ImportLegacy`), so an upgraded node keeps its topics (same
//! ids, same data) and never hands out a producer id twice; the files are then renamed
//! `*.imported`, which is both a backup and the sign that the import happened.

use std::path::Path;

use anyhow::{bail, Context};
use petrel_raft::controller::LegacyMetadata;
use petrel_raft::image::LegacyTopic;
use serde::Deserialize;
use uuid::Uuid;

const TOPICS_FILE: &str = "petrel-topics.json";
const PRODUCER_IDS_FILE: &str = "petrel-producer-ids";
const IMPORTED_SUFFIX: &str = ".imported";

/// One entry of `petrel-topics.json`, as the single-node registry wrote it.
#[derive(Debug, Deserialize)]
struct TopicRecord {
    name: String,
    id: Uuid,
    partitions: i32,
    #[serde(default)]
    configs: std::collections::BTreeMap<String, String>,
}

/// Reads the legacy metadata of `data_dir` if it is a single-node directory that has not
/// been imported: it has `meta.properties` but no `raft/` directory. A directory whose
/// metadata was imported but whose `raft/` is gone lost its metadata log: refuse to start
/// rather than begin a new, empty cluster over its data.
pub fn detect(data_dir: &Path) -> anyhow::Result<Option<LegacyMetadata>> {
    let has_identity = data_dir.join("meta.properties").exists();
    let has_quorum = data_dir.join("raft").exists();
    let imported = data_dir
        .join(format!("{TOPICS_FILE}{IMPORTED_SUFFIX}"))
        .exists();
    if has_quorum || !has_identity {
        return Ok(None);
    }
    if imported {
        bail!(
            "{} holds imported single-node metadata but its metadata log ({}) is missing; \
             refusing to start a new cluster over existing data",
            data_dir.display(),
            data_dir.join("raft").display()
        );
    }
    let topics_path = data_dir.join(TOPICS_FILE);
    let topics: Vec<TopicRecord> = match std::fs::read_to_string(&topics_path) {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("corrupt {}", topics_path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", topics_path.display())),
    };
    let ids_path = data_dir.join(PRODUCER_IDS_FILE);
    let next_producer_id = match std::fs::read_to_string(&ids_path) {
        Ok(text) => text
            .trim()
            .parse()
            .with_context(|| format!("corrupt {}", ids_path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", ids_path.display())),
    };
    Ok(Some(LegacyMetadata {
        topics: topics
            .into_iter()
            .map(|t| LegacyTopic {
                name: t.name,
                id: t.id,
                partitions: t.partitions,
                configs: t.configs,
            })
            .collect(),
        next_producer_id,
    }))
}

/// Renames the legacy files once their content is in the image.
pub fn mark_imported(data_dir: &Path) -> std::io::Result<()> {
    for name in [TOPICS_FILE, PRODUCER_IDS_FILE] {
        let from = data_dir.join(name);
        if from.exists() {
            std::fs::rename(&from, data_dir.join(format!("{name}{IMPORTED_SUFFIX}")))?;
        }
    }
    // An empty marker when there was no topic file, so a lost raft/ is still detected.
    let marker = data_dir.join(format!("{TOPICS_FILE}{IMPORTED_SUFFIX}"));
    if !marker.exists() {
        std::fs::write(&marker, b"[]\n")?;
    }
    crate::durable::sync_dir(data_dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_node_directory_is_read_then_marked_and_never_read_twice() {
        let dir = tempfile::tempdir().unwrap();
        assert!(detect(dir.path()).unwrap().is_none(), "a fresh directory");
        std::fs::write(
            dir.path().join("meta.properties"),
            "cluster.id=x\nnode.id=1\n",
        )
        .unwrap();
        let id = Uuid::new_v4();
        std::fs::write(
            dir.path().join(TOPICS_FILE),
            format!(r#"[{{"name":"orders","id":"{id}","partitions":3,"configs":{{"retention.ms":"5"}}}}]"#),
        )
        .unwrap();
        std::fs::write(dir.path().join(PRODUCER_IDS_FILE), "2000\n").unwrap();
        let legacy = detect(dir.path()).unwrap().unwrap();
        assert_eq!(legacy.next_producer_id, 2000);
        assert_eq!(legacy.topics[0].id, id);
        assert_eq!(legacy.topics[0].partitions, 3);
        assert_eq!(legacy.topics[0].configs["retention.ms"], "5");
        mark_imported(dir.path()).unwrap();
        // Imported, and the metadata log is missing: refuse.
        assert!(detect(dir.path()).is_err());
        std::fs::create_dir(dir.path().join("raft")).unwrap();
        assert!(detect(dir.path()).unwrap().is_none());
    }
}
