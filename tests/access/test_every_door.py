"""Every door asks the gate: each UI event handler (of the studio and of the public arena, taken
from the built Blocks), each CLI action (walked from the parser) and each job kind is driven as
a hosted visitor; the sinks (store writes, job spawns, model loads, hub uploads, sandbox starts)
record any arrival that the gate was not asked about (pipeline.access.reached), and the test
fails on one. A canary handler that writes without asking proves the walk would notice."""
from __future__ import annotations

import argparse
import inspect
import threading

import pytest

from pipeline import access

HANDLER_BUDGET_S = 20   # a handler that streams (a poller) is stopped after this; none should need it


@pytest.fixture
def hosted_visitor(monkeypatch, studio_home):
    monkeypatch.setenv("STUDIO_HOSTED", "1")
    monkeypatch.setenv("STUDIO_AUTH", "owner:pw1,guest:pw2")
    monkeypatch.setenv("STUDIO_OWNERS", "owner")
    monkeypatch.setenv("STUDIO_ALLOW_CODE_EXECUTION", "1")   # the gate, not the switch, must refuse
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    for name in ("SPACE_ID", "STUDIO_PRINCIPAL", "STUDIO_PUBLIC_ARENA", "STUDIO_KEY_ENVS"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def _defaults(block_fn) -> list:
    values = []
    for comp in block_fn.inputs:
        value = getattr(comp, "value", None)
        values.append(value() if callable(value) else value)
    return values


def _drive(fn, args) -> None:
    """Call a handler (consuming a stream) on a thread, bounded; every error is a valid outcome."""
    def run():
        try:
            out = fn(*args)
            if inspect.isgenerator(out):
                for _ in zip(range(200), out):
                    pass
        except BaseException:  # refusals, bad default inputs: all fine here
            pass
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANDLER_BUDGET_S)


def _walk(demo) -> list[str]:
    """Drive every handler of `demo`; the names of those that reached a sink unasked."""
    offenders = []
    for block_fn in demo.fns.values():
        if block_fn.fn is None:
            continue
        assert getattr(block_fn.fn, "studio_principal_bound", False), f"{block_fn.name} is not bound to a principal"
        with access.recording() as scopes:
            _drive(block_fn.fn, _defaults(block_fn))
        reached = sorted({c.value for s in scopes for c in s.violations})
        if reached:
            offenders.append(f"{block_fn.name}: {', '.join(reached)}")
    return offenders


@pytest.mark.slow
def test_every_studio_handler_asks_the_gate_before_a_guarded_operation(hosted_visitor, store):
    import app

    demo = app.build_app()
    assert len(demo.fns) > 100   # the whole studio, not a stub
    assert _walk(demo) == []


def test_every_public_arena_handler_asks_the_gate(hosted_visitor, store):
    from studio import public_arena

    assert _walk(public_arena.build()) == []


def test_the_walk_notices_a_handler_that_forgets_the_gate(hosted_visitor, store):
    import gradio as gr

    from pipeline import jobs
    from studio.common import bind_principals

    with access.acting_as(access.OWNER):
        job_id = jobs.submit(store, "clean", {"dry_run": True}, spawn=False)
    with gr.Blocks() as demo:
        button = gr.Button()
        button.click(lambda: jobs.start(store, job_id), None, None)  # spawns without asking the gate
    assert _walk(bind_principals(demo)) == ["<lambda>: spend compute (train, generate)"]


def test_a_write_nobody_asked_for_is_refused_by_the_store_itself(hosted_visitor, store):
    with access.acting_as(access.Principal(access.Role.VISITOR)), pytest.raises(access.AccessDenied):
        store.create_chat(["m"], mode="single")
    assert store.list_chats() == []


def _leaf_commands(parser, path=()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaf_commands(sub, (*path, name))
    if not any(isinstance(a, argparse._SubParsersAction) for a in parser._actions):
        yield path, parser


def _placeholder_args(parser) -> list[str]:
    argv = []
    for action in parser._actions:
        if action.option_strings and not action.required:
            continue
        if isinstance(action, argparse._HelpAction):
            continue
        value = str(action.choices[0]) if action.choices else "1"
        n = 1 if action.nargs in (None, "?", "+") else (action.nargs if isinstance(action.nargs, int) else 1)
        argv += ([action.option_strings[0]] if action.option_strings else []) + [value] * n
    return argv


@pytest.mark.parametrize("prog", ["pipeline", "evals"])
def test_every_cli_action_asks_the_gate_before_a_guarded_operation(hosted_visitor, store, prog, monkeypatch):
    import importlib

    from pipeline.cli import run_cli

    main = importlib.import_module(f"{prog}.__main__")
    # A command a job runs acts as the job's starter: here a visitor, who must be refused.
    monkeypatch.setenv("STUDIO_PRINCIPAL", access.Principal(access.Role.VISITOR, "", "cli").encode())
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    offenders, driven = [], 0
    for path, parser in _leaf_commands(main.make_parser()):
        argv = [*path, *_placeholder_args(parser)]
        with access.recording() as scopes:
            try:
                run_cli(main.make_parser(), argv)
            except SystemExit:
                pass
        driven += 1
        reached = sorted({c.value for s in scopes for c in s.violations})
        if reached:
            offenders.append(f"{' '.join(argv)}: {', '.join(reached)}")
    assert driven > 10
    assert offenders == [], "\n".join(offenders)


def test_every_job_kind_declares_its_capability_and_a_visitor_starts_none(hosted_visitor, store):
    from pipeline import jobs
    from pipeline.jobs.kinds import job_kinds

    assert set(job_kinds()) <= set(access.JOB_CAPABILITIES), "a job kind without a capability"
    for kind in job_kinds():
        with pytest.raises(access.AccessDenied):
            jobs.submit(store, kind, {}, spawn=False)
    assert store.count("jobs") == 0
