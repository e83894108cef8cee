//! Topic configs with Kafka's names, defaults and broker-level synonyms (what
//! DescribeConfigs reports), validation of values, and the translation of a topic's
//! effective configs into the storage layer's `LogConfig`.
//!
//! Only configs Petrel acts on are accepted; an unknown name is `INVALID_CONFIG`, as in
//! Kafka. Values are kept as strings, exactly as clients send them.

use std::collections::BTreeMap;

use petrel_storage::{LogConfig, TimestampType};

/// The kind of value a config takes, for validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Long {
        min: i64,
    },
    Int {
        min: i64,
    },
    Choice(&'static [&'static str]),
    /// Comma-separated items, each one of these, none twice (Kafka's LIST type).
    List(&'static [&'static str]),
    Boolean,
}

/// One topic config: Kafka's name, default, and the broker config that sets its default.
#[derive(Debug, Clone, Copy)]
pub struct ConfigDef {
    pub name: &'static str,
    pub default: &'static str,
    pub kind: ConfigType,
    /// The broker-level config (Kafka's synonym) holding the cluster-wide default.
    pub broker_synonym: &'static str,
    pub doc: &'static str,
}

/// Every topic config Petrel understands, with Apache Kafka's defaults.
pub const TOPIC_CONFIGS: &[ConfigDef] = &[
    ConfigDef {
        name: "cleanup.policy",
        default: "delete",
        kind: ConfigType::List(&["compact", "delete"]),
        broker_synonym: "log.cleanup.policy",
        doc: "delete: retention removes old segments; compact: closed segments keep only the latest record per key.",
    },
    ConfigDef {
        name: "compression.type",
        default: "producer",
        kind: ConfigType::Choice(&["producer"]),
        broker_synonym: "compression.type",
        doc: "Batches are stored as the producer compressed them.",
    },
    ConfigDef {
        name: "delete.retention.ms",
        default: "86400000",
        kind: ConfigType::Long { min: 0 },
        broker_synonym: "log.cleaner.delete.retention.ms",
        doc: "How long compaction keeps tombstones (null values) so consumers see deletes.",
    },
    ConfigDef {
        name: "index.interval.bytes",
        default: "4096",
        kind: ConfigType::Int { min: 0 },
        broker_synonym: "log.index.interval.bytes",
        doc: "Bytes of log between offset index entries.",
    },
    ConfigDef {
        name: "max.message.bytes",
        default: "1048588",
        kind: ConfigType::Int { min: 0 },
        broker_synonym: "message.max.bytes",
        doc: "Largest record batch accepted.",
    },
    ConfigDef {
        name: "message.timestamp.type",
        default: "CreateTime",
        kind: ConfigType::Choice(&["CreateTime", "LogAppendTime"]),
        broker_synonym: "log.message.timestamp.type",
        doc: "Keep producer timestamps or stamp append time.",
    },
    ConfigDef {
        name: "message.timestamp.before.max.ms",
        default: "9223372036854775807",
        kind: ConfigType::Long { min: 0 },
        broker_synonym: "log.message.timestamp.before.max.ms",
        doc: "How far in the past a CreateTime timestamp may be.",
    },
    ConfigDef {
        name: "message.timestamp.after.max.ms",
        default: "3600000",
        kind: ConfigType::Long { min: 0 },
        broker_synonym: "log.message.timestamp.after.max.ms",
        doc: "How far in the future a CreateTime timestamp may be.",
    },
    ConfigDef {
        name: "retention.bytes",
        default: "-1",
        kind: ConfigType::Long { min: -1 },
        broker_synonym: "log.retention.bytes",
        doc: "Largest log size before old segments are deleted; -1 for no limit.",
    },
    ConfigDef {
        name: "retention.ms",
        default: "604800000",
        kind: ConfigType::Long { min: -1 },
        broker_synonym: "log.retention.ms",
        doc: "Age after which old segments are deleted; -1 for no limit.",
    },
    ConfigDef {
        name: "segment.bytes",
        default: "1073741824",
        kind: ConfigType::Int { min: 1024 * 1024 },
        broker_synonym: "log.segment.bytes",
        doc: "Segment file size at which a new segment is started.",
    },
    ConfigDef {
        name: "segment.ms",
        default: "604800000",
        kind: ConfigType::Long { min: 1 },
        broker_synonym: "log.roll.ms",
        doc: "Age at which a new segment is started.",
    },
    ConfigDef {
        name: "unclean.leader.election.enable",
        default: "false",
        kind: ConfigType::Boolean,
        broker_synonym: "unclean.leader.election.enable",
        doc: "Whether an out-of-sync replica may become leader.",
    },
    ConfigDef {
        name: "min.insync.replicas",
        default: "1",
        kind: ConfigType::Int { min: 1 },
        broker_synonym: "min.insync.replicas",
        doc: "Replicas that must acknowledge an acks=all write.",
    },
];

