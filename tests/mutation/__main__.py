"""Mutation testing: apply each listed mutant, one at a time, in a scratch copy of the repository and run
the tests that should catch it. A mutant is killed when those tests fail; a survivor is a hole in the
suite (or an equivalent mutant, which its entry must say with `equivalent = "why"`).

    python -m tests.mutation                      # every mutant in tests/mutation/*.toml
    python -m tests.mutation --only rl/ppo.py     # mutants of files matching a substring (repeatable)
    python -m tests.mutation --list               # print the mutants without running them
    python -m tests.mutation --markdown out.md    # also write the result table

Each `[[mutant]]` in a `.toml` file here names `file`, the exact `old` text (it must occur exactly once in
that file), the `new` text, `tests` (pytest paths or node ids) and a `kind` (sign, term, argument, bound,
constant, ...). The copy is made once (tracked and untracked, non-ignored files) and every mutant is
reverted after its run; the working tree is never touched.
"""

import argparse
import dataclasses
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib

HERE = pathlib.Path(__file__).parent
ROOT = HERE.parent.parent


@dataclasses.dataclass(frozen=True)
class Mutant:
    """One source edit and the tests that should catch it."""

    name: str
    file: str
    old: str
    new: str
    tests: tuple[str, ...]
    kind: str
    equivalent: str | None = None


def load_mutants(directory: pathlib.Path = HERE) -> list[Mutant]:
    """Every mutant of every `*.toml` under `directory`, named `<toml stem>:<index>`."""
    mutants = []
    for path in sorted(directory.glob("*.toml")):
        for i, entry in enumerate(tomllib.loads(path.read_text())["mutant"]):
            mutants.append(Mutant(name=f"{path.stem}:{i}", file=entry["file"], old=entry["old"], new=entry["new"],
                                  tests=tuple(entry["tests"]), kind=entry["kind"],
                                  equivalent=entry.get("equivalent")))
    return mutants


def scratch_copy(root: pathlib.Path) -> pathlib.Path:
    """A copy of the files git would commit (tracked, and untracked but not ignored) in a temporary folder."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                            capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    target = pathlib.Path(tempfile.mkdtemp(prefix="jaxzoo-mutants-"))
    for name in filter(None, listed):
        source = root / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def run_mutant(copy: pathlib.Path, mutant: Mutant, timeout: float) -> tuple[str, float]:
    """('killed' | 'survived' | 'timeout', seconds) for `mutant` applied in `copy`, which is restored after."""
    path = copy / mutant.file
    original = path.read_text()
    if original.count(mutant.old) != 1:
        raise SystemExit(f"{mutant.name}: `old` occurs {original.count(mutant.old)} times in {mutant.file}, "
                         "it must occur exactly once")
    path.write_text(original.replace(mutant.old, mutant.new))
    t0 = time.perf_counter()
    try:
        # -p no:cacheprovider keeps the copy clean; -n 0: one process, the mutants run one after another
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-n", "0", "-p", "no:cacheprovider",
                               *mutant.tests], cwd=copy, capture_output=True, text=True, timeout=timeout)
        # 1: a test failed. 2-4: collection or usage error (an unimportable mutant): killed, but weakly, so say so
        outcome = {0: "survived", 1: "killed"}.get(proc.returncode, f"killed (pytest exit {proc.returncode})")
    except subprocess.TimeoutExpired:
        outcome = "timeout"
    finally:
        path.write_text(original)
    return outcome, time.perf_counter() - t0


def markdown(results: list[tuple[Mutant, str, float]]) -> str:
    """The result table, one row per mutant, and the score over the non-equivalent ones."""
    counted = [(m, o) for m, o, _ in results if m.equivalent is None]
    killed = sum(o.startswith("killed") or o == "timeout" for _, o in counted)
    lines = [f"{killed} of {len(counted)} non-equivalent mutants killed "
             f"({100 * killed / max(1, len(counted)):.1f}%); {len(results) - len(counted)} equivalent.", "",
             "| mutant | file | kind | change | outcome |", "| --- | --- | --- | --- | --- |"]
    for m, o, _ in results:
        short = lambda text: " ".join(text.split())[:70] + ("…" if len(" ".join(text.split())) > 70 else "")
        change = f"`{short(m.old)}` → `{short(m.new)}`".replace("|", "\\|")
        outcome = f"equivalent: {m.equivalent} ({o})" if m.equivalent else o
        lines.append(f"| {m.name} | {m.file} | {m.kind} | {change} | {outcome} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[], help="only mutants of files containing this")
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per mutant's test run")
    parser.add_argument("--markdown", help="write the result table to this file")
    args = parser.parse_args(argv)
    mutants = [m for m in load_mutants() if not args.only or any(s in m.file or s in m.name for s in args.only)]
    if not mutants:
        parser.error("no mutant matches --only")
    if args.list:
        for m in mutants:
            print(f"{m.name:14s} {m.file:28s} {m.kind:10s} {m.old.strip()!r} -> {m.new.strip()!r}")
        return 0
    copy = scratch_copy(ROOT)
    # the bundled datasets are prepared once and compiled programs are shared across the mutants' runs
    # (a mutant's program differs from the original's, so its cache key does too)
    shared = {v: tempfile.mkdtemp(prefix="jaxzoo-mutants-") for v in ("JAXZOO_TEST_TFDS_DIR", "JAX_COMPILATION_CACHE_DIR")
              if v not in os.environ}
    os.environ.update(shared)
    results = []
    try:
        for i, m in enumerate(mutants, 1):
            outcome, seconds = run_mutant(copy, m, args.timeout)
            results.append((m, outcome, seconds))
            print(f"[{i}/{len(mutants)}] {m.name:14s} {outcome:9s} {seconds:6.1f}s  {m.file}: "
                  f"{m.old.strip()[:50]!r} -> {m.new.strip()[:50]!r}", flush=True)
            if args.markdown:  # rewritten after every mutant, so a stopped run keeps what it measured
                pathlib.Path(args.markdown).write_text(markdown(results) + "\n")
    finally:
        for folder in (copy, *shared.values()):
            shutil.rmtree(folder, ignore_errors=True)
    print("\n" + markdown(results).splitlines()[0])
    survivors = [m for m, o, _ in results if o == "survived" and m.equivalent is None]
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
