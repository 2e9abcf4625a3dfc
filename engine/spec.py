"""The experiment spec: plain, versioned, JSON-serialisable data.

Pydantic checks the structure here; what depends on the registries (layer
parameters, shapes, data parameters) is checked in ``validate.py``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SCHEMA_VERSION = 1

InitScheme = Literal[
    "default", "xavier_uniform", "xavier_normal", "he_uniform", "he_normal", "normal", "uniform",
    "zeros",
]
OptimizerName = Literal["sgd", "momentum", "adagrad", "rmsprop", "adam", "adamw"]
ScheduleName = Literal["constant", "step", "exponential", "cosine", "one_cycle"]
LossName = Literal["cross_entropy", "bce", "mse", "mae", "huber"]
TaskName = Literal["classification", "regression"]
Device = Literal["auto", "cpu", "cuda", "mps"]
NODE_ID = r"^[A-Za-z_][A-Za-z0-9_-]{0,39}$"


class Strict(BaseModel):
    # Infinity and NaN stay themselves in a JSON-mode dump (pydantic's default writes null),
    # so a check made on the dump (data parameters) quotes what the user wrote.
    model_config = ConfigDict(extra="forbid", frozen=True, ser_json_inf_nan="constants")


class LessonStep(Strict):
    """One step of a lesson: what to read, an optional edit its button applies, and the
    chart to watch afterwards."""

    text: str = Field(max_length=2000)
    button: str = Field("", max_length=80, description="The button's words; empty: no button.")
    edit: dict[str, Any] = Field(
        default_factory=dict, max_length=20,
        description="Spec paths to new values, applied by the button (see engine/edits.py).")
    watch: str = Field("", max_length=80, description="The chart to watch: a page path and "
                       "chart name, e.g. 'inside/gradient_flow'.")


class Meta(Strict):
    name: str = Field("Untitled", max_length=120)
    description: str = Field("", max_length=2000)
    lesson: str = Field("", max_length=8000, description="What to change and what to watch.")
    steps: list[LessonStep] = Field(default_factory=list, max_length=30)


class AugmentSpec(Strict):
    """Random changes to each training batch of an image set (never to the test split)."""

    flip: bool = Field(False, description="Mirror left to right at random.")
    shift: int = Field(0, ge=0, le=8, description="Shift by up to this many pixels (zero "
                       "padding).")
    rotate: float = Field(0.0, ge=0, le=45, description="Rotate by up to this many degrees.")
    noise: float = Field(0.0, ge=0, le=1, description="Gaussian noise, in normalised units.")
    cutout: int = Field(0, ge=0, le=32, description="Blank a square of this side at random.")

    @property
    def active(self) -> bool:
        return bool(self.flip or self.shift or self.rotate or self.noise or self.cutout)


class DataSpec(Strict):
    name: str = "spiral"
    params: dict[str, Any] = Field(default_factory=dict)
    features: list[str] | None = Field(
        None, description="Input features of a 2-D toy set (x1, x2, x1^2, x2^2, x1x2, sin_x1, "
        "sin_x2); null means the data set's own inputs.")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    augment: AugmentSpec = AugmentSpec()


class InitSpec(Strict):
    scheme: InitScheme = "default"
    std: float = Field(0.1, gt=0, le=100, description="Standard deviation for 'normal'.")
    range: float = Field(0.1, gt=0, le=100, description="Half-width for 'uniform'.")


class NodeSpec(Strict):
    id: str = Field(pattern=NODE_ID)
    type: str
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: list[str] | None = Field(
        None, description="Ids this node reads; 'input' is the data. Omitted: the previous node.")
    init: InitSpec | None = None


class ModelSpec(Strict):
    nodes: list[NodeSpec] = Field(min_length=1, max_length=256)
    init: InitSpec = InitSpec()


class OptimizerSpec(Strict):
    name: OptimizerName = "sgd"
    lr: float = Field(0.03, gt=0, le=10000)
    momentum: float = Field(0.9, ge=0, lt=1, description="For 'momentum'.")
    alpha: float = Field(0.99, ge=0, lt=1, description="RMSProp's decay of squared gradients.")
    nesterov: bool = False
    beta1: float = Field(0.9, ge=0, lt=1)
    beta2: float = Field(0.999, ge=0, lt=1)
    eps: float = Field(1e-8, gt=0, le=1)
    weight_decay: float = Field(0.0, ge=0, le=10, description="AdamW's decoupled decay only.")


class ScheduleSpec(Strict):
    name: ScheduleName = "constant"
    step_size: int = Field(10, ge=1, le=100000, description="Epochs between 'step' drops.")
    gamma: float = Field(0.5, gt=0, le=1, description="Factor per drop ('step') or epoch.")
    warmup: float = Field(0.3, ge=0, lt=1, description="Share of the run spent warming up.")


class RegularizationSpec(Strict):
    l1: float = Field(0.0, ge=0, le=10)
    l2: float = Field(0.0, ge=0, le=10)


class EarlyStoppingSpec(Strict):
    patience: int | None = Field(None, ge=1, le=100000, description="Epochs without improvement.")
    min_delta: float = Field(0.0, ge=0)


class InitFrom(Strict):
    """Start from a saved run's weights: nodes whose id and weight shapes match are copied,
    the rest start fresh; frozen nodes are not trained (fine-tuning)."""

    run: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The saved run's id.")
    freeze: list[str] = Field(default_factory=list, max_length=256,
                              description="Node ids whose weights stay as loaded.")


class TrainSpec(Strict):
    task: TaskName | None = Field(None, description="Null: the data set's own kind.")
    loss: LossName | None = Field(None, description="Null: the task's usual loss.")
    optimizer: OptimizerSpec = OptimizerSpec()
    schedule: ScheduleSpec = ScheduleSpec()
    regularization: RegularizationSpec = RegularizationSpec()
    batch_size: int = Field(10, ge=1, le=65536)
    epochs: int | None = Field(
        100, ge=1, le=1_000_000,
        description="Null: no budget; train until paused or stopped (as TensorFlow Playground).")
    grad_clip: float | None = Field(None, gt=0, le=1e6, description="Clip gradient norm to this.")
    early_stopping: EarlyStoppingSpec = EarlyStoppingSpec()
    eval_every: int = Field(1, ge=1, le=10000, description="Epochs between train/test evals.")
    seed: int = Field(0, ge=0, le=2**31 - 1)
    device: Device = "auto"
    init_from: InitFrom | None = Field(None, description="Null: fresh weights.")


class ProbeSpec(Strict):
    name: str
    every: int = Field(10, ge=1, le=1_000_000, description="Steps between recordings.")
    params: dict[str, Any] = Field(default_factory=dict)


# What every new experiment records; each stays inside the 10% overhead budget at this cadence
# (the same cadences as each probe class's ``default_every``).
DEFAULT_PROBES = (
    ProbeSpec(name="gradient_flow", every=20),
    ProbeSpec(name="activations", every=100),
    ProbeSpec(name="evaluation", every=1),
    ProbeSpec(name="boundary", every=10),
)


class Experiment(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    schema_: int = Field(SCHEMA_VERSION, alias="schema")
    meta: Meta = Meta()
    data: DataSpec = DataSpec()
    model: ModelSpec
    train: TrainSpec = TrainSpec()
    probes: list[ProbeSpec] = Field(default_factory=lambda: list(DEFAULT_PROBES))

    def to_dict(self) -> dict[str, Any]:
        """The canonical plain-data form (every default spelled out)."""
        return self.model_dump(mode="json", by_alias=True)

    def replace(self, **changes: Any) -> Experiment:
        """A copy with top-level sections replaced (sections may be given as dicts)."""
        d = self.to_dict()
        for k, v in changes.items():
            d[k] = v.model_dump(mode="json", by_alias=True) if isinstance(v, BaseModel) else v
        return Experiment.model_validate(d)


def sparse_dict(spec: BaseModel) -> dict[str, Any]:
    """Only what differs from the defaults the schema fills in: loading the result gives
    back an equal spec. A section equal to its default is left out; a section that
    differs keeps only its differing fields (compared with its own field defaults, which
    are what fills a partial section); lists and parameter dicts are kept whole."""
    out: dict[str, Any] = {}
    for name, field in type(spec).model_fields.items():
        value = getattr(spec, name)
        if not field.is_required() and value == field.get_default(call_default_factory=True):
            continue
        out[field.alias or name] = _sparse_value(value)
    if isinstance(spec, Experiment):
        out["schema"] = spec.schema_  # a loader needs the version to read the rest
    return out


def _sparse_value(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return sparse_dict(value)
    if isinstance(value, list | tuple):
        return [_sparse_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _sparse_value(v) for k, v in value.items()}
    return value


def json_schema() -> dict[str, Any]:
    return Experiment.model_json_schema(by_alias=True)
