//! Config admin: DescribeConfigs (key 32), AlterConfigs (key 33, the legacy whole-set
//! replacement) and IncrementalAlterConfigs (key 44), for topics and this broker.
//!
//! Topics: a topic's configs are the entries of `config_defs::TOPIC_CONFIGS`; its stored
//! overrides replace the defaults. Describe reports every entry (or the requested keys),
//! with the source Kafka would give (`TOPIC_CONFIG` for an override, else
//! `DEFAULT_CONFIG`, the broker-level default behind it) and, when asked, the synonyms
//! (the override, then the broker config that holds the default). Both alter APIs compute
//! the new override set and hand it to `Topics::set_configs`, which validates every entry
//! (unknown name or bad value: `INVALID_CONFIG`), checks the topic exists, persists and
//! applies it to the open logs; `validate_only` stops before persisting.
//!
//! Broker: Petrel's broker configs come from its startup configuration and cannot change at
//! run time, so they are reported read-only, as `STATIC_BROKER_CONFIG` when they differ
//! from Petrel's default and `DEFAULT_CONFIG` otherwise. Changing one is refused the way
//! Kafka refuses a non-dynamic broker config (`INVALID_REQUEST`, "Cannot update these
//! configs dynamically"). The empty broker name means the cluster-wide dynamic defaults
//! (KIP-226), of which there are none.
//!
//! Request checks and messages follow Kafka's `ConfigHelper.describeConfigs`,
//! `ConfigAdminManager.preprocess` and `ConfigurationControlManager`.

use std::collections::{BTreeMap, HashSet};

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{
    alter_configs_response, incremental_alter_configs_response, AlterConfigsRequest,
    AlterConfigsResponse, DescribeConfigsRequest, DescribeConfigsResponse,
    IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse,
};
use kafka_protocol::protocol::StrBytes;

use crate::config::Config;
use crate::context::BrokerContext;
use crate::topics::config_defs::{self, ConfigType, TOPIC_CONFIGS};
use crate::topics::{validate_name, TopicError};

/// Kafka's `ConfigResource.Type` codes.
const RESOURCE_TOPIC: i8 = 2;
const RESOURCE_BROKER: i8 = 4;

/// Kafka's `ConfigSource` codes.
const SOURCE_TOPIC_CONFIG: i8 = 1;
const SOURCE_STATIC_BROKER_CONFIG: i8 = 4;
const SOURCE_DEFAULT_CONFIG: i8 = 5;

/// Kafka's `DescribeConfigsResponse.ConfigType` codes.
const TYPE_BOOLEAN: i8 = 1;
const TYPE_STRING: i8 = 2;
const TYPE_INT: i8 = 3;
const TYPE_LONG: i8 = 5;
const TYPE_LIST: i8 = 7;

/// Kafka's `AlterConfigOp.OpType` codes.
const OP_SET: i8 = 0;
const OP_DELETE: i8 = 1;
const OP_APPEND: i8 = 2;
const OP_SUBTRACT: i8 = 3;

/// Why a resource was refused: the Kafka error code and the message sent with it (Kafka
/// sends none for some codes).
type Refusal = (i16, Option<String>);

fn refuse(error: ResponseError, message: impl Into<String>) -> Refusal {
    (error.code(), Some(message.into()))
}

fn text(value: impl Into<String>) -> StrBytes {
    StrBytes::from_string(value.into())
}

// ---------------------------------------------------------------------------------------
// DescribeConfigs
// ---------------------------------------------------------------------------------------

/// One config as DescribeConfigs reports it, before shaping for the version.
struct Described {
    name: String,
    value: String,
    source: i8,
    read_only: bool,
    config_type: i8,
    doc: &'static str,
    /// (name, value, source), most specific first.
    synonyms: Vec<(String, String, i8)>,
}

