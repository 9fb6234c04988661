"""A FastAPI model server as teams write them: prometheus-fastapi-instrumentator exports
``http_requests_total{handler,method,status}`` and ``http_request_duration_seconds``; the
model and version labels come from Prometheus' scrape config. ``/predict`` fails every
``FAIL_EVERY``-th request (deterministic, so the error ratio is known); ``/health`` is what a
load balancer polls. Run: ``python fastapi_model.py PORT VERSION FAIL_EVERY``."""

import sys
from itertools import count

import uvicorn
from fastapi import FastAPI, Response
from prometheus_fastapi_instrumentator import Instrumentator

PORT, VERSION, FAIL_EVERY = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
app = FastAPI()
requests = count(1)


@app.post("/predict")
def predict(response: Response) -> dict:
    n = next(requests)
    if FAIL_EVERY and n % FAIL_EVERY == 0:
        response.status_code = 500
        return {"error": "model failed", "version": VERSION}
    return {"score": 0.42, "version": VERSION}


@app.get("/health")
def health() -> dict:
    return {"ok": True}


Instrumentator().instrument(app).expose(app)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning")