pub fn def(name: &str) -> Option<&'static ConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
}

/// Checks that `name` is a known topic config and `value` fits it.
pub fn validate(name: &str, value: &str) -> Result<(), String> {
    let Some(def) = def(name) else {
        return Err(format!("unknown topic config {name}"));
    };
    let ok = match def.kind {
        ConfigType::Long { min } | ConfigType::Int { min } => {
            let max = if matches!(def.kind, ConfigType::Int { .. }) {
                i64::from(i32::MAX)
            } else {
                i64::MAX
            };
            value.parse::<i64>().is_ok_and(|v| v >= min && v <= max)
        }
        ConfigType::Choice(choices) => choices.contains(&value),
        ConfigType::List(items) => {
            let listed: Vec<&str> = value.split(',').map(str::trim).collect();
            listed.iter().enumerate().all(|(i, item)| {
                items.contains(item) && !listed.get(..i).unwrap_or_default().contains(item)
            })
        }
        ConfigType::Boolean => value == "true" || value == "false",
    };
    if ok {
        Ok(())
    } else {
        Err(format!("invalid value {value:?} for {name}"))
    }
}

/// The effective value of a config for a topic with `overrides`.
pub fn effective<'a>(overrides: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    overrides
        .get(name)
        .map(String::as_str)
        .or_else(|| def(name).map(|d| d.default))
        .unwrap_or("")
}

fn number(overrides: &BTreeMap<String, String>, name: &str) -> i64 {
    effective(overrides, name).parse().unwrap_or_default()
}

/// Whether `cleanup.policy` includes `policy` ("delete" or "compact").
fn has_cleanup_policy(overrides: &BTreeMap<String, String>, policy: &str) -> bool {
    effective(overrides, "cleanup.policy")
        .split(',')
        .any(|listed| listed == policy)
}

/// Whether the topic is compacted (`cleanup.policy` includes `compact`).
pub fn is_compacted(overrides: &BTreeMap<String, String>) -> bool {
    has_cleanup_policy(overrides, "compact")
}

/// The storage settings a topic's configs imply.
pub fn log_config(overrides: &BTreeMap<String, String>) -> LogConfig {
    let deletes = has_cleanup_policy(overrides, "delete");
    let compacts = is_compacted(overrides);
    LogConfig {
        segment_bytes: number(overrides, "segment.bytes").max(1) as u64,
        segment_ms: number(overrides, "segment.ms"),
        index_interval_bytes: number(overrides, "index.interval.bytes").max(0) as u64,
        // Retention deletes only under the `delete` policy, as in Kafka.
        retention_ms: if deletes {
            number(overrides, "retention.ms")
        } else {
            -1
        },
        retention_bytes: if deletes {
            number(overrides, "retention.bytes")
        } else {
            -1
        },
        timestamp_type: if effective(overrides, "message.timestamp.type") == "LogAppendTime" {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        },
        compact: compacts,
        delete_retention_ms: number(overrides, "delete.retention.ms"),
    }
}

/// `max.message.bytes` for a topic.
pub fn max_message_bytes(overrides: &BTreeMap<String, String>) -> usize {
    number(overrides, "max.message.bytes").max(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_only_topics_are_not_deleted_by_retention() {
        let compact = BTreeMap::from([
            ("cleanup.policy".to_string(), "compact".to_string()),
            ("retention.ms".to_string(), "1000".to_string()),
        ]);
        let config = log_config(&compact);
        assert_eq!((config.retention_ms, config.retention_bytes), (-1, -1));
        let both = BTreeMap::from([
            ("cleanup.policy".to_string(), "compact,delete".to_string()),
            ("retention.ms".to_string(), "1000".to_string()),
        ]);
        assert_eq!(log_config(&both).retention_ms, 1000);
    }

    #[test]
    fn defaults_are_valid_and_become_the_storage_defaults() {
        for def in TOPIC_CONFIGS {
            assert_eq!(validate(def.name, def.default), Ok(()), "{}", def.name);
        }
        assert_eq!(log_config(&BTreeMap::new()), LogConfig::default());
    }

    #[test]
    fn values_are_checked() {
        assert!(validate("retention.ms", "-1").is_ok());
        assert!(validate("retention.ms", "-2").is_err());
        assert!(
            validate("segment.bytes", "100").is_err(),
            "below Kafka's minimum"
        );
        assert!(
            validate("segment.bytes", "99999999999").is_err(),
            "over an int"
        );
        assert!(validate("message.timestamp.type", "LogAppendTime").is_ok());
        assert!(validate("message.timestamp.type", "Now").is_err());
        assert!(validate("no.such.config", "1").is_err());
        let overrides = BTreeMap::from([(
            "message.timestamp.type".to_string(),
            "LogAppendTime".to_string(),
        )]);
        assert_eq!(
            log_config(&overrides).timestamp_type,
            TimestampType::LogAppendTime
        );
    }
}