/// Builds the DescribeConfigs response for `version`.
pub fn describe(
    ctx: &BrokerContext,
    version: i16,
    request: &DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let results = request
        .resources
        .iter()
        .map(|resource| describe_resource(ctx, version, request, resource))
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

fn describe_resource(
    ctx: &BrokerContext,
    version: i16,
    request: &DescribeConfigsRequest,
    resource: &DescribeConfigsResource,
) -> DescribeConfigsResult {
    let name = resource.resource_name.as_str();
    let described = match resource.resource_type {
        RESOURCE_TOPIC => describe_topic(ctx, name),
        RESOURCE_BROKER => describe_broker(ctx, name),
        other => Err(refuse(
            ResponseError::InvalidRequest,
            format!("Unsupported resource type: {other}"),
        )),
    };
    let result = DescribeConfigsResult::default()
        .with_resource_type(resource.resource_type)
        .with_resource_name(resource.resource_name.clone());
    match described {
        Ok(configs) => {
            // Kafka treats a null or empty key list alike: every config.
            let keys: Option<HashSet<&str>> = resource
                .configuration_keys
                .as_ref()
                .filter(|keys| !keys.is_empty())
                .map(|keys| keys.iter().map(|k| k.as_str()).collect());
            let configs = configs
                .into_iter()
                .filter(|c| keys.as_ref().is_none_or(|k| k.contains(c.name.as_str())))
                .map(|c| to_resource_result(version, request, c))
                .collect();
            result.with_error_message(None).with_configs(configs)
        }
        Err((code, message)) => result
            .with_error_code(code)
            .with_error_message(message.map(text)),
    }
}

fn to_resource_result(
    version: i16,
    request: &DescribeConfigsRequest,
    config: Described,
) -> DescribeConfigsResourceResult {
    let mut result = DescribeConfigsResourceResult::default()
        .with_name(text(config.name))
        .with_value(Some(text(config.value)))
        .with_read_only(config.read_only)
        .with_config_source(config.source)
        .with_is_sensitive(false);
    if request.include_synonyms {
        result.synonyms = config
            .synonyms
            .into_iter()
            .map(|(name, value, source)| {
                DescribeConfigsSynonym::default()
                    .with_name(text(name))
                    .with_value(Some(text(value)))
                    .with_source(source)
            })
            .collect();
    }
    if version >= 3 {
        result.config_type = config.config_type;
        result.documentation = request
            .include_documentation
            .then(|| StrBytes::from_static_str(config.doc));
    } else {
        result.documentation = None;
    }
    result
}

/// Every topic config with its effective value; Kafka's `createTopicConfigEntry`.
fn describe_topic(ctx: &BrokerContext, name: &str) -> Result<Vec<Described>, Refusal> {
    validate_name(name).map_err(|e| refuse(ResponseError::InvalidTopicException, e.to_string()))?;
    // Kafka sends the code alone for a missing topic.
    let meta = ctx
        .topics
        .get(name)
        .ok_or((ResponseError::UnknownTopicOrPartition.code(), None))?;
    Ok(TOPIC_CONFIGS
        .iter()
        .map(|def| {
            let value = config_defs::effective(&meta.configs, def.name).to_string();
            let (synonym_name, synonym_value) = default_synonym(def);
            let default_synonym = (
                synonym_name.to_string(),
                synonym_value.to_string(),
                SOURCE_DEFAULT_CONFIG,
            );
            let (source, synonyms) = if meta.configs.contains_key(def.name) {
                let own = (def.name.to_string(), value.clone(), SOURCE_TOPIC_CONFIG);
                (SOURCE_TOPIC_CONFIG, vec![own, default_synonym])
            } else {
                (SOURCE_DEFAULT_CONFIG, vec![default_synonym])
            };
            Described {
                name: def.name.to_string(),
                value,
                source,
                read_only: false,
                config_type: type_code(def.kind),
                doc: def.doc,
                synonyms,
            }
        })
        .collect())
}

/// The broker config Kafka reports as a topic config's default synonym. Usually the
/// config's broker twin with the same value; but `log.retention.ms` and `log.roll.ms` have no
/// default in Kafka (they override the hour-based settings when set), so the default comes
/// from `log.retention.hours` / `log.roll.hours`, in hours.
fn default_synonym(def: &config_defs::ConfigDef) -> (&'static str, &'static str) {
    match def.name {
        "retention.ms" => ("log.retention.hours", "168"),
        "segment.ms" => ("log.roll.hours", "168"),
        _ => (def.broker_synonym, def.default),
    }
}

fn type_code(kind: ConfigType) -> i8 {
    match kind {
        ConfigType::Long { .. } => TYPE_LONG,
        ConfigType::Int { .. } => TYPE_INT,
        ConfigType::Choice(_) => TYPE_STRING,
        ConfigType::List(_) => TYPE_LIST,
        ConfigType::Boolean => TYPE_BOOLEAN,
    }
}

/// Kafka's `resourceNameToBrokerId` then the check that the id is ours; the empty name is
/// the cluster-wide dynamic defaults.
fn describe_broker(ctx: &BrokerContext, name: &str) -> Result<Vec<Described>, Refusal> {
    if name.is_empty() {
        return Ok(Vec::new());
    }
    let id: i32 = name.parse().map_err(|_| {
        refuse(
            ResponseError::InvalidRequest,
            format!("Broker id must be an integer, but it is: {name}"),
        )
    })?;
    if id != ctx.node_id {
        return Err(refuse(
            ResponseError::InvalidRequest,
            format!(
                "Unexpected broker id, expected {} or empty string, but received {name}",
                ctx.node_id
            ),
        ));
    }
    Ok(broker_configs(ctx)
        .into_iter()
        .map(|c| {
            let (source, synonyms) = if c.is_set {
                let mut synonyms = vec![(
                    c.name.to_string(),
                    c.value.clone(),
                    SOURCE_STATIC_BROKER_CONFIG,
                )];
                if let Some(default) = c.default {
                    synonyms.push((c.name.to_string(), default, SOURCE_DEFAULT_CONFIG));
                }
                (SOURCE_STATIC_BROKER_CONFIG, synonyms)
            } else {
                let synonyms = vec![(c.name.to_string(), c.value.clone(), SOURCE_DEFAULT_CONFIG)];
                (SOURCE_DEFAULT_CONFIG, synonyms)
            };
            Described {
                name: c.name.to_string(),
                value: c.value,
                source,
                read_only: true,
                config_type: c.config_type,
                doc: c.doc,
                synonyms,
            }
        })
        .collect())
}

/// One of this broker's configs, under Kafka's name.
struct BrokerConfig {
    name: &'static str,
    value: String,
    /// Set in the startup configuration (as opposed to Petrel's built-in default).
    is_set: bool,
    /// Petrel's built-in default, when there is one.
    default: Option<String>,
    config_type: i8,
    doc: &'static str,
}

impl BrokerConfig {
    /// A config whose value is the default unless it differs from it.
    fn compared(
        name: &'static str,
        value: String,
        default: String,
        config_type: i8,
        doc: &'static str,
    ) -> BrokerConfig {
        BrokerConfig {
            name,
            is_set: value != default,
            value,
            default: Some(default),
            config_type,
            doc,
        }
    }
}

/// The broker configs Petrel has: its own settings under Kafka's names, then the
/// broker-level defaults of every topic config (the synonyms topics report).
fn broker_configs(ctx: &BrokerContext) -> Vec<BrokerConfig> {
    let config = &ctx.config;
    let defaults = Config::default();
    let absolute = |path: &std::path::Path| {
        std::path::absolute(path)
            .unwrap_or_else(|_| path.to_path_buf())
            .display()
            .to_string()
    };
    let host = &ctx.advertised.host;
    // An IPv6 literal goes in brackets in a listener string.
    let advertised_host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    let mut list = vec![
        BrokerConfig::compared(
            "node.id",
            ctx.node_id.to_string(),
            defaults.node_id.to_string(),
            TYPE_INT,
            "This node's id.",
        ),
        BrokerConfig::compared(
            "listeners",
            format!("PLAINTEXT://{}", config.listen),
            format!("PLAINTEXT://{}", defaults.listen),
            TYPE_STRING,
            "The address the client listener binds.",
        ),
        BrokerConfig {
            name: "advertised.listeners",
            value: format!("PLAINTEXT://{advertised_host}:{}", ctx.advertised.port),
            // Unset, it is derived from the bound address, as Kafka derives it from
            // `listeners`.
            is_set: config.advertised_listen.is_some(),
            default: None,
            config_type: TYPE_STRING,
            doc: "The address clients are told to connect to.",
        },
        BrokerConfig {
            name: "log.dirs",
            value: absolute(&config.data_dir),
            is_set: config.data_dir != defaults.data_dir,
            default: Some(absolute(&defaults.data_dir)),
            config_type: TYPE_STRING,
            doc: "The data directory holding the partitions' logs.",
        },
        BrokerConfig::compared(
            "num.partitions",
            config.num_partitions.to_string(),
            defaults.num_partitions.to_string(),
            TYPE_INT,
            "The number of partitions of an auto-created topic.",
        ),
        BrokerConfig::compared(
            "auto.create.topics.enable",
            config.auto_create_topics_enable.to_string(),
            defaults.auto_create_topics_enable.to_string(),
            TYPE_BOOLEAN,
            "Whether a topic is created when a client asks for an unknown one.",
        ),
    ];
    list.extend(TOPIC_CONFIGS.iter().map(|def| BrokerConfig {
        name: def.broker_synonym,
        value: def.default.to_string(),
        is_set: false,
        default: Some(def.default.to_string()),
        config_type: type_code(def.kind),
        doc: def.doc,
    }));
    list
}

// ---------------------------------------------------------------------------------------
// AlterConfigs and IncrementalAlterConfigs
// ---------------------------------------------------------------------------------------

/// The resources named more than once in one request, by (type, name); Kafka refuses every
/// occurrence of them ("Each resource must appear at most once.").
fn repeated_resources<'a>(
    resources: impl Iterator<Item = (i8, &'a str)>,
) -> HashSet<(i8, &'a str)> {
    let mut seen = HashSet::new();
    resources.filter(|key| !seen.insert(*key)).collect()
}

fn has_duplicate_keys<'a>(mut names: impl Iterator<Item = &'a str>) -> bool {
    let mut seen = HashSet::new();
    !names.all(|name| seen.insert(name))
}

