"""What a wait concludes from one look at a launch, shared by the sensor and the trigger."""

from __future__ import annotations

from dataclasses import dataclass

from wrk_provider.client.config import is_whole_number_text
from wrk_provider.client.errors import WrkInvalidInputError
from wrk_provider.client.models import Launch, LaunchStatus


@dataclass(frozen=True)
class Verdict:
    """``done`` when the launch completed; ``failure`` says why the wait must end in failure."""

    done: bool = False
    failure: str | None = None

    @property
    def waiting(self) -> bool:
        return not self.done and self.failure is None


def judge(launch: Launch, *, max_errors: int | None, fail_on_paused: bool) -> Verdict:
    """Read one look at a launch. An error count past ``max_errors`` fails the wait at once,
    even before the launch completes; a status this provider does not know is never guessed."""
    if max_errors is not None and launch.num_errors > max_errors:
        return Verdict(
            failure=f"Launch {launch.launch_id} has {launch.num_errors} errors, more than "
            f"max_errors={max_errors} ({launch.status}, {launch.num_task_completed} tasks "
            "completed)."
        )
    if launch.status is LaunchStatus.COMPLETED:
        return Verdict(done=True)
    if launch.status is LaunchStatus.PAUSED and fail_on_paused:
        return Verdict(
            failure=f"Launch {launch.launch_id} is paused and fail_on_paused is set; resume it "
            "in Wrk, or unset fail_on_paused to wait through pauses."
        )
    if not launch.is_known_status:
        return Verdict(
            failure=f"Launch {launch.launch_id} has status {launch.status!r}, which this provider "
            "does not know; it will not guess whether that means done. Upgrade the provider or "
            "check the launch in Wrk."
        )
    return Verdict()


def check_max_errors(max_errors: object) -> int | None:
    """``max_errors`` as a whole number, zero or more, or None for no limit."""
    if max_errors is None:
        return None
    if isinstance(max_errors, str) and is_whole_number_text(max_errors):
        return int(max_errors)
    if isinstance(max_errors, bool) or not isinstance(max_errors, int) or max_errors < 0:
        raise WrkInvalidInputError(
            f"max_errors={max_errors!r} must be a whole number, zero or more, or None for no limit."
        )
    return max_errors


def check_max_consecutive_failures(value: object) -> int:
    """``max_consecutive_failures`` as a whole number, 1 or more."""
    if isinstance(value, str) and is_whole_number_text(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WrkInvalidInputError(
            f"max_consecutive_failures={value!r} must be a whole number, 1 or more, e.g. 5."
        )
    return value
