"""AI Gateway: FastAPI in front of the model API (guide §05 gateway/main.py).

Request path: nginx → gateway → LLM_BASE_URL, an OpenAI-compatible API.
By default that is the stack's Kimi mock (http://llm:8000/v1, on ai-net);
with the `litellm` profile it is the LiteLLM proxy (http://litellm:4000/v1),
which routes "kimi-*" models to Moonshot (or, offline, to the same mock)
exactly as the guide's litellm/config.yaml does. Docker DNS resolves the
service names; nothing here knows an IP address.

Endpoints (the guide's, completed):
- GET /health: liveness, no dependencies (used by the health check);
- GET /readyz: 200 only when redis, postgres and the model API all answer;
- POST /chat {"message", "model"="kimi-k2", "stream"=false}: the reply, as
  {"reply", "model", "cached"}; with stream=true, the same as /chat/stream;
- POST /chat/stream: the reply as server-sent events, one per token
  (a token with line breaks becomes several data lines), then "data: [DONE]";
- GET /metrics: Prometheus metrics (requests by route and status, chats by
  mode and cache result, model API latency), scraped by the stack's
  prometheus over monitoring-net (nginx does not proxy it).

Redis (REDIS_URL) caches non-streamed replies: a repeated identical request is
answered from redis without calling the model ("cached": true, header
X-Cache: HIT; counters gateway:stats:hits/misses). Postgres (DATABASE_URL)
records every chat in gateway.chat_log before the reply is sent. Both are
best effort: when either is down the gateway logs a warning and still answers.

Written against the libraries Debian bookworm ships (FastAPI 0.92, httpx
0.23, redis-py 4.3, psycopg2 2.9, prometheus-client 0.16), which the offline
image uses; the same code runs with the newer versions in requirements.txt.
"""

import asyncio
import hashlib
import json
import logging
import os
import re
import threading
import time

import httpx
import psycopg2
import psycopg2.pool
import redis.asyncio as aioredis
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from pydantic import BaseModel

logging.basicConfig(level=logging.INFO, format="%(levelname)s gateway: %(message)s")
log = logging.getLogger("gateway")

LLM_BASE_URL = os.getenv("LLM_BASE_URL", "http://llm:8000/v1").rstrip("/")
LLM_API_KEY = os.getenv("LLM_API_KEY", "")
REDIS_URL = os.getenv("REDIS_URL", "")
DATABASE_URL = os.getenv("DATABASE_URL", "")
CACHE_TTL_SECONDS = int(os.getenv("CACHE_TTL_SECONDS", "3600"))
LLM_TIMEOUT_SECONDS = float(os.getenv("LLM_TIMEOUT_SECONDS", "120"))

