"""The gate (pipeline.access), one attack per test, each through the real operation a door calls
(model registration, push, merge, export, the openai client, the sandbox, job submission) on a
real store, as the principal a hosted session would have."""
from __future__ import annotations

import pytest

from pipeline import access
from pipeline.access import AccessDenied, Cap, Principal, Role, Target

USER = Principal(Role.USER, "mallory", "s1")
VISITOR = Principal(Role.VISITOR, "", "s2")


@pytest.fixture
def hosted(monkeypatch, studio_home):
    monkeypatch.setenv("STUDIO_HOSTED", "1")
    for name in ("STUDIO_KEY_ENVS", "STUDIO_HUB_NAMESPACES", "STUDIO_ALLOW_CODE_EXECUTION", "SPACE_ID",
                 "STUDIO_OWNERS", "STUDIO_PRINCIPAL", "STUDIO_PUBLIC_ARENA"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_every_capability_has_a_rule_for_every_role_and_the_table_is_documented():
    from pathlib import Path

    assert set(access.TABLE) == set(Cap)
    assert all(set(rules) == set(Role) for rules in access.TABLE.values())
    docs = (Path(__file__).resolve().parents[2] / "docs" / "access.md").read_text()
    assert access.table_markdown() in docs, "docs/access.md must carry the table as the code builds it"


def test_a_door_that_says_nobody_gets_the_least_on_a_hosted_studio(hosted):
    assert access.current().role == Role.VISITOR
    with pytest.raises(AccessDenied, match="write data"):
        access.require(Cap.WRITE_DATA)


def test_the_local_studio_and_the_cli_are_the_owner(monkeypatch, studio_home):
    monkeypatch.delenv("STUDIO_HOSTED", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    monkeypatch.delenv("STUDIO_PRINCIPAL", raising=False)
    assert access.current().role == Role.OWNER
    assert access.principal_for_login(None).role == Role.OWNER


def test_hosted_logins_are_users_unless_the_owner_lists_them(hosted):
    hosted.setenv("STUDIO_OWNERS", "alice")
    assert access.principal_for_login("alice").role == Role.OWNER
    assert access.principal_for_login("mallory").role == Role.USER
    assert access.principal_for_login(None, "sess").role == Role.VISITOR


def test_an_hf_model_at_a_server_folder_is_refused_at_registration(hosted, store, tmp_path_factory):
    from pipeline.models import register

    outside = tmp_path_factory.mktemp("server-folder")
    with access.acting_as(USER), pytest.raises(AccessDenied, match="outside the studio's data folder"):
        register(store, "peek", "hf", str(outside))
    assert store.list_models() == []


def test_a_relative_base_that_is_a_folder_here_is_not_a_hub_id(hosted, store, tmp_path_factory, monkeypatch):
    from pipeline.models import is_hub_id, register

    where = tmp_path_factory.mktemp("cwd")
    (where / "models" / "secret").mkdir(parents=True)
    monkeypatch.chdir(where)
    assert not is_hub_id("models/secret") and is_hub_id("HuggingFaceTB/SmolLM2-135M-Instruct")
    with access.acting_as(USER), pytest.raises(AccessDenied, match="outside the studio's data folder"):
        register(store, "adapter", "local", str(store.path.parent / "models" / "a"), base="models/secret")


def test_a_model_name_that_would_become_a_path_is_refused(hosted, store):
    from pipeline.models import register
    from pipeline.paths import UnsafeNameError

    with access.acting_as(access.OWNER), pytest.raises(UnsafeNameError, match="not allowed"):
        register(store, "../../x", "hf", "HuggingFaceTB/SmolLM2-135M-Instruct")


def test_merge_writes_only_through_the_name_validator(hosted, store):
    from pipeline.paths import UnsafeNameError
    from pipeline.train.outputs import merge_adapter

    with access.acting_as(access.OWNER):   # a row written before the validator existed
        store.register_model("../../x", "local", str(store.path.parent / "models" / "adapter"))
    with access.acting_as(access.OWNER), pytest.raises(UnsafeNameError, match="not allowed"):
        merge_adapter(store, "../../x")
    assert not (store.path.parent.parent / "x-merged").exists()


def test_a_push_with_the_servers_token_goes_only_to_the_owners_namespaces(hosted, store):
    from pipeline.train.outputs import push_to_hub

    folder = store.path.parent / "models" / "ckpt"
    folder.mkdir(parents=True)
    with access.acting_as(access.OWNER):
        store.register_model("ckpt", "local", str(folder))
    hosted.setenv("HF_TOKEN", "hf_owner")
    hosted.setenv("STUDIO_HUB_NAMESPACES", "owner-org")
    with access.acting_as(USER), pytest.raises(AccessDenied, match="paste your own Hugging Face token"):
        push_to_hub(store, "ckpt", "owner-org/ckpt")
    with access.acting_as(access.OWNER), pytest.raises(AccessDenied, match="not to the namespace 'visitor'"):
        push_to_hub(store, "ckpt", "visitor/loot")


def test_a_push_never_uploads_a_server_folder_for_a_user(hosted, store, tmp_path_factory):
    from pipeline.train.outputs import push_to_hub

    outside = tmp_path_factory.mktemp("etc")
    (outside / "passwords.txt").write_text("hunter2")
    with access.acting_as(access.OWNER):   # registered before the gate (a legacy row)
        store.register_model("loot", "local", str(outside))
    with access.acting_as(USER), pytest.raises(AccessDenied, match="outside the studio's data folder"):
        push_to_hub(store, "loot", "visitor/loot", token="hf_visitor_own")


def test_a_secret_goes_only_to_the_host_it_is_bound_to(hosted):
    from pipeline.models.backends.openai_compat import resolve_key

    hosted.setenv("OPENAI_API_KEY", "sk-owner")
    hosted.setenv("STUDIO_KEY_ENVS", "OPENAI_API_KEY=api.openai.com")
    evil = {"name": "m", "endpoint": "http://evil.example/v1", "api_key_env": "OPENAI_API_KEY"}
    good = dict(evil, endpoint="https://api.openai.com/v1")
    with access.acting_as(access.OWNER):
        with pytest.raises(AccessDenied, match="may only be sent to api.openai.com, not to evil.example"):
            resolve_key(evil)
        assert resolve_key(good) == "sk-owner"
    with access.acting_as(USER), pytest.raises(AccessDenied, match="is the owner's"):
        resolve_key(good)
    with access.acting_as(USER):
        assert resolve_key(evil, "sk-users-own") == "sk-users-own"


def test_a_bare_secret_name_is_not_enough_on_a_hosted_studio(hosted):
    hosted.setenv("STUDIO_KEY_ENVS", "OPENAI_API_KEY")
    with pytest.raises(AccessDenied, match="without a host"):
        access.require(Cap.USE_SECRET, Target(secret="OPENAI_API_KEY", host="api.openai.com"),
                       principal=access.OWNER)


def test_the_weak_sandbox_is_the_owners_decision_alone(hosted, store):
    from evals.passk.generate import EvalConfig, submit_eval

    hosted.setenv("STUDIO_ALLOW_CODE_EXECUTION", "1")
    config = EvalConfig.from_dict({"suite": "humaneval", "model": "m", "allow_weak_sandbox": True})
    with access.acting_as(USER), pytest.raises(AccessDenied, match="owner's decision alone"):
        submit_eval(store, config)
    assert store.count("jobs") == 0
    assert access.decide(access.OWNER, Cap.RUN_CODE, Target(weak_sandbox=True)) is None


def test_a_user_cannot_export_outside_the_data_folder(hosted, store, tmp_path_factory):
    from pipeline.chat.conversation import export_jsonl

    out = tmp_path_factory.mktemp("outside") / "chats.jsonl"
    with access.acting_as(USER), pytest.raises(AccessDenied, match="outside the studio's data folder"):
        export_jsonl(store, None, out)
    assert not out.exists()


def test_a_job_kind_without_a_declared_capability_is_refused():
    with pytest.raises(AccessDenied, match="declares no capability"):
        access.require_job("brand_new_kind")


def test_a_visitor_can_only_use_the_arena(hosted):
    for cap in Cap:
        reason = access.decide(VISITOR, cap, Target(published=True))
        assert (reason is None) == (cap == Cap.ARENA), cap


def test_an_allowed_path_never_allows_the_next_path_of_the_same_capability(hosted, store, tmp_path_factory):
    home_file = Target(path=store.path.parent / "models" / "mine")
    outside = Target(path=tmp_path_factory.mktemp("outside"))
    with access.acting_as(USER):
        access.require(Cap.READ_SERVER_PATH, home_file)
        with pytest.raises(AccessDenied, match="outside the studio's data folder"):
            access.require(Cap.READ_SERVER_PATH, outside)


def test_a_principal_survives_the_trip_to_a_job_child():
    for p in (access.OWNER, USER, VISITOR):
        assert access.Principal.decode(p.encode()) == p
    assert access.Principal.decode("root:x:y").role == Role.VISITOR   # garbage gets the least


def test_the_cli_prints_the_same_refusal_as_one_error_line(hosted, store, tmp_path_factory, capsys):
    from pipeline.__main__ import main

    outside = tmp_path_factory.mktemp("server-folder")
    hosted.setenv("STUDIO_PRINCIPAL", USER.encode())   # a command a user's job would run
    assert main(["models", "add", "peek", "--kind", "hf", "--path", str(outside)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: refused: read a server path") and "Traceback" not in err
    assert store.list_models() == []


def test_a_run_name_becomes_its_folder_only_through_the_validator(hosted, store):
    from pipeline.paths import UnsafeNameError, named_path
    from pipeline.train.job import _safe

    with pytest.raises(UnsafeNameError):
        named_path("runs", _safe(".."))      # what plan_run asks for a run named '..'


def test_training_from_a_server_folder_is_refused_for_a_user(hosted, store, tmp_path_factory):
    from pipeline.train.job import resolve_base

    outside = tmp_path_factory.mktemp("server-model")
    with access.acting_as(USER), pytest.raises(AccessDenied, match="outside the studio's data folder"):
        resolve_base(store, str(outside))


def test_an_endpoint_naming_a_server_secret_is_refused_at_registration_not_at_use(hosted, store):
    # issue 19: it used to be accepted when registered and refused only when chatted with
    from pipeline.models import register

    hosted.setenv("OPENAI_API_KEY", "sk-owner")
    hosted.setenv("STUDIO_KEY_ENVS", "OPENAI_API_KEY=api.openai.com")
    with access.acting_as(USER), pytest.raises(AccessDenied, match="use a server secret"):
        register(store, "mine", "openai", "gpt-4o-mini", endpoint="http://127.0.0.1:9/v1",
                 api_key_env="OPENAI_API_KEY")
    assert [m["name"] for m in store.list_models()] == []
