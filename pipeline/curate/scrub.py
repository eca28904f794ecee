"""Secrets and personal data out of text before it is stored, labelled, exported or pushed.

    result = scrub_text(code)
    result.text      # placeholders (<API_KEY>, <EMAIL>, …) where secrets were
    result.findings  # [{"kind": "aws_key", "line": 3}, …]: kind and line, never the value
    result.held      # None, or why the text cannot be made safe (the caller keeps it out)

What is found (BigCode's StarCoder redaction plus detect-secrets):
- detect-secrets' detectors (AWS, GitHub, GitLab, Slack, Stripe, OpenAI, PyPI, npm, SendGrid,
  Twilio, JWT, Discord, Telegram, Azure storage, Artifactory, Mailchimp, IBM, Square, passwords in
  URLs, secret keywords in assignments, base64 high-entropy strings);
- the studio's own rules: PEM private key blocks (the whole block), token prefixes the library
  does not know (Hugging Face `hf_`, Google `AIza`, Anthropic `sk-ant-`, GitHub fine-grained
  `github_pat_`, Slack webhooks), passwords in URLs of any scheme, e-mail addresses and public IP
  addresses (private, loopback and the well-known DNS resolvers are left alone, as BigCode does).

Look-alikes left alone on purpose: hex digests (git shas, md5/sha), UUIDs, documented example
keys (anything containing EXAMPLE, e.g. AWS's AKIAIOSFODNN7EXAMPLE), placeholders (`xxx`,
`your-api-key`, `${VAR}`, `<TOKEN>`), e-mails at reserved example domains (example.com, .test,
.invalid, localhost) and `git@host` SSH addresses.

Held back: a private key block with no END line (its extent is unknown) and anything a second
scan still finds after replacement. What is not protected: a secret split across string
concatenations, or encoded (base64 of a key inside a larger blob below the entropy limit).
"""
from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

PLACEHOLDERS = {
    "private_key": "<PRIVATE_KEY>", "aws_key": "<API_KEY>", "api_key": "<API_KEY>", "token": "<TOKEN>",
    "jwt": "<TOKEN>", "password": "<PASSWORD>", "url_password": "<PASSWORD>",
    "high_entropy": "<SECRET>", "email": "<EMAIL>", "ip_address": "<IP_ADDRESS>",
}
KINDS = tuple(PLACEHOLDERS)
_PLACEHOLDER_VALUES = frozenset(PLACEHOLDERS.values())

# detect-secrets type -> our kind; the hex entropy and public-IP plugins are left out (hashes are
# not secrets; our IP rule knows private ranges and DNS resolvers)
_LIBRARY_KINDS = {
    "AWS Access Key": "aws_key", "Artifactory Credentials": "api_key",
    "Azure Storage Account access key": "api_key", "Basic Auth Credentials": "url_password",
    "Cloudant Credentials": "password", "Discord Bot Token": "token", "GitHub Token": "token",
    "GitLab Token": "token", "IBM Cloud IAM Key": "api_key", "IBM COS HMAC Credentials": "api_key",
    "JSON Web Token": "jwt", "Secret Keyword": "password", "Mailchimp Access Key": "api_key",
    "NPM tokens": "token", "OpenAI Token": "api_key", "PyPI Token": "token", "SendGrid API Key": "api_key",
    "Slack Token": "token", "SoftLayer Credentials": "api_key", "Square OAuth Secret": "token",
    "Stripe Access Key": "api_key", "Telegram Bot Token": "token", "Twilio API Key": "api_key",
    "Base64 High Entropy String": "high_entropy",
}

