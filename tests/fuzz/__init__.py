"""Hypothesis strategies for fuzzing experiment specs (tests/test_fuzz.py)."""
