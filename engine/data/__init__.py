"""The data-set registry. Adding a data set is adding one module to this package."""

from __future__ import annotations

import importlib
import json
import pkgutil
from functools import lru_cache

from engine.data.base import DATASETS, DataBundle, DatasetType
from engine.errors import Issue, SpecError
from engine.i18n import t
from engine.params import resolve_params
from engine.spec import DataSpec

for _mod in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_mod.name}")

# Lists read from the simplest sets to the largest, not in module-name order: within a
# category, what is at hand first, then what downloads, then the user's own files.
CATEGORY_ORDER = ("toy", "tabular", "file", "image", "sequence", "text")


def _rank(d: DatasetType) -> tuple[int, int]:
    from engine.data.download import SOURCES

    own = d.params and any(p.name == "path" for p in d.params)
    return (CATEGORY_ORDER.index(d.category) if d.category in CATEGORY_ORDER
            else len(CATEGORY_ORDER), 2 if own else 1 if d.name in SOURCES else 0)


DATASETS.sort(_rank)


def load_data(spec: DataSpec) -> DataBundle:
    """Check ``spec`` against its data set's declaration and load it (cached: one copy per
    process, whatever the augmentation, which acts per batch in the trainer)."""
    return _load(json.dumps(spec.model_dump(mode="json", exclude={"augment"}), sort_keys=True))


@lru_cache(maxsize=16)
def _load(key: str) -> DataBundle:
    from engine.data.features import FEATURES

    spec = DataSpec.model_validate(json.loads(key))
    if spec.name not in DATASETS:
        raise SpecError(Issue("data.name", DATASETS.unknown(spec.name), "unknown_dataset"))
    ds = DATASETS.get(spec.name)
    params, problems = resolve_params(ds.params, spec.params)
    issues = [Issue("data.params", p, "bad_data_param") for p in problems]
    if spec.features is not None:
        if not ds.two_d:
            issues.append(Issue("data.features", t("{data} has its own inputs; features apply "
                                                   "to the 2-D toy sets only, so set features "
                                                   "to null", data=spec.name), "features"))
        elif not spec.features:
            issues.append(Issue("data.features", t("choose at least one input feature"),
                                "features"))
        for f in spec.features:
            if f not in FEATURES:
                issues.append(Issue("data.features", t("unknown feature {name} (known: {known})",
                                                       name=repr(f), known=", ".join(FEATURES)),
                                    "features"))
    if issues:
        raise SpecError(issues)
    return ds.load(params, spec.seed, spec.features)


__all__ = ["DATASETS", "DataBundle", "DatasetType", "load_data"]
