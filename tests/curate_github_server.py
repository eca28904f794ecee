"""A local HTTP server speaking the slice of GitHub's REST API that pipeline.curate.github uses.

GET /search/repositories (q qualifiers, sort=stars, page/per_page, Link headers, total_count,
incomplete_results, the 1000-result cap, 422 for a malformed query) and GET /repos/{owner}/{name}
(404 when absent). `rate_limited = N` answers the next N requests with GitHub's 403 rate-limit
reply and its X-RateLimit-Reset header. Listens on 127.0.0.1 only and shuts itself down after
`lifetime_s` even if a test forgets to.
"""
from __future__ import annotations

import json
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

CAP = 1000


def make_repo(full_name: str, *, stars: int = 10, license: str | None = "mit", language: str = "GDScript",
              size_kb: int = 100, created: str = "2020-01-01", pushed: str = "2024-01-01",
              topics: tuple[str, ...] = (), clone_url: str | None = None, fork: bool = False) -> dict:
    owner, name = full_name.split("/")
    return {
        "id": abs(hash(full_name)) % 10**9, "name": name, "full_name": full_name,
        "owner": {"login": owner, "id": 1, "type": "User"},
        "html_url": f"https://github.com/{full_name}", "clone_url": clone_url or f"https://github.com/{full_name}.git",
        "stargazers_count": stars, "watchers_count": stars, "size": size_kb, "language": language,
        "license": None if license is None else {"key": license, "spdx_id": license.upper(), "name": license},
        "description": f"{name} description", "default_branch": "main", "fork": fork,
        "created_at": f"{created}T00:00:00Z", "pushed_at": f"{pushed}T00:00:00Z",
        "updated_at": f"{pushed}T00:00:00Z", "topics": list(topics), "archived": False, "score": 1.0,
    }


class FakeGitHub:
    def __init__(self, repos: list[dict], lifetime_s: float = 120):
        self.repos = list(repos)
        self.rate_limited = 0
        self.reset_in = 1.0
        self.queries: list[str] = []
        self.auth_headers: list[str | None] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.timer = threading.Timer(lifetime_s, self.stop)
        self.timer.daemon = True

    def start(self) -> FakeGitHub:
        self.thread.start()
        self.timer.start()
        return self

    def stop(self) -> None:
        self.timer.cancel()
        self.server.shutdown()
        self.server.server_close()

    # -- behaviour ----------------------------------------------------------------------------
    def search(self, q: str) -> list[dict] | str:
        """Matching repos, most stars first; a string is a validation error message."""
        words, quals = [], []
        for token in q.split():
            if ":" in token:
                key, _, value = token.partition(":")
                if not value or key not in ("language", "license", "stars", "created", "pushed", "topic", "fork"):
                    return f"the qualifier {key!r} is not valid"
                quals.append((key, value.strip('"')))
            else:
                words.append(token.lower())
        out = []
        for r in self.repos:
            if all(self._matches(r, k, v) for k, v in quals) and \
                    all(w in (r["name"] + " " + r["description"]).lower() for w in words) and \
                    (r["fork"] is False or ("fork", "true") in quals):
                out.append(r)
        return sorted(out, key=lambda r: (-r["stargazers_count"], r["full_name"]))

    @staticmethod
    def _matches(r: dict, key: str, value: str) -> bool:
        if key == "language":
            return (r["language"] or "").lower() == value.lower()
        if key == "license":
            return r["license"] is not None and r["license"]["key"] == value
        if key == "topic":
            return value in r["topics"]
        if key == "fork":
            return True
        field = {"stars": "stargazers_count", "created": "created_at", "pushed": "pushed_at"}[key]
        have = r[field] if key == "stars" else date.fromisoformat(r[field][:10])
        conv = int if key == "stars" else date.fromisoformat
        if ".." in value:
            lo, hi = value.split("..")
            return (lo == "*" or have >= conv(lo)) and (hi == "*" or have <= conv(hi))
        for op in (">=", "<=", ">", "<"):
            if value.startswith(op):
                x = conv(value[len(op):])
                return {">=": have >= x, "<=": have <= x, ">": have > x, "<": have < x}[op]
        return have == conv(value)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict, headers: dict | None = None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-RateLimit-Limit", "10")
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                fake.auth_headers.append(self.headers.get("Authorization"))
                if fake.rate_limited > 0:
                    fake.rate_limited -= 1
                    return self._send(403, {
                        "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
                                   "Authenticated requests get a higher rate limit.)",
                        "documentation_url": "https://docs.github.com/rest/rate-limit"},
                        {"X-RateLimit-Remaining": "0",
                         "X-RateLimit-Reset": str(int(time.time() + fake.reset_in))})
                url = urlparse(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/search/repositories":
                    return self._search(params)
                parts = url.path.strip("/").split("/")
                if len(parts) == 3 and parts[0] == "repos":
                    full = f"{parts[1]}/{parts[2]}"
                    for r in fake.repos:
                        if r["full_name"] == full:
                            return self._send(200, r)
                return self._send(404, {"message": "Not Found",
                                        "documentation_url": "https://docs.github.com/rest"})

            def _search(self, params: dict):
                q = params.get("q", "")
                fake.queries.append(q)
                found = fake.search(q)
                if isinstance(found, str):
                    return self._send(422, {"message": "Validation Failed", "errors": [
                        {"message": found, "resource": "Search", "field": "q", "code": "invalid"}]})
                page, per_page = int(params.get("page", 1)), int(params.get("per_page", 30))
                if page * per_page > CAP + per_page - 1 and (page - 1) * per_page >= CAP:
                    return self._send(422, {"message": "Only the first 1000 search results are available"})
                items = found[:CAP][(page - 1) * per_page: page * per_page]
                last = max(1, -(-min(len(found), CAP) // per_page))
                links = []
                base = f"{fake.url}/search/repositories?"
                if page < last:
                    links.append(f'<{base}{urlencode({**params, "page": page + 1})}>; rel="next"')
                    links.append(f'<{base}{urlencode({**params, "page": last})}>; rel="last"')
                return self._send(200, {"total_count": len(found), "incomplete_results": False,
                                        "items": items}, {"Link": ", ".join(links)} if links else {})

        return Handler
