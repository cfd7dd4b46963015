"""Scores XGBoost, LightGBM and CatBoost models as their ONNX converters write them, with the engine
and with onnxruntime.

Not part of `scripts/test.sh` (three more libraries in the test venv for one check). Run it in a venv
of its own:

    python3 -m venv /tmp/gbdt-venv
    /tmp/gbdt-venv/bin/pip install xgboost lightgbm catboost onnxmltools onnx onnxruntime \\
        scikit-learn safetensors numpy
    source scripts/env.sh && cargo build -p modelchain-evaluation --example throughput
    /tmp/gbdt-venv/bin/python scripts/compat/gbdt_exports.py [--engine PATH] [--out DIR]

XGBoost and LightGBM models go through onnxmltools (LightGBM's classifiers with and without the
`ZipMap` output), CatBoost's through its own `save_model(format="onnx")`; classifiers on scikit-learn's
iris, breast cancer and digits, regressors on diabetes (several objectives). Two checks per model:
the engine's mean squared error against onnxruntime's first float output on the same inputs (within
1e-6 relative: the outputs' rounding), and, for classifiers, the engine's accuracy against the labels
equal to onnxruntime's predictions' accuracy.

Exit status 1 when any outcome differs from the expected one (`EXPECTED_ERRORS` lists the errors
expected of converters' faulty output).
"""

import os
import warnings

import catboost
import lightgbm
import numpy as np
import onnxruntime as ort
import xgboost
from onnxmltools.convert import convert_lightgbm, convert_xgboost
from onnxmltools.convert.common.data_types import FloatTensorType
from safetensors.numpy import save_file
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris

import engine

OPSET = 15

# onnxmltools writes LightGBM's random-forest mode with the probabilities of 2 classes whatever the
# number of classes (onnxruntime warns that the output's shape contradicts the declared one): the
# engine refuses labels beyond those classes.
EXPECTED_ERRORS = {
    ("iris", "lightgbm_rf", "accuracy"): "BadDataset",
    ("digits", "lightgbm_rf", "accuracy"): "BadDataset",
}


def models(regression):
    if regression:
        return [
            ("xgboost", lambda: xgboost.XGBRegressor(n_estimators=20, max_depth=4)),
            ("xgboost_pseudohuber", lambda: xgboost.XGBRegressor(n_estimators=10, objective="reg:pseudohubererror")),
            ("xgboost_poisson", lambda: xgboost.XGBRegressor(n_estimators=20, objective="count:poisson")),
            ("lightgbm", lambda: lightgbm.LGBMRegressor(n_estimators=20, verbose=-1)),
            ("lightgbm_l1", lambda: lightgbm.LGBMRegressor(n_estimators=20, objective="l1", verbose=-1)),
            ("lightgbm_poisson", lambda: lightgbm.LGBMRegressor(n_estimators=20, objective="poisson", verbose=-1)),
            ("catboost", lambda: catboost.CatBoostRegressor(iterations=20, depth=4, verbose=0, allow_writing_files=False)),
        ]
    return [
        ("xgboost", lambda: xgboost.XGBClassifier(n_estimators=20, max_depth=4)),
        ("lightgbm", lambda: lightgbm.LGBMClassifier(n_estimators=20, verbose=-1)),
        ("lightgbm_zipmap", lambda: lightgbm.LGBMClassifier(n_estimators=10, verbose=-1)),
        ("lightgbm_dart", lambda: lightgbm.LGBMClassifier(boosting_type="dart", n_estimators=10, verbose=-1)),
        ("lightgbm_rf", lambda: lightgbm.LGBMClassifier(
            boosting_type="rf", n_estimators=10, bagging_freq=1, bagging_fraction=0.7, verbose=-1)),
        ("catboost", lambda: catboost.CatBoostClassifier(iterations=20, depth=4, verbose=0, allow_writing_files=False)),
    ]


def to_onnx(name, model, features, path):
    types = [("input", FloatTensorType([None, features]))]
    if name.startswith("xgboost"):
        proto = convert_xgboost(model, initial_types=types, target_opset=OPSET)
    elif name.startswith("lightgbm"):
        proto = convert_lightgbm(model, initial_types=types, target_opset=OPSET, zipmap=name.endswith("zipmap"))
    else:
        model.save_model(path, format="onnx")
        return
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())


def first_float_output(path, X):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    for output in session.run(None, {session.get_inputs()[0].name: X}):
        if isinstance(output, list):  # ZipMap: one {class: probability} per sample
            return np.array([[row[k] for k in sorted(row)] for row in output], np.float64)
        if np.asarray(output).dtype.kind == "f":
            return np.asarray(output, np.float64).reshape(len(X), -1)
    raise ValueError("no float output")


def main():
    args = engine.arguments(__doc__, "/tmp/modelchain-gbdt-exports")
    warnings.filterwarnings("ignore")
    ort.set_default_logger_severity(3)
    print(f"xgboost {xgboost.__version__}, lightgbm {lightgbm.__version__}, catboost {catboost.__version__}, "
          f"onnxruntime {ort.__version__}")

    datasets = {"iris": load_iris, "cancer": load_breast_cancer, "digits": load_digits, "diabetes": load_diabetes}
    verdicts = engine.Verdicts()

    def report(key, outcome, ok):
        expected = EXPECTED_ERRORS.get(key)
        if expected is not None:
            ok = expected in outcome
        verdicts.report(" ".join(key), outcome, ok)

    for dataset, load in datasets.items():
        X, y = load(return_X_y=True)
        X = X.astype(np.float32)
        regression = dataset == "diabetes"
        for name, make in models(regression):
            path = os.path.join(args.out, f"{dataset}_{name}.onnx")
            to_onnx(name, make().fit(X, y), X.shape[1], path)
            reference = first_float_output(path, X)

            golden = path.replace(".onnx", "_outputs.safetensors")
            save_file({"inputs": X, "labels": reference.astype(np.float32)}, golden)
            score, error = engine.evaluate(args.engine, path, golden, "mse")
            # The reference is rounded to f32: allow its rounding, 1e-6 of the outputs' magnitude.
            tolerance = 1e-12 * float((reference ** 2).mean()) * 1e9
            report((dataset, name, "outputs"), error or f"mean squared difference {score} ppb",
                   error is None and score <= max(1, tolerance))

            if not regression:
                golden = path.replace(".onnx", "_labels.safetensors")
                save_file({"inputs": X, "labels": y.astype(np.int64)}, golden)
                score, error = engine.evaluate(args.engine, path, golden, "accuracy")
                if reference.shape[1] == 1:  # a binary classifier's one score
                    predicted = (reference[:, 0] > 0.5).astype(int)
                else:
                    predicted = reference.argmax(1)
                expected = int(np.mean(predicted == y) * 1e9)
                report((dataset, name, "accuracy"), error or f"engine {score}, onnxruntime {expected} ppb",
                       error is None and abs(score - expected) <= 1)
    verdicts.finish()


if __name__ == "__main__":
    main()
