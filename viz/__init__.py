"""Plotly figures drawn from plain data (numpy arrays, snapshots); no Streamlit here."""
