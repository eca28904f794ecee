"""A small OpenAI-compatible HTTP server for tests: /v1/models, /v1/completions,
/v1/chat/completions (with SSE streaming), bearer-key checking. Runs in a thread on 127.0.0.1
and is shut down by the fixture that started it. Streams can be paced (`chunk_delay_s`) and cut:
`drop_after=N` sends N chunks, then closes the connection with no [DONE], as a crashed server does."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OpenAIServer:
    def __init__(self, reply: Callable[[dict], str] | None = None, key: str | None = None,
                 models: tuple[str, ...] = ("test-model",), chunk_delay_s: float = 0.0,
                 drop_after: int | None = None):
        self.chunk_delay_s = chunk_delay_s
        self.drop_after = drop_after
        self.reply = reply or (lambda body: "echo: " + _last_text(body))
        self.key = key
        self.models = models
        self.requests: list[dict] = []
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if server.key and self.headers.get("Authorization") != f"Bearer {server.key}":
                    self._json(401, {"error": {"message": "Incorrect API key provided",
                                               "type": "invalid_request_error", "code": "invalid_api_key"}})
                    return False
                return True

            def do_GET(self):
                if not self._authorized():
                    return
                if self.path.endswith("/models"):
                    self._json(200, {"object": "list", "data": [
                        {"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in server.models]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                server.requests.append({"path": self.path, "body": body})
                if not self._authorized():
                    return
                if body.get("model") not in server.models:
                    self._json(404, {"error": {"message": f"model {body.get('model')} not found"}})
                    return
                text = server.reply(body)
                usage = {"prompt_tokens": 5, "completion_tokens": len(text.split()),
                         "total_tokens": 5 + len(text.split())}
                if self.path.endswith("/chat/completions") and body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for i, word in enumerate(text.split(" ")):
                        if server.drop_after is not None and i >= server.drop_after:
                            self.wfile.flush()
                            self.connection.shutdown(2)  # mid-stream: no [DONE], no clean end
                            return
                        time.sleep(server.chunk_delay_s)
                        piece = word if i == 0 else " " + word
                        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": int(time.time()),
                                 "model": body["model"], "choices": [
                                     {"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                        self.wfile.flush()
                    final = {"id": "c1", "object": "chat.completion.chunk", "created": int(time.time()),
                             "model": body["model"], "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                    self.wfile.write(f"data: {json.dumps(final)}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                elif self.path.endswith("/chat/completions"):
                    self._json(200, {"id": "c1", "object": "chat.completion", "created": int(time.time()),
                                     "model": body["model"], "usage": usage, "choices": [
                                         {"index": 0, "finish_reason": "stop",
                                          "message": {"role": "assistant", "content": text}}]})
                elif self.path.endswith("/completions"):
                    self._json(200, {"id": "c1", "object": "text_completion", "created": int(time.time()),
                                     "model": body["model"], "usage": usage, "choices": [
                                         {"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

        return Handler


def _last_text(body: dict) -> str:
    if "messages" in body:
        return body["messages"][-1]["content"]
    return body.get("prompt", "")
