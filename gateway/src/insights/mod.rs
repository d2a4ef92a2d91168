//! Read models of the web console: `/api/dashboard/…`, `/api/topology…` and `/api/search`.
//!
//! Field names follow the earlier product's responses (the console codes against them).
//! Every string is plain text (names, paths, errors): clients must render it as text, never
//! as HTML. Bad parameters are 422 (wrong type) or 400 (out of range), naming the parameter.
//!
//! - [`dashboard`]: metrics and quick stats;
//! - [`topology`]: the instance graph and the mirrors of one link;
//! - [`search`]: instances, pairs and mirrors at once.

pub mod dashboard;
pub mod search;
pub mod topology;

use chrono::{DateTime, Utc};
use mm_proto::v1 as pb;

use crate::{
    common::{self, rest_enum},
    errors::GatewayError,
    pairs::MirrorDirection,
};

rest_enum! {
    /// Severity: `unknown` < `ok` < `warning` < `error`.
    pub enum HealthSeverity : HealthLevel {
        /// No mirrors, or no status known.
        Unknown = "unknown",
        Ok = "ok",
        Warning = "warning",
        Error = "error",
    }
}

rest_enum! {
    /// Level of something whose mirrors never succeeded.
    pub enum NeverSucceededLevel : HealthLevel {
        Warning = "warning",
        Error = "error",
    }
}

impl HealthSeverity {
    /// The REST form of an API level (unspecified reads as unknown).
    pub fn of(value: i32) -> HealthSeverity {
        HealthSeverity::from_proto(value).unwrap_or(HealthSeverity::Unknown)
    }
}

/// The REST form of an API direction.
pub(crate) fn direction(value: i32) -> Result<MirrorDirection, GatewayError> {
    match pb::MirrorDirection::try_from(value) {
        Ok(pb::MirrorDirection::Push) => Ok(MirrorDirection::Push),
        Ok(pb::MirrorDirection::Pull) => Ok(MirrorDirection::Pull),
        _ => Err(common::missing("mirror_direction")()),
    }
}

/// `push` or `pull`.
pub(crate) fn direction_name(value: MirrorDirection) -> &'static str {
    match value {
        MirrorDirection::Push => "push",
        MirrorDirection::Pull => "pull",
    }
}

pub(crate) fn direction_to_proto(value: MirrorDirection) -> pb::MirrorDirection {
    match value {
        MirrorDirection::Push => pb::MirrorDirection::Push,
        MirrorDirection::Pull => pb::MirrorDirection::Pull,
    }
}

pub(crate) fn time(ts: Option<pbjson_types::Timestamp>) -> Option<DateTime<Utc>> {
    common::timestamp(ts.as_ref())
}

/// API field names → REST parameter names.
pub(crate) fn rest_field(field: &str) -> Option<String> {
    match field {
        "pair_id" => Some("instance_pair_id".to_owned()),
        "page_size" => Some("limit".to_owned()),
        "query" => Some("q".to_owned()),
        _ => None,
    }
}
