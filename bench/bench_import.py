"""What a DAG file pays to import the operators and the sensor: cold imports, one process each.

Every run is a fresh interpreter that imports Airflow's own DAG-authoring module first (the
baseline), then the provider's modules, timing each step with ``perf_counter``. The extra cost
of a provider is the second step, measured in the same process as its baseline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PYTHON,
    ROOT,
    Report,
    Target,
    arguments,
    command,
    finish,
    isolate_airflow,
    median,
    spread,
    table,
)

OURS = ("wrk_provider.operators.wrk", "wrk_provider.sensors.wrk")
TRIGGER = "wrk_provider.triggers.wrk"
"""Only a deferring sensor needs it; a DAG file that loads it pays for ``airflow.triggers.base``."""
HTTP = ("airflow.providers.http.operators.http", "airflow.providers.http.sensors.http")
KEPT_OUT = ("httpx", "tenacity", "wrk_provider.client.sync", "wrk_provider.client.aio")
TARGET_EXTRA_MS = 20.0

PROBE = """
import importlib, json, sys, time
started, started_cpu = time.perf_counter(), time.process_time()
import {baseline}
based, based_cpu = time.perf_counter(), time.process_time()
before = set(sys.modules)
for module in {modules!r}:
    importlib.import_module(module)
done, done_cpu = time.perf_counter(), time.process_time()
watched = {watched!r}
print(json.dumps({{
    "baseline_ms": (based - started) * 1e3,
    "extra_ms": (done - based) * 1e3,
    "extra_cpu_ms": (done_cpu - based_cpu) * 1e3,
    "trigger_loaded": {trigger!r} in sys.modules,
    "loaded": [m for m in watched if m in sys.modules],
    "added": [m for m in watched if m in sys.modules and m not in before],
    "new_modules": len(set(sys.modules) - before),
}}))
"""


def baseline_module() -> str:
    """``airflow.sdk`` on Airflow 3, ``airflow`` on 2.x."""
    from importlib.metadata import version

    return "airflow.sdk" if int(version("apache-airflow").split(".")[0]) >= 3 else "airflow"


def python(*argv: str) -> subprocess.CompletedProcess[str]:
    """Run a fresh interpreter with bytecode caching on, whatever this shell says."""
    return subprocess.run(
        [PYTHON, *argv], capture_output=True, text=True, check=True, cwd=ROOT, env=ENVIRONMENT
    )


ENVIRONMENT: dict[str, str] = {}


def probe(baseline: str, modules: tuple[str, ...]) -> dict[str, Any]:
    code = PROBE.format(baseline=baseline, modules=modules, watched=KEPT_OUT, trigger=TRIGGER)
    result: dict[str, Any] = json.loads(python("-c", code).stdout.strip().splitlines()[-1])
    return result


def import_chain(baseline: str, modules: tuple[str, ...], target: str) -> list[str]:
    """The imports that led to ``target`` first being loaded, outermost first, read from
    ``python -X importtime``: a module's line follows those of the modules it imported."""
    code = "; ".join(f"import {module}" for module in (baseline, *modules))
    done = python("-X", "importtime", "-c", code)
    lines = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        name = line.rsplit("|", 1)[1]
        depth = (len(name) - len(name.lstrip())) // 2
        lines.append((depth, name.strip()))
    for index, (depth, name) in enumerate(lines):
        if name != target:
            continue
        chain = [name]
        for later_depth, later in lines[index + 1 :]:
            if later_depth < depth:
                chain.append(later)
                depth = later_depth
        return chain[::-1]
    return []


def self_times(
    baseline: str, modules: tuple[str, ...], runs: int
) -> list[tuple[str, float, float]]:
    """Median self and cumulative time of every module the provider's import loads, in ms,
    largest self time first."""
    code = "; ".join(f"import {module}" for module in (baseline, *modules))
    seen: dict[str, list[tuple[float, float]]] = {}
    for _ in range(runs):
        done = python("-X", "importtime", "-c", code)
        rows = [line for line in done.stderr.splitlines() if line.startswith("import time:")]
        start = max(i for i, line in enumerate(rows) if line.rstrip().endswith(f"| {baseline}"))
        for line in rows[start + 1 :]:
            _, self_us, total_us, name = (
                part.strip() for part in line.replace(":", "|", 1).split("|")
            )
            seen.setdefault(name, []).append((int(self_us) / 1e3, int(total_us) / 1e3))
    found = [
        (name, median([t[0] for t in times]), median([t[1] for t in times]))
        for name, times in seen.items()
    ]
    return sorted(found, key=lambda x: -x[1])


