//! Replica placement for new partitions, as Kafka places them (for the controller).
//!
//! Kafka's documented scheme: brokers are put in a rack-alternating order (the first broker
//! of each rack, then the second of each, ...). Partition `p`'s first replica (its leader)
//! is the broker at `(p + start) mod n`, so leaders go round the brokers; the other replicas
//! follow it at a distance `1 + (shift + j) mod (n - 1)`, where `shift` grows by one every
//! `n` partitions so that followers spread too. With racks, a candidate is skipped while its
//! rack (or the broker itself) already holds a replica and some rack (broker) does not.
//!
//! Pure: the random `start` and `shift` are the caller's (the controller draws them once per
//! topic), so the same inputs always give the same assignment, and tests can pin them.

use std::collections::{BTreeMap, BTreeSet};

/// A broker that can take replicas: its id and rack, if it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub id: i32,
    pub rack: Option<String>,
}

/// Why no assignment can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    #[error("replication factor {factor} is larger than the {brokers} available brokers")]
    NotEnoughBrokers { factor: usize, brokers: usize },
    #[error("replication factor must be at least 1")]
    ZeroReplicationFactor,
    #[error("some brokers have a rack and others do not")]
    MixedRacks,
}

/// Replicas for partitions `first_partition ..< first_partition + count`, leader first.
///
/// `start` and `shift` are any numbers (taken modulo the broker count); the controller
/// draws them at random per topic, as Kafka does.
pub fn assign(
    brokers: &[Candidate],
    first_partition: usize,
    count: usize,
    replication_factor: usize,
    start: usize,
    shift: usize,
) -> Result<Vec<Vec<i32>>, PlacementError> {
    if replication_factor == 0 {
        return Err(PlacementError::ZeroReplicationFactor);
    }
    if replication_factor > brokers.len() {
        return Err(PlacementError::NotEnoughBrokers {
            factor: replication_factor,
            brokers: brokers.len(),
        });
    }
    let with_rack = brokers.iter().filter(|b| b.rack.is_some()).count();
    if with_rack != 0 && with_rack != brokers.len() {
        return Err(PlacementError::MixedRacks);
    }
    let arranged = rack_alternated(brokers);
    let n = arranged.len();
    let racks: BTreeSet<&str> = arranged.iter().filter_map(|b| b.rack.as_deref()).collect();
    // With racks, the follower distance steps over whole rounds of racks.
    let rack_step = racks.len().max(1);
    let start = start % n;
    let mut assignment = Vec::with_capacity(count);
    for partition in first_partition..first_partition + count {
        let round_shift = shift % n + partition / n;
        let first = (partition + start) % n;
        assignment.push(replicas_for(
            &arranged,
            first,
            round_shift * rack_step,
            replication_factor,
            racks.len(),
        ));
    }
    Ok(assignment)
}

/// One partition's replicas: the leader at `first`, then followers at growing distances,
/// skipping a rack or broker that already has a replica while another has none.
fn replicas_for(
    arranged: &[&Candidate],
    first: usize,
    shift: usize,
    factor: usize,
    rack_count: usize,
) -> Vec<i32> {
    let n = arranged.len();
    let mut replicas: Vec<&Candidate> = arranged.get(first).copied().into_iter().collect();
    let mut step = 0usize;
    // At most n candidates per follower before the skip rules relax (they relax once every
    // rack, or every broker, holds a replica), so this ends.
    while replicas.len() < factor && step < n * factor * 2 {
        let distance = if n > 1 {
            1 + (shift + step) % (n - 1)
        } else {
            0
        };
        step += 1;
        let Some(candidate) = arranged.get((first + distance) % n).copied() else {
            break;
        };
        let used_racks: BTreeSet<Option<&str>> =
            replicas.iter().map(|r| r.rack.as_deref()).collect();
        let rack_free =
            !used_racks.contains(&candidate.rack.as_deref()) || used_racks.len() >= rack_count;
        let broker_free = !replicas.iter().any(|r| r.id == candidate.id);
        if rack_free && broker_free {
            replicas.push(candidate);
        }
    }
    replicas.iter().map(|r| r.id).collect()
}

