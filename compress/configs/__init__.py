"""Configs of the `python -m compress` pipelines: one module per pipeline with `get_config()`."""