def main() -> int:
    started = time.monotonic()
    args = arguments(__doc__.splitlines()[0]).parse_args()
    isolate_airflow()
    no_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    caches = tempfile.mkdtemp(prefix="wrk-bench-pycache-")
    ENVIRONMENT.update(os.environ, PYTHONPYCACHEPREFIX=caches)
    ENVIRONMENT.pop("PYTHONDONTWRITEBYTECODE", None)
    runs = 5 if args.quick else 9
    baseline = baseline_module()
    variants = {"baseline": (), "ours": OURS, "http": HTTP}

    for modules in variants.values():
        probe(baseline, modules)  # warm-up: bytecode caches, Airflow's first-run config
    results: dict[str, list[dict[str, object]]] = {name: [] for name in variants}
    for _ in range(runs):
        for name, modules in variants.items():
            results[name].append(probe(baseline, modules))

    def series(name: str, key: str) -> list[float]:
        return [float(run[key]) for run in results[name]]

    base_all = series("baseline", "baseline_ms") + series("ours", "baseline_ms")
    base_all += series("http", "baseline_ms")
    ours, http = series("ours", "extra_ms"), series("http", "extra_ms")
    ours_cpu, http_cpu = series("ours", "extra_cpu_ms"), series("http", "extra_cpu_ms")
    rows = [
        [
            f"`import {baseline}`",
            f"{median(base_all):,.0f} ms",
            f"{spread(base_all):.0%}",
            "",
            "",
            "",
        ],
        [
            "+ `wrk_provider.operators.wrk`, `.sensors.wrk`",
            f"+{median(ours):.1f} ms",
            f"{spread(ours):.0%}",
            f"+{median(ours_cpu):.1f} ms",
            str(results["ours"][0]["new_modules"]),
            f"{median(ours) / median(http):.2f}x",
        ],
        [
            "+ `airflow.providers.http.operators.http`, `.sensors.http`",
            f"+{median(http):.1f} ms",
            f"{spread(http):.0%}",
            f"+{median(http_cpu):.1f} ms",
            str(results["http"][0]["new_modules"]),
            "1.00x",
        ],
    ]
    report = Report(
        title="DAG parsing: importing the operators and the sensor",
        command=command("bench_import.py", args.quick),
        tables=[table(["import", "wall", "IQR", "CPU", "modules added", "wall vs HTTP"], rows)],
    )
    report.targets = [
        Target(
            "extra import time of ours",
            f"{median(ours):.1f} ms",
            f"≤ {TARGET_EXTRA_MS:.0f} ms",
            median(ours) <= TARGET_EXTRA_MS,
            f"CPU time {median(ours_cpu):.1f} ms",
        ),
        Target(
            "extra import time of ours against the HTTP provider's",
            f"{median(ours):.1f} ms vs {median(http):.1f} ms",
            "≤ HTTP's",
            median(ours) <= median(http),
        ),
    ]

    loaded = results["ours"][0]["loaded"]
    added = results["ours"][0]["added"]
    already = results["baseline"][0]["loaded"]
    assert isinstance(loaded, list) and isinstance(added, list) and isinstance(already, list)
    kept = []
    for module in KEPT_OUT:
        if module in added:
            chain = " → ".join(f"`{m}`" for m in import_chain(baseline, OURS, module))
            kept.append(f"`{module}`: **loaded by our import**, through {chain}")
        elif module in loaded:
            chain = " → ".join(f"`{m}`" for m in import_chain(baseline, (), module))
            kept.append(
                f"`{module}`: in `sys.modules`, but loaded by `import {baseline}` itself "
                f"({chain}); our import adds nothing"
            )
        else:
            kept.append(f"`{module}`: not loaded")
    report.targets.append(
        Target(
            "our import loads none of " + ", ".join(f"`{m}`" for m in KEPT_OUT),
            f"{len(added)} loaded by it",
            "0",
            not added,
        )
    )

    profile = self_times(baseline, OURS, 3)
    heaviest = [
        [f"`{name}`", f"{self_ms:.1f} ms", f"{total_ms:.1f} ms"]
        for name, self_ms, total_ms in profile[:10]
    ]
    trigger_loaded = bool(results["ours"][0]["trigger_loaded"])
    trigger_ms = next((total for name, _, total in profile if name == TRIGGER), 0.0)
    report.tables.append(
        "Where our import's time goes (`-X importtime`, median of 3 runs; importtime's own "
        "overhead inflates these):\n\n"
        + table(["module", "self", "with what it imports"], heaviest)
    )
    report.notes = [
        f"{runs} fresh interpreters per row after one warm-up each, taking turns; medians. "
        "Each interpreter times `import "
        f"{baseline}` and then the provider's modules; 'IQR' is the interquartile range of "
        "the runs as a share of the median. The operating system's file cache is warm, as it "
        "is for a DAG processor that parses the same files again and again.",
        "Bytecode caches are on for every module, kept in a temporary `PYTHONPYCACHEPREFIX` "
        "and filled by the warm-up, as in an installed deployment"
        + (
            ". This machine's environment sets `PYTHONDONTWRITEBYTECODE`, under which our "
            "modules (an editable install, so source files without bytecode) would be compiled "
            "on every import while Airflow's and the HTTP provider's come precompiled from pip; "
            "the probes run without it."
            if no_bytecode
            else "."
        ),
        (
            f"The sensor module imports `{TRIGGER}` (and with it `airflow.triggers.base`) when "
            f"it is imported: {trigger_ms:.1f} ms of the import under `-X importtime`, for a "
            "module only a deferring sensor needs."
            if trigger_loaded
            else f"`{TRIGGER}` (and `airflow.triggers.base`) stays out of a DAG file's import: "
            "the sensor loads its trigger only when it defers."
        ),
        "After importing our operators and sensor: " + "; ".join(kept) + ".",
        "Modules added counts everything new in `sys.modules` after the baseline.",
    ]
    report.data = {"results": results, "baseline_module": baseline, "python": sys.version}
    shutil.rmtree(caches, ignore_errors=True)
    return finish(report, args, started)


if __name__ == "__main__":
    raise SystemExit(main())