/// Brokers ordered so that racks alternate: the first broker (by id) of each rack (racks by
/// name), then the second of each, and so on. Without racks: by id.
fn rack_alternated(brokers: &[Candidate]) -> Vec<&Candidate> {
    let mut by_rack: BTreeMap<Option<&str>, Vec<&Candidate>> = BTreeMap::new();
    for broker in brokers {
        by_rack
            .entry(broker.rack.as_deref())
            .or_default()
            .push(broker);
    }
    for members in by_rack.values_mut() {
        members.sort_by_key(|b| b.id);
    }
    let deepest = by_rack.values().map(Vec::len).max().unwrap_or(0);
    let mut arranged = Vec::with_capacity(brokers.len());
    for depth in 0..deepest {
        for members in by_rack.values() {
            if let Some(broker) = members.get(depth) {
                arranged.push(*broker);
            }
        }
    }
    arranged
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn brokers(racks: &[Option<&str>]) -> Vec<Candidate> {
        racks
            .iter()
            .enumerate()
            .map(|(i, rack)| Candidate {
                id: i as i32 + 1,
                rack: rack.map(str::to_string),
            })
            .collect()
    }

    fn count_by<T: Ord>(items: impl Iterator<Item = T>) -> BTreeMap<T, usize> {
        let mut counts = BTreeMap::new();
        for item in items {
            *counts.entry(item).or_default() += 1;
        }
        counts
    }

    #[test]
    fn leaders_and_replicas_spread_evenly_without_racks() {
        let six = brokers(&[None; 6]);
        for (start, shift) in [(0, 0), (2, 5), (7, 3)] {
            let assignment = assign(&six, 0, 12, 3, start, shift).unwrap();
            for replicas in &assignment {
                assert_eq!(replicas.len(), 3);
                assert_eq!(
                    replicas.iter().collect::<BTreeSet<_>>().len(),
                    3,
                    "{replicas:?}"
                );
            }
            let leaders = count_by(assignment.iter().map(|r| r[0]));
            assert!(leaders.values().all(|&n| n == 2), "leaders {leaders:?}");
            let all = count_by(assignment.iter().flatten());
            assert!(all.values().all(|&n| n == 6), "replicas {all:?}");
        }
    }

    #[test]
    fn with_racks_every_partition_spans_as_many_racks_as_it_can() {
        let racked = brokers(&[
            Some("a"),
            Some("a"),
            Some("b"),
            Some("b"),
            Some("c"),
            Some("c"),
        ]);
        let rack_of = |id: i32| racked[(id - 1) as usize].rack.clone();
        for (start, shift) in [(0, 0), (1, 4), (5, 2)] {
            for factor in [2, 3] {
                let assignment = assign(&racked, 0, 12, factor, start, shift).unwrap();
                for replicas in &assignment {
                    let racks: BTreeSet<_> = replicas.iter().map(|id| rack_of(*id)).collect();
                    assert_eq!(racks.len(), factor, "{replicas:?}");
                }
                let leaders = count_by(assignment.iter().map(|r| r[0]));
                assert!(leaders.values().all(|&n| n == 2), "leaders {leaders:?}");
            }
        }
        // More replicas than racks: racks repeat, brokers never do.
        let assignment = assign(&racked, 0, 6, 5, 3, 1).unwrap();
        for replicas in &assignment {
            assert_eq!(replicas.iter().collect::<BTreeSet<_>>().len(), 5);
        }
    }

    #[test]
    fn later_partitions_continue_the_pattern_and_refusals_say_why() {
        let three = brokers(&[None; 3]);
        let whole = assign(&three, 0, 6, 2, 1, 1).unwrap();
        let tail = assign(&three, 4, 2, 2, 1, 1).unwrap();
        assert_eq!(&whole[4..], &tail[..]);
        assert_eq!(
            assign(&three, 0, 1, 4, 0, 0),
            Err(PlacementError::NotEnoughBrokers {
                factor: 4,
                brokers: 3
            })
        );
        assert_eq!(
            assign(&three, 0, 1, 0, 0, 0),
            Err(PlacementError::ZeroReplicationFactor)
        );
        let mixed = brokers(&[Some("a"), None]);
        assert_eq!(
            assign(&mixed, 0, 1, 1, 0, 0),
            Err(PlacementError::MixedRacks)
        );
        let one = brokers(&[None]);
        assert_eq!(assign(&one, 0, 3, 1, 0, 0).unwrap(), vec![vec![1]; 3]);
    }
}
