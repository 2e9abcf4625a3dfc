"""One lookup for every user-facing string.

Pages call ``t("English text", name=...)``. English is the key and the
fallback, so adding the Chinese catalogue later touches no page code.
"""

from __future__ import annotations

CATALOGUES: dict[str, dict[str, str]] = {"en": {}, "zh": {}}
_language = "en"


def set_language(lang: str) -> None:
    global _language
    _language = lang if lang in CATALOGUES else "en"


def language() -> str:
    return _language


def t(text: str, **kw: object) -> str:
    """Translate ``text`` into the current language, then fill in ``kw``."""
    out = CATALOGUES.get(_language, {}).get(text, text)
    return out.format(**kw) if kw else out
