"""Wrkflows, launches and the clock that moves them.

Nothing here locks: the simulator holds its one lock around every call.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Action = Literal["pause", "resume"]

RUNNING = "running"
PAUSED = "paused"
COMPLETED = "completed"
STATUSES = (RUNNING, PAUSED, COMPLETED)
STATUS_CODES = {1: RUNNING, 2: PAUSED, 3: COMPLETED}

FIRST_LAUNCH_ID = 1001


class Clock:
    """The simulator's unix time: wall time scaled by ``speed``, or frozen when manual."""

    def __init__(self, manual: bool = False, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed!r}")
        self.manual = manual
        self.speed = speed
        self._epoch = time.time()
        self._mono = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        """Return the simulated unix time."""
        if self.manual:
            return self._epoch + self._offset
        return self._epoch + (time.monotonic() - self._mono) * self.speed + self._offset

    def at_monotonic(self, mono: float) -> float:
        """Return the simulated time that matched the wall-clock instant ``mono``."""
        if self.manual:
            return self.now()
        return self._epoch + (mono - self._mono) * self.speed + self._offset

    def advance(self, seconds: float) -> None:
        """Move simulated time forward by ``seconds``."""
        if seconds < 0:
            raise ValueError(f"cannot move the clock backwards ({seconds!r} seconds)")
        self._offset += seconds


def _whole(value: float) -> int:
    """Truncate to an int, forgiving the rounding error of many small float steps."""
    return int(value + 1e-6)


@dataclass
class Launch:
    """One launch and the counters it has accrued up to ``updated``."""

    id: int
    wrkflow_uuid: str
    name: str
    start_date: int
    status: str
    duration: float
    total_tasks: int
    errors_per_minute: float
    updated: float
    elapsed: float = 0.0
    tasks: float = 0.0
    errors: float = 0.0

    def settle(self, now: float) -> None:
        """Bring the counters up to ``now``; a running launch completes at its duration."""
        if now <= self.updated:
            return
        if self.status == RUNNING:
            step = min(now - self.updated, self.duration - self.elapsed)
            self.elapsed += step
            self.errors += self.errors_per_minute * step / 60.0
            if self.duration > 0:
                done = self.tasks + self.total_tasks * step / self.duration
                self.tasks = min(done, float(self.total_tasks))
            if self.elapsed >= self.duration - 1e-9:
                self.elapsed = self.duration
                self.finish()
        self.updated = now

    def finish(self) -> None:
        """Mark the launch completed with every task done; elapsed time stays as accrued."""
        self.status = COMPLETED
        self.tasks = float(self.total_tasks)

    def counters(self) -> tuple[int, int, int]:
        """Whole seconds elapsed, tasks completed and errors, as the API reports them."""
        return _whole(self.elapsed), _whole(self.tasks), _whole(self.errors)

    def snapshot(self) -> dict[str, object]:
        """Return the launch in the help-center shape."""
        elapsed, tasks, errors = self.counters()
        return {
            "launch_id": self.id,
            "wrkflow_uuid": self.wrkflow_uuid,
            "name": self.name,
            "start_date": self.start_date,
            "state": {
                "status": self.status,
                "time_elapsed": elapsed,
                "num_task_completed": tasks,
                "num_errors": errors,
            },
        }


@dataclass
class _Pending:
    due: float
    launch_id: int
    action: Action


