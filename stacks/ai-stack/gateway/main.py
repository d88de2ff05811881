"""AI Gateway: FastAPI in front of the LiteLLM proxy (guide §05 gateway/main.py).

Request path: nginx → gateway → litellm container → Kimi API (Moonshot).
The OpenAI SDK is pointed at LiteLLM, NOT the real OpenAI: Docker DNS resolves
"litellm" to the litellm container on ai-net.

Completed where the guide's code stops short:
- POST /chat honours `stream: true` by answering with the SSE stream;
- streaming uses `chat.completions.create(stream=True)`, and each token is sent
  as a well-formed server-sent event (multi-line tokens become several `data:`
  lines), ending with `data: [DONE]`;
- LiteLLM/Kimi errors become HTTP 502 (or an `event: error` mid-stream);
- Redis (REDIS_URL, "used by gateway for caching" in the guide's .env) caches
  non-streamed replies, and Postgres (DATABASE_URL) keeps a log of chats in its
  own `gateway` schema. Both are best-effort: the gateway keeps answering when
  either is down.
"""

import asyncio
import hashlib
import json
import logging
import os
import re
import time
from contextlib import asynccontextmanager

import asyncpg
import redis.asyncio as redis
from fastapi import BackgroundTasks, FastAPI, HTTPException
from fastapi.responses import StreamingResponse
from openai import APIError, AsyncOpenAI
from pydantic import BaseModel

log = logging.getLogger("gateway")

LITELLM_URL = os.getenv("LITELLM_URL", "http://litellm:4000")
REDIS_URL = os.getenv("REDIS_URL", "")
DATABASE_URL = os.getenv("DATABASE_URL", "")
CACHE_TTL_SECONDS = int(os.getenv("CACHE_TTL_SECONDS", "3600"))

# OpenAI SDK pointed at our LiteLLM proxy — NOT the real OpenAI!
client = AsyncOpenAI(
    base_url=LITELLM_URL + "/v1",
    # Docker DNS: "litellm" resolves to the litellm container's IP
    api_key=os.getenv("LITELLM_API_KEY"),
    timeout=120.0,
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

cache: redis.Redis | None = None
pool: asyncpg.Pool | None = None
_db_lock = asyncio.Lock()
_db_retry_at = 0.0
_background: set[asyncio.Task] = set()


async def get_pool() -> asyncpg.Pool | None:
    """The Postgres pool, connecting (and creating the table) on first use;
    after a failure, tries again at most every 30 s."""
    global pool, _db_retry_at
    if pool is not None or not DATABASE_URL or time.monotonic() < _db_retry_at:
        return pool
    async with _db_lock:
        if pool is None and time.monotonic() >= _db_retry_at:
            try:
                new = await asyncpg.create_pool(DATABASE_URL, min_size=1, max_size=4, timeout=5)
                try:
                    async with new.acquire() as conn, conn.transaction():
                        # uvicorn workers start together: create the table one at a time
                        await conn.execute("SELECT pg_advisory_xact_lock(727274)")
                        await conn.execute(SCHEMA_SQL)
                except BaseException:
                    await new.close()
                    raise
                pool = new
            except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as e:
                _db_retry_at = time.monotonic() + 30
                log.warning("postgres unavailable, chats are not logged: %s", e)
    return pool


@asynccontextmanager
async def lifespan(app: FastAPI):
    global cache
    if REDIS_URL:
        cache = redis.from_url(
            REDIS_URL, decode_responses=True, socket_connect_timeout=0.5, socket_timeout=0.5
        )
    await get_pool()
    yield
    if cache is not None:
        await cache.aclose()
    if pool is not None:
        await pool.close()


app = FastAPI(title="AI Gateway", lifespan=lifespan)


class ChatRequest(BaseModel):
    message: str
    model: str = "kimi-k2"  # default to Kimi k2
    stream: bool = False


def cache_key(req: ChatRequest) -> str:
    digest = hashlib.sha256(json.dumps([req.model, req.message]).encode()).hexdigest()
    return f"gateway:chat:{digest}"


async def cache_get(key: str) -> str | None:
    if cache is None:
        return None
    try:
        return await cache.get(key)
    except redis.RedisError as e:
        log.warning("redis get failed: %s", e)
        return None


async def cache_set(key: str, reply: str) -> None:
    if cache is None:
        return
    try:
        await cache.set(key, reply, ex=CACHE_TTL_SECONDS)
    except redis.RedisError as e:
        log.warning("redis set failed: %s", e)


async def log_chat(model: str, message: str, reply: str, streamed: bool, cached: bool) -> None:
    db = await get_pool()
    if db is None:
        return
    try:
        await db.execute(
            "INSERT INTO gateway.chat_log (model, message, reply, streamed, cached)"
            " VALUES ($1, $2, $3, $4, $5)",
            model, message, reply, streamed, cached,
        )
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as e:
        log.warning("chat log insert failed: %s", e)


def upstream_error(e: APIError) -> HTTPException:
    status = getattr(e, "status_code", None)
    detail = f"LLM upstream error ({status})" if status else "LLM upstream unreachable"
    return HTTPException(status_code=502, detail=f"{detail}: {e.message}")


def sse(data: str, event: str | None = None) -> str:
    """One server-sent event; a payload with line breaks becomes several data lines."""
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in re.split(r"\r\n|\r|\n", data)]
    return "\n".join(lines) + "\n\n"


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.post("/chat")
async def chat(req: ChatRequest, background: BackgroundTasks):
    if req.stream:
        return await chat_stream(req)
    key = cache_key(req)
    cached = await cache_get(key)
    if cached is not None:
        background.add_task(log_chat, req.model, req.message, cached, False, True)
        return {"reply": cached}
    # This call goes: gateway → litellm container → Kimi API
    try:
        response = await client.chat.completions.create(
            model=req.model,
            messages=[{"role": "user", "content": req.message}],
        )
    except APIError as e:
        raise upstream_error(e) from e
    reply = response.choices[0].message.content or ""
    await cache_set(key, reply)
    background.add_task(log_chat, req.model, req.message, reply, False, False)
    return {"reply": reply}


@app.post("/chat/stream")
async def chat_stream(req: ChatRequest):
    # Streaming: tokens flow back as SSE (Server-Sent Events).
    # Open the upstream stream first, so that errors still get a proper status.
    try:
        stream = await client.chat.completions.create(
            model=req.model,
            messages=[{"role": "user", "content": req.message}],
            stream=True,
        )
    except APIError as e:
        raise upstream_error(e) from e

    async def generate():
        parts: list[str] = []
        try:
            async for chunk in stream:
                if not chunk.choices:
                    continue
                text = chunk.choices[0].delta.content
                if text:
                    parts.append(text)
                    yield sse(text)
            yield sse("[DONE]")
        except APIError as e:
            yield sse(str(upstream_error(e).detail), event="error")
            return
        finally:
            await stream.close()
        task = asyncio.create_task(log_chat(req.model, req.message, "".join(parts), True, False))
        _background.add(task)
        task.add_done_callback(_background.discard)

    return StreamingResponse(
        generate(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
