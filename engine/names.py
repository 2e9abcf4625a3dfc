"""The words a person reads for the engine's names: "cross-entropy" for
``cross_entropy``, "Adam" for ``adam``. Pages pass ``shown`` as a widget's
``format_func`` so the spec keeps its names and the screen shows words; the
differences between two runs (engine/spec_diff.py) use the same words.
"""

from __future__ import annotations

from engine.i18n import N_, t

WORDS = {
    # losses
    "cross_entropy": N_("cross-entropy"), "bce": N_("binary cross-entropy"),
    "mse": N_("mean squared error"), "mae": N_("mean absolute error"), "huber": N_("Huber"),
    # optimizers
    "sgd": N_("SGD"), "momentum": N_("SGD with momentum"), "adagrad": N_("Adagrad"),
    "rmsprop": N_("RMSprop"), "adam": N_("Adam"), "adamw": N_("AdamW"),
    # activations
    "relu": N_("ReLU"), "tanh": N_("tanh"), "sigmoid": N_("sigmoid"), "identity": N_("linear"),
    "leaky_relu": N_("leaky ReLU"), "elu": N_("ELU"), "gelu": N_("GELU"), "silu": N_("SiLU"),
    "none": N_("none"),
    # initialisation schemes
    "xavier_uniform": N_("Xavier (uniform)"), "xavier_normal": N_("Xavier (normal)"),
    "he_uniform": N_("He (uniform)"), "he_normal": N_("He (normal)"),
    # learning-rate schedules
    "one_cycle": N_("one cycle"),
    # merges
    "add": N_("sum (merge)"), "concat": N_("concatenation (merge)"),
    "multiply": N_("product (merge)"),
    # problems
    "classification": N_("classification"), "regression": N_("regression"),
    # layer types whose names read badly with only their underscores removed
    "conv1d": N_("1-D convolution"), "conv_transpose2d": N_("transposed convolution"),
    "batchnorm1d": N_("batch norm"), "batchnorm2d": N_("batch norm over channels"),
    "dropout2d": N_("channel dropout"),
    "adaptive_avgpool2d": N_("adaptive average pooling"),
    "adaptive_maxpool2d": N_("adaptive max pooling"),
    "rnn": N_("RNN"), "lstm": N_("LSTM"), "gru": N_("GRU"),
    "multihead_attention": N_("multi-head attention"),
    "positional": N_("positional encoding"), "transformer_encoder": N_("Transformer encoder block"),
    "transformer_decoder": N_("Transformer decoder block"),
    "dot": N_("scaled dot product"), "additive": N_("additive (Bahdanau)"),
}


def shown(name: object) -> str:
    """The word for an engine name, translated; unknown names with spaces for underscores."""
    text = str(name)
    return t(WORDS.get(text, text.replace("_", " ")))