@dataclass
class Store:
    """Every wrkflow and launch the simulator knows, plus actions not yet applied."""

    clock: Clock
    seed: int = 0
    wrkflows: dict[str, str] = field(default_factory=dict)
    launches: dict[int, Launch] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)
    next_id: int = FIRST_LAUNCH_ID

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    # Wrkflows

    def add_wrkflow(self, wrkflow_uuid: str | None = None, name: str | None = None) -> str:
        """Register a wrkflow and return its uuid."""
        if wrkflow_uuid is None:
            wrkflow_uuid = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
        self.wrkflows[wrkflow_uuid] = name or f"Wrkflow {len(self.wrkflows) + 1}"
        return wrkflow_uuid

    def default_wrkflow(self) -> str:
        """Return the first wrkflow, creating one when there is none."""
        for existing in self.wrkflows:
            return existing
        return self.add_wrkflow()

    # Launches

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
        """Create a launch and return its id."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        if duration < 0 or total_tasks < 0 or num_errors < 0 or errors_per_minute < 0:
            raise ValueError("duration, total_tasks, num_errors and errors_per_minute must be >= 0")
        if launch_id is None:
            launch_id = self.next_id
        elif launch_id in self.launches:
            raise ValueError(f"launch {launch_id} already exists")
        self.next_id = max(self.next_id, launch_id + 1)

        if wrkflow_uuid is None:
            wrkflow_uuid = self.default_wrkflow()
        elif wrkflow_uuid not in self.wrkflows:
            self.add_wrkflow(wrkflow_uuid)
        now = self.clock.now()
        if isinstance(start_date, datetime):
            start_date = start_date.timestamp()

        launch = Launch(
            id=launch_id,
            wrkflow_uuid=wrkflow_uuid,
            name=name if name is not None else f"Launch {launch_id}",
            start_date=int(now if start_date is None else start_date),
            status=status,
            duration=float(duration),
            total_tasks=total_tasks,
            errors_per_minute=float(errors_per_minute),
            updated=now,
            errors=float(num_errors),
        )
        if status == COMPLETED:
            launch.elapsed = launch.duration if elapsed is None else float(elapsed)
            launch.finish()
        elif elapsed:
            launch.elapsed = min(float(elapsed), launch.duration)
            if launch.duration > 0:
                launch.tasks = total_tasks * launch.elapsed / launch.duration
        if status == RUNNING and launch.elapsed >= launch.duration:
            launch.elapsed = launch.duration
            launch.finish()
        self.launches[launch_id] = launch
        return launch_id

    def get(self, launch_id: int) -> Launch:
        """Return the launch brought up to date, or raise ``KeyError``."""
        try:
            launch = self.launches[launch_id]
        except KeyError:
            raise KeyError(f"launch {launch_id} not found") from None
        launch.settle(self.clock.now())
        return launch

    def all(self) -> list[Launch]:
        """Return every launch brought up to date, newest start date first."""
        return self.select()

    def select(
        self,
        launch_id: int | None = None,
        status: str | None = None,
        wrkflow_uuid: str | None = None,
        lower: float | None = None,
        upper: float | None = None,
        name: str | None = None,
    ) -> list[Launch]:
        """Return the up-to-date launches that pass every filter given, newest first."""
        if launch_id is None:
            candidates: Iterable[Launch] = self.launches.values()
        else:
            one = self.launches.get(launch_id)
            candidates = () if one is None else (one,)
        now = self.clock.now()
        found = []
        for launch in candidates:
            if (
                (wrkflow_uuid is not None and launch.wrkflow_uuid != wrkflow_uuid)
                or (lower is not None and launch.start_date < lower)
                or (upper is not None and launch.start_date > upper)
                or (name is not None and launch.name != name)
            ):
                continue
            launch.settle(now)
            if status is None or launch.status == status:
                found.append(launch)
        found.sort(key=_newest_first, reverse=True)
        return found

    def remove(self, launch_id: int) -> None:
        """Forget a launch."""
        self.get(launch_id)
        del self.launches[launch_id]

    # Actions

    def apply(self, launch_id: int, action: Action) -> bool:
        """Pause or resume now; return False when the launch is completed."""
        launch = self.get(launch_id)
        if launch.status == COMPLETED:
            return False
        launch.status = PAUSED if action == "pause" else RUNNING
        return True

    def complete(self, launch_id: int) -> None:
        """Finish a launch at once."""
        self.get(launch_id).finish()

    def schedule(self, launch_id: int, action: Action, delay: float) -> None:
        """Apply an action once ``delay`` wall-clock seconds have passed."""
        if delay <= 0:
            self.apply(launch_id, action)
        else:
            self.pending.append(_Pending(time.monotonic() + delay, launch_id, action))

    def apply_due(self) -> None:
        """Apply every scheduled action whose time has come."""
        if not self.pending:
            return
        mono = time.monotonic()
        due = [item for item in self.pending if item.due <= mono]
        if not due:
            return
        self.pending = [item for item in self.pending if item.due > mono]
        for item in due:
            launch = self.launches.get(item.launch_id)
            if launch is None:
                continue
            launch.settle(self.clock.at_monotonic(item.due))
            if launch.status != COMPLETED:
                launch.status = PAUSED if item.action == "pause" else RUNNING


def _newest_first(launch: Launch) -> tuple[int, int]:
    return launch.start_date, launch.id
