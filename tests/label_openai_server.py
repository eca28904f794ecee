"""A local OpenAI-compatible server for labelling tests and benchmarks (127.0.0.1, a thread).

    with LabelServer(latency_s=0.2) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="x")

Chat completions reply with "Write a <Language> function named <name> ...", where <name> is the
first `def|func|function NAME` in the prompt, so a test can check each pair got its own reply.
Faults are planned per name: `server.faults["snippet_3"] = ["429", "500"]` makes the first two
requests for snippet_3 fail that way, then it succeeds. Kinds: 429 (with Retry-After), 500,
timeout (answers after `timeout_sleep_s`, by when the client has given up), malformed (broken
JSON), empty (an empty reply), code (a reply made of code).

It counts what it was *paid* for: a 200 with usage that reached a still-connected client (a
reply whose client died before it was written is not paid). `hold_after = N` serves N chat
requests and then holds the rest until `release()`, which lets a test SIGKILL a job with requests
on the wire and no reply in flight. `require_key = "sk-…"` answers 401 to any other key.
`reply = fn(body, name, attempt)` replaces the labeller's reply text (the judge tests give canned
verdicts: well formed, malformed, refusals, two scores, order-dependent); `name_of = fn(prompt)`
replaces the `def NAME(` rule that keys faults and payments.
Batch endpoints: POST /v1/files, GET /v1/files/ID[/content], POST/GET /v1/batches,
GET /v1/batches/ID; a batch completes `batch_delay_s` after creation (or when
`release_batches()` is called if `hold_batches`), its output lines shuffled.
"""
from __future__ import annotations

import email.parser
import json
import random
import re
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = re.compile(r"\b(?:def|func|function)\s+(\w+)\s*\(")


