//! Compiles the protos with protox (no external `protoc`), generates tonic/prost code and
//! pbjson serde impls, and keeps the descriptor set for gRPC reflection.

use std::{env, fs, path::PathBuf};

use prost::Message as _;

const PROTOS: &[&str] = &[
    "mirrormaestro/v1/common.proto",
    "mirrormaestro/v1/auth.proto",
    "mirrormaestro/v1/instances.proto",
    "mirrormaestro/v1/pairs.proto",
    "mirrormaestro/v1/jobs.proto",
    "mirrormaestro/v1/mirrors.proto",
    "mirrormaestro/v1/insights.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptors = protox::compile(PROTOS, ["."])?;
    let descriptor_path = out_dir.join("mirrormaestro_descriptor.bin");
    fs::write(&descriptor_path, descriptors.encode_to_vec())?;

    tonic_prost_build::configure()
        .compile_well_known_types(true)
        .extern_path(".google.protobuf", "::pbjson_types")
        .compile_fds(descriptors)?;

    let descriptor_bytes = fs::read(&descriptor_path)?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptor_bytes)?
        .preserve_proto_field_names()
        .build(&[".mirrormaestro"])?;
    Ok(())
}
