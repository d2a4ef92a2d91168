//! Layered configuration shared by every Mirror Maestro process.
//!
//! Precedence, lowest first: built-in defaults → optional TOML file (`--config` or
//! `MM_CONFIG`) → `MM_*` environment variables → command-line flags. A bad value stops the
//! process with an error that names the variable.

mod secret;
mod settings;

pub use secret::Secret;
pub use settings::{CliOverrides, ConfigError, LogFormat, Mode, Settings};