def tokens_of(text: str) -> int:
    return max(1, len(text) // 4)


class LabelServer:
    def __init__(self, latency_s: float = 0.0, timeout_sleep_s: float = 2.0, retry_after_s: float = 1,
                 max_lifetime_s: float = 300.0):
        self.latency_s = latency_s
        self.timeout_sleep_s = timeout_sleep_s
        self.retry_after_s = retry_after_s
        self.faults: dict[str, list[str]] = {}
        self.hold_after: int | None = None
        self.reply = None                  # fn(body, name, attempt) -> reply text
        self.name_of = None                # fn(prompt) -> the name faults and payments are keyed by
        self.require_key: str | None = None     # answer 401 unless "Authorization: Bearer <key>"
        self.keys_seen: set[str] = set()
        self.hold_batches = False
        self.batch_delay_s = 0.0
        self.lock = threading.Lock()
        self.gate = threading.Event()
        self.batch_gate = threading.Event()
        self.requests = 0                  # chat requests received
        self.served_ok = 0                 # chat 200s handed out (before holding)
        self.held = 0                      # requests currently held at the gate
        self.in_flight = 0
        self.max_in_flight = 0
        self.attempts: dict[str, list[float]] = {}
        self.paid = {"requests": 0, "tokens_in": 0, "tokens_out": 0}
        self.paid_by_name: dict[str, int] = {}
        self.batch_paid = {"requests": 0, "tokens_in": 0, "tokens_out": 0}
        self.files: dict[str, dict] = {}
        self.batches: dict[str, dict] = {}
        self.batches_created = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._stopper = threading.Timer(max_lifetime_s, self.stop)  # never outlives a forgotten test
        self._stopper.daemon = True

    def __enter__(self) -> LabelServer:
        self._thread.start()
        self._stopper.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopper.cancel()
        self.gate.set()
        self.batch_gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def release(self) -> None:
        self.gate.set()

    def release_batches(self) -> None:
        self.batch_gate.set()

    # -- what a chat request gets -------------------------------------------------------
    def next_fault(self, name: str) -> str | None:
        with self.lock:
            self.attempts.setdefault(name, []).append(time.monotonic())
            plan = self.faults.get(name)
            return plan.pop(0) if plan else None

    def completion(self, body: dict, fault: str | None, name: str) -> tuple[dict, int, int]:
        prompt = "\n".join(m.get("content") or "" for m in body.get("messages", []))
        lang = re.search(r"\b(Python|GDScript|Lua|JavaScript|Go|Rust)\b", prompt)
        if self.reply is not None and fault not in ("empty", "code"):
            reply = self.reply(body, name, len(self.attempts.get(name, [])))
        elif fault == "empty":
            reply = ""
        elif fault == "code":
            reply = f"```python\ndef {name}():\n    pass\n```"
        else:
            reply = f"Write a {lang.group(1) if lang else 'Python'} function named {name} that does its job."
        t_in, t_out = tokens_of(prompt), tokens_of(reply)
        return ({"id": f"chatcmpl-{random.randrange(1 << 30)}", "object": "chat.completion",
                 "created": int(time.time()), "model": body.get("model", "test-model"),
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": reply}}],
                 "usage": {"prompt_tokens": t_in, "completion_tokens": t_out, "total_tokens": t_in + t_out}},
                t_in, t_out)

    def run_batch(self, batch_id: str) -> None:
        if self.hold_batches:
            self.batch_gate.wait()
        elif self.batch_delay_s:
            time.sleep(self.batch_delay_s)
        batch = self.batches[batch_id]
        lines = self.files[batch["input_file_id"]]["content"].decode().splitlines()
        out, err = [], []
        for line in filter(None, lines):
            req = json.loads(line)
            name = (NAME.search(json.dumps(req["body"]).replace("\\n", "\n")) or [None, "unknown"])[1]
            fault = self.next_fault(name)
            if fault in ("429", "500"):
                err.append({"id": f"r{len(err)}", "custom_id": req["custom_id"], "error": None,
                            "response": {"status_code": int(fault), "request_id": "x",
                                         "body": {"error": {"message": f"injected {fault}", "type": "server_error"}}}})
                continue
            body, t_in, t_out = self.completion(req["body"], fault, name)
            with self.lock:
                for k, v in (("requests", 1), ("tokens_in", t_in), ("tokens_out", t_out)):
                    self.batch_paid[k] += v
            out.append({"id": f"r{len(out)}", "custom_id": req["custom_id"], "error": None,
                        "response": {"status_code": 200, "request_id": "x", "body": body}})
        random.shuffle(out)  # providers do not keep input order: mapping must use custom_id
        for kind, rows in (("output_file_id", out), ("error_file_id", err)):
            if rows:
                fid = self.add_file("\n".join(json.dumps(r) for r in rows).encode() + b"\n", "batch_output")
                batch[kind] = fid
        batch.update(status="completed", completed_at=int(time.time()),
                     request_counts={"total": len(lines), "completed": len(out), "failed": len(err)})

    def add_file(self, content: bytes, purpose: str, filename: str = "file.jsonl") -> str:
        with self.lock:
            fid = f"file-{len(self.files) + 1}"
            self.files[fid] = {"content": content, "purpose": purpose, "filename": filename}
        return fid

    def file_object(self, fid: str) -> dict:
        f = self.files[fid]
        return {"id": fid, "object": "file", "bytes": len(f["content"]), "created_at": int(time.time()),
                "filename": f["filename"], "purpose": f["purpose"], "status": "processed"}


def _client_gone(sock: socket.socket) -> bool:
    """True when the peer closed the connection (a killed client), seen without reading data."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _handler(server: LabelServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test output clean
            pass

        def send(self, status: int, payload, headers: dict | None = None, raw: bytes | None = None) -> bool:
            data = raw if raw is not None else json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)
                self.wfile.flush()
                return True
            except OSError:
                return False

        def body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_POST(self) -> None:
            if self.path.endswith("/chat/completions"):
                return self.chat(json.loads(self.body()))
            if self.path.endswith("/files"):
                return self.upload()
            if self.path.endswith("/batches"):
                req = json.loads(self.body())
                with server.lock:
                    server.batches_created += 1
                    bid = f"batch_{server.batches_created}"
                    server.batches[bid] = {
                        "id": bid, "object": "batch", "endpoint": req["endpoint"], "status": "in_progress",
                        "input_file_id": req["input_file_id"], "completion_window": req["completion_window"],
                        "created_at": int(time.time()), "metadata": req.get("metadata"),
                        "output_file_id": None, "error_file_id": None,
                        "request_counts": {"total": 0, "completed": 0, "failed": 0}}
                threading.Thread(target=server.run_batch, args=(bid,), daemon=True).start()
                return self.send(200, server.batches[bid])
            self.send(404, {"error": {"message": f"no route {self.path}"}})

        def do_GET(self) -> None:
            m = re.search(r"/files/([\w-]+)(/content)?$", self.path)
            if m and m.group(1) in server.files:
                if m.group(2):
                    return self.send(200, None, raw=server.files[m.group(1)]["content"],
                                     headers={"Content-Type": "application/octet-stream"})
                return self.send(200, server.file_object(m.group(1)))
            m = re.search(r"/batches/([\w-]+)$", self.path)
            if m and m.group(1) in server.batches:
                return self.send(200, server.batches[m.group(1)])
            if re.search(r"/batches(\?.*)?$", self.path):
                data = sorted(server.batches.values(), key=lambda b: b["id"], reverse=True)
                return self.send(200, {"object": "list", "data": data, "has_more": False,
                                       "first_id": data[0]["id"] if data else None,
                                       "last_id": data[-1]["id"] if data else None})
            self.send(404, {"error": {"message": f"no route {self.path}"}})

        def upload(self) -> None:
            raw = self.body()
            msg = email.parser.BytesParser().parsebytes(
                b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw)
            fields = {part.get_param("name", header="content-disposition"): part for part in msg.get_payload()}
            content = fields["file"].get_payload(decode=True)
            purpose = fields["purpose"].get_payload(decode=True).decode()
            fid = server.add_file(content, purpose, fields["file"].get_filename() or "upload.jsonl")
            self.send(200, server.file_object(fid))

        def chat(self, body: dict) -> None:
            key = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            server.keys_seen.add(key)
            if server.require_key and key != server.require_key:
                return self.send(401, {"error": {"message": f"Incorrect API key provided: {key}",  # echoed, as some do
                                                 "type": "invalid_request_error"}})
            prompt = "\n".join(m.get("content") or "" for m in body.get("messages", []))
            name = server.name_of(prompt) if server.name_of else (NAME.search(prompt) or [None, "unknown"])[1]
            with server.lock:
                server.requests += 1
                server.in_flight += 1
                server.max_in_flight = max(server.max_in_flight, server.in_flight)
                hold = server.hold_after is not None and server.served_ok >= server.hold_after
                server.held += hold
            try:
                if hold:
                    server.gate.wait()
                    with server.lock:
                        server.held -= 1
                fault = server.next_fault(name)
                if server.latency_s:
                    time.sleep(server.latency_s)
                if fault == "timeout":
                    time.sleep(server.timeout_sleep_s)
                if fault == "429":
                    return self.send(429, {"error": {"message": "rate limited", "type": "rate_limit"}},
                                     {"Retry-After": str(server.retry_after_s)})
                if fault == "500":
                    return self.send(500, {"error": {"message": "injected failure", "type": "server_error"}})
                if fault == "malformed":
                    return self.send(200, None, raw=b'{"id": "chatcmpl-broken", "choices": [')
                payload, t_in, t_out = server.completion(body, fault, name)
                if _client_gone(self.connection):
                    return
                with server.lock:
                    server.served_ok += 1
                if self.send(200, payload):
                    with server.lock:
                        server.paid["requests"] += 1
                        server.paid["tokens_in"] += t_in
                        server.paid["tokens_out"] += t_out
                        server.paid_by_name[name] = server.paid_by_name.get(name, 0) + 1
            finally:
                with server.lock:
                    server.in_flight -= 1

    return Handler
