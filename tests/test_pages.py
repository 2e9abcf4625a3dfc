"""The page declarations: every page is reachable from the navigation."""

from pathlib import Path

from engine.probes import PROBES
from ui.pages import NEEDED_PROBES, PAGES, SECTIONS

ROOT = Path(__file__).resolve().parent.parent


def test_every_page_sits_in_a_known_section_and_exists() -> None:
    for p in PAGES:
        assert p.section in SECTIONS, p
        assert (ROOT / "views" / p.file).exists(), p


def test_every_needed_probe_is_registered() -> None:
    assert all(name in PROBES for name in NEEDED_PROBES)
