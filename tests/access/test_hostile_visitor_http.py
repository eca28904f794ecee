"""Issue 21's five holes, tried over HTTP as a hostile logged-in user of a hosted studio would
(`STUDIO_HOSTED=1`, `STUDIO_AUTH` with an owner and a guest, gradio_client logged in as the
guest). Each test checks what reached the outside world (the hub, the endpoint) or the disk, not
the message: every one of them failed on e961c6f. One studio serves the whole module."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.access.hosted_server import HubRecorder, client, launch, rows, stop
from tests.label_openai_server import LabelServer

pytestmark = pytest.mark.slow
OWNER_KEY = "sk-owner-secret-4242"
OWNER_HF = "hf_owner_secret_4242"


def _api(c, name: str, *args):
    # A renamed endpoint would make every refusal below vacuous: the name must exist.
    assert any(d.get("api_name") == name for d in c.config["dependencies"]), f"no endpoint /{name}"
    try:
        return c.predict(*args, api_name=f"/{name}")
    except Exception as exc:   # an error shown to the visitor also counts as refused
        return exc


def _refresh(c, elem_id: str) -> None:
    """Run the first event that takes and fills the component `elem_id` (a tab's refresher: it fills
    that dropdown's choices for this session), with every input it takes left empty."""
    [cid] = [comp["id"] for comp in c.config["components"] if (comp.get("props") or {}).get("elem_id") == elem_id]
    for dep in c.config["dependencies"]:
        if cid in dep["inputs"] and cid in dep["outputs"]:
            c.predict(*[None] * len(dep["inputs"]), fn_index=dep["id"])
            return
    raise AssertionError(f"no refresher for {elem_id}")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("hosted-home")
    server_dir = tmp_path_factory.mktemp("server-secrets")
    (server_dir / "passwords.txt").write_text("root: hunter2\n")
    hub = HubRecorder()
    endpoint = LabelServer().__enter__()
    proc, url = launch(home, {
        "STUDIO_HOSTED": "1", "STUDIO_AUTH": "owner:pw-owner,guest:pw-guest", "STUDIO_OWNERS": "owner",
        "HF_TOKEN": OWNER_HF, "HF_ENDPOINT": hub.url, "HF_HUB_OFFLINE": "0", "OPENAI_API_KEY": OWNER_KEY,
        "STUDIO_KEY_ENVS": "OPENAI_API_KEY", "STUDIO_ALLOW_CODE_EXECUTION": "1"})
    try:
        yield {"home": home, "server_dir": server_dir, "hub": hub, "endpoint": endpoint, "url": url,
               "guest": client(url, "guest", "pw-guest")}
    finally:
        stop(proc)
        endpoint.stop()
        hub.stop()


def _models(world) -> list[str]:
    return [r[0] for r in rows(world["home"] / "studio.db", "SELECT name FROM models")]


def test_1_a_guest_cannot_push_a_server_folder_with_the_owners_token(world):
    g = world["guest"]
    _api(g, "do_register", "loot", "local", str(world["server_dir"]), "", "", "", "chat")
    _api(g, "do_push", "loot", "visitor/loot", "")
    assert world["hub"].requests == []                      # nothing reached the hub
    assert "loot" not in _models(world)                     # and the server folder was not registered


def test_2_an_hf_model_cannot_point_at_a_server_folder(world, tiny_model_dir):
    g = world["guest"]
    folder = world["server_dir"] / "tiny"
    shutil.copytree(tiny_model_dir, folder, dirs_exist_ok=True)
    _api(g, "do_register", "peek-hf", "hf", str(folder), "", "", "", "chat")
    assert "peek-hf" not in _models(world)


def test_3_a_guests_endpoint_never_receives_the_owners_key(world):
    g = world["guest"]
    _api(g, "do_register", "evil", "openai", "served-model", "", world["endpoint"].base_url,
         "OPENAI_API_KEY", "chat")
    _refresh(g, "try-model")         # the Models tab fills its dropdown
    _api(g, "do_try", "evil", "", "hello", 16, 0)
    assert OWNER_KEY not in world["endpoint"].keys_seen


def test_4_a_guest_cannot_tick_allow_weak_sandbox(world):
    g = world["guest"]
    _api(g, "do_register", "weakling", "hf", "HuggingFaceTB/SmolLM2-135M-Instruct", "", "", "", "chat")
    _refresh(g, "evals-model")
    before = rows(world["home"] / "studio.db", "SELECT COUNT(*) FROM jobs")[0][0]
    _api(g, "start_run", "weakling", "humaneval", 1, 0.0, 0.95, 64, "chat", "synthesize", 1, 10, True)
    jobs = rows(world["home"] / "studio.db", "SELECT params FROM jobs")
    assert len(jobs) == before and not any('"allow_weak_sandbox": true' in p for (p,) in jobs)


def test_5_merge_never_writes_outside_the_data_folder(world, tiny_model_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    adapter = world["home"] / "uploads" / "adapter"
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                           LoraConfig(r=2, target_modules=["q_proj", "v_proj"]))
    model.save_pretrained(adapter)
    g = world["guest"]
    _api(g, "do_register", "../../escaped", "local", str(adapter), str(tiny_model_dir), "", "", "chat")
    _api(g, "do_merge", "../../escaped")
    escaped = (world["home"] / "models" / "../../escaped-merged").resolve()
    assert not escaped.exists(), f"merge wrote {escaped}"
    assert not Path(world["home"].parent / "escaped-merged").exists()
