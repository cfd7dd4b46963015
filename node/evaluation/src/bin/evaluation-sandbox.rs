//! The evaluation sandbox's child process on its own (the node runs the same code as
//! `modelchain-node evaluate-sandboxed`): reads an evaluation request on standard input and writes the
//! outcome on standard output. The crate's tests run models in it; see `modelchain_evaluation::sandbox`.

fn main() {
	std::process::exit(modelchain_evaluation::sandbox::child_main())
}
