"""`python -m pipeline label …`: every action has help, and each calls the same functions as the tab."""
from __future__ import annotations

import pytest

from pipeline.__main__ import main, make_parser
from tests.label_helpers import add_snippets, register_endpoint
from tests.label_openai_server import LabelServer


def cli(capsys, *argv) -> tuple[int, str, str]:
    code = main(["label", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_every_label_action_and_flag_has_help():
    parser = make_parser()
    label = parser._subparsers._group_actions[0].choices["label"]
    actions = label._subparsers._group_actions[0].choices
    assert {"estimate", "run", "retry-failed", "failed", "prompts", "prices"} <= set(actions)
    stack = list(actions.values())
    while stack:
        p = stack.pop()
        for action in p._actions:
            if action.dest != "help" and not action.choices:
                assert action.help, f"{p.prog} {action.dest} has no help"
            if isinstance(action.choices, dict):
                stack.extend(action.choices.values())


def test_prompts_add_show_and_list(store, capsys, tmp_path):
    (tmp_path / "user.txt").write_text("Describe this {language} code without code:\n{code}")
    assert cli(capsys, "prompts", "add", "short", "--file", str(tmp_path / "user.txt"))[:2] == (0, "saved short@1\n")
    code, out, _ = cli(capsys, "prompts", "list")
    assert "describe@1" in out and "short@1" in out
    assert "Describe this {language}" in cli(capsys, "prompts", "show", "short@1")[1]
    (tmp_path / "bad.txt").write_text("no snippet here")
    code, _, err = cli(capsys, "prompts", "add", "short", "--file", str(tmp_path / "bad.txt"))
    assert code == 2 and "must include {code}" in err


def test_prices_set_list_and_bad_values(store, capsys):
    assert cli(capsys, "prices", "set", "my-model", "0.5", "1.5", "--batch-discount", "0.4")[0] == 0
    out = cli(capsys, "prices", "list")[1]
    assert "my-model" in out and "gpt-4o-mini" in out
    code, _, err = cli(capsys, "prices", "set", "my-model", "-1", "1")
    assert code == 2 and "error:" in err and ">= 0" in err


def test_estimate_and_errors_are_one_clear_line(store, capsys):
    with LabelServer() as server:
        add_snippets(store, 3)
        register_endpoint(store, server, price=(1.0, 2.0, 0.5))
        code, out, _ = cli(capsys, "estimate", "--model", "test-model", "--batch")
        assert code == 0 and "3 snippets" in out and "$" in out and "Batch API" in out
    code, _, err = cli(capsys, "estimate", "--model", "missing")
    assert code == 2 and err.strip() == "error: no model named 'missing' is registered"
    code, _, err = cli(capsys, "run", "--model", "test-model", "--concurrency", "0")
    assert code == 2 and "concurrency" in err


@pytest.mark.slow
def test_run_wait_and_retry_failed_from_the_cli(store, capsys):
    with LabelServer() as server:
        add_snippets(store, 4)
        register_endpoint(store, server)
        server.faults["snippet_2"] = ["empty"]
        code, out, _ = cli(capsys, "run", "--model", "test-model", "--wait")
        assert code == 0 and "3 labelled, 1 failed" in out
        assert "empty reply" in cli(capsys, "failed", "--model", "test-model")[1]
        code, out, _ = cli(capsys, "retry-failed", "--model", "test-model", "--wait")
        assert code == 0 and "1 labelled, 0 failed" in out
        assert cli(capsys, "failed")[1] == "no failed rows\n"
        code, _, err = cli(capsys, "retry-failed", "--model", "test-model")
        assert code == 2 and "no failed rows to retry" in err


def test_preview_prints_the_messages_the_first_snippet_would_be_sent(store, capsys):
    with LabelServer() as server:
        add_snippets(store, 2)
        register_endpoint(store, server)
        code, out, _ = cli(capsys, "preview", "--model", "test-model")
        assert code == 0
        assert '"role": "user"' in out and "def " in out
        assert server.requests == 0   # a preview sends nothing
    code, out, _ = cli(capsys, "preview", "--model", "docstring", "--language", "cobol")
    assert code == 0 and out.strip() == "nothing left to label with these settings"
