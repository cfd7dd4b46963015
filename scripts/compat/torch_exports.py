"""Scores PyTorch models as `torch.onnx.export` writes them, with the engine and with onnxruntime.

Not part of `scripts/test.sh`: torch is a 5 GB install. Run it in a venv of its own:

    python3 -m venv /tmp/torch-venv
    /tmp/torch-venv/bin/pip install torch onnxscript transformers onnx onnxruntime safetensors numpy
    source scripts/env.sh && cargo build -p modelchain-evaluation --example throughput
    /tmp/torch-venv/bin/python scripts/compat/torch_exports.py [--engine PATH] [--out DIR] [NAME ...]

Each network (random weights, eval mode; small PyTorch modules, and Hugging Face `transformers`
classifiers of small configurations: BERT, DistilBERT, RoBERTa, GPT-2, ELECTRA, ALBERT, ViT, Llama,
fed token ids with padded attention masks) is exported by both exporters (TorchScript, `dynamo=False`;
and torch.export, `dynamo=True`, the default since torch 2.9) at opsets 17, 18 and 20 (torch.export
also at 23 and 24, where it writes attention as the `Attention` operator) with a symbolic batch, and
at opset 18 with the batch fixed by its example. onnxruntime's outputs on random inputs
become the golden set's regression targets, so the engine's mean squared error against them is 0 when
it computes what onnxruntime computes (the score is in parts per billion: below 1e-9). The golden set
has 30 samples, not a multiple of a fixed batch, so a fixed-batch model's last batch is padded.

Exit status 1 when any outcome differs from the expected one: a score of 0, or the typed error listed
in `EXPECTED_ERRORS`.
"""

import contextlib
import io
import os
import warnings

import numpy as np
import onnxruntime as ort
import torch
import torch.nn as nn
import torch.nn.functional as F
import transformers
from safetensors.numpy import save_file

import engine

SAMPLES = 30


class Mlp(nn.Module):
    def __init__(s):
        super().__init__()
        s.n = nn.Sequential(nn.Linear(20, 64), nn.BatchNorm1d(64), nn.ReLU(), nn.Dropout(0.2), nn.Linear(64, 10))

    def forward(s, x):
        return s.n(x)


class Cnn(nn.Module):
    def __init__(s):
        super().__init__()
        s.f = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

    def forward(s, x):
        return s.f(x)


class Residual(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1, s.c2 = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 8, 3, padding=1)
        s.bn, s.fc = nn.BatchNorm2d(8), nn.Linear(8, 5)

    def forward(s, x):
        h = F.relu(s.c1(x))
        h = F.relu(h + s.bn(s.c2(h)))
        return s.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))


class Mobile(nn.Module):
    """Strided, depthwise and pointwise convolutions with MobileNet's activations."""

    def __init__(s):
        super().__init__()
        s.f = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.Hardswish(),
            nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.ReLU6(), nn.Conv2d(16, 24, 1), nn.SiLU(),
            nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(24, 4))

    def forward(s, x):
        return s.f(x)


class TextEncoder(nn.Module):
    """Token embeddings, learned positions, two `nn.TransformerEncoderLayer`s, mean pooling."""

    def __init__(s):
        super().__init__()
        s.e = nn.Embedding(100, 32)
        s.p = nn.Parameter(torch.randn(1, 12, 32) * 0.1)
        layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.1, batch_first=True)
        s.t = nn.TransformerEncoder(layer, 2)
        s.o = nn.Linear(32, 3)

    def forward(s, x):
        return s.o(s.t(s.e(x) + s.p).mean(1))


class PreNormGelu(nn.Module):
    def __init__(s):
        super().__init__()
        s.e = nn.Embedding(100, 32)
        s.t = nn.TransformerEncoderLayer(32, 4, 64, activation="gelu", norm_first=True, batch_first=True)
        s.o = nn.Linear(32, 3)

    def forward(s, x):
        return s.o(s.t(s.e(x))[:, 0])


class MultiHead(nn.Module):
    def __init__(s):
        super().__init__()
        s.a, s.o = nn.MultiheadAttention(16, 2, batch_first=True), nn.Linear(16, 2)

    def forward(s, x):
        h, _ = s.a(x, x, x)
        return s.o(h.sum(1))


