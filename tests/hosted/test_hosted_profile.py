"""The hosted profile (issue 10, failure 5): a public studio exposes nothing of its server.
One point per test, each against the real component (the app process, the openai client and a
local endpoint, the export, the curator, the sandbox gate)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

from pipeline import hosted
from tests.browser import free_port
from tests.label_openai_server import LabelServer
from tests.pairs_helpers import add_pairs

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hosted_env(monkeypatch, studio_home):
    """A hosted studio, called as a logged-in user who is not the owner (pipeline.access)."""
    from pipeline import access

    monkeypatch.setenv("STUDIO_HOSTED", "1")
    for name in ("STUDIO_KEY_ENVS", "STUDIO_HUB_NAMESPACES", "STUDIO_ALLOW_CODE_EXECUTION", "SPACE_ID",
                 "STUDIO_OWNERS", "STUDIO_PRINCIPAL"):
        monkeypatch.delenv(name, raising=False)
    with access.acting_as(access.Principal(access.Role.USER, "visitor")):
        yield monkeypatch


def _app_env(studio_home, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("STUDIO_AUTH", "SPACE_ID", "STUDIO_HOSTED")}
    return dict(env, STUDIO_HOME=str(studio_home), STUDIO_NO_DEFAULT_MODEL="1", **extra)


@pytest.mark.parametrize("switch", [{"STUDIO_HOSTED": "1"}, {"SPACE_ID": "someone/studio"}])
def test_a_hosted_start_without_studio_auth_exits_with_how_to_set_it(studio_home, switch):
    out = subprocess.run([sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(free_port())], cwd=ROOT,
                         capture_output=True,
                         text=True, timeout=120, env=_app_env(studio_home, **switch))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].startswith("error: the hosted studio")
    assert "STUDIO_AUTH=user:password" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_the_hosted_studio_serves_nothing_before_login(studio_home):
    port = free_port()
    # Hosted binds 0.0.0.0 by default; a test server stays on loopback and stops by itself.
    proc = subprocess.Popen(["timeout", "300", sys.executable, "app.py", "--host", "127.0.0.1", "--port", str(port)],
                            cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env=_app_env(studio_home, STUDIO_HOSTED="1", STUDIO_AUTH="owner:pw-4821"))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(base + "/", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "the app did not start"
                time.sleep(0.5)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(base + "/config", timeout=10)
        assert refused.value.code == 401
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        with pytest.raises(urllib.error.HTTPError):
            opener.open(base + "/login", urllib.parse.urlencode({"username": "owner", "password": "nope"}).encode())
        opener.open(base + "/login", urllib.parse.urlencode({"username": "owner", "password": "pw-4821"}).encode())
        assert opener.open(base + "/config", timeout=10).status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_an_endpoint_cannot_read_a_server_secret_unless_the_owner_bound_it_to_that_host(hosted_env, store):
    from pipeline import access
    from pipeline.models import GenParams, generate

    hosted_env.setenv("HF_TOKEN", "hf_owner_secret_123")
    with LabelServer() as server:
        store.register_model("evil", "openai", "served-model", endpoint=server.base_url, api_key_env="HF_TOKEN")
        with pytest.raises(hosted.HostedRefusal, match="spending with the server's key 'HF_TOKEN' is the owner's"):
            generate("evil", [[{"role": "user", "content": "def f(): pass"}]], GenParams(max_new_tokens=8))
        with access.acting_as(access.OWNER):   # even the owner: only to the host it is bound to
            with pytest.raises(hosted.HostedRefusal, match="not bound to a host"):
                generate("evil", [[{"role": "user", "content": "def f(): pass"}]], GenParams(max_new_tokens=8))
            hosted_env.setenv("STUDIO_KEY_ENVS", "HF_TOKEN=api.example.com")
            with pytest.raises(hosted.HostedRefusal, match="may only be sent to api.example.com, not to 127.0.0.1"):
                generate("evil", [[{"role": "user", "content": "def f(): pass"}]], GenParams(max_new_tokens=8))
            assert server.requests == 0  # nothing left the server
            hosted_env.setenv("STUDIO_KEY_ENVS", "HF_TOKEN=127.0.0.1")
            generate("evil", [[{"role": "user", "content": "def f(): pass"}]], GenParams(max_new_tokens=8))
        assert server.requests >= 1


def test_a_visitors_own_session_key_is_used_without_any_server_variable(hosted_env, store):
    from pipeline.models.backends.openai_compat import resolve_key

    spec = {"name": "m", "endpoint": "http://127.0.0.1:1/v1", "api_key_env": "HF_TOKEN"}
    assert resolve_key(spec, "sk-visitor") == "sk-visitor"
    with pytest.raises(hosted.HostedRefusal):
        resolve_key(spec)


def test_hub_pushes_go_only_to_namespaces_the_owner_set(hosted_env, store):
    from pipeline.pairs.export import ExportError, freeze_dataset, push_to_hub

    hosted_env.delenv("HF_TOKEN", raising=False)
    add_pairs(store, [{"instruction": "Reverse", "output": "xs[::-1]", "status": "approved"}])
    freeze_dataset(store, "sft", {"status": "approved"})
    with pytest.raises(hosted.HostedRefusal, match="pushes with the server's token are the owner's"):
        push_to_hub(store, "sft", "visitor/stolen")
    from pipeline import access

    with access.acting_as(access.OWNER):
        with pytest.raises(hosted.HostedRefusal, match="none set: the owner lists them in STUDIO_HUB_NAMESPACES"):
            push_to_hub(store, "sft", "visitor/stolen")
        hosted_env.setenv("STUDIO_HUB_NAMESPACES", "owner-org")
        with pytest.raises(hosted.HostedRefusal, match=r"\(owner-org\), not to the namespace 'visitor'"):
            push_to_hub(store, "sft", "visitor/stolen")
        with pytest.raises(ExportError, match="set HF_TOKEN"):  # allowed: on to the token check
            push_to_hub(store, "sft", "owner-org/sft")


def test_add_local_cannot_read_a_server_folder(hosted_env, store, tmp_path_factory):
    from pipeline.curate.job import add_local_repo

    tmp_path = tmp_path_factory.mktemp("server")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "a.py").write_text("def f():\n    return 1\n")
    with pytest.raises(hosted.HostedRefusal, match="a folder of the server outside the studio's data folder"):
        add_local_repo(store, str(tmp_path / "secret"))
    assert store.count("repos") == 0


def test_exports_cannot_be_written_outside_the_data_folder(hosted_env, store, tmp_path_factory):
    from pipeline.pairs.export import export_jsonl, freeze_dataset

    add_pairs(store, [{"instruction": "Reverse", "output": "xs[::-1]", "status": "approved"}])
    freeze_dataset(store, "sft", {"status": "approved"})
    outside = tmp_path_factory.mktemp("outside") / "x.jsonl"
    with pytest.raises(hosted.HostedRefusal, match="outside the studio's data folder"):
        export_jsonl(store, "sft", outside)
    assert not outside.exists()
    assert Path(export_jsonl(store, "sft")["path"]).exists()  # the default place still works


def test_code_execution_and_the_compile_level_stay_off_unless_the_owner_allows(hosted_env):
    from evals.passk.execute import ExecutionPool
    from evals.sandbox import CodeExecutionDisabled, execution_allowed
    from evals.validity.compilers import compile_many

    assert execution_allowed()[0] is False
    with pytest.raises(CodeExecutionDisabled, match="STUDIO_ALLOW_CODE_EXECUTION=1"):
        ExecutionPool(workers=1)
    [findings] = compile_many(['#include "/etc/hostname"\nint main() {}\n'], "cpp")
    assert [f.rule_id for f in findings] == ["compile-disabled"] and "hostname" not in repr(findings)
    hosted_env.setenv("STUDIO_ALLOW_CODE_EXECUTION", "1")
    assert execution_allowed()[0] is True


def test_a_local_model_cannot_point_at_a_server_folder(hosted_env, store, tmp_path_factory):
    from pipeline.models import checked_spec, load

    outside = tmp_path_factory.mktemp("server-folder")
    (outside / "config.json").write_text("{}")
    store.register_model("peek", "local", str(outside))
    with pytest.raises(hosted.HostedRefusal, match="a folder of the server outside the studio's data"):
        load("peek")
    checked_spec({"name": "mine", "kind": "local", "path": str(store.path.parent / "models" / "ckpt"),
                  "base": "HuggingFaceTB/SmolLM2-135M-Instruct"})  # its own checkpoints: allowed
