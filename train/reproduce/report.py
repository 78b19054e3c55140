"""`reproductions.json` (one entry per claim) and `reproductions.md` (the side-by-side table)."""

import json
import os

from train.files import write_json_atomic


def entry(claim, measured: dict, seconds: float, trained: list[str] = (), reused: list[str] = ()) -> dict:
    """The JSON entry of one measured claim: the claim's text, every measured number, the verdict, and
    which runs were trained for it and which were reused (so `wall_time_s` can be read)."""
    return {"id": claim.id, "paper": claim.paper, "paper_setting": claim.paper_setting, "our_setting": claim.our_setting,
            "published": claim.published, "published_note": claim.published_note, "measured": measured["measured"],
            "unit": claim.unit, "verdict": claim.criterion.verdict(measured), "criterion": claim.criterion.text,
            "details": {k: v for k, v in measured.items() if k != "measured"}, "wall_time_s": round(seconds, 1),
            "runs_trained": list(trained), "runs_reused": list(reused)}


def number(value) -> str:
    if value is None:
        return "none (see its note)"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _runs(entry: dict, key: str) -> str:
    return "not recorded" if key not in entry else ", ".join(entry[key]) or "none"


def merged(entries: list[dict], workdir: str, order: list[str]) -> list[dict]:
    """`entries` with the entries of other claims already in `workdir/reproductions.json` (so claims
    reproduced one `--only` at a time build one report), in the order of `order`."""
    path = os.path.join(workdir, "reproductions.json")
    by_id = {}
    if os.path.exists(path):
        with open(path) as f:
            by_id = {e["id"]: e for e in json.load(f) if e.get("id") in order}
    by_id.update({e["id"]: e for e in entries})
    return sorted(by_id.values(), key=lambda e: order.index(e["id"]))


def write(entries: list[dict], workdir: str) -> tuple[str, str]:
    """Write both files (the JSON atomically) and return their paths."""
    os.makedirs(workdir, exist_ok=True)
    json_path, md_path = os.path.join(workdir, "reproductions.json"), os.path.join(workdir, "reproductions.md")
    write_json_atomic(json_path, entries)
    cell = lambda text: str(text).replace("|", "\\|")
    rows = "".join(f"| `{e['id']}` | {cell(e['unit'])} | {number(e['published'])} | {number(e['measured'])} | "
                   f"**{e['verdict']}** |\n" for e in entries)
    notes = "".join(f"\n## `{e['id']}`\n\n- Paper: {e['paper']}\n- There: {e['paper_setting']}\n- Here: {e['our_setting']}\n"
                    f"- Published: {e['published_note']}\n- Criterion: {e['criterion']}\n"
                    f"- Measured: " + ", ".join(f"{k} {number(v) if not isinstance(v, (list, dict)) else v}"
                                                for k, v in e["details"].items())
                    + f" ({e['wall_time_s']} s; runs trained: {_runs(e, 'runs_trained')}; reused: {_runs(e, 'runs_reused')})\n"
                    for e in entries)
    with open(md_path, "w") as f:
        f.write("# Reproductions\n\nEach claim beside its paper's number (`python -m train reproduce`). Our runs use "
                "budgets shrunk to 2 CPU cores and the 5,000-digit `mnist5k`, so magnitudes differ; each verdict follows "
                "from the criterion stated under its claim.\n\n| claim | unit | published | ours | verdict |\n"
                f"| --- | --- | --- | --- | --- |\n{rows}{notes}")
    return json_path, md_path
