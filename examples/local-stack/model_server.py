"""A tiny model server for the local stack and the integration tests (standard library only).

    python model_server.py --port 18101 --model churn --version 1 [--score 0.14]

- ``GET /health``   → 200 ``{"status": "ok", "model", "version"}``
- ``POST /predict`` → 200 ``{"model", "version", "score", "prediction"}`` (a fraction
  ``error_rate`` of requests answers 500 instead, deterministically spread)
- ``GET /metrics``  → Prometheus text: ``model_requests_total``, ``model_request_errors_total``,
  ``model_request_duration_seconds`` (histogram), ``model_prediction_score`` (histogram),
  ``model_predictions_positive_total``, ``model_output_unique_ratio``,
  ``model_feature_null_ratio{feature}`` — each labelled ``model`` and ``version``
- ``POST /admin``   → change behaviour at run time (tests and drills):
  ``{"error_rate": 0.5, "delay_ms": 3000, "null_rate": 0.94, "score": 0.62}``

Binds 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


class State:
    def __init__(
        self,
        model: str,
        version: str,
        score: float,
        error_rate: float,
        null_rate: float,
        feature: str,
    ) -> None:
        self.model, self.version, self.feature = model, version, feature
        self.score, self.error_rate, self.null_rate = score, error_rate, null_rate
        self.delay_ms = 0.0
        self.lock = threading.Lock()
        self.requests = 0
        self.errors = 0
        self.positives = 0
        self.latency = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.scores = [0] * (len(SCORE_BUCKETS) + 1)
        self.score_sum = 0.0
        self.seen_scores: list[float] = []

    def labels(self) -> str:
        return f'model="{self.model}",version="{self.version}"'

    def predict(self, body: dict) -> tuple[int, dict]:
        with self.lock:
            self.requests += 1
            n = self.requests
            fail = math.floor(n * self.error_rate) > math.floor((n - 1) * self.error_rate)
            # a little spread around the configured score, deterministic per request
            score = min(max(self.score + 0.05 * math.sin(n * 1.7), 0.0), 1.0)
            if fail:
                self.errors += 1
                return 500, {"error": "model failed", "model": self.model, "version": self.version}
            self.positives += score >= 0.5
            self.score_sum += score
            self.scores[_bucket(score, SCORE_BUCKETS)] += 1
            self.seen_scores = (self.seen_scores + [round(score, 2)])[-200:]
        return 200, {
            "model": self.model,
            "version": self.version,
            "score": round(score, 4),
            "prediction": int(score >= 0.5),
        }

    def observe_latency(self, seconds: float) -> None:
        with self.lock:
            self.latency[_bucket(seconds, BUCKETS)] += 1
            self.latency_sum += seconds

    def metrics(self) -> str:
        lab = self.labels()
        with self.lock:
            unique = (
                (len(set(self.seen_scores)) / len(self.seen_scores)) if self.seen_scores else 1.0
            )
            lines = [
                "# TYPE model_requests_total counter",
                f"model_requests_total{{{lab}}} {self.requests}",
                "# TYPE model_request_errors_total counter",
                f"model_request_errors_total{{{lab}}} {self.errors}",
                "# TYPE model_predictions_positive_total counter",
                f"model_predictions_positive_total{{{lab}}} {self.positives}",
                "# TYPE model_output_unique_ratio gauge",
                f"model_output_unique_ratio{{{lab}}} {unique}",
                "# TYPE model_feature_null_ratio gauge",
                f'model_feature_null_ratio{{{lab},feature="{self.feature}"}} {self.null_rate}',
            ]
            lines += _histogram(
                "model_request_duration_seconds", lab, BUCKETS, self.latency, self.latency_sum
            )
            lines += _histogram(
                "model_prediction_score", lab, SCORE_BUCKETS, self.scores, self.score_sum
            )
        return "\n".join(lines) + "\n"


def _bucket(value: float, bounds: tuple[float, ...]) -> int:
    for i, b in enumerate(bounds):
        if value <= b:
            return i
    return len(bounds)


def _histogram(name: str, lab: str, bounds, counts, total) -> list[str]:
    out = [f"# TYPE {name} histogram"]
    running = 0
    for b, c in zip(bounds, counts, strict=False):
        running += c
        out.append(f'{name}_bucket{{{lab},le="{b}"}} {running}')
    running += counts[-1]
    out.append(f'{name}_bucket{{{lab},le="+Inf"}} {running}')
    out.append(f"{name}_sum{{{lab}}} {total}")
    out.append(f"{name}_count{{{lab}}} {running}")
    return out


def make_handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # headers and body in one segment, no Nagle: otherwise each keep-alive request
        # waits ~40 ms for a delayed ACK
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def log_message(self, *args) -> None:  # quiet: tests send thousands of requests
            pass

        def _send(self, code: int, body: dict | str, ctype: str = "application/json") -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict:
            n = int(self.headers.get("Content-Length") or 0)
            if not n:
                return {}
            try:
                parsed = json.loads(self.rfile.read(n))
            except ValueError:
                return {}
            return parsed if isinstance(parsed, dict) else {}

        def _delay(self) -> None:
            if state.delay_ms > 0:
                time.sleep(state.delay_ms / 1000)

        def do_GET(self) -> None:
            if self.path == "/health":
                self._delay()
                self._send(200, {"status": "ok", "model": state.model, "version": state.version})
            elif self.path == "/metrics":
                self._send(200, state.metrics(), "text/plain; version=0.0.4")
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            body = self._body()
            if self.path == "/predict":
                start = time.perf_counter()
                self._delay()
                code, answer = state.predict(body)
                state.observe_latency(time.perf_counter() - start)
                self._send(code, answer)
            elif self.path == "/admin":
                for key in ("error_rate", "delay_ms", "null_rate", "score"):
                    if key in body:
                        setattr(state, key, float(body[key]))
                self._send(
                    200,
                    {
                        k: getattr(state, k)
                        for k in ("error_rate", "delay_ms", "null_rate", "score")
                    },
                )
            else:
                self._send(404, {"error": "not found"})

    return Handler


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--model", default="churn")
    p.add_argument("--version", required=True)
    p.add_argument("--score", type=float, default=0.14, help="mean score it predicts")
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--null-rate", type=float, default=0.0)
    p.add_argument("--feature", default="avg_order_value_90d")
    a = p.parse_args(argv)
    state = State(a.model, a.version, a.score, a.error_rate, a.null_rate, a.feature)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), make_handler(state))
    server.daemon_threads = True
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