/// A topic resource's name as Kafka's controller checks it.
fn check_topic_name(name: &str) -> Result<(), Refusal> {
    if name.is_empty() {
        return Err(refuse(
            ResponseError::InvalidRequest,
            "Default topic resources are not allowed.",
        ));
    }
    validate_name(name).map_err(|e| refuse(ResponseError::InvalidTopicException, e.to_string()))
}

/// A broker resource's name for an alter: empty (cluster-wide) or this node's id.
fn check_broker_name(ctx: &BrokerContext, name: &str) -> Result<(), Refusal> {
    if name.is_empty() {
        return Ok(());
    }
    let id: i32 = name.parse().map_err(|_| {
        refuse(
            ResponseError::InvalidRequest,
            format!("Node id must be an integer, but it is: {name}"),
        )
    })?;
    if id != ctx.node_id {
        return Err(refuse(
            ResponseError::InvalidRequest,
            format!(
                "Unexpected broker id, expected {}, but received {name}",
                ctx.node_id
            ),
        ));
    }
    Ok(())
}

/// Petrel cannot change any broker config at run time: naming one to set is what Kafka
/// answers for a non-dynamic config (an `InvalidRequestException`, KAFKA-13609).
fn refuse_broker_changes(names: &[&str]) -> Result<(), Refusal> {
    if names.is_empty() {
        return Ok(());
    }
    Err(refuse(
        ResponseError::InvalidRequest,
        format!(
            "Cannot update these configs dynamically: Set({})",
            names.join(", ")
        ),
    ))
}

