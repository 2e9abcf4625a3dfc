"""Curriculum coverage: every concept of the course notes' curriculum (presets/curriculum.json,
the repository's copy) is covered by presets that exist, or says why it cannot be trained
here; and presets/course.json places every preset in the course."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.course import SECTIONS, course_entries, course_problems
from engine.presets import PRESET_DIR, list_presets, load_preset
from engine.spec import Meta
from ui.pages import PAGES

CURRICULUM = PRESET_DIR / "curriculum.json"


def sections(path: Path = CURRICULUM) -> list[dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8"))["sections"]


def coverage_problems(secs: list[dict[str, Any]], presets: set[str],
                      pages: set[str]) -> list[str]:
    """One line per claim that does not hold."""
    out = []
    for sec in secs:
        n = sec["section"]
        if SECTIONS.get(n) != sec.get("title"):
            out.append(f"section {n}: title {sec.get('title')!r} is not {SECTIONS.get(n)!r}")
        if not sec.get("concepts"):
            out.append(f"section {n}: lists no concepts")
        for c in sec.get("concepts", []):
            what = f"section {n}, {c.get('concept', '?')[:50]!r}"
            covered = c.get("presets", []) or c.get("pages", [])
            if not covered and not c.get("not_trainable"):
                out.append(f"{what}: names no preset or page and no reason it is not trainable")
            if covered and c.get("not_trainable"):
                out.append(f"{what}: claims coverage and says it is not trainable")
            out += [f"{what}: claims preset {p!r}, which does not exist"
                    for p in c.get("presets", []) if p not in presets]
            out += [f"{what}: claims page {p!r}, which the app does not have"
                    for p in c.get("pages", []) if p not in pages]
    return out


def test_the_curriculum_lists_every_section_of_the_notes() -> None:
    assert [s["section"] for s in sections()] == list(SECTIONS)


def test_every_concept_is_covered_by_existing_presets_or_says_why_not() -> None:
    secs = sections()
    rows = [(s["section"], c["concept"][:60], ", ".join(c.get("presets", [])) or
             f"not trainable: {c.get('not_trainable', '')}") for s in secs for c in s["concepts"]]
    print("\n".join(f"{n}  {concept:<60}  {covered}" for n, concept, covered in rows))
    problems = coverage_problems(secs, set(list_presets()), {p.path for p in PAGES})
    assert not problems, "\n".join(problems)
    # Sections 1 to 7 are what the engine trains: each concept there has a preset or page.
    for sec in secs[:7]:
        assert all(c.get("presets") or c.get("pages") for c in sec["concepts"]), sec["section"]


def test_the_check_fails_for_a_section_claiming_a_missing_preset() -> None:
    secs = sections()
    secs[0]["concepts"][0]["presets"] = ["xor_hidden", "no_such_preset"]
    secs[2]["concepts"][0] = {"concept": "Backprop", "pages": ["nowhere"]}
    secs[7]["concepts"][0] = {"concept": "Autoencoder"}
    problems = coverage_problems(secs, set(list_presets()), {p.path for p in PAGES})
    assert len(problems) == 3, problems
    assert "claims preset 'no_such_preset', which does not exist" in problems[0]
    assert "claims page 'nowhere'" in problems[1]
    assert "names no preset or page" in problems[2]


def test_every_preset_teaches_a_concept_of_its_course_section() -> None:
    claimed: dict[str, set[int]] = {}
    for sec in sections():
        for c in sec["concepts"]:
            for p in c.get("presets", []):
                claimed.setdefault(p, set()).add(sec["section"])
    entries = course_entries()
    missing = [n for n in list_presets() if n not in claimed]
    assert not missing, f"presets that teach no curriculum concept: {missing}"
    wrong = [n for n, e in entries.items() if e.section not in claimed[n]]
    assert not wrong, f"course.json places these in a section whose concepts omit them: {wrong}"


def test_course_json_places_every_preset() -> None:
    assert course_problems() == []


def test_course_problems_name_the_place_and_the_fix(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / f"{name}.json").write_text(json.dumps({"meta": {"name": name}}))
    (tmp_path / "course.json").write_text(json.dumps({
        "order": ["a", "a", "gone"],
        "presets": {"a": {"section": 12, "level": "easy", "topics": ["magic"]}}}))
    assert course_problems(tmp_path) == [
        "course.json: order lists 'a' more than once; keep one",
        "course.json: order lists 'gone', which is not a preset; remove it",
        "course.json: preset 'b' is missing from order; add it where it teaches",
        "course.json: presets.a.section must be one of 1 to 9, got 12",
        "course.json: presets.a.level must be one of introductory, intermediate, advanced, "
        "got 'easy'",
        "course.json: presets.a.topics: unknown topic 'magic' (known: neurons, activations, "
        "losses, optimisers, gradients, regularisation, convolution, architectures, "
        "recurrent, attention, transformers, language, regression)",
        "course.json: presets.b is missing; give its section, level and topics",
    ]


def test_every_preset_has_a_lesson_note_in_both_languages() -> None:
    from engine.i18n import catalogue

    zh = catalogue("zh")
    missing = []
    for name in list_presets():
        raw = json.loads((PRESET_DIR / f"{name}.json").read_text(encoding="utf-8"))
        meta = Meta.model_validate(raw["meta"])  # the texts only: no model to check
        assert meta.lesson, f"{name}: write a lesson note (what to change, what to watch)"
        missing += [f"{name}: {text[:40]!r}" for text in (meta.name, meta.description,
                                                           meta.lesson) if text not in zh]
    assert not missing, "no Chinese text in locales/zh/presets.json for:\n" + "\n".join(
        missing)


# The presets written for concepts that had none show what their lessons say -------------

def _train(exp):  # noqa: ANN001, ANN202
    from engine import Trainer

    exp = exp.replace(train=exp.train.model_copy(update={"device": "cpu"}), probes=[])
    trainer = Trainer(exp)
    snap = trainer.run()
    assert snap.status == "finished", snap.error
    return trainer, snap.final


def test_binary_cross_entropy_learns_the_circle_with_one_output() -> None:
    exp = load_preset("circle_bce")
    assert exp.train.loss == "bce" and exp.model.nodes[-1].params["units"] == 1
    _, final = _train(exp)
    assert final["test_accuracy"] >= 0.95  # "about 97%"


def test_a_too_small_learning_rate_leaves_the_loss_ten_times_higher() -> None:
    slow = load_preset("lr_too_small")
    right = slow.replace(train=slow.train.model_copy(update={
        "optimizer": slow.train.optimizer.model_copy(update={"lr": 0.03})}))
    _, a = _train(slow)
    _, b = _train(right)
    assert a["test_loss"] > 5 * b["test_loss"], (a, b)


def test_l1_keeps_the_two_inputs_that_describe_a_circle() -> None:
    exp = load_preset("l1_sparse_inputs")
    trainer, final = _train(exp)
    first = next(m for m in trainer.model.modules() if hasattr(m, "weight")).weight.detach()
    per_input = dict(zip(exp.data.features or [], first.abs().sum(0).tolist(), strict=True))
    kept = sorted(per_input, key=per_input.get)[-2:]
    assert sorted(kept) == ["x1^2", "x2^2"], per_input
    others = [v for k, v in per_input.items() if k not in kept]
    assert max(others) < 0.4 * min(per_input[k] for k in kept), per_input
    assert final["test_accuracy"] >= 0.95
