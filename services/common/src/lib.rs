//! Errors shared by every Mirror Maestro service.
//!
//! One [`ErrorCode`] enum is the single source of truth for how an error is reported: it maps
//! to a `tonic::Code` at the gRPC edge and to an HTTP status at the REST edge, so both edges
//! always agree.

mod error;

pub use error::{ApiError, ErrorCode, FieldViolation};
