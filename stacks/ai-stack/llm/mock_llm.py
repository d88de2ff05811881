"""A small, deterministic stand-in for the Kimi (Moonshot) API.

The real Kimi API lives outside the machine (https://api.moonshot.cn/v1); this
service answers the same OpenAI-compatible calls so the stack runs, and is
tested, with no network:

- POST /v1/chat/completions, with and without "stream": true (server-sent
  events of chat.completion.chunk objects, ending with "data: [DONE]");
- GET /v1/models;
- GET /healthz.

The reply is a pure function of the last user message: "echo: <message>".
Streaming sends it word by word, MOCK_STREAM_DELAY_MS apart (default 50), so
a client can see the events arrive one at a time. When MOCK_API_KEY is set,
requests must carry it as "Authorization: Bearer <key>", as Moonshot's do.
"""

import asyncio
import hashlib
import json
import os
import time

from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

API_KEY = os.getenv("MOCK_API_KEY", "")
STREAM_DELAY = int(os.getenv("MOCK_STREAM_DELAY_MS", "50")) / 1000
MODELS = ["moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k", "kimi-k2"]

app = FastAPI(title="Kimi API mock")


class Message(BaseModel):
    role: str
    content: str = ""


class CompletionRequest(BaseModel):
    model: str
    messages: list[Message]
    stream: bool = False


def key_error(authorization: str | None) -> JSONResponse | None:
    if API_KEY and authorization != f"Bearer {API_KEY}":
        # The shape of an OpenAI/Moonshot error body, so clients report it as one.
        return JSONResponse(
            status_code=401,
            content={
                "error": {
                    "message": "Invalid Authentication",
                    "type": "invalid_authentication_error",
                }
            },
        )
    return None


def reply_for(req: CompletionRequest) -> str:
    user = [m.content for m in req.messages if m.role == "user"]
    return f"echo: {user[-1] if user else ''}"


def completion_id(req: CompletionRequest) -> str:
    body = json.dumps([req.model, [m.content for m in req.messages]])
    return "chatcmpl-mock-" + hashlib.sha256(body.encode()).hexdigest()[:24]


def words(text: str) -> list[str]:
    """The reply in stream-sized pieces; joined together they give it back exactly."""
    parts = text.split(" ")
    return [p + " " for p in parts[:-1]] + [parts[-1]]


def usage(req: CompletionRequest, reply: str) -> dict:
    prompt = sum(len(m.content.split()) for m in req.messages)
    completion = len(reply.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


@app.get("/v1/models")
async def models(authorization: str | None = Header(default=None)):
    if (err := key_error(authorization)) is not None:
        return err
    return {
        "object": "list",
        "data": [{"id": m, "object": "model", "owned_by": "moonshot-mock"} for m in MODELS],
    }


@app.post("/v1/chat/completions")
async def chat_completions(
    req: CompletionRequest, authorization: str | None = Header(default=None)
):
    if (err := key_error(authorization)) is not None:
        return err
    reply = reply_for(req)
    cid = completion_id(req)
    created = int(time.time())
    if not req.stream:
        return {
            "id": cid,
            "object": "chat.completion",
            "created": created,
            "model": req.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage(req, reply),
        }

    def chunk(delta: dict, finish: str | None = None) -> str:
        body = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": req.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(body)}\n\n"

    async def events():
        yield chunk({"role": "assistant", "content": ""})
        for piece in words(reply):
            await asyncio.sleep(STREAM_DELAY)
            yield chunk({"content": piece})
        yield chunk({}, "stop")
        yield "data: [DONE]\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
