"""Which trainer a session gets: in this process (the default), or on a Ray cluster.

Setting ``NP_RAY_ADDRESS`` to a cluster's address (``ray://head:10001``, ``head:6379``
or ``auto``) moves every session's training to a Ray actor behind the same interface;
left unset, nothing changes and Ray is never imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from engine.limits import RunSlots
from engine.spec import Experiment
from engine.trainer import Trainer

ADDRESS_ENV = "NP_RAY_ADDRESS"


def ray_address() -> str:
    """The cluster named by NP_RAY_ADDRESS, or "" for training in this process."""
    return os.environ.get(ADDRESS_ENV, "").strip()


def make_trainer(exp: Experiment, slots: RunSlots | None = None,
                 needs: Iterable[str] = ()) -> Any:  # noqa: ANN401  # Trainer or RemoteTrainer
    """A trainer for ``exp``: ``Trainer`` sharing this server's ``slots``, or, with
    NP_RAY_ADDRESS set, a ``RemoteTrainer`` whose queue is the cluster's own."""
    address = ray_address()
    if not address:
        return Trainer(exp, slots=slots, needs=needs)
    from engine.remote import RemoteTrainer

    return RemoteTrainer(exp, needs=tuple(needs), address=address)
