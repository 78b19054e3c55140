"""`reproductions.json` and `reproductions.md`: one entry per claim, stamped with the code version.

The stamp names the code version that measured the claim (commit, date, hash of the package
sources).
"""

import datetime
import json
import os
import subprocess

from train.files import write_json_atomic


def provenance(code: str) -> dict:
    """Return the stamp of the code version that measures the claims.

    Args:
        code: The `code_hash()` of the sources.

    Returns:
        `{"commit", "date", "code_sha256"}`: the git commit of the sources (with `+changes` when
        the work tree differs from it; `unknown` outside a checkout), today's UTC date and `code`.
    """
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    git = lambda *args: subprocess.run(["git", "-C", top, *args], capture_output=True, text=True, timeout=30)
    try:
        head = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--", "zoo", "train", "interpret", "compress", "rl").stdout.strip()
        commit = head.stdout.strip() + ("+changes" if dirty else "") if head.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return {"commit": commit, "date": datetime.datetime.now(datetime.UTC).date().isoformat(), "code_sha256": code}


def versus(claim, measured: float):
    """Set `measured` against `claim.published` as `claim.versus` says.

    Returns:
        A ratio, a difference in points, or (where they are not comparable) the sentence saying
        why; None without a published number.
    """
    if claim.published is None:
        return None
    if claim.versus == "ratio":
        return measured / claim.published
    if claim.versus == "points":
        return 100 * (measured - claim.published)
    return claim.versus


def entry(claim, measured: dict, seconds: float, trained: list[str] = (), reused: list[str] = (),
          stamp: dict | None = None) -> dict:
    """Build the JSON entry of one measured claim.

    The entry holds the claim's text, every measured number, the verdict recomputed from them,
    which runs were trained for it and which were reused (so `wall_time_s` can be read), and the
    code version's `stamp` (`provenance`).

    Args:
        claim: The `claims.Claim`.
        measured: The claim's details, as its measure function returned them.
        seconds: The wall time the measurement took.
        trained: The names of the runs trained for it.
        reused: The names of the runs reused for it.
        stamp: The code version's `provenance`.
    """
    return {"id": claim.id, "paper": claim.paper, "paper_setting": claim.paper_setting, "our_setting": claim.our_setting,
            "scale": claim.scale, "published": claim.published, "published_note": claim.published_note,
            "measured": measured["measured"], "ours_vs_published": versus(claim, measured["measured"]),
            "versus": claim.versus if claim.versus in ("ratio", "points") else "not comparable",
            "unit": claim.unit, "verdict": claim.criterion.verdict(measured), "criterion": claim.criterion.text,
            "details": {k: v for k, v in measured.items() if k != "measured"}, "wall_time_s": round(seconds, 1),
            "runs_trained": list(trained), "runs_reused": list(reused), **(stamp or {})}


def number(value) -> str:
    """Format a published or measured number for the report (4 significant digits for floats)."""
    if value is None:
        return "none (see its note)"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _versus_cell(e: dict) -> str:
    value = e.get("ours_vs_published")
    if value is None or isinstance(value, str):
        return "not comparable" if isinstance(value, str) else "-"
    return f"{value:+.1f} points" if e.get("versus") == "points" else f"{value:.3g}x"


def merged(entries: list[dict], workdir: str, order: list[str]) -> list[dict]:
    """Merge `entries` with the other claims' entries in `workdir/reproductions.json` of the same code.

    Only entries that the same code measured are kept, so claims reproduced one `--only` at a
    time build one report, and a report never mixes code versions.

    Returns:
        The entries in the order of the claim ids in `order`.
    """
    path = os.path.join(workdir, "reproductions.json")
    code = {e.get("code_sha256") for e in entries}
    by_id = {}
    if os.path.exists(path):
        with open(path) as f:
            by_id = {e["id"]: e for e in json.load(f) if e.get("id") in order and e.get("code_sha256") in code}
    by_id.update({e["id"]: e for e in entries})
    return sorted(by_id.values(), key=lambda e: order.index(e["id"]))


def _detail(value) -> str:
    return number(value) if not isinstance(value, (list, dict)) else json.dumps(value)


def markdown(entries: list[dict]) -> str:
    """The report of `entries` as Markdown: the side-by-side table, then each claim's details."""
    cell = lambda text: str(text).replace("|", "\\|")
    rows = "".join(f"| `{e['id']}` | {cell(e['unit'])} | {number(e['published'])} | {number(e['measured'])} | "
                   f"{_versus_cell(e)} | **{e['verdict']}** |\n" for e in entries)
    stamps = sorted({(e.get("commit", "unknown"), e.get("date", "unknown")) for e in entries})
    notes = "".join(f"\n## `{e['id']}`\n\n- Paper: {e['paper']}\n- There: {e['paper_setting']}\n- Here: {e['our_setting']}\n"
                    f"- Scale: {e.get('scale', 'not recorded')}\n- Published: {e['published_note']}\n"
                    f"- Criterion: {e['criterion']}\n- Verdict: **{e['verdict']}**\n"
                    f"- Measured: " + "; ".join(f"{k} {_detail(v)}" for k, v in e["details"].items())
                    + f" ({e['wall_time_s']} s; runs trained: {', '.join(e.get('runs_trained', [])) or 'none'}; "
                      f"reused: {', '.join(e.get('runs_reused', [])) or 'none'})\n"
                    for e in entries)
    return ("# Reproductions\n\nEach claim beside its paper's number (`python -m train reproduce`). Our runs use "
            "budgets shrunk to 2 CPU cores and the 5,000-digit `mnist5k`, so magnitudes differ (each entry gives "
            "the scale); each verdict follows from the criterion stated under its claim and the numbers beside "
            "it. Intervals are 95%. Measured at "
            + "; ".join(f"commit `{c[:12]}` on {d}" for c, d in stamps)
            + ".\n\n| claim | unit | published | ours | ours vs published | verdict |\n"
            f"| --- | --- | --- | --- | --- | --- |\n{rows}{notes}")


def write(entries: list[dict], workdir: str) -> tuple[str, str]:
    """Write `reproductions.json` (atomically) and `reproductions.md` in `workdir`; return their paths."""
    os.makedirs(workdir, exist_ok=True)
    json_path, md_path = os.path.join(workdir, "reproductions.json"), os.path.join(workdir, "reproductions.md")
    write_json_atomic(json_path, entries)
    with open(md_path, "w") as f:
        f.write(markdown(entries))
    return json_path, md_path
