"""How much arithmetic one training step of a planned model costs, estimated from the plan.

The estimate needs no layer-specific rule: a node with weights does about two operations
(a multiply and an add) per weight at every output position (a dense layer has one
position, a convolution one per output pixel), and a node without weights about one per
output value (activations, pooling, merges). Backward costs about twice the forward. It is
within a small factor of the true count for every layer of the registry, which is all the
thread choice needs.
"""

from __future__ import annotations

import math

from engine.graph import Plan

BACKWARD_FACTOR = 3  # forward once, then gradients for the inputs and for the weights


def forward_flops(plan: Plan) -> float:
    """Operations of one forward pass over one sample."""
    from engine.layers import LAYERS

    total = 0.0
    for node in plan.nodes:
        out = node.out_shape
        if len(out) == 1:
            positions = 1
        elif LAYERS.get(node.type).category == "convolution":  # channels first: [C, H, W]
            positions = math.prod(out[1:])
        else:  # a sequence, features last: [T, F]
            positions = math.prod(out[:-1])
        total += 2.0 * node.n_params * positions if node.n_params else float(math.prod(out))
    return total


def sample_step_flops(plan: Plan) -> float:
    """Operations of one training step per sample (forward and backward)."""
    return BACKWARD_FACTOR * forward_flops(plan)


def step_flops(plan: Plan, batch_size: int) -> float:
    """Operations of one training step (forward and backward over a batch)."""
    return sample_step_flops(plan) * batch_size
