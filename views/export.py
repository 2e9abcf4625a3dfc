"""Export: being built (placeholder until its part lands)."""

import streamlit as st

from engine.i18n import t

st.title(t("Export"))
