//! The topology graph: instances as nodes, and per (source, target, direction) the ready
//! mirrors of every pair between them as links. The database returns counts per pair and
//! status (`Storage::mirror_status_groups`); this module only folds those few rows into
//! nodes and links, so its cost depends on the number of pairs, not of mirrors.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use mm_proto::v1;
use mm_storage::{
    Graph, GraphPair, HealthLevel, MirrorDirection, MirrorLifecycle, MirrorStatusGroup,
    PairLastSuccess, StalenessRules, StatusClass,
};

use crate::convert::{direction, timestamp};

/// Mirrors folded together: counts, statuses and the newest success.
#[derive(Debug, Default, Clone)]
pub(crate) struct Tally {
    pub mirror_count: i64,
    pub enabled_count: i64,
    pub never_succeeded_count: i64,
    pub last_success: Option<DateTime<Utc>>,
    /// By lower-case status; never-checked mirrors under `unknown`.
    pub status_counts: BTreeMap<String, i64>,
}

impl Tally {
    pub fn add(&mut self, group: &MirrorStatusGroup) {
        self.mirror_count += group.mirror_count;
        if group.enabled {
            self.enabled_count += group.mirror_count;
        }
        self.never_succeeded_count += group.never_succeeded_count;
        let status = group
            .last_update_status
            .as_deref()
            .map(str::to_ascii_lowercase)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_owned());
        *self.status_counts.entry(status).or_default() += group.mirror_count;
    }

    pub fn merge(&mut self, other: &Tally) {
        self.mirror_count += other.mirror_count;
        self.enabled_count += other.enabled_count;
        self.never_succeeded_count += other.never_succeeded_count;
        self.last_success = self.last_success.max(other.last_success);
        for (status, count) in &other.status_counts {
            *self.status_counts.entry(status.clone()).or_default() += count;
        }
    }

    /// Any failed → error, any pending → warning, any success → ok, else unknown.
    fn status_health(&self) -> HealthLevel {
        self.status_counts
            .iter()
            .filter(|(_, count)| **count > 0)
            .map(|(status, _)| StatusClass::of(Some(status)).health())
            .max()
            .unwrap_or_default()
    }

    /// Health, staleness and its age. Without mirrors everything is unknown; when every
    /// mirror never succeeded, staleness is the rules' never-succeeded level.
    pub fn judge(
        &self,
        rules: &StalenessRules,
        now: DateTime<Utc>,
    ) -> (HealthLevel, HealthLevel, Option<i64>) {
        if self.mirror_count == 0 {
            return (HealthLevel::Unknown, HealthLevel::Unknown, None);
        }
        let (staleness, age) = if self.never_succeeded_count >= self.mirror_count {
            (rules.never_succeeded, None)
        } else {
            rules.judge(self.last_success, now)
        };
        (self.status_health().max(staleness), staleness, age)
    }
}

pub(crate) fn health(level: HealthLevel) -> v1::HealthLevel {
    match level {
        HealthLevel::Unknown => v1::HealthLevel::Unknown,
        HealthLevel::Ok => v1::HealthLevel::Ok,
        HealthLevel::Warning => v1::HealthLevel::Warning,
        HealthLevel::Error => v1::HealthLevel::Error,
    }
}

fn direction_order(direction: MirrorDirection) -> u8 {
    match direction {
        MirrorDirection::Pull => 0,
        MirrorDirection::Push => 1,
    }
}

