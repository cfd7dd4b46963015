#!/usr/bin/env python3
"""Builds the aggregate of a training round's accepted updates, bit for bit as the validators recompute it.

    aggregate.py --base BASE.onnx --rule fedavg|median|trimmed:BETA_PPB --out OUT.onnx UPDATE.onnx:WEIGHT ...

Give the updates in ascending update id (the order `api.query.trainingRounds.updates` lists them in) with
their declared sample counts as weights. The result is the base model with every float initializer (float,
double or float16), and every parameter attribute of scikit-learn's linear models and scalers (ONNX-ML
LinearClassifier and LinearRegressor coefficients and intercepts, Scaler offset and scale; float32),
replaced by the rule applied coordinate by coordinate (see node/evaluation/src/aggregate.rs):

- fedavg:  acc = 0; for each update in order: acc = acc + float64(weight) * float64(value);
           result = acc / float64(sum of weights)
- median:  sorted values; the middle one, or (lo + hi) / 2 in float64 for an even count
- trimmed: k = BETA_PPB * n // 10**9 values dropped at each end of the sorted values, the rest summed in
           ascending order in float64 and divided by n - 2k

Every rule works in float64 and rounds once to the initializer's own type (float32, float64, float16).
Every update must be the base's graph.
"""
import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper

FLOATS = (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16)
ATTRIBUTE_WEIGHTS = {"LinearClassifier": ("coefficients", "intercepts"),
                     "LinearRegressor": ("coefficients", "intercepts"),
                     "Scaler": ("offset", "scale")}


def weight_attributes(model):
    """{(node index, attribute name): float32 values} of the parameter attributes of ONNX-ML nodes."""
    return {(i, a.name): np.array(a.floats, dtype=np.float32)
            for i, node in enumerate(model.graph.node) if node.domain == "ai.onnx.ml"
            for a in node.attribute if a.name in ATTRIBUTE_WEIGHTS.get(node.op_type, ())}


def float_initializers(model):
    return {t.name: numpy_helper.to_array(t) for t in model.graph.initializer if t.data_type in FLOATS}


def combine(columns, weights, rule, beta_ppb=0):
    """columns: list of arrays of one initializer (float32, float64 or float16), one per update, in order."""
    n = len(columns)
    dtype = columns[0].dtype
    if rule == "fedavg":
        acc = np.zeros(columns[0].shape, dtype=np.float64)
        for values, weight in zip(columns, weights):
            acc = acc + np.float64(weight) * values.astype(np.float64)
        return (acc / np.float64(sum(weights))).astype(dtype)
    ordered = np.sort(np.stack(columns), axis=0)
    if rule == "median":
        if n % 2 == 1:
            return ordered[n // 2].astype(dtype)
        return ((ordered[n // 2 - 1].astype(np.float64) + ordered[n // 2].astype(np.float64)) / 2.0).astype(dtype)
    if rule == "trimmed":
        k = beta_ppb * n // 10**9
        acc = np.zeros(columns[0].shape, dtype=np.float64)
        for j in range(k, n - k):
            acc = acc + ordered[j].astype(np.float64)
        return (acc / np.float64(n - 2 * k)).astype(dtype)
    raise ValueError(f"unknown rule {rule}")


def aggregate(base, updates, rule, beta_ppb=0):
    """base: ModelProto; updates: [(ModelProto, weight)] in ascending update id. Returns a ModelProto."""
    parts = [float_initializers(model) for model, _ in updates]
    weights = [weight for _, weight in updates]
    out = onnx.ModelProto()
    out.CopyFrom(base)
    for tensor in out.graph.initializer:
        if tensor.data_type not in FLOATS:
            continue
        combined = combine([part[tensor.name] for part in parts], weights, rule, beta_ppb)
        tensor.CopyFrom(numpy_helper.from_array(combined.reshape(tuple(tensor.dims)), tensor.name))
    attribute_parts = [weight_attributes(model) for model, _ in updates]
    for (i, name), _ in weight_attributes(base).items():
        combined = combine([part[(i, name)] for part in attribute_parts], weights, rule, beta_ppb)
        attribute = next(a for a in out.graph.node[i].attribute if a.name == name)
        attribute.floats[:] = [float(v) for v in combined]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--rule", required=True, help="fedavg, median or trimmed:BETA_PPB")
    parser.add_argument("--out", required=True)
    parser.add_argument("updates", nargs="+", help="UPDATE.onnx:WEIGHT, in ascending update id")
    args = parser.parse_args()
    rule, _, beta = args.rule.partition(":")
    updates = []
    for spec in args.updates:
        path, _, weight = spec.rpartition(":")
        updates.append((onnx.load(path), int(weight)))
    onnx.save(aggregate(onnx.load(args.base), updates, rule, int(beta or 0)), args.out)


if __name__ == "__main__":
    sys.exit(main())
