"""`python -m train reproduce [--list] [--only ID ...] [--workdir DIR] [--docs] [--no-progress]`."""

import os
import time

from train.arguments import ArgumentParser
from train.errors import UserError


def parse_args(argv: list[str]):
    """Parse the `python -m train reproduce` command line into an `argparse.Namespace`."""
    from train.reproduce.claims import CLAIMS

    parser = ArgumentParser(prog="python -m train reproduce",
                            description="Reproduce published claims and report them beside the papers' numbers.",
                            epilog=f"claims: {', '.join(c.id for c in CLAIMS)}")
    parser.add_argument("--list", action="store_true", help="list the claims and exit")
    parser.add_argument("--only", nargs="+", action="extend", metavar="ID",
                        help="reproduce only these claims (--only a b and --only a --only b alike)")
    parser.add_argument("--workdir", default=os.path.join("runs", "reproduce"),
                        help="where runs and the report live; finished runs there are reused (default runs/reproduce)")
    parser.add_argument("--docs", action="store_true",
                        help="also write the report to docs/ of this checkout (reproductions.json and .md)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")
    return parser.parse_args(argv)


def main(argv: list[str]) -> None:
    """Measure the chosen claims and write the report after each one (also to docs/ with `--docs`).

    Raises:
        UserError: If `--only` names an unknown claim.
    """
    from train.reproduce import report
    from train.reproduce.claims import BY_ID, CLAIMS
    from train.reproduce.runner import Runner, code_hash

    args = parse_args(argv)
    if args.list:
        for claim in CLAIMS:
            print(f"{claim.id:28s} {claim.paper}")
        return
    unknown = [i for i in args.only or () if i not in BY_ID]
    if unknown:
        raise UserError(f"unknown claim '{unknown[0]}'; choose from {', '.join(BY_ID)} (python -m train reproduce --list)")
    claims = [BY_ID[i] for i in args.only] if args.only else CLAIMS
    code = code_hash()
    stamp = report.provenance(code)
    runner = Runner(args.workdir, progress=not args.no_progress, code=code)
    print(f"code {code[:12]} (commit {stamp['commit'][:12]}): runs in {runner.root}", flush=True)
    entries = []
    for claim in claims:
        print(f"[{len(entries) + 1}/{len(claims)}] {claim.id}: {claim.paper}", flush=True)
        start, trained, reused = time.perf_counter(), len(runner.trained), len(runner.reused)
        measured = claim.measure(runner)
        entries.append(report.entry(claim, measured, time.perf_counter() - start, runner.trained[trained:],
                                    runner.reused[reused:], stamp))
        e = entries[-1]
        print(f"  {e['unit']}: published {report.number(e['published'])}, ours {report.number(e['measured'])} "
              f"-> {e['verdict']}", flush=True)
        # after every claim, so a long run that stops keeps the claims it finished
        whole = report.merged(entries, args.workdir, [c.id for c in CLAIMS])
        _, md_path = report.write(whole, args.workdir)
        if args.docs:
            report.write(whole, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                             "docs"))
    print("; ".join(f"{e['id']}: {e['verdict']}" for e in entries) + f" | {md_path}")