async fn set_topic_configs(
    ctx: &BrokerContext,
    name: &str,
    configs: BTreeMap<String, String>,
    validate_only: bool,
) -> Result<(), Refusal> {
    ctx.topics
        .set_configs(name, configs, validate_only)
        .await
        .map(|_| ())
        .map_err(topic_refusal)
}

fn topic_refusal(e: TopicError) -> Refusal {
    let message = match &e {
        TopicError::Unknown(topic) => format!("The topic '{topic}' does not exist."),
        other => other.to_string(),
    };
    (e.code(), Some(message))
}

/// The legacy AlterConfigs: each resource's config set replaces its overrides whole.
pub async fn alter(ctx: &BrokerContext, request: &AlterConfigsRequest) -> AlterConfigsResponse {
    let repeated = repeated_resources(
        request
            .resources
            .iter()
            .map(|r| (r.resource_type, r.resource_name.as_str())),
    );
    let mut responses = Vec::with_capacity(request.resources.len());
    for resource in &request.resources {
        let name = resource.resource_name.as_str();
        let outcome = if repeated.contains(&(resource.resource_type, name)) {
            Err(refuse(
                ResponseError::InvalidRequest,
                "Each resource must appear at most once.",
            ))
        } else {
            alter_resource(ctx, resource, request.validate_only).await
        };
        let (code, message) = outcome.err().unwrap_or((0, None));
        responses.push(
            alter_configs_response::AlterConfigsResourceResponse::default()
                .with_error_code(code)
                .with_error_message(message.map(text))
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone()),
        );
    }
    AlterConfigsResponse::default().with_responses(responses)
}