/// Folds the graph, the status groups (only ready mirrors count) and each pair's newest
/// success into the response. `pair_id` restricts links and counts to one pair; every
/// instance stays a node.
pub(crate) fn build(
    graph: &Graph,
    groups: &[MirrorStatusGroup],
    last_successes: &[PairLastSuccess],
    pair_id: Option<i64>,
    rules: &StalenessRules,
    now: DateTime<Utc>,
) -> v1::GetTopologyResponse {
    let pairs: Vec<&GraphPair> = graph
        .pairs
        .iter()
        .filter(|pair| pair_id.is_none_or(|id| pair.id == id))
        .collect();
    let mut per_pair: BTreeMap<i64, Tally> = BTreeMap::new();
    for group in groups
        .iter()
        .filter(|g| g.lifecycle == MirrorLifecycle::Ready)
    {
        per_pair.entry(group.pair_id).or_default().add(group);
    }
    for success in last_successes {
        if let Some(tally) = per_pair.get_mut(&success.pair_id) {
            tally.last_success = success.last_success;
        }
    }

    // Links: (source, target, direction order) → direction, tally and pairs.
    type Link = (MirrorDirection, Tally, Vec<i64>);
    let mut links: BTreeMap<(i64, i64, u8), Link> = BTreeMap::new();
    // Instances: (in, out, pairs in, pairs out).
    let mut ends: BTreeMap<i64, (Tally, Tally, i64, i64)> = BTreeMap::new();
    for pair in &pairs {
        let tally = per_pair.get(&pair.id).cloned().unwrap_or_default();
        let link = links
            .entry((
                pair.source_instance_id,
                pair.target_instance_id,
                direction_order(pair.mirror_direction),
            ))
            .or_insert_with(|| (pair.mirror_direction, Tally::default(), Vec::new()));
        link.1.merge(&tally);
        link.2.push(pair.id);
        let source = ends.entry(pair.source_instance_id).or_default();
        source.1.merge(&tally);
        source.3 += 1;
        let target = ends.entry(pair.target_instance_id).or_default();
        target.0.merge(&tally);
        target.2 += 1;
    }

    let mut nodes: Vec<v1::TopologyNode> = graph
        .instances
        .iter()
        .map(|instance| {
            let (inbound, outbound, pairs_in, pairs_out) =
                ends.get(&instance.id).cloned().unwrap_or_default();
            let mut both = inbound.clone();
            both.merge(&outbound);
            let (level, staleness, age) = both.judge(rules, now);
            v1::TopologyNode {
                id: instance.id,
                name: instance.name.clone(),
                url: instance.url.clone(),
                description: instance.description.clone(),
                mirrors_in: inbound.mirror_count,
                mirrors_out: outbound.mirror_count,
                pairs_in,
                pairs_out,
                status_counts: both.status_counts.into_iter().collect(),
                last_successful_update: both.last_success.map(timestamp),
                health: health(level) as i32,
                staleness: health(staleness) as i32,
                staleness_age_seconds: age,
                never_succeeded_count: both.never_succeeded_count,
            }
        })
        .collect();
    nodes.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.id.cmp(&b.id))
    });

    let links = links
        .into_iter()
        .map(
            |((source, target, _), (mirror_direction, tally, pair_ids))| {
                let (level, staleness, age) = tally.judge(rules, now);
                v1::TopologyLink {
                    source_instance_id: source,
                    target_instance_id: target,
                    mirror_direction: direction(mirror_direction) as i32,
                    mirror_count: tally.mirror_count,
                    enabled_count: tally.enabled_count,
                    disabled_count: tally.mirror_count - tally.enabled_count,
                    pair_count: i64::try_from(pair_ids.len()).unwrap_or(i64::MAX),
                    status_counts: tally.status_counts.into_iter().collect(),
                    last_successful_update: tally.last_success.map(timestamp),
                    health: health(level) as i32,
                    staleness: health(staleness) as i32,
                    staleness_age_seconds: age,
                    never_succeeded_count: tally.never_succeeded_count,
                    pair_ids,
                }
            },
        )
        .collect();
    v1::GetTopologyResponse { nodes, links }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use mm_storage::GraphInstance;

    use super::*;

    fn group(pair_id: i64, status: Option<&str>, count: i64, never: i64) -> MirrorStatusGroup {
        MirrorStatusGroup {
            pair_id,
            lifecycle: MirrorLifecycle::Ready,
            last_update_status: status.map(str::to_owned),
            enabled: true,
            mirror_count: count,
            never_succeeded_count: never,
        }
    }

    fn success(pair_id: i64, seconds_ago: i64) -> PairLastSuccess {
        PairLastSuccess {
            pair_id,
            last_success: Some(Utc::now() - Duration::seconds(seconds_ago)),
        }
    }

    fn graph() -> Graph {
        let instance = |id, name: &str| GraphInstance {
            id,
            name: name.to_owned(),
            url: format!("https://{name}.test"),
            description: String::new(),
        };
        let pair = |id, source, target, mirror_direction| GraphPair {
            id,
            name: format!("p{id}"),
            source_instance_id: source,
            target_instance_id: target,
            mirror_direction,
        };
        Graph {
            instances: vec![
                instance(1, "west"),
                instance(2, "East"),
                instance(3, "idle"),
            ],
            pairs: vec![
                pair(10, 1, 2, MirrorDirection::Push),
                pair(11, 1, 2, MirrorDirection::Push),
                pair(12, 2, 1, MirrorDirection::Pull),
            ],
        }
    }

    #[test]
    fn links_aggregate_pairs_and_nodes_count_both_ends() {
        let groups = vec![
            group(10, Some("finished"), 3, 0),
            group(11, Some("failed"), 1, 1),
            group(12, None, 2, 2),
            MirrorStatusGroup {
                lifecycle: MirrorLifecycle::Creating,
                ..group(12, None, 50, 50)
            },
        ];
        let rules = StalenessRules::default();
        let topology = build(
            &graph(),
            &groups,
            &[success(10, 60)],
            None,
            &rules,
            Utc::now(),
        );
        let names: Vec<&str> = topology.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["East", "idle", "west"]);
        assert_eq!(topology.links.len(), 2);
        let push = &topology.links[0];
        assert_eq!((push.source_instance_id, push.target_instance_id), (1, 2));
        assert_eq!(
            (
                push.mirror_count,
                push.pair_count,
                push.never_succeeded_count
            ),
            (4, 2, 1)
        );
        assert_eq!(push.status_counts["failed"], 1);
        assert_eq!(push.health, v1::HealthLevel::Error as i32);
        assert_eq!(push.staleness, v1::HealthLevel::Ok as i32);
        // The pull link's mirrors never succeeded (creating ones do not count).
        let pull = &topology.links[1];
        assert_eq!(pull.mirror_count, 2);
        assert_eq!(pull.staleness, v1::HealthLevel::Warning as i32);
        assert_eq!(pull.status_counts["unknown"], 2);
        let west = &topology.nodes[2];
        assert_eq!(
            (
                west.mirrors_out,
                west.mirrors_in,
                west.pairs_out,
                west.pairs_in
            ),
            (4, 2, 2, 1)
        );
        assert_eq!(west.status_counts.values().sum::<i64>(), 6);
        let idle = &topology.nodes[1];
        assert_eq!(idle.health, v1::HealthLevel::Unknown as i32);

        let only = build(&graph(), &groups, &[], Some(12), &rules, Utc::now());
        assert_eq!(only.links.len(), 1);
        assert_eq!(only.nodes.len(), 3);
    }

    #[test]
    fn staleness_raises_health_and_never_level_applies() {
        let rules = StalenessRules {
            warning_seconds: 100,
            error_seconds: 1000,
            never_succeeded: HealthLevel::Error,
        };
        let now = Utc::now();
        let mut old = Tally::default();
        old.add(&group(1, Some("finished"), 1, 0));
        old.last_success = success(1, 5000).last_success;
        assert_eq!(old.judge(&rules, now).0, HealthLevel::Error);
        let mut never = Tally::default();
        never.add(&group(1, Some("none"), 2, 2));
        assert_eq!(
            never.judge(&rules, now),
            (HealthLevel::Error, HealthLevel::Error, None)
        );
        assert_eq!(Tally::default().judge(&rules, now).0, HealthLevel::Unknown);
    }
}
