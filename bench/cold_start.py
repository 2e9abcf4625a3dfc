"""The first click on Train in a freshly started server, with and without the warm-up.

Each measurement is a fresh process that does what the server has done by the
time a user clicks: imported the app's modules and drawn the first page (a
trainer of the default preset, its figures at step 0). The second round has
also run the start-up warm-up (ui/warmup.py). Then the "click": start the
trainer, wait for the first published loss point, and build and encode the
page's figures from it, as the page's next redraw does. The page's refresh
timer (0.5 s by default) comes on top in a browser; bench/ui.py measures that
end to end.
Run: ``python bench/cold_start.py``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one(warm: bool) -> float:
    import plotly.io

    from engine.presets import load_preset
    from engine.trainer import Trainer
    from ui.pages import NEEDED_PROBES
    from ui.warmup import _figures, warm_up

    if warm:
        warm_up()
    trainer = Trainer(load_preset("spiral"), needs=NEEDED_PROBES)
    for fig in _figures(trainer):  # the first page, before any click
        plotly.io.to_json(fig, validate=False)
    t0 = time.perf_counter()
    trainer.start()
    while len(trainer.snapshot().steps.get("step", ())) == 0:
        time.sleep(0.002)
    for fig in _figures(trainer):  # the page's redraw with the first points
        plotly.io.to_json(fig, validate=False)
    took = time.perf_counter() - t0
    trainer.stop()
    return took


def main(rounds: int = 5) -> None:
    for warm in (False, True):
        runs = [float(subprocess.run(
            [sys.executable, __file__, "--one", "warm" if warm else "cold"], check=True,
            capture_output=True, text=True, cwd=ROOT).stdout) for _ in range(rounds)]
        print(f"{'after warm-up' if warm else 'cold':>14}: click to first loss point "
              f"{statistics.median(runs):.3f} s (median of {rounds}; "
              f"{min(runs):.3f}-{max(runs):.3f})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        print(one(sys.argv[2] == "warm"))
    else:
        main()
