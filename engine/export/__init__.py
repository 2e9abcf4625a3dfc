"""Exports of an experiment and its run, one module per format (imported on use, so the
command line starts without pandas, onnx or tensorboardX):

- ``metrics_csv``: the metric history as CSV (per evaluation or per step).
- ``script``: a standalone PyTorch script, with its data and initial weights in an .npz
  beside it, that reproduces the run without the app.
- ``model_code``: the model graph written as readable PyTorch (used by the script).
- ``onnx_file``: the model as ONNX.
- ``tensorboard``: TensorBoard event files.
- ``cli``: ``python -m engine export FILE --to script|onnx|csv|tensorboard OUT``.
"""
