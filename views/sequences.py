"""Sequences: what a recurrent or attention model does with one chosen sequence, live while
it trains.

Where each attention head looks (queries against keys, tokens on the axes; every head at
once), the hidden state and the LSTM or GRU gates over time, how much the loss depends on
each step's hidden state, the answers token by token, and the text a language model
writes. The page chooses the test sequence (``Trainer.set_focus``); the sequence probes
compute, viz/sequences.py draws.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import streamlit as st

from engine.data import DATASETS
from engine.i18n import N_, t
from engine.presets import preset_path
from engine.probes.attention import SWITCH as ATTENTION
from engine.probes.recurrent import recurrent_nodes
from engine.probes.sequence_base import is_sequence_data, switchable, token_labels, vocab_of
from engine.probes.tokens import language_model
from engine.trainer import Snapshot, Trainer
from ui.controls import progress, run_controls
from ui.live import ACTIVE, cached_figure, live
from ui.offer import offer_preset
from ui.session import Session, current
from viz.sequences import (
    attention_grid,
    attention_heatmap,
    fade_words,
    focus_share,
    gates_figure,
    head_title,
    predictions_figure,
    states_heatmap,
    time_gradient_figure,
    values_figure,
)

# The preset a view offers when it does not apply.
LESSON_PRESET: str | None = "seq_reverse_transformer"
FOCUS_PROBES = ("attention", "hidden_states", "gates", "time_gradients", "token_predictions")
VIEWS = (N_("Attention"), N_("Hidden states"), N_("Gates"), N_("Gradient over time"),
         N_("Predictions"), N_("Samples"))
SHOW = {"layer": N_("One layer, head by head"), "grid": N_("All heads")}
HEADS_PER_ROW = 2


# what applies to this experiment --------------------------------------------------------------

def has_attention(trainer: Trainer) -> bool:
    return bool(switchable(trainer.model, ATTENTION))


def has_recurrence(trainer: Trainer) -> bool:
    return bool(recurrent_nodes(trainer.model))


def applies(trainer: Trainer) -> bool:
    return has_attention(trainer) or has_recurrence(trainer) or (
        is_sequence_data(trainer) and bool(vocab_of(trainer)))


def not_here(session: Session, why: str, key: str) -> None:
    """Why a view does not apply, with the lesson preset to open when there is one."""
    if LESSON_PRESET and preset_path(LESSON_PRESET).exists():
        offer_preset(session, why, LESSON_PRESET, key)
    else:
        st.info(why)


# the chosen sequence ------------------------------------------------------------------------

def choose_row(trainer: Trainer) -> int:
    n = len(trainer.x_test)
    st.session_state["seq-index"] = min(int(st.session_state.get(
        "seq-index", trainer.focus["index"])), n - 1)
    index = int(st.number_input(t("Test sequence number (0 to {last})", last=n - 1), 0, n - 1,
                                key="seq-index"))
    tokens = token_labels(trainer.data.x_test[index], vocab_of(trainer))
    if vocab_of(trainer):
        st.caption(t("Its tokens: {tokens}", tokens=" ".join(tokens)))
    return index


def stale_focus(snap: Snapshot) -> bool:
    """Whether the views of the chosen sequence show other weights than the trainer's now
    (before the first Train and after a pause they would show nothing, or an earlier step)."""
    found = [snap.probes.get(name) for name in FOCUS_PROBES]
    if all(r is None for r in found):
        return True
    return any(r is not None and r["step"] != snap.step for r in found)


def waiting(what: str) -> None:
    st.caption(t("{what} appear once the network has read the sequence: press Train or "
                 "Step.", what=what))


# the live views ---------------------------------------------------------------------------------

def draw_attention(snap: Snapshot) -> None:
    found = snap.probes.get("attention")
    if found is None:
        waiting(t("The attention weights"))
        return
    names = list(found["weights"])
    st.caption(t("At step {step}. Each row is one position (the query) and shows how it "
                 "shares its attention among all positions (the keys); a row adds up to 1.",
                 step=found["step"]))
    if st.session_state.get("seq-show", "layer") == "grid":
        st.plotly_chart(cached_figure("seq-grid", (found,), lambda: attention_grid(found)),
                        key="seq-attention-grid")
        return
    name = st.session_state.get("seq-layer")
    name = name if name in names else names[0]
    w = np.asarray(found["weights"][name])
    axes = found["axes"][name]
    heads = w.shape[0]
    for start in range(0, heads, HEADS_PER_ROW):
        cols = st.columns(HEADS_PER_ROW)
        for h in range(start, min(start + HEADS_PER_ROW, heads)):
            with cols[h - start]:
                st.plotly_chart(cached_figure(f"seq-head-{name}-{h}", (found,), lambda h=h: (
                    attention_heatmap(w[h], axes["queries"], axes["keys"],
                                      head_title(name, h, heads)))),
                                key=f"seq-attention-{name}-{h}")
                st.caption(t("On average a query gives {p} of its attention to the one key it "
                             "looks at most.", p=f"{focus_share(w[h]):.0%}"))


def attention_tab(session: Session, trainer: Trainer) -> None:
    if not has_attention(trainer):
        not_here(session, t("This model has no attention layer, so there is no attention to "
                            "show. Add an attention, multi-head attention or Transformer "
                            "layer on Build."), "seq-preset-attention")
        return
    snap = trainer.snapshot()
    found = snap.probes.get("attention")
    left, right = st.columns(2)
    left.segmented_control(t("Show"), list(SHOW), default="layer",
                           format_func=lambda s: t(SHOW[s]), key="seq-show")
    if found and st.session_state.get("seq-show", "layer") != "grid":
        names = list(found["weights"])
        if st.session_state.get("seq-layer") not in names:
            st.session_state["seq-layer"] = names[0]
        right.selectbox(t("Attention layer"), names, key="seq-layer")
    live(session, draw_attention, "seq-attention-live")


def draw_states(snap: Snapshot) -> None:
    found = snap.probes.get("hidden_states")
    if found is None:
        waiting(t("The hidden states"))
        return
    st.caption(t("At step {step}. Each column is a time step, each row one unit of the "
                 "hidden state (red positive, blue negative).", step=found["step"]))
    for name, states in found["nodes"].items():
        st.plotly_chart(cached_figure(f"seq-states-{name}", (found,), lambda name=name, s=states:
                               states_heatmap(s, found["tokens"],
                                              t("{layer}: hidden state over time",
                                                layer=name))),
                        key=f"seq-states-{name}")


def draw_gates(snap: Snapshot) -> None:
    found = snap.probes.get("gates")
    if found is None:
        waiting(t("The gates"))
        return
    st.caption(t("At step {step}. A gate near 1 lets through, near 0 shuts: an LSTM's forget "
                 "gate near 1 keeps its memory from step to step.", step=found["step"]))
    for name, layer in found["nodes"].items():
        what = t("LSTM") if layer["kind"] == "lstm" else t("GRU")
        st.plotly_chart(cached_figure(
            f"seq-gates-{name}", (found,), lambda name=name, g=layer["gates"], what=what:
            gates_figure(g, found["tokens"], t("{layer} ({what}): gates over time",
                                               layer=name, what=what))),
                        key=f"seq-gates-{name}")


def draw_gradients(snap: Snapshot) -> None:
    found = snap.probes.get("time_gradients")
    if found is None:
        waiting(t("The gradients over time"))
        return
    st.plotly_chart(cached_figure("seq-time-grad", (found,), lambda: time_gradient_figure(
        found["nodes"], found["tokens"])), key="seq-time-grad")
    words = [f"{name}: {fade}" for name, g in found["nodes"].items() if (fade := fade_words(g))]
    st.caption(t("At step {step}. The size of the gradient of the loss with respect to each "
                 "step's hidden state: what reaches an early step from the loss. In a plain "
                 "RNN it fades as it goes back; an LSTM carries it further.",
                 step=found["step"]) + (" " + " ".join(words) if words else ""))


def draw_predictions(snap: Snapshot) -> None:
    found = snap.probes.get("token_predictions")
    if found is None:
        waiting(t("The answers"))
        return
    st.caption(t("At step {step}: the chosen test sequence and the ones after it.",
                 step=found["step"]))
    if found["kind"] == "tokens":
        st.plotly_chart(cached_figure("seq-pred", (found,),
                                      lambda: predictions_figure(found["rows"])),
                        key="seq-pred")
        st.caption(tokens_right(found["rows"]))
        if found.get("greedy"):
            greedy_beside(found)
    else:
        st.plotly_chart(cached_figure("seq-values", (found,),
                                      lambda: values_figure(found["rows"][0])),
                        key="seq-values")


def tokens_right(rows: list[dict[str, Any]]) -> str:
    right = sum(int(np.sum(r["correct"])) for r in rows)
    total = sum(len(r["correct"]) for r in rows)
    return t("{right} of {total} tokens right.", right=right, total=total)


def greedy_beside(found: dict[str, Any]) -> None:
    """An encoder-decoder's answers on its own: above, the decoder was given the right
    previous tokens (teacher forcing, as in training); here it reads its own."""
    st.markdown(t("**On its own** (greedy decoding)"))
    st.caption(t("Above, the decoder reads the right answer's previous tokens, as in "
                 "training (teacher forcing). Here it reads its own previous answers, one "
                 "token at a time, as it must in use: one early mistake can spoil the rest."))
    st.plotly_chart(cached_figure("seq-greedy", (found,),
                                  lambda: predictions_figure(found["greedy"])),
                    key="seq-greedy")
    st.caption(tokens_right(found["greedy"]))


def draw_samples(snap: Snapshot) -> None:
    found = snap.probes.get("samples")
    if found is None:
        waiting(t("Samples"))
        return
    baseline_beside(snap, found)
    for sample in reversed(found["history"]):
        how = t("temperature {t}", t=f"{sample.get('temperature', 0.8):g}")
        if sample.get("top_k"):
            how += ", " + t("from the {k} likeliest tokens", k=sample["top_k"])
        st.markdown(t("**Step {step}** ({how}), from “{prompt}”:", step=sample["step"],
                      how=how, prompt=sample["prompt"]))
        st.code(sample["prompt"] + sample["text"], language=None, wrap_lines=True)


def baseline_beside(snap: Snapshot, found: dict[str, Any]) -> None:
    """The course notes' baseline beside the model: the n-gram's perplexity and its text."""
    base = found.get("baseline")
    if not base:
        return
    left, right = st.columns(2)
    test_loss = snap.final.get("test_loss")
    left.metric(t("This model's test perplexity"),
                f"{np.exp(test_loss):.2f}" if test_loss is not None else "–",
                help=t("e to the power of the test loss: as if the model hesitated between "
                       "this many tokens at each step. Lower is better."))
    right.metric(t("Best n-gram's test perplexity (n = {n})", n=base["n"]),
                 f"{base['perplexity']:.2f}",
                 help=t("Counting which token follows each run of n − 1 tokens in the "
                        "training text, with add-one (Laplace) smoothing: the baseline a "
                        "neural model has to beat."))
    with st.expander(t("What the n-gram writes from the same prompt")):
        st.code(found["prompt"] + base["text"], language=None, wrap_lines=True)


def samples_tab(session: Session, trainer: Trainer) -> None:
    if not language_model(trainer):
        not_here(session, t("Samples are text a language model writes one token at a time, "
                            "and this experiment does not predict the next token of a text."),
                 "seq-preset-samples")
        return
    left, right = st.columns(2)
    temp = left.slider(t("Temperature"), 0.1, 2.0, float(trainer.focus["temperature"] or 0.8),
                       0.1, key="seq-temperature",
                       help=t("Low: the likeliest tokens, repetitive text. High: bolder, more "
                              "mistakes."))
    top_k = right.number_input(t("Only the likeliest tokens (0: all)"), 0, 1000,
                               int(trainer.focus["top_k"] or 0), key="seq-top-k")
    if (temp, top_k) != (trainer.focus["temperature"] or 0.8, trainer.focus["top_k"] or 0):
        trainer.set_focus(temperature=float(temp), top_k=int(top_k))  # a new sample now
    live(session, draw_samples, "seq-samples-live", slower=4)


def recurrent_tab(session: Session, trainer: Trainer, draw: Callable[[Snapshot], None],
                  key: str, gates: bool = False) -> None:
    if not has_recurrence(trainer):
        not_here(session, t("This model has no recurrent layer (RNN, LSTM or GRU), so it "
                            "has no hidden state carried from step to step."),
                 f"seq-preset-{key}")
        return
    if gates and not any(n.type in ("lstm", "gru") for n in trainer.plan.nodes):
        not_here(session, t("Only LSTM and GRU layers have gates; this model's recurrent "
                            "layers are plain RNNs."), "seq-preset-gates")
        return
    live(session, draw, f"seq-{key}-live")


# the page --------------------------------------------------------------------------------------

def main() -> None:
    session = current()
    trainer = session.get_trainer()
    st.title(t("Sequences"))
    st.caption(t("What a recurrent or attention network does with a sequence, live while it "
                 "trains. Experiment: {name}", name=session.title))
    if not applies(trainer):
        data = t(DATASETS.get(session.exp.data.name).title)
        not_here(session, t("These views show what a network does with a sequence of tokens, "
                            "and this experiment's data ({data}) are not sequences and its "
                            "model has no recurrent or attention layer.", data=data),
                 "seq-preset")
        return
    run_controls(session, "seq")
    live(session, progress, "seq-progress")
    index = choose_row(trainer)
    if index != trainer.focus["index"]:
        trainer.set_focus(index=index)
    snap = trainer.snapshot()
    if snap.status not in ACTIVE and stale_focus(snap):
        trainer.set_focus()  # one look with the weights as they are now
    # Only the open tab is drawn: the others would redraw hidden charts at every refresh.
    tabs = st.tabs([t(v) for v in VIEWS], key="seq-tab", on_change="rerun")
    draws: list[Callable[[], Any]] = [
        lambda: attention_tab(session, trainer),
        lambda: recurrent_tab(session, trainer, draw_states, "states"),
        lambda: recurrent_tab(session, trainer, draw_gates, "gates", gates=True),
        lambda: recurrent_tab(session, trainer, draw_gradients, "gradients"),
        lambda: live(session, draw_predictions, "seq-pred-live", slower=2),
        lambda: samples_tab(session, trainer),
    ]
    for tab, draw in zip(tabs, draws, strict=True):
        if tab.open:
            with tab:
                draw()


# Streamlit runs a page as __main__; tests import the page's names without drawing it.
if __name__ == "__main__":
    main()
