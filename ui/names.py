"""The words a person reads for the engine's names: "cross-entropy" for
``cross_entropy``, "Adam" for ``adam``. Pass ``shown`` as a widget's
``format_func`` so the spec keeps its names and the screen shows words.
"""

from __future__ import annotations

from engine.i18n import t

WORDS = {
    # losses
    "cross_entropy": "cross-entropy", "bce": "binary cross-entropy",
    "mse": "mean squared error", "mae": "mean absolute error", "huber": "Huber",
    # optimizers
    "sgd": "SGD", "momentum": "SGD with momentum", "adagrad": "Adagrad",
    "rmsprop": "RMSprop", "adam": "Adam", "adamw": "AdamW",
    # activations
    "relu": "ReLU", "tanh": "tanh", "sigmoid": "sigmoid", "identity": "linear",
    "leaky_relu": "leaky ReLU", "elu": "ELU", "gelu": "GELU", "silu": "SiLU", "none": "none",
    # problems
    "classification": "classification", "regression": "regression",
    # layer types whose names read badly with only their underscores removed
    "conv1d": "1-D convolution", "conv_transpose2d": "transposed convolution",
    "batchnorm2d": "batch norm over channels", "dropout2d": "channel dropout",
    "adaptive_avgpool2d": "adaptive average pooling",
    "adaptive_maxpool2d": "adaptive max pooling",
    "rnn": "RNN", "lstm": "LSTM", "gru": "GRU", "multihead_attention": "multi-head attention",
    "positional": "positional encoding", "transformer_encoder": "Transformer encoder block",
    "transformer_decoder": "Transformer decoder block",
    "dot": "scaled dot product", "additive": "additive (Bahdanau)",
}
# Data-set titles short enough for a button in a narrow column (the full title is the
# button's help).
SHORT_TITLES = {"xor": "XOR", "gaussian": "Gaussians", "spiral_multi": "Many spirals",
                "multi_gaussian": "Gaussians"}


def shown(name: object) -> str:
    """The word for an engine name, translated; unknown names with spaces for underscores."""
    text = str(name)
    return t(WORDS.get(text, text.replace("_", " ")))