# One client for the process: keeps connections to the model API alive.
llm = httpx.AsyncClient(
    base_url=LLM_BASE_URL,
    headers={"Authorization": f"Bearer {LLM_API_KEY}"} if LLM_API_KEY else {},
    timeout=httpx.Timeout(LLM_TIMEOUT_SECONDS, connect=5.0),
)
cache = (
    aioredis.from_url(
        REDIS_URL, decode_responses=True, socket_connect_timeout=1, socket_timeout=1
    )
    if REDIS_URL
    else None
)

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS gateway;
CREATE TABLE IF NOT EXISTS gateway.chat_log (
    id         BIGSERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    model      TEXT NOT NULL,
    message    TEXT NOT NULL,
    reply      TEXT NOT NULL,
    streamed   BOOLEAN NOT NULL DEFAULT false,
    cached     BOOLEAN NOT NULL DEFAULT false
);
"""

_pool: psycopg2.pool.ThreadedConnectionPool | None = None
_pool_lock = threading.Lock()
_pool_retry_at = 0.0


def db_pool() -> psycopg2.pool.ThreadedConnectionPool | None:
    """The Postgres pool, connecting (and creating the table) on first use;
    after a failure, tries again at most every 5 s. Runs in a worker thread."""
    global _pool, _pool_retry_at
    if _pool is not None or not DATABASE_URL:
        return _pool
    with _pool_lock:
        if _pool is None and time.monotonic() >= _pool_retry_at:
            try:
                pool = psycopg2.pool.ThreadedConnectionPool(
                    1, 4, DATABASE_URL, connect_timeout=3
                )
                conn = pool.getconn()
                try:
                    with conn, conn.cursor() as cur:
                        # Several workers may start together: one creates the table.
                        cur.execute("SELECT pg_advisory_xact_lock(727274)")
                        cur.execute(SCHEMA_SQL)
                finally:
                    pool.putconn(conn)
                _pool = pool
            except psycopg2.Error as e:
                _pool_retry_at = time.monotonic() + 5
                log.warning("postgres unavailable, chats are not recorded: %s", e)
    return _pool


def db_run(sql: str, args: tuple = ()) -> list[tuple]:
    pool = db_pool()
    if pool is None:
        raise psycopg2.OperationalError("no database connection")
    # A pooled connection may have died with its server (postgres restarted):
    # drop it and try once more on a fresh one.
    for attempt in (1, 2):
        conn = pool.getconn()
        try:
            with conn, conn.cursor() as cur:
                cur.execute(sql, args)
                rows = cur.fetchall() if cur.description else []
        except (psycopg2.OperationalError, psycopg2.InterfaceError):
            pool.putconn(conn, close=True)
            if attempt == 2:
                raise
            continue
        pool.putconn(conn)
        return rows
    raise AssertionError("unreachable")


async def record_chat(model: str, message: str, reply: str, streamed: bool, cached: bool):
    try:
        await asyncio.to_thread(
            db_run,
            "INSERT INTO gateway.chat_log (model, message, reply, streamed, cached)"
            " VALUES (%s, %s, %s, %s, %s)",
            (model, message, reply, streamed, cached),
        )
    except psycopg2.Error as e:
        log.warning("chat not recorded: %s", e)


async def cache_get(key: str) -> str | None:
    if cache is None:
        return None
    try:
        return await cache.get(key)
    except aioredis.RedisError as e:
        log.warning("redis get failed: %s", e)
        return None


async def cache_count(hit: bool) -> None:
    if cache is None:
        return
    try:
        await cache.incr("gateway:stats:hits" if hit else "gateway:stats:misses")
    except aioredis.RedisError as e:
        log.warning("redis incr failed: %s", e)


async def cache_set(key: str, reply: str) -> None:
    if cache is None:
        return
    try:
        await cache.set(key, reply, ex=CACHE_TTL_SECONDS)
    except aioredis.RedisError as e:
        log.warning("redis set failed: %s", e)


app = FastAPI(title="AI Gateway")

# Labels stay low-cardinality: the route template, never the raw path.
HTTP_REQUESTS = Counter(
    "gateway_http_requests", "HTTP requests served", ["method", "route", "status"]
)
CHATS = Counter("gateway_chats", "Chats answered", ["mode", "cache"])
LLM_SECONDS = Histogram(
    "gateway_llm_request_seconds",
    "Time until the model API answered (for streams: until its headers arrived)",
    ["mode"],
)


@app.middleware("http")
async def count_requests(request: Request, call_next):
    response = await call_next(request)
    route = request.scope.get("route")
    HTTP_REQUESTS.labels(
        request.method, getattr(route, "path", "unmatched"), str(response.status_code)
    ).inc()
    return response


@app.get("/metrics")
async def metrics():
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class ChatRequest(BaseModel):
    message: str
    model: str = "kimi-k2"  # default to Kimi k2
    stream: bool = False


def cache_key(req: ChatRequest) -> str:
    digest = hashlib.sha256(json.dumps([req.model, req.message]).encode()).hexdigest()
    return f"gateway:chat:{digest}"


def completion_body(req: ChatRequest, stream: bool) -> dict:
    return {
        "model": req.model,
        "messages": [{"role": "user", "content": req.message}],
        "stream": stream,
    }


def upstream_error(status: int | None, text: str) -> HTTPException:
    detail = f"LLM upstream error ({status})" if status else "LLM upstream unreachable"
    return HTTPException(status_code=502, detail=f"{detail}: {text[:500]}")


def sse(data: str, event: str | None = None) -> str:
    """One server-sent event; a payload with line breaks becomes several data lines."""
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in re.split(r"\r\n|\r|\n", data)]
    return "\n".join(lines) + "\n\n"


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/readyz")
async def readyz():
    checks: dict[str, str] = {}
    try:
        if cache is None:
            raise RuntimeError("REDIS_URL is not set")
        await cache.ping()
        checks["redis"] = "ok"
    except Exception as e:  # noqa: BLE001 — any failure means "not ready"
        checks["redis"] = f"error: {e}"
    try:
        await asyncio.to_thread(db_run, "SELECT 1")
        checks["postgres"] = "ok"
    except Exception as e:  # noqa: BLE001
        checks["postgres"] = f"error: {e}"
    try:
        r = await llm.get("/models", timeout=3)
        checks["llm"] = "ok" if r.status_code == 200 else f"error: HTTP {r.status_code}"
    except httpx.HTTPError as e:
        checks["llm"] = f"error: {e!r}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(status_code=200 if ready else 503, content=checks)


@app.post("/chat")
async def chat(req: ChatRequest, response: Response):
    if req.stream:
        return await chat_stream(req)
    key = cache_key(req)
    cached = await cache_get(key)
    if cached is not None:
        await cache_count(hit=True)
        await record_chat(req.model, req.message, cached, streamed=False, cached=True)
        response.headers["X-Cache"] = "HIT"
        CHATS.labels("plain", "hit").inc()
        return {"reply": cached, "model": req.model, "cached": True}
    # This call goes: gateway → LLM (mock, or litellm → Kimi API)
    try:
        with LLM_SECONDS.labels("plain").time():
            r = await llm.post("/chat/completions", json=completion_body(req, stream=False))
    except httpx.HTTPError as e:
        raise upstream_error(None, repr(e)) from e
    if r.status_code != 200:
        raise upstream_error(r.status_code, r.text)
    try:
        reply = r.json()["choices"][0]["message"]["content"] or ""
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise upstream_error(r.status_code, f"unexpected response: {r.text}") from e
    await cache_set(key, reply)
    await cache_count(hit=False)
    await record_chat(req.model, req.message, reply, streamed=False, cached=False)
    response.headers["X-Cache"] = "MISS"
    CHATS.labels("plain", "miss").inc()
    return {"reply": reply, "model": req.model, "cached": False}


@app.post("/chat/stream")
async def chat_stream(req: ChatRequest):
    # Streaming: tokens flow back as SSE (Server-Sent Events).
    # Open the upstream stream first, so that errors still get a proper status.
    request = llm.build_request("POST", "/chat/completions", json=completion_body(req, True))
    try:
        with LLM_SECONDS.labels("stream").time():
            upstream = await llm.send(request, stream=True)
    except httpx.HTTPError as e:
        raise upstream_error(None, repr(e)) from e
    if upstream.status_code != 200:
        body = (await upstream.aread()).decode(errors="replace")
        await upstream.aclose()
        raise upstream_error(upstream.status_code, body)

    async def generate():
        parts: list[str] = []
        try:
            async for line in upstream.aiter_lines():
                if not line.startswith("data:"):
                    continue
                payload = line[5:].strip()
                if payload == "[DONE]":
                    break
                try:
                    choices = json.loads(payload).get("choices") or []
                except ValueError:
                    continue
                text = (choices[0].get("delta") or {}).get("content") if choices else None
                if text:
                    parts.append(text)
                    yield sse(text)
        except httpx.HTTPError as e:
            yield sse(str(upstream_error(None, repr(e)).detail), event="error")
            return
        finally:
            await upstream.aclose()
        await record_chat(req.model, req.message, "".join(parts), streamed=True, cached=False)
        CHATS.labels("stream", "none").inc()
        yield sse("[DONE]")

    return StreamingResponse(
        generate(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
