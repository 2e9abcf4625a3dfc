"""The look every figure shares: fonts that have the glyphs of both languages.

Streamlit's chart theme writes its own font into a figure's template, so a template of
ours would be overwritten in the browser; a figure's own layout font wins over it, which
is why each figure is passed through ``styled``. The list starts with Streamlit's body
font (Latin letters look as on the rest of the page) and names fonts with the Chinese
glyphs after it: the browser takes each character from the first font that has it.
"""

from __future__ import annotations

import plotly.graph_objects as go

FONT_FAMILY = ('"Source Sans", "Source Sans Pro", "Noto Sans CJK SC", "Noto Sans SC", '
               '"Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei", '
               'sans-serif')


def styled(fig: go.Figure) -> go.Figure:
    """``fig`` with the shared fonts on its text, titles and hover labels (in place)."""
    fig.update_layout(font_family=FONT_FAMILY, title_font_family=FONT_FAMILY,
                      hoverlabel_font_family=FONT_FAMILY)
    return fig
