"""Injected failures: 5xx, timeouts, drops after the effect, refusals, latency and bursts of 429."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any


class DroppedResponse(Exception):
    """The effect was applied, then the connection closed without an answer."""


class SimulatedTimeout(Exception):
    """The effect was applied but the answer came too late for the client."""


@dataclass
class FaultConfig:
    """What to inject; rates are shares of matching requests (0 to 1)."""

    error_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_rate: float = 0.0
    # A permanent refusal (400 with a businessError), nothing applied: a capability that is broken
    # at Debitura, for the go-live check to report.
    refuse_rate: float = 0.0
    latency_ms: int = 0
    burst_429: int = 0
    timeout_seconds: float = 15.0
    seed: int = 0
    methods: list[str] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)

    # Names accepted by the control endpoint (camelCase, like the API).
    JSON_NAMES = {
        "errorRate": "error_rate",
        "timeoutRate": "timeout_rate",
        "dropRate": "drop_rate",
        "refuseRate": "refuse_rate",
        "latencyMs": "latency_ms",
        "burst429": "burst_429",
        "timeoutSeconds": "timeout_seconds",
        "seed": "seed",
        "methods": "methods",
        "paths": "paths",
    }

    def as_json(self) -> dict[str, Any]:
        values = asdict(self)
        return {camel: values[snake] for camel, snake in self.JSON_NAMES.items()}

    def validate(self) -> None:
        for name in ("error_rate", "timeout_rate", "drop_rate", "refuse_rate"):
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise ValueError(f"{name} must be between 0 and 1.")
        if self.error_rate + self.timeout_rate + self.drop_rate + self.refuse_rate > 1:
            raise ValueError("error_rate + timeout_rate + drop_rate + refuse_rate must not exceed 1.")
        if self.latency_ms < 0 or self.burst_429 < 0 or self.timeout_seconds < 0:
            raise ValueError("latency_ms, burst_429 and timeout_seconds must not be negative.")
        self.methods = [m.upper() for m in self.methods]


@dataclass
class Decision:
    """What happens to one request."""

    kind: str | None = None  # "429", "500", "timeout", "drop", "refuse" or None
    latency_ms: int = 0


class Faults:
    """Draws one deterministic decision per matching request from a seeded generator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.config = FaultConfig()
        self._rng = random.Random(0)

    def configure(self, config: FaultConfig) -> None:
        config.validate()
        with self._lock:
            self.config = config
            self._rng = random.Random(config.seed)

    def applies(self, method: str, template: str | None) -> bool:
        config = self.config
        if config.methods and method not in config.methods:
            return False
        return not config.paths or template in config.paths

    def decide(self, method: str, template: str | None) -> Decision:
        with self._lock:
            config = self.config
            if not self.applies(method, template):
                return Decision()
            decision = Decision(latency_ms=config.latency_ms)
            if config.burst_429 > 0:
                config.burst_429 -= 1
                decision.kind = "429"
                return decision
            roll = self._rng.random()
            thresholds = (
                ("500", config.error_rate),
                ("timeout", config.error_rate + config.timeout_rate),
                ("drop", config.error_rate + config.timeout_rate + config.drop_rate),
                ("refuse", config.error_rate + config.timeout_rate + config.drop_rate + config.refuse_rate),
            )
            decision.kind = next((kind for kind, limit in thresholds if roll < limit), None)
            return decision
