"""Prometheus metrics: the hooks shared code calls, one line each.

Counters and histograms live in this module, once per process; each portal
worker is its own process and is scraped as its own target (see
docs/operations.md), so no multiprocess directory is needed. Backlogs are read
from the database at scrape time (``portal.metrics.exporter``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from prometheus_client import Counter, Histogram

from crypto import KeyUnavailable

P = ParamSpec("P")
T = TypeVar("T")

REQUEST_SECONDS = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, per route template (never the raw path).",
    ["method", "route", "status"], registry=None,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
APPEND_SECONDS = Histogram(
    "portal_access_record_append_seconds",
    "Time to chain and insert a transaction's access records at its commit "
    "(waiting for the chain head included).",
    registry=None, buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0))
DENIALS = Counter(
    "portal_policy_denials", "Requests the policy refused, per reason.", ["reason"],
    registry=None)
KEY_ERRORS = Counter(
    "portal_key_provider_errors",
    "Requests that failed closed because the key provider (HSM, keyring) was unavailable.",
    registry=None)
FAILED_CLOSED = Counter(
    "portal_requests_failed_closed",
    "Requests answered 503 because the database, key provider or disk failed.",
    ["cause"], registry=None)
ROUNDS_FAILED = Counter(
    "portal_background_rounds_failed",
    "Background rounds (mail and jobs, witness) that failed and wait for the next.",
    ["worker"], registry=None)
SHARED = (REQUEST_SECONDS, APPEND_SECONDS, DENIALS, KEY_ERRORS, FAILED_CLOSED, ROUNDS_FAILED)


def timed_append(append: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``append(...)``, timed (portal/audit/ledger.py's chaining at commit)."""
    started = time.perf_counter()
    try:
        return append(*args, **kwargs)
    finally:
        APPEND_SECONDS.observe(time.perf_counter() - started)


def policy_denied(decision: object) -> None:
    """A request the policy refused (portal/web/endpoint.py)."""
    DENIALS.labels(reason=str(getattr(decision, "reason", "") or "unknown")[:64]).inc()


def failed_closed(error: BaseException) -> None:
    """A request that failed closed (portal/web/endpoint.py)."""
    if isinstance(error, KeyUnavailable):
        KEY_ERRORS.inc()
        FAILED_CLOSED.labels(cause="key_provider").inc()
    else:
        FAILED_CLOSED.labels(cause="database" if "sqlalchemy" in type(error).__module__
                             else "os").inc()


def round_failed(worker: str) -> None:
    """A background round that raised (portal/mail/worker.py)."""
    ROUNDS_FAILED.labels(worker=worker[:64]).inc()
