"""The model as an ONNX file, for viewers such as Netron and runtimes such as onnxruntime.

torch.onnx.export's default exporter (``dynamo=True``) captures the model with
torch.export and needs the ``onnx`` and ``onnxscript`` packages. The file holds the
weights (no external data file) and takes any batch size. Its input is what the first node
reads: for an image set, pixels already scaled with the training split's statistics
(the file's metadata gives them); for tokens, int64 ids.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import threading
import warnings

import torch

from engine.graph import GraphModel
from engine.i18n import t
from engine.trainer import Trainer

INPUT_NAME, OUTPUT_NAME = "input", "output"
# torch.export is not safe to run from two threads at once (it patches global state).
_LOCK = threading.Lock()


class OnnxError(RuntimeError):
    """The model could not be written as ONNX; the message names the cause."""


def model_now(trainer: Trainer, trained: bool = True) -> GraphModel:
    """A CPU copy of ``trainer``'s model: its weights now (``trained``) or its initial ones.
    A copy, so exporting never moves or hooks the model being trained."""
    model = trainer.initial_model()
    if trained:
        model.load_state_dict(trainer.model.state_dict())
    return model.cpu().train(False)


def example_input(model: GraphModel, x: torch.Tensor) -> torch.Tensor:
    """A prepared batch of at least two rows (a batch of one would be fixed at one)."""
    x = x[:2] if len(x) >= 2 else torch.cat([x, x])[:2]
    return model.prepare(x).detach()


def onnx_bytes(model: GraphModel, sample: torch.Tensor, name: str = "") -> bytes:
    """``model`` (a copy: it is put in eval mode on the CPU) as an ONNX file's bytes, with
    its current weights; ``sample`` is a few stored input rows (their shape and type fix
    the input's, all but the batch size)."""
    try:
        import onnx  # noqa: F401 - the exporter needs it
        import onnxscript  # noqa: F401
    except ImportError as e:
        raise OnnxError(t("ONNX export needs the onnx and onnxscript packages; install them "
                          "with pip install -r requirements.txt ({error}).", error=e)) from None
    model = model.cpu().train(False)
    x = example_input(model, sample.cpu())
    batch = torch.export.Dim("batch", min=1)
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    # The exporter reports each stage on stdout and warns about optional packages.
    with _LOCK, contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logger.setLevel(logging.ERROR)
        try:
            program = torch.onnx.export(
                model, (x,), dynamo=True, input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME], dynamic_shapes=({0: batch},),
                external_data=False, verbose=False)
        except Exception as e:
            raise OnnxError(t("The model could not be written as ONNX: {error}",
                              error=f"{type(e).__name__}: {str(e).splitlines()[0]}")) from None
        finally:
            logger.setLevel(level)
    proto = program.model_proto
    meta = {"producer": "Neural Playground", "experiment": name,
            "input": "pixels scaled per channel: (value / 255 - mean) / std"
            if model.image is not None else "as the data set stores it"}
    if model.image is not None:
        meta |= {"mean": json.dumps(list(model.image.mean)),
                 "std": json.dumps(list(model.image.std))}
    del proto.metadata_props[:]
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    return proto.SerializeToString()
