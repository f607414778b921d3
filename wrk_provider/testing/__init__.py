"""A Wrk API simulator for tests, benchmarks and demos; it needs only the standard library.

>>> from wrk_provider.testing import WrkSimulator, Fault
>>> with WrkSimulator(manual_clock=True) as sim:  # doctest: +SKIP
...     launch_id = sim.add_launch(duration=120)
...     sim.inject("GET /launch", Fault.error(503, retry_after="1"))
"""

from wrk_provider.testing.api import RecordedRequest
from wrk_provider.testing.faults import Fault
from wrk_provider.testing.simulator import WrkSimulator

__all__ = ["Fault", "RecordedRequest", "WrkSimulator"]
