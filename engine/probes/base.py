"""Probes observe training; they never steer it.

A probe overrides only the events it needs. Step events (``after_backward``,
``batch_end``) reach it every ``every`` steps; epoch and run events always.
``result()`` returns plain data (numbers, lists, numpy arrays), never live
tensors, because it is copied into snapshots that other threads read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from engine.i18n import N_
from engine.params import Param
from engine.registry import Registry
from engine.spec import ProbeSpec

if TYPE_CHECKING:
    from engine.trainer import Trainer

EVENTS = ("run_start", "epoch_start", "after_backward", "batch_end", "epoch_end", "run_end",
          "focus", "pause")
STEP_EVENTS = ("after_backward", "batch_end")


class Probe:
    name: ClassVar[str] = "probe"
    help: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    # Steps between recordings when nobody chose a cadence: one that keeps the probe inside
    # the 10% overhead budget.
    default_every: ClassVar[int] = 10

    def __init__(self, every: int | None = None, **params: Any) -> None:
        self.every = type(self).default_every if every is None else every
        self.options = params
        self._handles: list[Any] = []

    # events ---------------------------------------------------------------
    def on_run_start(self, trainer: Trainer) -> None: ...
    def on_epoch_start(self, trainer: Trainer) -> None: ...
    def on_after_backward(self, trainer: Trainer) -> None:
        """Gradients are in ``.grad``; the optimizer has not stepped yet."""
    def on_batch_end(self, trainer: Trainer) -> None: ...
    def on_epoch_end(self, trainer: Trainer) -> None: ...
    def on_run_end(self, trainer: Trainer) -> None: ...
    def on_pause(self, trainer: Trainer) -> None:
        """The loop has paused (a command, a finished step budget, a divergence): a probe
        that records on a cadence may record once more, so a paused page is up to date."""
    def on_focus(self, trainer: Trainer) -> None:
        """The focus (``trainer.focus``: image, class, unit) changed; nothing else is using
        the model at this moment."""

    # hooks are kept here so the trainer can remove every one when a run ends
    def keep_hook(self, handle: Any) -> None:
        self._handles.append(handle)

    def remove_hooks(self) -> None:
        for h in self._handles:
            h.remove()
        self._handles.clear()

    def result(self) -> Any:
        return None

    @classmethod
    def handles(cls, event: str) -> bool:
        return getattr(cls, f"on_{event}") is not getattr(Probe, f"on_{event}")


PROBES: Registry[type[Probe]] = Registry(N_("probe"))


def register(cls: type[Probe]) -> type[Probe]:
    PROBES.register(cls)
    return cls


def probe_specs(spec_probes: Iterable[ProbeSpec], needs: Iterable[str] = ()) -> list[ProbeSpec]:
    """What a trainer records: the spec's probes (their cadence and parameters as written),
    then each probe the pages need that the spec leaves out, at the probe's own cadence.

    A page must never depend on a spec happening to list a probe; the spec only tunes."""
    out = list(spec_probes)
    listed = {p.name for p in out}
    for name in needs:
        if name not in PROBES:
            raise ValueError(f"needs: {PROBES.unknown(name)}")
        if name not in listed:
            listed.add(name)
            out.append(ProbeSpec(name=name, every=PROBES.get(name).default_every))
    return out
