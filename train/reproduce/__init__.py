"""`python -m train reproduce`: measure the published claims the zoo reproduces, with verdicts.

Each claim is measured here and set beside the paper's number with a verdict by a criterion
stated in the claim.

`claims.CLAIMS` lists the claims, `criteria` holds the verdict rules, `runner.Runner` trains (or
reuses) the runs a claim needs, `report` writes `reproductions.json` and `reproductions.md`.
"""
