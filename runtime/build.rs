/// The shared target dir lives outside the checkout, so substrate-wasm-builder cannot find this workspace's
/// Cargo.lock by walking up from OUT_DIR: point it at the workspace root, for this build script only (a
/// global setting would misdirect the wasm builds of dependencies that ship their own test runtimes).
#[cfg(feature = "std")]
fn point_wasm_builder_at_workspace() {
	if std::env::var_os("WASM_BUILD_WORKSPACE_HINT").is_none() {
		// Read when the script runs (not when it is compiled): a build script compiled for another
		// checkout of the same sources must still point at this one.
		let manifest_dir =
			std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
		let workspace = std::path::Path::new(&manifest_dir).join("..");
		std::env::set_var("WASM_BUILD_WORKSPACE_HINT", workspace);
	}
}

#[cfg(all(feature = "std", feature = "metadata-hash"))]
fn main() {
	point_wasm_builder_at_workspace();
	substrate_wasm_builder::WasmBuilder::init_with_defaults()
		.enable_metadata_hash("MDL", 12)
		.build();
}

#[cfg(all(feature = "std", not(feature = "metadata-hash")))]
fn main() {
	point_wasm_builder_at_workspace();
	substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

/// The wasm build of this crate does not build the wasm binary again.
#[cfg(not(feature = "std"))]
fn main() {}
