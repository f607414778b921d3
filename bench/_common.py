"""What every benchmark shares: a throw-away Airflow home, the simulator in its own process,
repeated timings, and the report each script prints and hands to ``run.py``."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = sys.executable


# The environment.


def isolate_airflow() -> Path:
    """Point Airflow at an empty home of its own, before anything imports it; it is removed
    when this process exits."""
    home = Path(tempfile.mkdtemp(prefix="wrk-bench-airflow-"))
    atexit.register(shutil.rmtree, home, ignore_errors=True)
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
    for name in list(os.environ):
        if name.startswith("AIRFLOW_CONN_"):
            del os.environ[name]
    return home


def machine() -> dict[str, str]:
    """The facts a reader needs to compare figures: cores, CPU, Python, Airflow."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cores": str(os.cpu_count()),
        "cpu": model,
        "python": platform.python_version(),
        "airflow": version("apache-airflow"),
        "os": f"{platform.system()} {platform.release()}",
    }


def cpu_seconds() -> float:
    """CPU time of this process, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# Timing.


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> float:
    """The interquartile range as a fraction of the median: how steady the rounds were."""
    if len(values) < 4:
        return (max(values) - min(values)) / statistics.median(values)
    low, _, high = statistics.quantiles(values, n=4)
    return (high - low) / statistics.median(values)


def paired(numerators: Sequence[float], denominators: Sequence[float]) -> float:
    """The median of round-by-round ratios: contenders measured side by side in each round
    share whatever else the machine was doing at that moment."""
    return statistics.median(a / b for a, b in zip(numerators, denominators, strict=True))


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.1f} ms"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


# Reports.


@dataclass
class Target:
    """One goal: met or missed, with the figure and the limit written out."""

    name: str
    value: str
    limit: str
    met: bool
    note: str = ""

    def line(self) -> str:
        verdict = "met" if self.met else "**missed**"
        extra = f" ({self.note})" if self.note else ""
        return f"- {self.name}: {self.value}, target {self.limit}: {verdict}{extra}"


@dataclass
class Report:
    """A benchmark's result: tables in markdown, targets, notes, and how to run it again."""

    title: str
    command: str
    tables: list[str] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def markdown(self, level: int = 2) -> str:
        parts = [f"{'#' * level} {self.title}", ""]
        parts += [f"`{self.command}`", ""]
        for table in self.tables:
            parts += [table, ""]
        if self.targets:
            parts += [target.line() for target in self.targets] + [""]
        parts += [f"{note}\n" for note in self.notes]
        return "\n".join(parts).rstrip() + "\n"

    def write_json(self, path: str) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def read_json(cls, path: str | Path) -> Report:
        raw = json.loads(Path(path).read_text())
        raw["targets"] = [Target(**target) for target in raw["targets"]]
        return cls(**raw)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], left: int = 1) -> str:
    """A markdown table; the first ``left`` columns read left-aligned, the others right."""
    align = ["---"] * left + ["---:"] * (len(headers) - left)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every benchmark script takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--json", metavar="PATH", help="also write the report here, for run.py")
    return parser


def command(script: str, quick: bool) -> str:
    return f".venv/bin/python bench/{script}" + (" --quick" if quick else "")


def finish(report: Report, args: argparse.Namespace, started: float) -> int:
    """Print the report and hand it to ``run.py`` when asked."""
    report.seconds = time.monotonic() - started
    print(report.markdown())
    if args.json:
        report.write_json(args.json)
    return 0


# The simulator in a process of its own.


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, to serve the simulator over HTTPS."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "sim-cert.pem", directory / "sim-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class SimulatorProcess:
    """A ``WrkSimulator`` served by ``bench/_simserver.py`` in a child process, so that the
    benchmark's CPU time, memory and allocations are the client's alone.

    Commands go to the child as JSON lines; each gets one JSON line back.
    """

    def __init__(self, **options: Any) -> None:
        self._process = subprocess.Popen(
            [PYTHON, str(BENCH / "_simserver.py"), json.dumps(options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        hello = self._read()
        self.url: str = hello["url"]
        self.api_key: str = hello["api_key"]
        self.port: int = hello["port"]

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def ask(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self._process.stdin.flush()
        return self._read()

    def add_launches(self, **spec: Any) -> dict[str, Any]:
        """Add launches (see ``_simserver.add``); answers ``first_id``, ``count``, ``wrkflows``."""
        return self.ask("add", **spec)

    def requests(self) -> int:
        """Requests the simulator has answered since it started or was last reset."""
        return int(self.ask("count")["requests"])

    def reset(self) -> None:
        self.ask("reset")

    def connection(self, **extra: Any) -> str:
        """The Wrk connection for ``AIRFLOW_CONN_...``, in Airflow's JSON form."""
        conn: dict[str, Any] = {"conn_type": "wrk", "host": self.url, "password": self.api_key}
        if extra:
            conn["extra"] = extra
        return json.dumps(conn)

    def close(self) -> None:
        if self._process.poll() is None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulator process ended (exit {self._process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"the simulator process failed: {answer['error']}")
        return answer
