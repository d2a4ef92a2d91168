//! The deployment manifest checks of the root package (`tests/deploy_manifests.rs`), also
//! run from this crate so they do not depend on the root binary building.

#[path = "../../tests/deploy_manifests.rs"]
mod checks;