class CausalAttention(nn.Module):
    """`F.scaled_dot_product_attention` with a causal mask, as decoder blocks call it."""

    def __init__(s):
        super().__init__()
        s.q, s.o = nn.Linear(16, 48), nn.Linear(16, 2)

    def forward(s, x):
        q, k, v = s.q(x).chunk(3, -1)
        b = x.shape[0]
        q, k, v = [t.reshape(b, -1, 2, 8).transpose(1, 2) for t in (q, k, v)]
        h = F.scaled_dot_product_attention(q, k, v, is_causal=True).transpose(1, 2).reshape(b, -1, 16)
        return s.o(h[:, -1])


class Lstm(nn.Module):
    def __init__(s):
        super().__init__()
        s.e, s.l, s.o = nn.Embedding(50, 16), nn.LSTM(16, 24, batch_first=True, num_layers=2), nn.Linear(24, 4)

    def forward(s, x):
        h, _ = s.l(s.e(x))
        return s.o(h[:, -1])


class BiGru(nn.Module):
    def __init__(s):
        super().__init__()
        s.l, s.o = nn.GRU(6, 12, batch_first=True, bidirectional=True), nn.Linear(24, 3)

    def forward(s, x):
        h, _ = s.l(x)
        return s.o(h[:, -1])


class Conv1d(nn.Module):
    def __init__(s):
        super().__init__()
        s.f = nn.Sequential(
            nn.Conv1d(4, 8, 5, padding=2), nn.GroupNorm(2, 8), nn.GELU(), nn.MaxPool1d(2),
            nn.Conv1d(8, 8, 3, dilation=2), nn.InstanceNorm1d(8, affine=True), nn.ELU(),
            nn.AdaptiveMaxPool1d(1), nn.Flatten(), nn.Linear(8, 3))

    def forward(s, x):
        return s.f(x)


class AutoEncoder(nn.Module):
    """A regression of every pixel: strided convolution, transposed convolution, sigmoid."""

    def __init__(s):
        super().__init__()
        s.e = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.LeakyReLU(0.1))
        s.d = nn.Sequential(nn.ConvTranspose2d(4, 4, 2, stride=2), nn.Conv2d(4, 1, 3, padding=1), nn.Sigmoid())

    def forward(s, x):
        return torch.flatten(s.d(s.e(x)), 1)


class Probabilities(nn.Module):
    def __init__(s):
        super().__init__()
        s.l = nn.Linear(20, 6)

    def forward(s, x):
        return F.softmax(s.l(x), dim=-1)


class LogProbabilities(nn.Module):
    def __init__(s):
        super().__init__()
        s.l = nn.Linear(20, 6)

    def forward(s, x):
        return F.log_softmax(s.l(x), dim=-1)


class BinarySigmoid(nn.Module):
    def __init__(s):
        super().__init__()
        s.l = nn.Linear(20, 1)

    def forward(s, x):
        return torch.sigmoid(s.l(x)).squeeze(-1)


class Mixer(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln, s.a, s.b, s.o = nn.LayerNorm(20), nn.Linear(20, 40), nn.Linear(40, 20), nn.Linear(20, 5)

    def forward(s, x):
        h = x + s.b(F.gelu(s.a(s.ln(x)), approximate="tanh"))
        return s.o(F.normalize(h, dim=-1))


class Regression(nn.Module):
    def __init__(s):
        super().__init__()
        s.l = nn.Sequential(nn.Linear(20, 16), nn.Tanh(), nn.Linear(16, 3))

    def forward(s, x):
        return s.l(x)


class TwoOutputs(nn.Module):
    """Logits and probabilities: the first float output is scored."""

    def __init__(s):
        super().__init__()
        s.l = nn.Linear(20, 6)

    def forward(s, x):
        y = s.l(x)
        return y, F.softmax(y, -1)


class MaskedMean(nn.Module):
    """Two inputs: token ids and an attention mask."""

    def __init__(s):
        super().__init__()
        s.e, s.o = nn.Embedding(100, 16), nn.Linear(16, 3)

    def forward(s, ids, mask):
        m = mask.unsqueeze(-1).to(torch.float32)
        return s.o((s.e(ids) * m).sum(1) / m.sum(1).clamp(min=1))


class VisionTransformer(nn.Module):
    def __init__(s):
        super().__init__()
        s.p = nn.Conv2d(3, 16, 4, stride=4)
        s.cls = nn.Parameter(torch.zeros(1, 1, 16))
        s.t = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True, activation="gelu")
        s.o = nn.Linear(16, 5)

    def forward(s, x):
        h = s.p(x).flatten(2).transpose(1, 2)
        h = torch.cat([s.cls.expand(h.shape[0], -1, -1), h], 1)
        return s.o(s.t(h)[:, 0])


