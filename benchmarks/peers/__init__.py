"""Reference implementations in other frameworks, run in the same process for ratios."""
