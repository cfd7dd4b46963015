#!/usr/bin/env python3
"""Evaluation engine vs onnxruntime, and SHA-256 vs sha256sum/b2sum, measured side by side in one run.

    engine_vs_onnxruntime.py THROUGHPUT_BIN SANDBOX_BIN WORKDIR [REPEATS]

THROUGHPUT_BIN is the engine's `throughput` example, SANDBOX_BIN its `evaluation-sandbox` binary
(scripts/bench/run.sh builds both); the sandboxed evaluation is timed next to the in-process one. Both sides are
single-threaded (tract is; onnxruntime gets intra_op_num_threads=1), both load the model and parse the golden
set inside the timed region, and both must produce the same accuracy, or the run fails. Each figure is the
median of REPEATS runs after one warm-up. Prints a markdown table for BENCHMARKS.md.
"""
import json
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
import onnx
from safetensors.numpy import load_file, save_file

PPB = 1_000_000_000


def make_bench_files(workdir):
    """A 784-256-256-10 MLP (random weights, fixed seed) and 4,096 synthetic samples."""
    model_path, golden_path = workdir / "bench_mlp.onnx", workdir / "bench_golden.safetensors"
    rng = np.random.default_rng(2026)
    dims = [784, 256, 256, 10]
    inits, nodes, prev = [], [], "input"
    for i, (a, b) in enumerate(zip(dims, dims[1:])):
        inits += [numpy_helper.from_array((rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32), f"w{i}"),
                  numpy_helper.from_array((rng.standard_normal(b) * 0.01).astype(np.float32), f"b{i}")]
        out = f"h{i}"
        nodes.append(helper.make_node("Gemm", [prev, f"w{i}", f"b{i}"], [out]))
        if i < len(dims) - 2:
            nodes.append(helper.make_node("Relu", [out], [out + "_relu"]))
            out += "_relu"
        prev = out
    graph = helper.make_graph(nodes, "bench-mlp",
                              [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 784])],
                              [helper.make_tensor_value_info(prev, TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    model_path.write_bytes(model.SerializeToString())
    inputs = rng.random((4096, 784), dtype=np.float32)
    labels = rng.integers(0, 10, 4096).astype(np.int64)
    save_file({"inputs": inputs, "labels": labels}, str(golden_path))
    return model_path, golden_path


def make_polynomial_files(workdir):
    """scikit-learn's PolynomialFeatures(2) and a logistic regression on the digits, exported by skl2onnx
    with its default opsets: 2,145 columns from 64 features, each gathered by its own nodes and all
    concatenated (4,295 nodes), the graph tract's optimiser used to take cubic time on. And the digits
    test split."""
    import warnings
    from skl2onnx import to_onnx
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures

    model_path, golden_path = workdir / "bench_polynomial.onnx", workdir / "bench_digits.safetensors"
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(x, digits.target, test_size=0.3, random_state=0,
                                                        stratify=digits.target)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(PolynomialFeatures(2), LogisticRegression(max_iter=300)).fit(x_train, y_train)
        exported = to_onnx(model, x_train[:1], options={id(model.steps[-1][1]): {"zipmap": False}})
    model_path.write_bytes(exported.SerializeToString())
    save_file({"inputs": x_test, "labels": y_test.astype(np.int64)}, str(golden_path))
    return model_path, golden_path, len(exported.graph.node)


def timed(repeats, f):
    result = f()  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = f()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), result


def onnxruntime_accuracy(model_path, golden_path):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    golden = load_file(str(golden_path))
    outputs = session.run(None, {session.get_inputs()[0].name: golden["inputs"]})
    # The class scores: the one float output (a scikit-learn export's label comes first).
    logits = next(o for o in outputs if o.dtype.kind == "f")
    correct = int((logits.argmax(axis=1) == golden["labels"]).sum())
    return correct * PPB // len(golden["labels"])


def run_engine(binary, *args):
    out = subprocess.run([binary, *map(str, args)], check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def run_tool(tool, path, repeats):
    seconds, out = timed(repeats, lambda: subprocess.run([tool, str(path)], check=True, capture_output=True, text=True).stdout)
    return seconds, out.split()[0]


def main(binary, sandbox, workdir, repeats):
    workdir.mkdir(parents=True, exist_ok=True)
    model_path, golden_path = make_bench_files(workdir)

    engine = run_engine(binary, "evaluate", model_path, golden_path, "accuracy", repeats)
    ort_seconds, ort_score = timed(repeats, lambda: onnxruntime_accuracy(model_path, golden_path))
    if engine["score"] != ort_score:
        sys.exit(f"the engine and onnxruntime disagree: {engine['score']} vs {ort_score}")
    sandboxed = run_engine(binary, "sandboxed", sandbox, model_path, golden_path, "accuracy", repeats)
    if sandboxed["score"] != engine["score"]:
        sys.exit(f"the sandbox and the engine disagree: {sandboxed['score']} vs {engine['score']}")

    # One repeat: the engine takes tens of seconds on it.
    poly_path, digits_path, poly_nodes = make_polynomial_files(workdir)
    poly = run_engine(binary, "evaluate", poly_path, digits_path, "accuracy", 1)
    poly_ort_seconds, poly_ort_score = timed(1, lambda: onnxruntime_accuracy(poly_path, digits_path))
    if poly["score"] != poly_ort_score:
        sys.exit(f"the engine and onnxruntime disagree on the polynomial model: {poly['score']} vs {poly_ort_score}")

    blob = workdir / "digest_256MiB.bin"
    if not blob.exists() or blob.stat().st_size != 256 << 20:
        blob.write_bytes(np.random.default_rng(1).integers(0, 256, 256 << 20, dtype=np.uint8).tobytes())
    digest = run_engine(binary, "digest", blob, repeats)
    sha_seconds, sha_hex = run_tool("sha256sum", blob, repeats)
    b2_seconds, _ = run_tool("b2sum", blob, repeats)
    if digest["digest"] != sha_hex:
        sys.exit("the engine's SHA-256 differs from sha256sum's")

    mib = (256 << 20) / (1 << 20)
    print(f"| what | modelchain | reference | ratio (modelchain / reference) |")
    print(f"| --- | --- | --- | --- |")
    print(f"| evaluate 784-256-256-10 MLP on 4,096 samples (load + run + accuracy, 1 thread) "
          f"| {engine['seconds'] * 1e3:.1f} ms | onnxruntime {ort_seconds * 1e3:.1f} ms | {engine['seconds'] / ort_seconds:.2f}x |")
    print(f"| the same evaluation in the node's sandbox (child process: start, input piped, evaluate) "
          f"| {sandboxed['seconds'] * 1e3:.1f} ms | in process {engine['seconds'] * 1e3:.1f} ms | {sandboxed['seconds'] / engine['seconds']:.2f}x |")
    print(f"| evaluate PolynomialFeatures(2) + LogisticRegression ({poly_nodes} nodes) on 540 digits (1 run) "
          f"| {poly['seconds']:.2f} s | onnxruntime {poly_ort_seconds:.2f} s | {poly['seconds'] / poly_ort_seconds:.0f}x |")
    print(f"| SHA-256 of a 256 MiB file (read + hash) | {digest['seconds'] * 1e3:.0f} ms ({mib / digest['seconds']:.0f} MiB/s) "
          f"| sha256sum {sha_seconds * 1e3:.0f} ms ({mib / sha_seconds:.0f} MiB/s) | {digest['seconds'] / sha_seconds:.2f}x |")
    print(f"| (for scale) BLAKE2b of the same file | | b2sum {b2_seconds * 1e3:.0f} ms ({mib / b2_seconds:.0f} MiB/s) | |")
    print(f"\nscores agree: {engine['score']} ppb on {engine['samples']} samples; median of {repeats} runs after one warm-up")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) == 5 else 7)
