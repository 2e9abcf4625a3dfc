"""The words a person reads for the engine's names (kept in engine/names.py, which the
comparison of runs shares), and the short titles only the pages need.
"""

from __future__ import annotations

from engine.i18n import N_
from engine.names import WORDS, shown  # noqa: F401 (the pages import them from here)

# Data-set titles short enough for a button in a narrow column (the full title is the
# button's help).
SHORT_TITLES = {"xor": N_("XOR"), "gaussian": N_("Gaussians"), "spiral_multi": N_("Many spirals"),
                "multi_gaussian": N_("Gaussians")}
