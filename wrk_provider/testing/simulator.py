"""WrkSimulator: a Wrk API on loopback that tests, benchmarks and demos run against."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Sequence
from datetime import datetime
from types import TracebackType

from wrk_provider.testing.api import PREFIX, Api, RecordedRequest, count_requests
from wrk_provider.testing.dialects import DIALECTS
from wrk_provider.testing.faults import Fault, FaultPlan, RateLimiter, default_random_kinds
from wrk_provider.testing.server import SimulatorServer
from wrk_provider.testing.state import RUNNING, Clock, Store


class WrkSimulator:
    """A real HTTP server speaking the Wrk launches API, with a clock and injectable faults.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`.

    :param api_key: the key clients must send; a random ``wrk-sim-...`` key when None.
    :param dialect: ``"seed"`` (the help-center page) or ``"openapi"`` (the published SDK).
    :param manual_clock: freeze simulated time; only :meth:`advance` moves it.
    :param speed: simulated seconds per wall-clock second with the real clock.
    :param action_delay: wall-clock seconds before an openapi pause or resume takes effect.
    :param rate_limit: requests a second allowed (a token bucket); None for no limit.
    :param auth_scheme: the word before the key in the ``Authorization`` header.
    :param host: address to bind; ``port`` 0 picks a free port.
    :param seed: seed for generated wrkflow uuids.
    :param rate_limit_retry_after: send ``Retry-After`` with rate-limit 429 answers.
    """

    def __init__(
        self,
        api_key: str | None = None,
        dialect: str = "seed",
        manual_clock: bool = False,
        speed: float = 1.0,
        action_delay: float = 0.0,
        rate_limit: float | None = None,
        auth_scheme: str = "Api-Key",
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        rate_limit_retry_after: bool = True,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"dialect must be 'seed' or 'openapi', got {dialect!r}")
        if action_delay < 0:
            raise ValueError(f"action_delay must be 0 or more, got {action_delay!r}")
        if not auth_scheme or " " in auth_scheme:
            raise ValueError(f"auth_scheme must be one word, got {auth_scheme!r}")
        self.host = host
        self.dialect = dialect
        self._port = port
        self._lock = threading.Lock()
        self._clock = Clock(manual=manual_clock, speed=speed)
        self._store = Store(self._clock, seed=seed)
        self._api = Api(
            lock=self._lock,
            store=self._store,
            dialect=DIALECTS[dialect],
            api_key=api_key if api_key is not None else "wrk-sim-" + secrets.token_hex(12),
            auth_scheme=auth_scheme,
            action_delay=action_delay,
            limiter=RateLimiter(rate_limit) if rate_limit is not None else None,
            retry_after_header=rate_limit_retry_after,
            faults=FaultPlan(),
        )
        self._server: SimulatorServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> WrkSimulator:
        """Bind and serve in a background thread; after a stop, serve again on the same port."""
        if self._server is not None:
            return self
        server = SimulatorServer((self.host, self._port), self._api)
        self._port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve,
            name=f"wrk-simulator-{self._port}",
            daemon=True,
        )
        self._server = server
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections and close the socket; safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        self._server = self._thread = None
        server.stop()
        thread.join()
        server.server_close()

    def __enter__(self) -> WrkSimulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is serving."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The bound port (0 before the first start when none was asked for)."""
        return self._port

    @property
    def url(self) -> str:
        """The API base URL, ``http://127.0.0.1:<port>/api/v1``."""
        if not self._port:
            raise RuntimeError("WrkSimulator has no port yet: call start() or use 'with'")
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        if ":" in host:
            host = "::1" if host == "::" else host
            host = f"[{host}]"
        return f"http://{host}:{self._port}{PREFIX}"

    @property
    def api_key(self) -> str:
        """The key clients must send."""
        return self._api.api_key

    def connection_uri(self) -> str:
        """An Airflow connection in JSON form, for ``AIRFLOW_CONN_WRK_DEFAULT``."""
        return json.dumps({"conn_type": "wrk", "host": self.url, "password": self.api_key})

    def __repr__(self) -> str:
        where = self.url if self._port else "unbound"
        state = "running" if self.running else "stopped"
        return f"WrkSimulator(dialect={self.dialect!r}, url={where!r}, {state})"

    # Clock

    def now(self) -> float:
        """The simulator's unix time."""
        with self._lock:
            return self._clock.now()

    def advance(self, seconds: float) -> None:
        """Move simulated time forward; works with the manual and the real clock."""
        with self._lock:
            self._clock.advance(seconds)

    # Wrkflows and launches

    def add_wrkflow(self, uuid: str | None = None, name: str | None = None) -> str:
        """Register a wrkflow and return its uuid (a new uuid4 when none is given)."""
        with self._lock:
            return self._store.add_wrkflow(uuid, name)

    def add_launch(
        self,
        wrkflow_uuid: str | None = None,
        name: str | None = None,
        status: str = RUNNING,
        start_date: float | datetime | None = None,
        duration: float = 60.0,
        total_tasks: int = 100,
        num_errors: int = 0,
        errors_per_minute: float = 0.0,
        launch_id: int | None = None,
        elapsed: float | None = None,
    ) -> int:
        """Create a launch and return its id; ids count up from 1001."""
        with self._lock:
            return self._store.add_launch(
                wrkflow_uuid=wrkflow_uuid,
                name=name,
                status=status,
                start_date=start_date,
                duration=duration,
                total_tasks=total_tasks,
                num_errors=num_errors,
                errors_per_minute=errors_per_minute,
                launch_id=launch_id,
                elapsed=elapsed,
            )

    def pause(self, launch_id: int) -> bool:
        """Pause a launch now; False when it is completed."""
        with self._lock:
            self._store.apply_due()
            return self._store.apply(launch_id, "pause")

    def resume(self, launch_id: int) -> bool:
        """Resume a launch now; False when it is completed."""
        with self._lock:
            self._store.apply_due()
            return self._store.apply(launch_id, "resume")

    def complete(self, launch_id: int) -> None:
        """Finish a launch now, with every task done."""
        with self._lock:
            self._store.complete(launch_id)

    def set_errors(self, launch_id: int, num_errors: int) -> None:
        """Set a launch's error count."""
        with self._lock:
            self._store.get(launch_id).errors = float(num_errors)

    def set_raw_status(self, launch_id: int, status: str) -> None:
        """Serve ``status`` as the launch's status, even one the API never sends."""
        with self._lock:
            self._store.get(launch_id).status = status

    def remove_launch(self, launch_id: int) -> None:
        """Forget a launch; the API then answers 404 for it."""
        with self._lock:
            self._store.remove(launch_id)

    def launch(self, launch_id: int) -> dict[str, object]:
        """A snapshot of one launch in the help-center shape; ``KeyError`` when unknown."""
        with self._lock:
            self._store.apply_due()
            return self._store.get(launch_id).snapshot()

    def launches(self) -> list[dict[str, object]]:
        """Snapshots of every launch, newest start date first."""
        with self._lock:
            self._store.apply_due()
            return [launch.snapshot() for launch in self._store.all()]

    # Faults

    def inject(self, route: str, *faults: Fault) -> None:
        """Queue faults for requests matching ``route``, e.g. ``"GET /launch"`` or ``"*"``."""
        with self._lock:
            self._api.faults.inject(route, faults)

    def clear_faults(self) -> None:
        """Drop every queued fault and turn random faults off."""
        with self._lock:
            self._api.faults.clear()

    def set_random_faults(
        self,
        rate: float = 0.3,
        seed: int = 1,
        kinds: Sequence[Fault] | None = None,
        slow_delay: float = 2.0,
    ) -> None:
        """Give each request a ``rate`` chance of a fault drawn from ``kinds``; 0 turns off."""
        chosen = default_random_kinds(slow_delay) if kinds is None else tuple(kinds)
        with self._lock:
            self._api.faults.set_random(rate, seed, chosen)

    # Request log

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self._lock:
            return list(self._api.log)

    def clear_requests(self) -> None:
        """Forget the requests received so far."""
        with self._lock:
            self._api.log.clear()

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """Count requests by method and by path, exact or with ``{id}`` placeholders."""
        with self._lock:
            return count_requests(self._api.log, method, path)