async fn alter_resource(
    ctx: &BrokerContext,
    resource: &kafka_protocol::messages::alter_configs_request::AlterConfigsResource,
    validate_only: bool,
) -> Result<(), Refusal> {
    let name = resource.resource_name.as_str();
    if has_duplicate_keys(resource.configs.iter().map(|c| c.name.as_str())) {
        return Err(refuse(
            ResponseError::InvalidRequest,
            "Error due to duplicate config keys",
        ));
    }
    let nulls: Vec<&str> = resource
        .configs
        .iter()
        .filter(|c| c.value.is_none())
        .map(|c| c.name.as_str())
        .collect();
    if !nulls.is_empty() {
        return Err(refuse(
            ResponseError::InvalidRequest,
            format!("Null value not supported for : {}", nulls.join(", ")),
        ));
    }
    match resource.resource_type {
        RESOURCE_BROKER => {
            check_broker_name(ctx, name)?;
            let names: Vec<&str> = resource.configs.iter().map(|c| c.name.as_str()).collect();
            refuse_broker_changes(&names)
        }
        RESOURCE_TOPIC => {
            check_topic_name(name)?;
            let configs = resource
                .configs
                .iter()
                .filter_map(|c| Some((c.name.to_string(), c.value.as_ref()?.to_string())))
                .collect();
            set_topic_configs(ctx, name, configs, validate_only).await
        }
        other => Err(refuse(
            ResponseError::InvalidRequest,
            format!("Unknown resource type {other}"),
        )),
    }
}

/// IncrementalAlterConfigs: SET and DELETE single keys of the current overrides.
pub async fn incremental_alter(
    ctx: &BrokerContext,
    request: &IncrementalAlterConfigsRequest,
) -> IncrementalAlterConfigsResponse {
    let repeated = repeated_resources(
        request
            .resources
            .iter()
            .map(|r| (r.resource_type, r.resource_name.as_str())),
    );
    let mut responses = Vec::with_capacity(request.resources.len());
    for resource in &request.resources {
        let name = resource.resource_name.as_str();
        let outcome = if repeated.contains(&(resource.resource_type, name)) {
            Err(refuse(
                ResponseError::InvalidRequest,
                "Each resource must appear at most once.",
            ))
        } else {
            incremental_alter_resource(ctx, resource, request.validate_only).await
        };
        let (code, message) = outcome.err().unwrap_or((0, None));
        responses.push(
            incremental_alter_configs_response::AlterConfigsResourceResponse::default()
                .with_error_code(code)
                .with_error_message(message.map(text))
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone()),
        );
    }
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}

