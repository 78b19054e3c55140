"""`python -m train reproduce`: each published claim the zoo reproduces, measured here and set beside
the paper's number with a verdict by a criterion stated in the claim.

`claims.CLAIMS` lists the claims, `criteria` holds the verdict rules, `runner.Runner` trains (or
reuses) the runs a claim needs, `report` writes `reproductions.json` and `reproductions.md`.
"""
