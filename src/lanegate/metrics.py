"""Prometheus metrics. Labels carry lane, endpoint, decision, target, error kind and code, and the entity types
and DLP rules (by their place in the pack) content stages found — never payload data.

With several worker processes, ``PROMETHEUS_MULTIPROC_DIR`` is set before start and ``/metrics`` aggregates
every worker's values.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

if TYPE_CHECKING:
    from lanegate.exchange import StageOutcome

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """One set of metric families, registered in its own registry (no process globals)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("lanegate_requests", "Lane requests by outcome.",
                                ["lane", "endpoint", "decision", "target"], registry=self.registry)
        self.latency = Histogram("lanegate_request_duration_seconds", "Time from arrival to decision record.",
                                 ["lane", "endpoint", "decision"], buckets=BUCKETS, registry=self.registry)
        self.upstream_latency = Histogram("lanegate_upstream_duration_seconds", "Upstream call time to headers.",
                                          ["lane", "target"], buckets=BUCKETS, registry=self.registry)
        self.upstream_errors = Counter("lanegate_upstream_errors", "Upstream failures by kind.",
                                       ["lane", "target", "kind"], registry=self.registry)
        self.audit_failures = Counter("lanegate_audit_write_failures", "Decision records that could not be written.",
                                      ["lane"], registry=self.registry)
        self.sink_delivered = Counter("lanegate_sink_delivered_events", "Events a log sink accepted.",
                                      ["lane", "sink"], registry=self.registry)
        self.sink_failures = Counter("lanegate_sink_failures", "Failed deliveries to a log sink (retried).",
                                     ["lane", "sink"], registry=self.registry)
        self.unrouted = Counter("lanegate_unrouted_requests", "Requests matching no lane or endpoint.",
                                ["reason"], registry=self.registry)
        self.refusals = Counter("lanegate_refusals", "Refused requests by error code (with their records).",
                                ["lane", "endpoint", "code"], registry=self.registry)
        self.findings = Counter("lanegate_content_findings", "Values content stages found in requests and answers, "
                                "by entity type or DLP rule and what was done (with their records).",
                                ["lane", "stage", "kind", "action"], registry=self.registry)

    def count_findings(self, lane: str, stages: Iterable[StageOutcome]) -> None:
        """Add what the content stages of one request recorded: per entity type (``pii-detector``) or rule
        (``dlp-filter``, ``pattern[0]``), how many and the action."""
        for outcome in stages:
            detail = outcome.detail
            found = detail.get("entities") or detail.get("matches")
            if not found:
                continue
            for kind, value in found.items():  # {"count": n, "action": a}
                self.findings.labels(lane, outcome.stage, kind, value["action"]).inc(value["count"])

    def exposition(self) -> bytes:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))
