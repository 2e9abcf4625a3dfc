"""Training speed on a Ray actor (NP_RAY_ADDRESS) against the in-process Trainer.

The same experiment, with the probes the app's pages record, trains at full speed for a
few seconds in each, turn by turn, while a stand-in for the live page reads the snapshot
every 0.1 s (as the page's fragment does). Steps per second are counted from the
snapshots once the run is going (the actor's start-up is timed apart). The Ray side uses
the cluster named by NP_RAY_ADDRESS, else a local instance of two CPUs started here.
Run: ``python bench/remote.py``.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.presets import load_preset  # noqa: E402
from engine.remote import NAMESPACE, RemoteTrainer  # noqa: E402
from engine.trainer import Trainer  # noqa: E402
from ui.pages import NEEDED_PROBES  # noqa: E402

SECONDS = 6.0  # of training measured per round
PAGE_EVERY = 0.1  # seconds between the page's snapshot reads
CASES = {"spiral (Playground)": "spiral", "xor (hidden layer)": "xor_hidden",
         "iris (table data)": "iris"}


def measure(trainer: Any) -> tuple[float, float, float]:  # noqa: ANN401
    """Steps per second at full speed, the median snapshot() call in ms, and the seconds
    from start() to the first step."""
    trainer.set_epochs(None)
    t0 = time.perf_counter()
    trainer.start()
    while trainer.snapshot().step == 0:
        time.sleep(0.01)
    startup = time.perf_counter() - t0
    first = trainer.snapshot()
    begin, calls = time.perf_counter(), []
    while time.perf_counter() - begin < SECONDS:
        time.sleep(PAGE_EVERY)
        c = time.perf_counter()
        trainer.snapshot()
        calls.append(time.perf_counter() - c)
    trainer.pause()
    trainer.wait(30)
    last = trainer.snapshot()
    rate = (last.step - first.step) / max(last.elapsed - first.elapsed, 1e-9)
    trainer.stop()
    return rate, 1000 * statistics.median(calls), startup


def main(rounds: int = 3) -> None:
    import ray

    address = os.environ.get("NP_RAY_ADDRESS", "")
    if address:
        ray.init(address=address, namespace=NAMESPACE, log_to_driver=False)
    else:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, namespace=NAMESPACE)
    print(f"ray {ray.__version__} at {address or 'a local instance (2 CPUs)'}, {rounds} rounds "
          f"of {SECONDS:g} s, the page reading every {PAGE_EVERY} s")
    print(f"{'preset':<22} {'in-process/s':>13} {'Ray actor/s':>12} {'ratio':>6} "
          f"{'snapshot ms':>14} {'actor start s':>14}")
    try:
        for name, preset in CASES.items():
            spec = load_preset(preset).to_dict()
            spec["train"]["device"] = "cpu"
            here, there, ms_here, ms_there, starts = [], [], [], [], []
            for _ in range(rounds):  # turn by turn, so drift on a busy machine hits both
                rate, ms, _ = measure(Trainer(spec, needs=NEEDED_PROBES))
                here.append(rate)
                ms_here.append(ms)
                rate, ms, start = measure(RemoteTrainer(spec, needs=NEEDED_PROBES,
                                                        address=address or "auto"))
                there.append(rate)
                ms_there.append(ms)
                starts.append(start)
            a, b = statistics.median(here), statistics.median(there)
            print(f"{name:<22} {a:>13,.0f} {b:>12,.0f} {b / a:>6.2f} "
                  f"{statistics.median(ms_here):>6.2f} /{statistics.median(ms_there):>6.2f} "
                  f"{statistics.median(starts):>14.1f}")
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