async fn incremental_alter_resource(
    ctx: &BrokerContext,
    resource: &kafka_protocol::messages::incremental_alter_configs_request::AlterConfigsResource,
    validate_only: bool,
) -> Result<(), Refusal> {
    let name = resource.resource_name.as_str();
    if has_duplicate_keys(resource.configs.iter().map(|c| c.name.as_str())) {
        return Err(refuse(
            ResponseError::InvalidRequest,
            "Error due to duplicate config keys",
        ));
    }
    // Only DELETE may leave the value null.
    let nulls: Vec<&str> = resource
        .configs
        .iter()
        .filter(|c| c.config_operation != OP_DELETE && c.value.is_none())
        .map(|c| c.name.as_str())
        .collect();
    if !nulls.is_empty() {
        return Err(refuse(
            ResponseError::InvalidRequest,
            format!("Null value not supported for : {}", nulls.join(", ")),
        ));
    }
    if let Some(unknown) = resource
        .configs
        .iter()
        .find(|c| !(OP_SET..=OP_SUBTRACT).contains(&c.config_operation))
    {
        return Err(refuse(
            ResponseError::InvalidRequest,
            format!("Unknown operations type {}", unknown.config_operation),
        ));
    }
    match resource.resource_type {
        RESOURCE_BROKER => {
            check_broker_name(ctx, name)?;
            // No broker config is a list, so APPEND/SUBTRACT fail as in Kafka's
            // `prepareIncrementalConfigs`; DELETE of a dynamic value that cannot exist is a
            // no-op; SET is a run-time change Petrel cannot make.
            if let Some(op) = resource
                .configs
                .iter()
                .find(|c| c.config_operation == OP_APPEND || c.config_operation == OP_SUBTRACT)
            {
                let verb = if op.config_operation == OP_APPEND {
                    "append"
                } else {
                    "subtract"
                };
                return Err(refuse(
                    ResponseError::InvalidRequest,
                    format!(
                        "Config value {verb} is not allowed for config key: {}",
                        op.name
                    ),
                ));
            }
            let names: Vec<&str> = resource
                .configs
                .iter()
                .filter(|c| c.config_operation == OP_SET)
                .map(|c| c.name.as_str())
                .collect();
            refuse_broker_changes(&names)
        }
        RESOURCE_TOPIC => {
            check_topic_name(name)?;
            // APPEND/SUBTRACT only apply to LIST configs (KIP-339).
            for config in &resource.configs {
                let op = config.config_operation;
                let is_list = matches!(
                    config_defs::def(config.name.as_str()).map(|d| d.kind),
                    Some(ConfigType::List(_))
                );
                if (op == OP_APPEND || op == OP_SUBTRACT) && !is_list {
                    let verb = if op == OP_APPEND {
                        "APPEND"
                    } else {
                        "SUBTRACT"
                    };
                    return Err(refuse(
                        ResponseError::InvalidConfig,
                        format!(
                            "Can't {verb} to key {} because its type is not LIST.",
                            config.name.as_str()
                        ),
                    ));
                }
            }
            // Kafka's controller starts from the stored overrides (none for a missing
            // topic, whose absence is reported after the values are validated). The edit
            // runs under the topic service's change lock, so concurrent alters of the same
            // topic cannot lose each other's changes.
            let edit = |configs: &mut BTreeMap<String, String>| {
                // Keys are distinct (checked above), so the order of the operations is moot.
                for config in &resource.configs {
                    let key = config.name.as_str();
                    let value = config.value.as_ref().map(|v| v.as_str()).unwrap_or("");
                    match config.config_operation {
                        OP_SET => {
                            configs.insert(key.to_string(), value.to_string());
                        }
                        OP_DELETE => {
                            configs.remove(key);
                        }
                        op => {
                            let current = config_defs::effective(configs, key).to_string();
                            let mut items: Vec<&str> =
                                current.split(',').filter(|i| !i.is_empty()).collect();
                            for item in value.split(',').map(str::trim) {
                                if op == OP_APPEND {
                                    if !items.contains(&item) {
                                        items.push(item);
                                    }
                                } else {
                                    items.retain(|i| *i != item);
                                }
                            }
                            configs.insert(key.to_string(), items.join(","));
                        }
                    }
                }
            };
            ctx.topics
                .update_configs(name, validate_only, edit)
                .await
                .map(|_| ())
                .map_err(topic_refusal)
        }
        other => Err(refuse(
            ResponseError::InvalidRequest,
            format!("Unknown resource type {other}"),
        )),
    }
}
