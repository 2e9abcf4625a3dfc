"""The app's pages and the probes each one draws from.

A page declares here what it needs from a training run; the session's trainer
records all of it whatever the experiment's own probe list says (that list
only tunes cadence and adds extras), so no page depends on a preset having
spelled out a probe.
"""

from __future__ import annotations

from typing import NamedTuple


class PageInfo(NamedTuple):
    file: str  # in views/
    title: str
    icon: str
    path: str  # the URL path ("" for the first page)
    needs: tuple[str, ...] = ()  # probe names
    section: str = "Train and watch"  # the navigation's heading above the page


# The navigation's sections, in order (each page names its own).
SECTIONS = ("Course", "Train and watch", "Vision", "Sequences", "Labs", "Runs")


PAGES = (
    PageInfo("playground.py", "Playground", ":material/scatter_plot:", "playground",
             ("boundary", "evaluation")),
    PageInfo("build.py", "Build", ":material/account_tree:", "build"),
    PageInfo("train.py", "Train", ":material/monitoring:", "train",
             ("gradient_flow", "evaluation")),
    PageInfo("inside.py", "Inside training", ":material/troubleshoot:", "inside",
             ("gradient_flow", "activations")),
    PageInfo("vision.py", "Vision", ":material/image_search:", "vision",
             ("predictions", "feature_maps", "filters", "saliency"), section="Vision"),
    PageInfo("receptive.py", "Receptive fields", ":material/center_focus_strong:", "receptive",
             ("receptive_field",), section="Vision"),
    PageInfo("sequences.py", "Sequences", ":material/text_fields:", "sequences",
             ("attention", "hidden_states", "gates", "time_gradients", "token_predictions",
              "samples"), section="Sequences"),
    PageInfo("gallery.py", "Gallery", ":material/collections_bookmark:", "gallery",
             section="Course"),
    PageInfo("compare.py", "Compare runs", ":material/compare:", "compare",
             ("gradient_flow", "evaluation"), section="Runs"),
    PageInfo("runs.py", "Saved runs", ":material/inventory_2:", "runs", section="Runs"),
    PageInfo("export.py", "Export", ":material/download:", "export", section="Runs"),
    PageInfo("optimizer_race.py", "Optimizer race", ":material/route:", "optimizers",
             section="Labs"),
    PageInfo("backprop.py", "Back-propagation", ":material/device_hub:", "backprop",
             section="Labs"),
    PageInfo("activations.py", "Activation functions", ":material/show_chart:", "activations",
             section="Labs"),
    PageInfo("conv_lab.py", "Convolution lab", ":material/filter_center_focus:", "conv-lab",
             section="Labs"),
)

NEEDED_PROBES: tuple[str, ...] = tuple(dict.fromkeys(n for p in PAGES for n in p.needs))
