//! Generated gRPC/protobuf types of the `mirrormaestro.v1` API.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

/// `mirrormaestro.v1`: the public API.
pub mod v1 {
    tonic::include_proto!("mirrormaestro.v1");
    include!(concat!(env!("OUT_DIR"), "/mirrormaestro.v1.serde.rs"));
}

/// Encoded `FileDescriptorSet` of every proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/mirrormaestro_descriptor.bin"));
