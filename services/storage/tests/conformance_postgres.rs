//! The storage conformance suite on PostgreSQL (fails when PostgreSQL is unreachable, unless
//! `MM_SKIP_POSTGRES=1`).

mod conformance;

conformance::all_conformance_tests!(mm_storage::testing::TestBackend::Postgres);