class Bag(nn.Module):
    def __init__(s):
        super().__init__()
        s.e, s.o = nn.EmbeddingBag(100, 16, mode="mean"), nn.Linear(16, 3)

    def forward(s, x):
        return s.o(s.e(x))


class Logits(nn.Module):
    """A `transformers` classifier called with its inputs by name, returning its logits."""

    def __init__(s, model, names):
        super().__init__()
        s.m, s.names = model, names


class Logits1(Logits):
    def forward(s, a):
        return s.m(**{s.names[0]: a}).logits


class Logits2(Logits):
    def forward(s, a, b):
        return s.m(**dict(zip(s.names, (a, b)))).logits


class Logits3(Logits):
    def forward(s, a, b, c):
        return s.m(**dict(zip(s.names, (a, b, c)))).logits


SMALL = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
             max_position_embeddings=80, vocab_size=200)


def hugging_face(make, names):
    return lambda: [None, Logits1, Logits2, Logits3][len(names)](make(), names)


class TrainMode(Mlp):
    """The MLP left in training mode: its `Dropout` exports as random."""

    def eval(s):
        return s.train()


rng = np.random.default_rng(0)


def floats(*shape):
    return lambda n: rng.normal(size=(n, *shape)).astype(np.float32)


def tokens(length, vocabulary=100):
    return lambda n: rng.integers(0, vocabulary, size=(n, length)).astype(np.int64)


def mask(length):
    """Attention masks of 4 to `length` leading ones, the rest padding."""
    def generate(n):
        m = np.ones((n, length), np.int64)
        for row in m:
            row[rng.integers(4, length + 1):] = 0
        return m
    return generate


TEXT = [tokens(16, 200), mask(16)]
TEXT_PAIR = TEXT + [lambda n: np.zeros((n, 16), np.int64)]


# name: (network, its inputs for n samples)
NETWORKS = {
    "mlp": (Mlp, [floats(20)]),
    "cnn": (Cnn, [floats(1, 8, 8)]),
    "residual": (Residual, [floats(3, 8, 8)]),
    "mobile": (Mobile, [floats(3, 16, 16)]),
    "text_encoder": (TextEncoder, [tokens(12)]),
    "pre_norm_gelu": (PreNormGelu, [tokens(10)]),
    "multi_head": (MultiHead, [floats(7, 16)]),
    "causal_attention": (CausalAttention, [floats(6, 16)]),
    "lstm": (Lstm, [tokens(9, 50)]),
    "bi_gru": (BiGru, [floats(8, 6)]),
    "conv1d": (Conv1d, [floats(4, 32)]),
    "autoencoder": (AutoEncoder, [floats(1, 8, 8)]),
    "probabilities": (Probabilities, [floats(20)]),
    "log_probabilities": (LogProbabilities, [floats(20)]),
    "binary_sigmoid": (BinarySigmoid, [floats(20)]),
    "mixer": (Mixer, [floats(20)]),
    "regression": (Regression, [floats(20)]),
    "two_outputs": (TwoOutputs, [floats(20)]),
    "masked_mean": (MaskedMean, [tokens(8), lambda n: (rng.random((n, 8)) > 0.3).astype(np.int64)]),
    "vision_transformer": (VisionTransformer, [floats(3, 16, 16)]),
    "embedding_bag": (Bag, [tokens(5)]),
    "train_mode": (TrainMode, [floats(20)]),
    "bert": (hugging_face(lambda: transformers.BertForSequenceClassification(transformers.BertConfig(
        **SMALL, num_labels=3)), ["input_ids", "attention_mask", "token_type_ids"]), TEXT_PAIR),
    "distilbert": (hugging_face(lambda: transformers.DistilBertForSequenceClassification(
        transformers.DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=64, vocab_size=200,
                                      max_position_embeddings=64, num_labels=3)),
        ["input_ids", "attention_mask"]), TEXT),
    "roberta": (hugging_face(lambda: transformers.RobertaForSequenceClassification(transformers.RobertaConfig(
        **SMALL, num_labels=3)), ["input_ids", "attention_mask"]), TEXT),
    "gpt2": (hugging_face(lambda: transformers.GPT2ForSequenceClassification(transformers.GPT2Config(
        n_embd=32, n_layer=2, n_head=4, n_positions=64, vocab_size=200, num_labels=3, pad_token_id=0)),
        ["input_ids", "attention_mask"]), TEXT),
    "electra": (hugging_face(lambda: transformers.ElectraForSequenceClassification(transformers.ElectraConfig(
        embedding_size=16, **SMALL, num_labels=2)), ["input_ids", "attention_mask", "token_type_ids"]), TEXT_PAIR),
    "albert": (hugging_face(lambda: transformers.AlbertForSequenceClassification(transformers.AlbertConfig(
        embedding_size=16, **SMALL, num_labels=3)), ["input_ids", "attention_mask", "token_type_ids"]), TEXT_PAIR),
    "vit": (hugging_face(lambda: transformers.ViTForImageClassification(transformers.ViTConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, image_size=16,
        patch_size=4, num_channels=3, num_labels=4)), ["pixel_values"]), [floats(3, 16, 16)]),
    "llama": (hugging_face(lambda: transformers.LlamaForSequenceClassification(transformers.LlamaConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, intermediate_size=64,
        vocab_size=200, max_position_embeddings=64, num_labels=3, pad_token_id=0)),
        ["input_ids", "attention_mask"]), TEXT),
}

