//! Compiles the .proto contract with protox (no system protoc) and generates the tonic code
//! plus a descriptor set for gRPC reflection.

use anyhow::Context;
use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let protos = ["proto/faq/v1/faq.proto", "proto/faq/v1/admin.proto"];
    for p in protos {
        println!("cargo:rerun-if-changed={p}");
    }
    let fds = protox::compile(protos, ["proto"]).context("failed to compile protos")?;
    let out = PathBuf::from(std::env::var("OUT_DIR").context("OUT_DIR not set")?);
    let bytes = prost::Message::encode_to_vec(&fds);
    std::fs::write(out.join("faq_descriptor.bin"), bytes).context("failed to write descriptor")?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Malformed requests are INVALID_ARGUMENT (prost's codec says INTERNAL).
        .codec_path("crate::server::codec::ProtoCodec")
        .compile_fds(fds)
        .context("failed to generate gRPC code")?;
    Ok(())
}
