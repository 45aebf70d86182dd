"""Prometheus metrics, off by default (``metrics.port``).

``Metrics`` does nothing, so the answering path calls it unconditionally; ``PrometheusMetrics`` records
into its own registry and serves it over HTTP with prometheus-client's server (imported only when
metrics are on). Names follow Prometheus conventions: seconds, ``_total`` counters.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from bot.core.answer import Answer
from bot.errors import ConfigError

log = logging.getLogger(__name__)

# Latency buckets from 2.5 ms (a warm ONNX answer is ~5 ms) to 10 s (a queue behind a burst).
LATENCY_BUCKETS = (0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
QUEUE_BUCKETS = (0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """The no-op recorder used when metrics are off."""

    port: int | None = None

    def answered(self, answer: Answer) -> None:
        """One question answered or declined (``answer.latency_ms`` is the core's time)."""

    def queue_wait(self, seconds: float) -> None:
        """How long a question waited for an answering slot."""

    def feedback(self, helpful: bool, language: str | None, retriever: str | None) -> None:
        """A Helpful / Not helpful press."""

    def watch_index(self, live: Callable[[], tuple[str, int]]) -> None:
        """Report the live index generation and its passage count, read from ``live()`` at each scrape (so a
        generation swapped in by an edit, or published by another process, shows without a hook)."""

    def watch_gateway(self, latencies: Callable[[], Iterable[tuple[int, float | None]]]) -> None:
        """Report gateway latency per shard, read from ``latencies()`` at each scrape."""

    def close(self) -> None:
        """Stop serving."""


class PrometheusMetrics(Metrics):
    def __init__(self, host: str, port: int) -> None:
        try:
            import prometheus_client as prom
        except ImportError:
            raise ConfigError("metrics.port is set but prometheus-client is not installed: "
                              "pip install prometheus-client (or leave metrics.port empty)") from None
        self._prom = prom
        self.registry = prom.CollectorRegistry()
        labels = ("language", "retriever")
        self._latency = prom.Histogram("redlines_answer_seconds", "Time to answer one question (encode, search, rank)",
                                       labels, buckets=LATENCY_BUCKETS, registry=self.registry)
        self._answers = prom.Counter("redlines_answers", "Questions answered with excerpts", labels,
                                     registry=self.registry)
        self._declines = prom.Counter("redlines_declines", "Questions declined, by reason", (*labels, "reason"),
                                      registry=self.registry)
        self._feedback = prom.Counter("redlines_feedback", "Helpful / Not helpful presses", (*labels, "helpful"),
                                      registry=self.registry)
        self._queue = prom.Histogram("redlines_queue_wait_seconds", "Time a question waited for an answering slot",
                                     buckets=QUEUE_BUCKETS, registry=self.registry)
        self._server, self._thread = prom.start_http_server(port, addr=host, registry=self.registry)
        self.port = self._server.server_port
        log.info("Prometheus metrics on http://%s:%d/metrics", host, self.port)

    def answered(self, answer: Answer) -> None:
        labels = (answer.language, answer.retriever)
        self._latency.labels(*labels).observe(answer.latency_ms / 1000)
        if answer.answered:
            self._answers.labels(*labels).inc()
        else:
            self._declines.labels(*labels, answer.decline or "not_covered").inc()

    def queue_wait(self, seconds: float) -> None:
        self._queue.observe(seconds)

    def feedback(self, helpful: bool, language: str | None, retriever: str | None) -> None:
        self._feedback.labels(language or "unknown", retriever or "unknown", "yes" if helpful else "no").inc()

    def watch_index(self, live: Callable[[], tuple[str, int]]) -> None:
        from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily

        def collect():
            generation, passages = live()
            info = InfoMetricFamily("redlines_index", "The index generation live in this process")
            info.add_metric([], {"generation": generation})
            yield info
            yield GaugeMetricFamily("redlines_index_passages", "Passages in the live index", value=passages)

        self.registry.register(_Collector(collect))

    def watch_gateway(self, latencies: Callable[[], Iterable[tuple[int, float | None]]]) -> None:
        from prometheus_client.core import GaugeMetricFamily

        def collect():
            family = GaugeMetricFamily("redlines_gateway_latency_seconds",
                                       "Discord gateway heartbeat round trip, per shard", labels=["shard"])
            for shard, seconds in latencies():
                if seconds is not None:
                    family.add_metric([str(shard)], seconds)
            yield family

        self.registry.register(_Collector(collect))

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Collector:
    """A custom collector: values read when Prometheus scrapes, not pushed on every change."""

    def __init__(self, collect: Callable[[], Iterable]) -> None:
        self.collect = collect


def start_metrics(host: str, port: int | None) -> Metrics:
    """Serve Prometheus metrics when a port is configured; otherwise the no-op recorder."""
    if port is None:
        return Metrics()
    return PrometheusMetrics(host, port)
