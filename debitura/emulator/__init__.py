"""A stateful, spec-faithful stand-in for Debitura's Collection Partner API.

Pure Python plus httpx (no Django), so it loads fast in tests, the demo and benchmarks.
"""

from .app import Emulator, EmulatorTransport, RequestRecord
from .delivery import OutgoingWebhook
from .faults import DroppedResponse, FaultConfig, SimulatedTimeout
from .ratelimit import RateLimits

__all__ = [
    "DroppedResponse",
    "Emulator",
    "EmulatorTransport",
    "FaultConfig",
    "OutgoingWebhook",
    "RateLimits",
    "RequestRecord",
    "SimulatedTimeout",
]