_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----.*?-----END \1-----", re.S)
_PRIVATE_KEY_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_TOKENS = [  # (kind, pattern); group 0 is the secret
    ("token", re.compile(r"\bhf_[A-Za-z0-9]{30,}\b")),
    ("api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
    ("api_key", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_\-]{32,}")),
    ("token", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{50,}\b")),
    ("token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("token", re.compile(r"\bglpat-[A-Za-z0-9_\-]{20,}\b")),
    ("token", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}")),
    ("token", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/]+")),
    ("api_key", re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b")),
    ("aws_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{16,}")),
]
_AWS_SECRET = re.compile(r"(?i)aws.{0,20}?(?:secret|key).{0,20}?['\"]([A-Za-z0-9/+=]{40})['\"]")
_URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.\-]{1,20}://[^\s:/@'\"]{1,64}:([^\s@/'\"]{1,128})@[\w.\-]+")
_PASSWORD_ASSIGNMENT = re.compile(
    r"(?i)\b[\w.]*(?:password|passwd|passphrase|pwd|secret)\w*['\"]?\s*(?::=|=|:)\s*[rbuf]?(['\"])([^'\"\s]{4,128})\1")
_EMAIL = re.compile(r"(?<![\w.+\-])([A-Za-z0-9._%+\-]{1,64})@((?:[A-Za-z0-9\-]{1,63}\.)+[A-Za-z]{2,24})\b")
_IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_SECTION_NUMBER = re.compile(r"(?:rfc\s*\d+|section|sect\.|§|chapter|step)\W*$")  # "RFC 5445 3.8.2.4"
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}(?![\w:])")
_HEX = re.compile(r"[0-9a-fA-F]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_PLACEHOLDER_VALUE = re.compile(
    r"(?i)example|^x+$|(?:x{4,})|your[_\-]|changeme|dummy|sample|placeholder|redacted|^<.*>$|\$\{|\{\{|%[sd]|^\*+$"
    r"|^\.+$|^(?:none|null|true|false|password|secret|token|test|foo|bar)$")
_KEYWORDISH = re.compile(r"(?i)pass|pwd|secret|token|key|auth|cred|bearer|private")
_CANDIDATE_LINE = re.compile(r"[A-Za-z0-9+/=_\-.]{16,}|(?i:pass|pwd|secret|token|key|auth|cred)")
_RESERVED_DOMAINS = ("example.com", "example.org", "example.net", "localhost", "email.com", "domain.com")
_RESERVED_TLDS = ("example", "test", "invalid", "localhost", "local")
_DNS_RESOLVERS = {"8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9", "208.67.222.222", "208.67.220.220"}


@dataclass
class ScrubResult:
    text: str
    findings: list[dict] = field(default_factory=list)   # {"kind", "line"}: never the value
    held: str | None = None

    @property
    def counts(self) -> Counter:
        return Counter(f["kind"] for f in self.findings)


@lru_cache(maxsize=1)
def _library_plugins() -> list:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    plugins: dict[str, Any] = get_mapping_from_secret_type_to_class()  # its annotation says no class at all
    return [(_LIBRARY_KINDS[name], cls()) for name, cls in plugins.items() if name in _LIBRARY_KINDS]


def is_look_alike(value: str, kind: str) -> bool:
    """A value that has the shape of a secret but is documentation, a hash or an id."""
    bare = value.strip("'\"`")
    if _PLACEHOLDER_VALUE.search(bare) or bare in _PLACEHOLDER_VALUES:
        return True
    if kind in ("high_entropy", "password", "api_key", "token"):
        if _UUID.fullmatch(bare) or (_HEX.fullmatch(bare) and len(bare) in (32, 40, 56, 64, 96, 128)):
            return True
    if kind == "high_entropy" and (bare.isalpha() or ("/" in bare and bare.count("/") >= 3)):
        return True  # a long word or a path is not a key
    if kind in ("high_entropy", "password") and _sequential(bare):
        return True
    return False


def _sequential(value: str) -> bool:
    low = value.lower()
    return any(s in low for s in ("abcdefgh", "01234567", "12345678", "qwertyui"))


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _email_is_personal(local: str, domain: str) -> bool:
    domain = domain.lower()
    if local.lower() in ("git", "noreply", "no-reply") or domain.endswith(("users.noreply.github.com",)):
        return False
    if domain in _RESERVED_DOMAINS or any(domain.endswith("." + d) for d in _RESERVED_DOMAINS):
        return False
    return domain.rsplit(".", 1)[-1] not in _RESERVED_TLDS


def _ip_is_personal(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return False
    return ip.is_global and text not in _DNS_RESOLVERS


def find_spans(text: str) -> tuple[list[tuple[int, int, str]], str | None]:
    """(start, end, kind) of every secret, sorted and not overlapping; and a reason to hold."""
    spans: list[tuple[int, int, str]] = []
    held = None
    for m in _PRIVATE_KEY.finditer(text):
        spans.append((m.start(), m.end(), "private_key"))
    covered = [(s, e) for s, e, _ in spans]
    for m in _PRIVATE_KEY_BEGIN.finditer(text):
        if not any(s <= m.start() < e for s, e in covered):
            held = f"a private key block on line {_line_of(text, m.start())} has no END line, so it cannot be cut out safely"
    for kind, pattern in _TOKENS:
        for m in pattern.finditer(text):
            if not is_look_alike(m.group(0), kind):
                spans.append((m.start(), m.end(), kind))
    for m in _AWS_SECRET.finditer(text):
        if not is_look_alike(m.group(1), "api_key"):
            spans.append((m.start(1), m.end(1), "api_key"))
    for m in _PASSWORD_ASSIGNMENT.finditer(text):
        if not is_look_alike(m.group(2), "password"):
            spans.append((m.start(2), m.end(2), "password"))
    url_hosts = []  # user:pass@host is a URL's credentials, not an e-mail address
    for m in _URL_PASSWORD.finditer(text):
        url_hosts.append((m.start(1), m.end()))
        if not is_look_alike(m.group(1), "password"):
            spans.append((m.start(1), m.end(1), "url_password"))
    for m in _EMAIL.finditer(text):
        if any(s <= m.start() < e for s, e in url_hosts):
            continue
        if _email_is_personal(m.group(1), m.group(2)):
            spans.append((m.start(), m.end(), "email"))
    for pattern in (_IPV4, _IPV6):
        for m in pattern.finditer(text):
            line_start = text.rfind("\n", 0, m.start()) + 1
            line = text[line_start:text.find("\n", m.end()) % (len(text) + 1)].lower()
            before = text[max(0, m.start() - 16):m.start()].lower()
            if (_ip_is_personal(m.group(0)) and not before.endswith("v") and "version" not in line
                    and not _SECTION_NUMBER.search(before)):
                spans.append((m.start(), m.end(), "ip_address"))
    spans += _library_spans(text)
    return _merge(spans), held


def _library_spans(text: str) -> list[tuple[int, int, str]]:
    spans = []
    offset = 0
    plugins = _library_plugins()
    for number, line in enumerate(text.split("\n"), 1):
        if len(line) < 4000 and _CANDIDATE_LINE.search(line):
            for kind, plugin in plugins:
                for found in plugin.analyze_line(filename="snippet.py", line=line, line_number=number):
                    value = found.secret_value or ""
                    if len(value) < 4 or is_look_alike(value, kind):
                        continue
                    if kind == "high_entropy" and not _KEYWORDISH.search(line) and len(value) < 32:
                        continue  # a short random-looking literal with no secret-ish name nearby
                    start = line.find(value)
                    while start != -1:
                        spans.append((offset + start, offset + start + len(value), kind))
                        start = line.find(value, start + len(value))
        offset += len(line) + 1
    return spans


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping spans become one; the longest decides the kind (a URL password inside a JWT…)."""
    out: list[list] = []
    for start, end, kind in sorted(spans, key=lambda s: (s[0], -(s[1] - s[0]))):
        if out and start < out[-1][1]:
            if end > out[-1][1]:
                out[-1][1] = end
            continue
        out.append([start, end, kind])
    return [tuple(s) for s in out]


def scrub_text(text: str | None) -> ScrubResult:
    """The text with every secret replaced by its typed placeholder, what was replaced, and why
    it must be held back when it cannot be made safe."""
    if not text:
        return ScrubResult(text or "")
    spans, held = find_spans(text)
    if not spans and not held:
        return ScrubResult(text)
    pieces, last, findings = [], 0, []
    for start, end, kind in spans:
        pieces += [text[last:start], PLACEHOLDERS[kind]]
        findings.append({"kind": kind, "line": _line_of(text, start)})
        last = end
    pieces.append(text[last:])
    clean = "".join(pieces)
    if not held:
        again, held_again = find_spans(clean)
        if held_again:
            held = held_again
        elif again:  # a replacement made a new match (overlapping secrets): not provably clean
            held = f"a {again[0][2]} on line {_line_of(clean, again[0][0])} is still found after replacement"
    return ScrubResult(clean, findings, held)


def scrub_fields(row: dict, fields: tuple[str, ...]) -> tuple[dict, list[dict], str | None]:
    """scrub_text over several fields of one row: (clean row, findings with their field, held reason)."""
    clean, findings, held = dict(row), [], None
    for name in fields:
        if not isinstance(row.get(name), str):
            continue
        result = scrub_text(row[name])
        clean[name] = result.text
        findings += [{**f, "field": name} for f in result.findings]
        if result.held and not held:
            held = f"{name}: {result.held}"
    return clean, findings, held


def scrub_messages(messages: list[dict]) -> tuple[list[dict], list[dict], str | None]:
    """The pass over a conversation's turns: (clean messages, findings naming the turn, held reason)."""
    clean, findings, held = [], [], None
    for i, message in enumerate(messages):
        content = message.get("content")
        if not isinstance(content, str):
            clean.append(dict(message))
            continue
        result = scrub_text(content)
        clean.append({**message, "content": result.text})
        findings += [{**f, "field": f"turn {i} {message.get('role', '?')}"} for f in result.findings]
        if result.held and not held:
            held = f"turn {i}: {result.held}"
    return clean, findings, held


def summarize(findings: list[dict]) -> dict:
    """{kind: count} for display and stats."""
    return dict(Counter(f["kind"] for f in findings))


# -- the curation pass --------------------------------------------------------------------------
def scrub_snippet_rows(rows: list[dict], license: str | None = None) -> tuple[list[dict], list[dict], dict]:
    """The pass curation runs between extraction and the store: (rows to store, held back, counts).

    Each kept row has its code and docstring scrubbed, `scrub` (JSON findings), `license`, and its
    hash and token count recomputed from the scrubbed text. A held row is only described (path,
    line, name, reason): its text goes nowhere."""
    import json

    from pipeline.curate.extract import content_hash, estimate_tokens

    kept, held, kinds = [], [], Counter[str]()
    for row in rows:
        clean, findings, reason = scrub_fields(row, ("code", "docstring"))
        if reason:
            held.append({"path": row["path"], "line": row.get("start_line"), "name": row.get("qualname") or row.get("name"),
                     "reason": reason, **({"id": row["id"]} if "id" in row else {})})
            continue
        if findings:
            clean["content_hash"] = content_hash(clean["code"])
            clean["tokens"] = estimate_tokens(clean["code"])
            kinds.update(f["kind"] for f in findings)
        clean["scrub"] = json.dumps(findings)  # "[]": scanned, nothing found (NULL: never scanned)
        clean["license"] = license
        kept.append(clean)
    stats = {"replaced": dict(kinds), "snippets_scrubbed": sum(1 for r in kept if r["scrub"] != "[]"),
             "held": len(held)}
    return kept, held, stats


def scrub_pair_rows(rows: list[dict], fields=("instruction", "input", "output")) -> tuple[list[dict], list[dict], dict]:
    """The same pass over pairs (mined commits, imports): kept rows carry `scrub` JSON."""
    import json

    kept, held, kinds = [], [], Counter[str]()
    for row in rows:
        clean, findings, reason = scrub_fields(row, fields)
        if row.get("messages") and not reason:   # a conversation: every turn, in the form it came
            turns = json.loads(row["messages"]) if isinstance(row["messages"], str) else row["messages"]
            cleaned, more, reason = scrub_messages(turns)
            clean["messages"] = json.dumps(cleaned) if isinstance(row["messages"], str) else cleaned
            findings += more
        if reason:
            held.append({"path": row.get("path"), "ref": row.get("commit_sha") or row.get("import_ref"),
                         "reason": reason})
            continue
        kinds.update(f["kind"] for f in findings)
        clean["scrub"] = json.dumps(findings)  # "[]": scanned, nothing found (NULL: never scanned)
        kept.append(clean)
    return kept, held, {"replaced": dict(kinds), "pairs_scrubbed": sum(1 for r in kept if r["scrub"] != "[]"),
                        "held": len(held)}


def describe_findings(findings: list[dict]) -> str:
    """'email on line 3 (code); token on line 5' — what a reviewer reads; never a value."""
    return "; ".join(f"{f['kind']} on line {f['line']}" + (f" ({f['field']})" if f.get("field") else "")
                     for f in findings) or "nothing replaced"


def repo_scrub_note(stats: dict) -> str:
    """One cell of the Repos table: replaced kinds and held-back snippets of a repo's last extraction."""
    scrub = (stats or {}).get("scrub") or {}
    parts = [f"{k} {n}" for k, n in sorted((scrub.get("replaced") or {}).items())]
    if scrub.get("held"):
        parts.append(f"{scrub['held']} held back")
    return ", ".join(parts)


def review_rows(store, repo_id: int | None = None, limit: int = 200) -> list[list]:
    """Rows for review (Repos tab, `curate scrubbed`): snippets with replacements and the snippets
    held back, each with its repo, path, line, name and what (kinds and lines) or why."""
    rows = [[s["repo"], s["path"], s["start_line"], s["name"] or "", "replaced", describe_findings(s["scrub"]), s["id"]]
            for s in store.scrubbed_snippets(repo_id, limit)]
    repos = [store.get_repo(int(repo_id))] if repo_id else store.list_repos(limit=100_000)
    for repo in repos:
        for h in ((repo["stats"].get("scrub") or {}).get("held_back") or []):
            rows.append([repo["full_name"], h["path"], h["line"], h.get("name") or "", "held back", h["reason"], ""])
    return rows[:limit]


def rescrub_store(store, batch: int = 500, progress=lambda n: None) -> dict:
    """Run the pass over snippets stored before it existed (a studio upgraded with old data), so
    nothing unscanned is labelled: `python -m pipeline curate rescrub`."""
    from pipeline.curate.extract import content_hash, estimate_tokens

    totals: Counter = Counter()
    while True:
        rows = store.unscanned_snippets(batch)
        if not rows:
            break
        for r in rows:  # the pass recomputes these only when it replaces something
            r["content_hash"], r["tokens"] = content_hash(r["code"]), estimate_tokens(r["code"])
        kept, held, stats = scrub_snippet_rows(rows)
        for row in kept:
            row.pop("license", None)
        totals.update(store.apply_snippet_scrub(kept, held))
        totals.update({f"replaced {k}": n for k, n in stats["replaced"].items()})
        progress(sum(totals[k] for k in ("rescrubbed", "held_deleted", "held_marked")))
    if totals and not store.purge_freed_pages():
        totals["old_text_may_remain_until_other_connections_close"] = 1
    return dict(totals)
