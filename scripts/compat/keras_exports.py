"""Scores Keras models as tf2onnx writes them, with the engine and with onnxruntime.

Not part of `scripts/test.sh`: TensorFlow is a large install. Run it in a venv of its own:

    python3 -m venv /tmp/tf-venv
    /tmp/tf-venv/bin/pip install tensorflow-cpu tf2onnx onnxruntime safetensors numpy
    source scripts/env.sh && cargo build -p modelchain-evaluation --example throughput
    /tmp/tf-venv/bin/python scripts/compat/keras_exports.py [--engine PATH] [--out DIR]

Each model (random weights) is converted by `tf2onnx.convert.from_keras` at opsets 13 and 17 with a
symbolic batch (Keras' channels-last images, which tf2onnx transposes). onnxruntime's outputs on
random inputs become the golden set's regression targets, so the engine's mean squared error against
them is 0 when it computes what onnxruntime computes (the score is in parts per billion).

Exit status 1 when any outcome differs from the expected one: a score of 0, or the typed error listed
in `EXPECTED_ERRORS`.
"""

import os
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import keras
import numpy as np
import onnxruntime as ort
import tensorflow as tf
import tf2onnx
from keras import layers
from safetensors.numpy import save_file

import engine

SAMPLES = 24
rng = np.random.default_rng(0)


def floats(*shape):
    return lambda n: rng.normal(size=(n, *shape)).astype(np.float32)


def tokens(length, vocabulary=100):
    return lambda n: rng.integers(0, vocabulary, size=(n, length)).astype(np.int32)


def sequential(shape, *stack):
    return lambda: keras.Sequential([keras.Input(shape), *stack])


def attention_block():
    x = keras.Input((10, 16))
    h = layers.LayerNormalization()(x + layers.MultiHeadAttention(2, 8)(x, x))
    return keras.Model(x, layers.Dense(3)(layers.GlobalAveragePooling1D()(h)))


def text_classifier():
    x = keras.Input((12,), dtype="int32")
    h = layers.GlobalAveragePooling1D()(layers.Embedding(100, 16)(x))
    return keras.Model(x, layers.Dense(3, activation="softmax")(h))


# name: (model, its inputs for n samples)
MODELS = {
    "mlp": (lambda: sequential(
        (20,), layers.Dense(32, activation="relu"), layers.Dropout(0.2), layers.BatchNormalization(),
        layers.Dense(10))(), floats(20)),
    "cnn": (lambda: sequential(
        (8, 8, 1), layers.Conv2D(8, 3, padding="same", activation="relu"), layers.BatchNormalization(),
        layers.MaxPooling2D(), layers.Conv2D(16, 3, activation="swish"), layers.GlobalAveragePooling2D(),
        layers.Dense(10))(), floats(8, 8, 1)),
    "separable": (lambda: sequential(
        (16, 16, 3), layers.Conv2D(8, 3, strides=2, padding="same"), layers.DepthwiseConv2D(3, padding="same"),
        layers.ReLU(6.0), layers.SeparableConv2D(12, 3), layers.AveragePooling2D(2), layers.Flatten(),
        layers.Dense(4))(), floats(16, 16, 3)),
    "lstm": (lambda: sequential((9, 6), layers.LSTM(12), layers.Dense(3))(), floats(9, 6)),
    "bidirectional_gru": (lambda: sequential(
        (9, 6), layers.Bidirectional(layers.GRU(8)), layers.Dense(3))(), floats(9, 6)),
    "simple_rnn": (lambda: sequential((9, 6), layers.SimpleRNN(10), layers.Dense(3))(), floats(9, 6)),
    "stacked_gru_sequences": (lambda: sequential(
        (9, 6), layers.GRU(8, return_sequences=True), layers.GRU(8, return_sequences=True),
        layers.GlobalMaxPooling1D(), layers.Dense(3))(), floats(9, 6)),
    "bidirectional_lstm_sequences": (lambda: sequential(
        (9, 6), layers.Bidirectional(layers.LSTM(6, return_sequences=True)), layers.Dense(2),
        layers.Flatten())(), floats(9, 6)),
    "masked_lstm": (lambda: sequential(
        (9, 6), layers.Masking(0.0), layers.LSTM(8), layers.Dense(3))(), floats(9, 6)),
    "conv1d": (lambda: sequential(
        (32, 4), layers.Conv1D(8, 5, activation="elu"), layers.MaxPooling1D(2), layers.LayerNormalization(),
        layers.GlobalMaxPooling1D(), layers.Dense(3))(), floats(32, 4)),
    "attention": (attention_block, floats(10, 16)),
    "text": (text_classifier, tokens(12)),
    "binary_sigmoid": (lambda: sequential((20,), layers.Dense(1, activation="sigmoid"))(), floats(20)),
    "upsampling": (lambda: sequential(
        (8, 8, 1), layers.Conv2D(4, 3, strides=2, padding="same"), layers.UpSampling2D(),
        layers.Conv2DTranspose(2, 3, padding="same"), layers.Flatten())(), floats(8, 8, 1)),
}

# None since the engine runs `Loop` and `ReverseSequence`, which tf2onnx writes for bidirectional layers.
EXPECTED_ERRORS = {}


def main():
    args = engine.arguments(__doc__, "/tmp/modelchain-keras-exports")
    warnings.filterwarnings("ignore")
    ort.set_default_logger_severity(3)
    keras.utils.set_random_seed(0)
    print(f"tensorflow {tf.__version__}, keras {keras.__version__}, tf2onnx {tf2onnx.__version__}, "
          f"onnxruntime {ort.__version__}")

    verdicts = engine.Verdicts()
    for name, (make, generate) in MODELS.items():
        model = make()
        model.output_names = ["output"]  # tf2onnx reads it; Keras 3's Sequential has none
        example = generate(2)
        for opset in (13, 17):
            tag = f"{name} opset {opset}"
            path = os.path.join(args.out, f"{name}_{opset}.onnx")
            spec = (tf.TensorSpec((None, *example.shape[1:]), tf.as_dtype(example.dtype), name="input"),)
            inputs = generate(SAMPLES)
            try:
                tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset, output_path=path)
                session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                expected = session.run(None, {session.get_inputs()[0].name: inputs})[0]
            except Exception as e:  # a converter's or onnxruntime's failure is not the engine's
                print(f"skipped    {tag}: {str(e).splitlines()[0][:120]}")
                continue
            golden = path.replace(".onnx", ".safetensors")
            save_file({"inputs": inputs, "labels": expected.astype(np.float32).reshape(SAMPLES, -1)}, golden)
            result = engine.outcome(args.engine, path, golden, "mse")
            verdicts.report(tag, result, EXPECTED_ERRORS.get(name, "score 0") in result)
    verdicts.finish()


if __name__ == "__main__":
    main()
