//! The storage conformance suite on SQLite.

mod conformance;

conformance::all_conformance_tests!(mm_storage::testing::TestBackend::Sqlite);
