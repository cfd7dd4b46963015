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


def save_bench_model(nodes, inits, input_shape, path, opset):
    graph = helper.make_graph(nodes, path.stem, [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *input_shape])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())


def make_cnn_files(workdir, rng):
    """A small convolutional network (two 3x3 convolutions of 16 and 32 channels, ReLU, 2x2 max pooling,
    a dense layer to 10 classes; random weights) and 1,024 synthetic 1x28x28 images."""
    path, golden_path = workdir / "bench_cnn.onnx", workdir / "bench_cnn_golden.safetensors"
    T = lambda a, n: numpy_helper.from_array(np.asarray(a, np.float32), n)
    inits = [T(rng.standard_normal((16, 1, 3, 3)) / 3, "k1"), T(np.zeros(16), "c1"),
             T(rng.standard_normal((32, 16, 3, 3)) / 12, "k2"), T(np.zeros(32), "c2"),
             T(rng.standard_normal((1568, 10)) / 40, "w"), T(np.zeros(10), "b"),
             numpy_helper.from_array(np.array([0, -1], np.int64), "flat")]
    nodes = [helper.make_node("Conv", ["input", "k1", "c1"], ["h1"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["h1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "k2", "c2"], ["h2"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["h2"], ["r2"]),
             helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Reshape", ["p2", "flat"], ["f"]),
             helper.make_node("Gemm", ["f", "w", "b"], ["logits"])]
    save_bench_model(nodes, inits, [1, 28, 28], path, 13)
    save_file({"inputs": rng.random((1024, 1, 28, 28), dtype=np.float32),
               "labels": rng.integers(0, 10, 1024).astype(np.int64)}, str(golden_path))
    return path, golden_path


def make_attention_files(workdir, rng):
    """A transformer encoder block (sequence 16, width 32, 4 heads: layer norm, self-attention with a
    softmax, residual, layer norm, GELU feed-forward of width 64, residual), mean-pooled into a dense
    layer to 10 classes; random weights. And 1,024 synthetic sequences."""
    path, golden_path = workdir / "bench_attention.onnx", workdir / "bench_attention_golden.safetensors"
    T = lambda a, n: numpy_helper.from_array(np.asarray(a, np.float32), n)
    I = lambda a, n: numpy_helper.from_array(np.asarray(a, np.int64), n)
    S, D, H = 16, 32, 4
    inits = [T(np.ones(D), "g"), T(np.zeros(D), "z"), T(np.float32(1 / np.sqrt(D // H)), "scale"),
             I([0, S, H, D // H], "heads"), I([0, S, D], "joined"), I([1], "seq_axis")]
    inits += [T(rng.standard_normal((D, D)) / np.sqrt(D), n) for n in ("wq", "wk", "wv", "wo")]
    inits += [T(rng.standard_normal((D, 2 * D)) / np.sqrt(D), "w1"), T(rng.standard_normal((2 * D, D)) / np.sqrt(2 * D), "w2"),
              T(rng.standard_normal((D, 10)) / np.sqrt(D), "wc"), T(np.zeros(10), "bc")]
    nodes = [helper.make_node("LayerNormalization", ["input", "g", "z"], ["n1"], axis=-1)]
    for x in "qkv":
        nodes += [helper.make_node("MatMul", ["n1", f"w{x}"], [f"{x}0"]),
                  helper.make_node("Reshape", [f"{x}0", "heads"], [f"{x}1"]),
                  helper.make_node("Transpose", [f"{x}1"], [x], perm=[0, 2, 1, 3])]
    nodes += [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
              helper.make_node("MatMul", ["q", "kt"], ["s0"]),
              helper.make_node("Mul", ["s0", "scale"], ["s"]),
              helper.make_node("Softmax", ["s"], ["a"], axis=-1),
              helper.make_node("MatMul", ["a", "v"], ["o0"]),
              helper.make_node("Transpose", ["o0"], ["o1"], perm=[0, 2, 1, 3]),
              helper.make_node("Reshape", ["o1", "joined"], ["o2"]),
              helper.make_node("MatMul", ["o2", "wo"], ["o"]),
              helper.make_node("Add", ["input", "o"], ["r1"]),
              helper.make_node("LayerNormalization", ["r1", "g", "z"], ["n2"], axis=-1),
              helper.make_node("MatMul", ["n2", "w1"], ["f0"]),
              helper.make_node("Gelu", ["f0"], ["f1"]),
              helper.make_node("MatMul", ["f1", "w2"], ["f2"]),
              helper.make_node("Add", ["r1", "f2"], ["r2"]),
              helper.make_node("ReduceMean", ["r2", "seq_axis"], ["pooled"], keepdims=0),
              helper.make_node("Gemm", ["pooled", "wc", "bc"], ["logits"])]
    save_bench_model(nodes, inits, [S, D], path, 20)
    save_file({"inputs": rng.standard_normal((1024, S, D)).astype(np.float32),
               "labels": rng.integers(0, 10, 1024).astype(np.int64)}, str(golden_path))
    return path, golden_path


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
    name = session.get_inputs()[0].name
    outputs = session.run(None, {name: golden[name] if name in golden else golden["inputs"]})
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

    # Larger operators than the MLP's: convolutions, attention.
    rng = np.random.default_rng(2027)
    networks = {}
    for name, make in [("cnn", make_cnn_files), ("attention", make_attention_files)]:
        path, golden = make(workdir, rng)
        result = run_engine(binary, "evaluate", path, golden, "accuracy", repeats)
        ort_time, score = timed(repeats, lambda: onnxruntime_accuracy(path, golden))
        if result["score"] != score:
            sys.exit(f"the engine and onnxruntime disagree on {name}: {result['score']} vs {score}")
        networks[name] = (result["seconds"], ort_time)

    # One repeat: the engine takes tens of seconds on it.
    poly_path, digits_path, poly_nodes = make_polynomial_files(workdir)
    poly = run_engine(binary, "evaluate", poly_path, digits_path, "accuracy", repeats)
    poly_ort_seconds, poly_ort_score = timed(repeats, lambda: onnxruntime_accuracy(poly_path, digits_path))
    if poly["score"] != poly_ort_score:
        sys.exit(f"the engine and onnxruntime disagree on the polynomial model: {poly['score']} vs {poly_ort_score}")

    # A text transformer whose attention scores need smaller batches than its inputs do (the fixture
    # `scripts/setup.sh` generates), as validators run it: in the sandbox.
    fixtures = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "out"
    text_path, text_golden = fixtures / "text_attention.onnx", fixtures / "text_attention_golden.safetensors"
    text = run_engine(binary, "sandboxed", sandbox, text_path, text_golden, "accuracy", repeats)
    text_ort_seconds, text_ort_score = timed(repeats, lambda: onnxruntime_accuracy(text_path, text_golden))
    if text["score"] != text_ort_score:
        sys.exit(f"the engine and onnxruntime disagree on the text model: {text['score']} vs {text_ort_score}")

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
    for name, what in [("cnn", "CNN (2 conv 3x3 of 16 and 32 channels, max pooling, dense) on 1,024 1x28x28 images"),
                       ("attention", "transformer encoder block (sequence 16, width 32, 4 heads, GELU feed-forward) on 1,024 sequences")]:
        seconds, ort_time = networks[name]
        print(f"| evaluate {what} (1 thread) | {seconds * 1e3:.1f} ms | onnxruntime {ort_time * 1e3:.1f} ms | {seconds / ort_time:.2f}x |")
    print(f"| evaluate PolynomialFeatures(2) + LogisticRegression ({poly_nodes} nodes) on 540 digits (1 thread) "
          f"| {poly['seconds'] * 1e3:.0f} ms | onnxruntime {poly_ort_seconds * 1e3:.0f} ms | {poly['seconds'] / poly_ort_seconds:.2f}x |")
    print(f"| evaluate a text transformer (256 token ids, width 64, 8 heads) on 512 sequences, in the node's sandbox "
          f"(1 thread) | {text['seconds'] * 1e3:.0f} ms | onnxruntime in process {text_ort_seconds * 1e3:.0f} ms "
          f"| {text['seconds'] / text_ort_seconds:.2f}x |")
    print(f"| SHA-256 of a 256 MiB file (read + hash) | {digest['seconds'] * 1e3:.0f} ms ({mib / digest['seconds']:.0f} MiB/s) "
          f"| sha256sum {sha_seconds * 1e3:.0f} ms ({mib / sha_seconds:.0f} MiB/s) | {digest['seconds'] / sha_seconds:.2f}x |")
    print(f"| (for scale) BLAKE2b of the same file | | b2sum {b2_seconds * 1e3:.0f} ms ({mib / b2_seconds:.0f} MiB/s) | |")
    print(f"\nscores agree: {engine['score']} ppb on {engine['samples']} samples; median of {repeats} runs after one warm-up")


if __name__ == "__main__":
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) == 5 else 7)
