"""Planted credentials and look-alikes, for the scrub tests and benchmarks/scrub.py.

    rng = random.Random(7)
    value, line = plant(rng, "aws_key")       # a fresh random value and a line of Python holding it
    corpus = make_corpus(rng, functions=1000) # [(function source, kind planted or None, value or None)]

Every value is random (never a real credential), shaped like the real thing so the detectors see
what they would see in a leaked repo. Look-alikes are what code is full of and must stay: hex
digests, UUIDs, documented example keys, placeholders, e-mails at example.com, private IPs,
version strings, environment lookups.
"""
from __future__ import annotations

import base64
import random
import string

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _b64url(rng: random.Random, raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _global_ip(rng: random.Random) -> str:
    import ipaddress

    while True:
        ip = f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        if ipaddress.ip_address(ip).is_global:
            return ip


def _private_key(rng: random.Random) -> str:
    body = "\n".join(_pick(rng, B64, 64) for _ in range(6))
    return f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"


def _jwt(rng: random.Random) -> str:
    header = _b64url(rng, b'{"alg":"HS256","typ":"JWT"}')
    payload = _b64url(rng, ('{"sub":"%d","name":"%s"}' % (rng.randint(1, 10**9), _pick(rng, string.ascii_lowercase, 8))).encode())
    return f"{header}.{payload}.{_b64url(rng, bytes(rng.randrange(256) for _ in range(32)))}"


# kind -> (value maker, line template); the kinds are what the scrub pass should report
PLANTS = {
    "aws_key": (lambda r: "AKIA" + _pick(r, string.ascii_uppercase + string.digits, 16), 'access_key_id = "{v}"'),
    "aws_secret": (lambda r: _pick(r, B64, 40), 'aws_secret_access_key = "{v}"'),
    "github_token": (lambda r: "ghp_" + _pick(r, ALNUM, 36), 'client = Github("{v}")'),
    "gitlab_token": (lambda r: "glpat-" + _pick(r, ALNUM, 20), 'headers = {{"PRIVATE-TOKEN": "{v}"}}'),
    "slack_token": (lambda r: f"xoxb-{r.randint(10**10, 10**11)}-{r.randint(10**10, 10**11)}-{_pick(r, ALNUM, 24)}",
                    'slack = WebClient(token="{v}")'),
    "stripe_key": (lambda r: "sk_live_" + _pick(r, ALNUM, 24), 'stripe.api_key = "{v}"'),
    "openai_key": (lambda r: "sk-proj-" + _pick(r, ALNUM, 48), 'openai = OpenAI(api_key="{v}")'),
    "hf_token": (lambda r: "hf_" + _pick(r, string.ascii_letters, 34), 'login(token="{v}")'),
    "google_api_key": (lambda r: "AIza" + _pick(r, ALNUM + "_-", 35), 'maps = Client(key="{v}")'),
    "jwt": (_jwt, 'session_cookie = "{v}"'),
    "private_key": (_private_key, 'PEM = """{v}"""'),
    "url_password": (lambda r: _pick(r, ALNUM, 14), 'engine = connect("postgresql://app:{v}@db.prod.internal:5432/shop")'),
    "password": (lambda r: _pick(r, ALNUM + "!#%", 14), 'db_password = "{v}"'),
    "email": (lambda r: f"{_pick(r, string.ascii_lowercase, 7)}.{_pick(r, string.ascii_lowercase, 5)}@"
                        f"{_pick(r, string.ascii_lowercase, 6)}-mail.com", 'notify("{v}", subject)'),
    "ip_address": (_global_ip, 'sock.connect(("{v}", 8080))'),
    "high_entropy": (lambda r: _pick(r, B64, 48), 'CLIENT_SIG = "{v}"'),
}
KINDS = tuple(PLANTS)

LOOK_ALIKES = {  # kind of look-alike -> line maker (none of these is a secret)
    "git_sha": lambda r: f'commit = "{_pick(r, "0123456789abcdef", 40)}"',
    "sha256": lambda r: f'expected_digest = "{_pick(r, "0123456789abcdef", 64)}"',
    "uuid": lambda r: f'test_id = "{__import__("uuid").UUID(int=r.getrandbits(128))}"',
    "example_aws_key": lambda r: 'access_key_id = "AKIAIOSFODNN7EXAMPLE"  # from the AWS docs',
    "example_aws_secret": lambda r: 'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
    "placeholder_key": lambda r: 'api_key = "your-api-key-here"',
    "env_password": lambda r: 'db_password = os.environ["DB_PASSWORD"]',
    "template_token": lambda r: 'token = "${GITHUB_TOKEN}"',
    "example_email": lambda r: f'contact = "{_pick(r, string.ascii_lowercase, 6)}@example.com"',
    "private_ip": lambda r: f'host = "192.168.{r.randint(0, 255)}.{r.randint(1, 254)}"',
    "loopback": lambda r: 'bind = ("127.0.0.1", 8000)',
    "version": lambda r: f'__version__ = "{r.randint(1, 9)}.{r.randint(0, 20)}.{r.randint(0, 20)}.{r.randint(0, 9)}"',
    "decorator": lambda r: "@functools.lru_cache(maxsize=None)",
    "long_identifier": lambda r: 'handler_name = "on_player_inventory_changed_signal_handler"',
}


def plant(rng: random.Random, kind: str) -> tuple[str, str]:
    maker, template = PLANTS[kind]
    value = maker(rng)
    return value, template.format(v=value)


def function(rng: random.Random, index: int, extra: str | None = None) -> str:
    """An ordinary Python function (a few statements), with `extra` as one of its lines."""
    body = [f"total = {rng.randint(0, 99)}",
            f"for item in items[:{rng.randint(2, 50)}]:",
            "    total += item.weight * factor",
            f"log.debug(\"step %s done\", {index})"]
    if extra is not None:
        body.insert(rng.randint(0, 1), extra) if "\n" not in extra else body.insert(0, extra)
    lines = "\n".join("    " + line if not line.startswith("-----") else line for line in "\n".join(body).split("\n"))
    return f"def handler_{index}(items, factor=2):\n{lines}\n    return total\n"


def make_corpus(rng: random.Random, functions: int = 1000, planted_share: float = 0.25,
                look_alike_share: float = 0.25) -> list[tuple[str, str | None, str | None]]:
    """(source, planted kind or 'look:<name>' or None, planted value) per function; every kind is
    planted at least once."""
    out = []
    for i in range(functions):
        roll = rng.random()
        if i < len(KINDS) or roll < planted_share:
            kind = KINDS[i % len(KINDS)] if i < len(KINDS) else rng.choice(KINDS)
            value, line = plant(rng, kind)
            out.append((function(rng, i, line), kind, value))
        elif roll < planted_share + look_alike_share:
            name = rng.choice(sorted(LOOK_ALIKES))
            out.append((function(rng, i, LOOK_ALIKES[name](rng)), f"look:{name}", None))
        else:
            out.append((function(rng, i), None, None))
    return out


def db_bytes(store) -> bytes:
    """Every byte SQLite wrote for the store: the file, its WAL and shared memory."""
    from pathlib import Path

    return b"".join(Path(f"{store.path}{suffix}").read_bytes() for suffix in ("", "-wal", "-shm")
                    if Path(f"{store.path}{suffix}").exists())
