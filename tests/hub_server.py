"""A local Hugging Face hub-shaped server for push tests (127.0.0.1, a thread).

    with HubServer() as hub:
        env HF_ENDPOINT=hub.url  → huggingface_hub / datasets push here
        hub.files[("dataset", "me/sft")]["README.md"]   # bytes of every committed file
        hub.received                                    # every request body, raw, as bytes

What it speaks: repo creation (POST /api/repos/create), repo info, preupload (every file is
answered "regular" and inline in the commit, except weights and Parquet shards, which go through
the git-LFS batch API's basic transfer to /lfs-upload/OID), the hub's metadata check
(/api/validate-yaml), the NDJSON commit endpoint (header, file and deletedFile lines, base64 contents), paths-info, tree
listing, and resolve/ downloads of committed files (404 with the hub's error headers otherwise).
Tokens: `require_token` answers 401 to any other bearer. Unknown routes answer 404 and are
recorded in `unknown`, so a test sees what the client asked that the server did not know.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlparse

_LFS_SUFFIXES = (".parquet", ".arrow", ".safetensors", ".bin", ".gguf", ".pt")
_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}


class HubServer:
    def __init__(self, require_token: str | None = None):
        self.require_token = require_token
        self.files: dict[tuple[str, str], dict[str, bytes]] = {}
        self.commits: list[dict] = []
        self.received: list[bytes] = []
        self.unknown: list[str] = []
        self.lfs: dict[str, bytes] = {}          # sha256 oid -> content uploaded through the LFS batch API
        self.validated: list[str] = []     # repo types of the cards sent to /api/validate-yaml
        self.lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> HubServer:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def all_bytes(self) -> bytes:
        """Everything that reached the server: request bodies and committed files."""
        with self.lock:
            return b"\n".join(self.received + [v for repo in self.files.values() for v in repo.values()])

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def send(self, code: int, payload=None, raw: bytes | None = None, headers: dict | None = None) -> None:
                body = raw if raw is not None else json.dumps(payload if payload is not None else {}).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json" if raw is None else "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                with hub.lock:
                    hub.received.append(data)
                return data

            def authorized(self) -> bool:
                if hub.require_token and self.headers.get("Authorization") != f"Bearer {hub.require_token}":
                    self.send(401, {"error": "Invalid credentials"}, headers={"X-Error-Code": "InvalidCredentials"})
                    return False
                return True

            def repo_of(self, path: str):
                m = re.match(r"^/api/(models|datasets|spaces)/([^/]+/[^/]+?)(?:/(.*))?$", path)
                if m:
                    return _TYPES[m.group(1)], unquote(m.group(2)), m.group(3) or ""
                m = re.match(r"^/api/([^/]+/[^/]+?)(?:/(.*))?$", path)  # models have no type prefix
                if m and not m.group(1).startswith(("repos/", "whoami")):
                    return "model", unquote(m.group(1)), m.group(2) or ""
                return None

            def do_POST(self) -> None:
                path = urlparse(self.path).path
                data = self.body()
                if path == "/api/validate-yaml":  # the real hub checks metadata without a token too
                    return self.validate_yaml(json.loads(data or b"{}"))
                if not self.authorized():
                    return
                if path == "/api/repos/create":
                    req = json.loads(data or b"{}")
                    kind = req.get("type") or "model"
                    name = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
                    with hub.lock:
                        hub.files.setdefault((kind, name), {})
                    prefix = "" if kind == "model" else f"{kind}s/"
                    return self.send(200, {"url": f"{hub.url}/{prefix}{name}", "name": name})
                target = self.repo_of(path)
                if target and target[2].startswith("preupload/"):
                    req = json.loads(data)
                    return self.send(200, {"files": [{"path": f["path"], "uploadMode": "lfs" if f["path"].endswith(
                        _LFS_SUFFIXES) else "regular", "shouldIgnore": False, "oid": None} for f in req["files"]]})
                if target and target[2].startswith("commit/"):
                    return self.commit(target[0], target[1], data)
                if target and target[2].startswith("paths-info/"):
                    return self.send(200, self.paths_info(target[0], target[1], data))
                if path.endswith(".git/info/lfs/objects/batch"):
                    req = json.loads(data)
                    return self.send(200, {"transfer": "basic", "objects": [
                        {"oid": o["oid"], "size": o["size"], "authenticated": True,
                         "actions": {"upload": {"href": f"{hub.url}/lfs-upload/{o['oid']}", "header": {}}}}
                        for o in req["objects"] if o["oid"] not in hub.lfs]},
                        headers={"Content-Type": "application/vnd.git-lfs+json"})
                hub.unknown.append(f"POST {self.path}")
                self.send(404, {"error": f"no route {self.path}"})

            def do_PUT(self) -> None:
                path = urlparse(self.path).path
                data = self.body()
                if path.startswith("/lfs-upload/"):
                    with hub.lock:
                        hub.lfs[path.rsplit("/", 1)[1]] = data
                    return self.send(200, {})
                hub.unknown.append(f"PUT {self.path}")
                self.send(404, {"error": f"no route {self.path}"})

            def commit(self, kind: str, name: str, data: bytes) -> None:
                files = {}
                summary = None
                for line in data.decode().splitlines():
                    if not line.strip():
                        continue
                    item = json.loads(line)
                    if item["key"] == "header":
                        summary = item["value"].get("summary")
                    elif item["key"] == "file":
                        files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    elif item["key"] == "lfsFile":
                        files[item["value"]["path"]] = hub.lfs[item["value"]["oid"]]
                oid = hashlib.sha1(data).hexdigest()
                with hub.lock:
                    hub.files.setdefault((kind, name), {}).update(files)
                    hub.commits.append({"repo": name, "type": kind, "summary": summary, "files": sorted(files)})
                prefix = "" if kind == "model" else f"{kind}s/"
                self.send(200, {"commitUrl": f"{hub.url}/{prefix}{name}/commit/{oid}", "commitOid": oid,
                                "pullRequestUrl": None})

            def validate_yaml(self, req: dict) -> None:
                """The hub's metadata check, the parts a card can get wrong: YAML that parses into a
                mapping, license a string or list of strings, model-index a list with results."""
                import yaml

                hub.validated.append(req.get("repoType"))
                content = req.get("content") or ""
                m = re.match(r"^---\s*\n(.*?)\n---\s*(?:\n|$)", content, re.S)
                try:
                    meta = yaml.safe_load(m.group(1)) if m else {}
                except yaml.YAMLError as exc:
                    return self.send(400, {"errors": [{"message": f"Invalid YAML: {exc}"}]})
                errors = []
                if meta is None:
                    meta = {}
                if not isinstance(meta, dict):
                    errors.append("metadata must be a mapping")
                else:
                    lic = meta.get("license")
                    if lic is not None and not (isinstance(lic, str) or
                                                (isinstance(lic, list) and all(isinstance(x, str) for x in lic))):
                        errors.append('"license" must be a string or a list of strings')
                    index = meta.get("model-index")
                    if index is not None and not (isinstance(index, list) and all("results" in m for m in index)):
                        errors.append('"model-index" must be a list of models with results')
                if errors:
                    return self.send(400, {"errors": [{"message": e} for e in errors]})
                self.send(200, {"errors": [], "warnings": []})

            def paths_info(self, kind: str, name: str, data: bytes) -> list:
                text = data.decode()
                wanted = json.loads(text)["paths"] if text.startswith("{") else \
                    [unquote(v) for k, v in re.findall(r"(paths)=([^&]*)", text)]
                have = hub.files.get((kind, name), {})
                return [{"type": "file", "path": p, "size": len(have[p]), "oid": hashlib.sha1(have[p]).hexdigest()}
                        for p in wanted if p in have]

            def tree(self, kind: str, name: str, sub: list, recursive: bool) -> None:
                prefix = (sub[0].strip("/") + "/") if sub and sub[0].strip("/") else ""
                have = {p: v for p, v in hub.files.get((kind, name), {}).items() if p.startswith(prefix)}
                if prefix and not have:
                    return self.send(404, {"error": "Entry not found"}, headers={"X-Error-Code": "EntryNotFound"})
                entries, dirs = [], set()
                for p, v in sorted(have.items()):
                    rest = p[len(prefix):]
                    if recursive or "/" not in rest:
                        entries.append({"type": "file", "path": p, "size": len(v), "oid": hashlib.sha1(v).hexdigest()})
                    if "/" in rest:
                        parts = rest.split("/")[:-1]
                        for i in range(1, len(parts) + 1 if recursive else 2):
                            dirs.add(prefix + "/".join(parts[:i]))
                entries += [{"type": "directory", "path": d, "size": 0, "oid": "0" * 40} for d in sorted(dirs)]
                self.send(200, entries)

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_GET(self) -> None:
                path = urlparse(self.path).path
                if not self.authorized():
                    return
                m = re.match(r"^/(?:(datasets|spaces)/)?([^/]+/[^/]+)/resolve/([^/]+)/(.+)$", path)
                if m:
                    kind = _TYPES.get(m.group(1) or "models", "model")
                    content = hub.files.get((kind, unquote(m.group(2))), {}).get(unquote(m.group(4)))
                    if content is None:
                        return self.send(404, {"error": "Entry not found"}, headers={"X-Error-Code": "EntryNotFound"})
                    etag = hashlib.sha1(content).hexdigest()
                    return self.send(200, raw=content, headers={"ETag": f'"{etag}"', "X-Repo-Commit": "0" * 40})
                target = self.repo_of(path)
                if target and (target[2] == "" or target[2].startswith("revision/")):
                    kind, name, _ = target
                    if (kind, name) not in hub.files:
                        return self.send(404, {"error": "Repository not found"},
                                         headers={"X-Error-Code": "RepoNotFound"})
                    return self.send(200, {"id": name, "sha": "0" * 40, "private": True,
                                           "siblings": [{"rfilename": p} for p in sorted(hub.files[(kind, name)])]})
                if target and target[2].startswith("tree/"):
                    return self.tree(target[0], target[1], unquote(target[2]).split("/", 2)[2:],
                                     "recursive=true" in self.path.lower() or "recursive=1" in self.path)
                hub.unknown.append(f"GET {self.path}")
                self.send(404, {"error": f"no route {self.path}"})

        return Handler