# (network, exporter or None for both, external data) -> the error the engine reports (a substring).
EXPECTED_ERRORS = {
    # torch.export's default: the weights in `model.onnx.data` beside the model.
    ("mlp", "dynamo", True): "external_data=False",
    # A module exported in training mode: torch.export writes its `Dropout` in training mode.
    ("train_mode", "dynamo", False): "model.eval()",
}


def export(model, example, path, exporter, fixed, opset, external):
    names = ["input"] if len(example) == 1 else [f"input{i}" for i in range(len(example))]
    options = dict(input_names=names, opset_version=opset, dynamo=exporter == "dynamo")
    if exporter == "dynamo":
        options["external_data"] = external
        if not fixed:
            options["dynamic_shapes"] = tuple({0: torch.export.Dim("batch", max=4096)} for _ in example)
    elif not fixed:
        options["dynamic_axes"] = {name: {0: "batch"} for name in names}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        torch.onnx.export(model, tuple(torch.from_numpy(e) for e in example), path, **options)


def main():
    args = engine.arguments(__doc__, "/tmp/modelchain-torch-exports", names=True)
    warnings.filterwarnings("ignore")
    ort.set_default_logger_severity(3)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, onnxruntime {ort.__version__}")

    variants = [("torchscript", None, 17), ("torchscript", None, 18), ("torchscript", 4, 18),
                ("dynamo", None, 17), ("dynamo", None, 18), ("dynamo", 4, 18), ("dynamo", None, 20),
                ("dynamo", None, 23), ("dynamo", None, 24)]
    verdicts = engine.Verdicts()
    for name, (network, generators) in NETWORKS.items():
        if args.names and name not in args.names:
            continue
        model = network().eval()
        cases = [(exporter, fixed, opset, False) for exporter, fixed, opset in variants]
        if name == "mlp":
            cases.append(("dynamo", None, 18, True))
        for exporter, fixed, opset, external in cases:
            tag = f"{name} {exporter} opset {opset} {'batch fixed at ' + str(fixed) if fixed else 'symbolic batch'}"
            tag += " external data" if external else ""
            path = os.path.join(args.out, tag.replace(" ", "_") + ".onnx")
            example = [g(fixed or 2) for g in generators]
            try:
                export(model, example, path, exporter, fixed, opset, external)
                inputs = [g(SAMPLES) for g in generators]
                session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
                names = [i.name for i in session.get_inputs()]
                if fixed:
                    rows = []
                    for start in range(0, SAMPLES, fixed):
                        batch = [np.resize(x[start:start + fixed], (fixed, *x.shape[1:])) for x in inputs]
                        rows.append(session.run(None, dict(zip(names, batch)))[0][: SAMPLES - start])
                    expected = np.concatenate(rows)
                else:
                    expected = session.run(None, dict(zip(names, inputs)))[0]
            except Exception as e:  # an exporter's or onnxruntime's failure is not the engine's
                print(f"skipped    {tag}: {str(e).splitlines()[0][:120]}")
                continue
            golden = {"labels": expected.astype(np.float32).reshape(SAMPLES, -1)}
            golden.update({"inputs": inputs[0]} if len(inputs) == 1 else dict(zip(names, inputs)))
            golden_path = path.replace(".onnx", ".safetensors")
            save_file(golden, golden_path)
            result = engine.outcome(args.engine, path, golden_path, "mse")
            verdicts.report(tag, result, EXPECTED_ERRORS.get((name, exporter, external), "score 0") in result)
    verdicts.finish()


if __name__ == "__main__":
    main()
