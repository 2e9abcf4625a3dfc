"""Sequence-model training speed with the default probes and every probe the pages need (the
sequence probes included: attention, hidden states, gates, gradient over time, answers per
token, samples) against a bare PyTorch loop on the same model, data and optimizer (see
bench/loops.py). The cases are the course's presets: the Transformer that reverses sequences
and the LSTM on the adding problem. Run: ``python bench/sequence.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loops import compare  # noqa: E402
from engine.presets import load_preset  # noqa: E402

CASES = {  # name -> (preset, epochs): 500 steps a run, a third of the presets' budget, so
    # the probes' start-up costs weigh more than in the app, not less
    "Transformer, reversal of 8 digits": ("seq_reverse_transformer", 10),
    "LSTM, adding problem of 50 steps": ("seq_adding_lstm", 10),
}

if __name__ == "__main__":
    compare({name: (load_preset(p).to_dict(), e) for name, (p, e) in CASES.items()}, rounds=7)
