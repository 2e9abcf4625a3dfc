"""Gallery: every preset of the course as a card (picture, title, one line, the curriculum
section it teaches, level), in teaching order; search and topic filters narrow the list, and
one click opens a preset on the page that shows it best.

The cards are read from the preset files without the full validation (a card needs the
text, the data and the model's outline), cached until a preset file changes; the pictures
are cached by their data and model (viz/thumbnail.py), so the page opens in a moment.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from pydantic import ValidationError

from engine.course import LEVELS, SECTIONS, TOPICS, course_entries, page_for
from engine.errors import SpecError
from engine.i18n import t
from engine.presets import PRESET_DIR, load_preset
from engine.spec import Experiment
from ui.pages import PAGES
from ui.session import VIEW_PARAMS, current
from ui.words import issues_text
from viz.thumbnail import cached_thumbnail, thumbnail_key

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = 3
SEARCH, TOPIC_FILTER = "np-gallery-search", "np-gallery-topics"


@dataclass(frozen=True)
class Card:
    name: str
    title: str
    description: str
    lesson: str
    section: int | None
    level: str
    topics: tuple[str, ...]
    page: str
    exp: Experiment


def _fingerprint() -> tuple[tuple[str, int], ...]:
    """Changes when a preset file does: the cards are read again then."""
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in PRESET_DIR.glob("*.json")))


@st.cache_resource(show_spinner=False, max_entries=4)
def read_cards(fingerprint: tuple[tuple[str, int], ...],
               ) -> tuple[list[Card], list[tuple[str, str]]]:
    """The cards in course order (frozen: shared by every session), and the preset files
    that could not be read, with why."""
    cards, bad = [], []
    for name, entry in course_entries().items():
        try:
            raw = json.loads((PRESET_DIR / f"{name}.json").read_text(encoding="utf-8"))
            exp = Experiment.model_validate(raw)
        except (OSError, ValueError, ValidationError) as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            bad.append((name, first))
            continue
        cards.append(Card(name, exp.meta.name, exp.meta.description, exp.meta.lesson,
                          entry.section, entry.level, entry.topics, page_for(exp), exp))
    return cards, bad


@st.cache_data(show_spinner=False, max_entries=200)
def thumbnail(key: str, _exp: Experiment) -> bytes:  # noqa: ARG001 - key: the cache's
    return cached_thumbnail(_exp)


def first_sentence(text: str) -> str:
    """The card's one line: a description's first sentence (in either language)."""
    m = re.match(r"(.+?[.!?。！？])(\s|$)", text.strip(), re.S)
    return m.group(1) if m else text.strip()


def section_label(card: Card) -> str:
    if card.section is None:
        return t("Not yet placed in the course")
    return t("Section {n}: {title}", n=card.section, title=t(SECTIONS[card.section]))


def matches(card: Card, query: str, topics: list[str]) -> bool:
    """Every word of the query appears in the card's words (shown language or English),
    and the card has one of the chosen topics (none chosen: any)."""
    if topics and not set(topics) & set(card.topics):
        return False
    words = [card.name, card.title, card.description, card.lesson, t(card.title),
             t(card.description), t(card.lesson), section_label(card),
             t(LEVELS.get(card.level, "")) if card.level else "",
             *(t(TOPICS[x]) for x in card.topics if x in TOPICS), *card.topics]
    haystack = " ".join(words).lower()
    return all(w in haystack for w in query.lower().split())


def open_card(card: Card) -> None:
    """Open the preset (validated now) and go to its page; a broken file is explained and
    the current experiment kept."""
    session = current()
    try:
        issues = session.open(load_preset(card.name))
    except SpecError as e:
        issues = e.issues
    if issues:
        st.error(t("{title} cannot be opened; nothing was changed:", title=t(card.title))
                 + "\n\n" + issues_text(issues))
        return
    page = next((p for p in PAGES if p.path == card.page), None) or next(
        p for p in PAGES if p.path == "train")
    # switch_page clears the address; the viewing choices (language, hidden controls,
    # presentation) stay, a lesson step belongs to the experiment that was open.
    keep = {k: st.query_params[k] for k in VIEW_PARAMS if k != "step" and k in st.query_params}
    st.switch_page(str(ROOT / "views" / page.file), query_params=keep)


def card_view(card: Card) -> None:
    with st.container(border=True, key=f"np-card-{card.name}"):
        st.image(thumbnail(thumbnail_key(card.exp), card.exp), width="stretch")
        st.markdown(f"**{t(card.title)}**")
        st.caption(first_sentence(t(card.description)))
        level = t(LEVELS[card.level]) if card.level in LEVELS else ""
        st.caption(" · ".join(x for x in (section_label(card), level) if x))
        if st.button(t("Open"), key=f"np-gallery-open-{card.name}", width="stretch",
                     icon=":material/play_arrow:"):
            open_card(card)


def gallery() -> None:
    st.title(t("Gallery"))
    st.caption(t("Every preset of the course in teaching order: a problem, then its cures. "
                 "Open one to train it."))
    cards, bad = read_cards(_fingerprint())
    for name, why in bad:
        st.warning(t("presets/{name}.json cannot be read ({why}); fix or remove the file.",
                     name=name, why=why))
    query = st.text_input(t("Search"), key=SEARCH,
                          placeholder=t("A word of the title, lesson or topic"))
    topics = st.pills(t("Topics"), list(TOPICS), selection_mode="multi",
                      format_func=lambda k: t(TOPICS[k]), key=TOPIC_FILTER) or []
    shown = [c for c in cards if matches(c, query or "", topics)]
    if not shown:
        st.info(t("No preset matches. Clear the search or the topics to see them all."))
        return
    if len(shown) < len(cards):
        st.caption(t("{n} of {total} presets", n=len(shown), total=len(cards)))
    for start in range(0, len(shown), COLUMNS):
        cols = st.columns(COLUMNS)
        for col, card in zip(cols, shown[start:start + COLUMNS], strict=False):
            with col:
                card_view(card)


gallery()
