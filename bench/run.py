"""Run every benchmark in turn and write ``bench/RESULTS.md``: ``make bench``.

Each benchmark is a script of its own (``bench/bench_*.py``) that runs alone too and prints
its table; here each runs in a fresh process and hands its report back as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import BENCH, PYTHON, ROOT, Report, machine, table  # noqa: E402

BENCHMARKS = {
    "import": "bench_import.py",
    "read": "bench_read.py",
    "listing": "bench_listing.py",
    "fanin": "bench_fanin.py",
    "simulator": "bench_simulator.py",
}
"""In this order: the import timings first, while nothing else of ours has warmed the machine."""


def run_one(script: str, quick: bool, directory: Path) -> tuple[Report | None, str]:
    """Run one benchmark script; its report, or None and the end of what it printed."""
    out = directory / f"{script}.json"
    argv = [PYTHON, str(BENCH / script), "--json", str(out)] + (["--quick"] if quick else [])
    print(f"\n=== {script} ===", flush=True)
    printed: list[str] = []
    with subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            printed.append(line)
    if process.returncode != 0 or not out.exists():
        return None, "".join(printed)[-4000:]
    return Report.read_json(out), ""


def code_version() -> str:
    """The commit measured, and whether the provider's code differed from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--", "wrk_provider"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown (no git)"
    if not commit:
        return "unknown"
    return f"`{commit}`" + (", with uncommitted changes in `wrk_provider/`" if changed else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer rounds")
    parser.add_argument(
        "--only", nargs="+", choices=sorted(BENCHMARKS), help="run only these benchmarks"
    )
    parser.add_argument("--output", default=str(BENCH / "RESULTS.md"), help="where to write")
    args = parser.parse_args()

    started = time.monotonic()
    when = dt.datetime.now(dt.timezone.utc)
    measured = code_version()
    load_before = os.getloadavg()
    chosen = args.only or list(BENCHMARKS)
    reports: dict[str, Report] = {}
    failures: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="wrk-bench-") as directory:
        for name in chosen:
            report, failure = run_one(BENCHMARKS[name], args.quick, Path(directory))
            if report is None:
                failures[name] = failure
            else:
                reports[name] = report
    load_after = os.getloadavg()
    took = time.monotonic() - started

    facts = machine()
    invocation = ".venv/bin/python bench/run.py" + (" --quick" if args.quick else "")
    if args.only:
        invocation += " --only " + " ".join(args.only)
    lines = [
        "# Benchmarks",
        "",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC",
        f"- Machine: {facts['cores']} cores, {facts['cpu']}, {facts['os']}",
        f"- Python {facts['python']}, Airflow {facts['airflow']}",
        f"- Code: {measured}",
        f"- Load average (1 min) before and after: {load_before[0]:.2f}, {load_after[0]:.2f}",
        f"- Command: `{invocation}` (`make bench` runs it without `--quick`); "
        f"{took / 60:.1f} minutes",
        "",
        "The figures to read are ratios against peers measured in the same run, side by side; "
        "absolute times are context and depend on the machine. Each benchmark also runs alone "
        "with the command under its heading.",
        "",
    ]
    summary = [
        [report.title, target.name, target.value, target.limit, "met" if target.met else "MISSED"]
        for report in reports.values()
        for target in report.targets
    ]
    if summary:
        lines += [
            "## Targets",
            "",
            table(["benchmark", "target", "measured", "goal", ""], summary, left=5),
            "",
        ]
    for name in chosen:
        if name in reports:
            lines += [reports[name].markdown(level=2), f"_Took {reports[name].seconds:.0f} s._", ""]
        else:
            lines += [
                f"## {BENCHMARKS[name]} failed",
                "",
                "```",
                failures[name].rstrip(),
                "```",
                "",
            ]
    Path(args.output).write_text("\n".join(lines))
    print(f"\nWrote {args.output} in {took:.0f} s.")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
