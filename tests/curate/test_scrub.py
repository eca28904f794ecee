"""The scrub pass: each planted kind replaced by its placeholder, look-alikes kept, held-back cases,
and the curation job storing only scrubbed text with its findings (kind and line) and license."""
from __future__ import annotations

import json
import random

import pytest

from pipeline.curate.job import CurateConfig, LicenseRefused, curate_repo
from pipeline.curate.licenses import detect_license, license_allowed
from pipeline.curate.scrub import PLACEHOLDERS, scrub_snippet_rows, scrub_text
from tests.curate_repos import file_url, make_repo
from tests.scrub_corpus import KINDS, LOOK_ALIKES, db_bytes, function, plant

REPORTED = {"aws_secret": "api_key", "github_token": "token", "gitlab_token": "token", "slack_token": "token",
            "stripe_key": "api_key", "openai_key": "api_key", "hf_token": "token", "google_api_key": "api_key"}


@pytest.mark.parametrize("kind", KINDS)
def test_each_planted_kind_is_replaced_by_its_typed_placeholder(kind):
    value, line = plant(random.Random(kind), kind)
    result = scrub_text(function(random.Random(1), 1, line))
    assert value not in result.text and result.held is None
    reported = REPORTED.get(kind, kind)
    assert [f["kind"] for f in result.findings] == [reported]
    assert PLACEHOLDERS[reported] in result.text
    assert result.findings[0]["line"] in (2, 3)  # the line it was planted on, never the value


@pytest.mark.parametrize("name", sorted(LOOK_ALIKES))
def test_look_alikes_are_left_alone(name):
    source = function(random.Random(2), 2, LOOK_ALIKES[name](random.Random(3)))
    result = scrub_text(source)
    assert result.findings == [] and result.text == source


def test_a_private_key_without_its_end_line_is_held_back_with_the_reason():
    result = scrub_text('KEY = """-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n')
    assert result.held and "no END line" in result.held and "line 1" in result.held


def test_url_credentials_keep_the_user_and_host_and_lose_the_password():
    result = scrub_text('db = "mysql://shop:Tr0ub4dor&3xyz@10.0.0.5/orders"')
    assert result.text == 'db = "mysql://shop:<PASSWORD>@10.0.0.5/orders"'
    assert result.findings == [{"kind": "url_password", "line": 1}]


def test_held_snippets_are_described_but_their_text_goes_nowhere():
    rows = [{"path": "a.py", "qualname": "leak", "start_line": 4, "code": "k = '-----BEGIN PRIVATE KEY-----\nAAAA'",
             "docstring": None, "content_hash": "h", "tokens": 1},
            {"path": "a.py", "qualname": "ok", "start_line": 9, "code": "mail = 'ann.lee@corp-mail.com'",
             "docstring": "Ask bob@corp-mail.com", "content_hash": "h2", "tokens": 1}]
    kept, held, stats = scrub_snippet_rows(rows, "MIT")
    assert [h["name"] for h in held] == ["leak"] and "BEGIN" not in json.dumps(held)
    assert kept[0]["code"] == "mail = '<EMAIL>'" and kept[0]["docstring"] == "Ask <EMAIL>"
    assert kept[0]["content_hash"] != "h2" and kept[0]["license"] == "MIT"
    assert json.loads(kept[0]["scrub"]) == [{"kind": "email", "line": 1, "field": "code"},
                                            {"kind": "email", "line": 1, "field": "docstring"}]
    assert stats == {"replaced": {"email": 2}, "snippets_scrubbed": 1, "held": 1}


def _mit_text() -> str:
    from identify.vendor.licenses import LICENSES

    return dict(LICENSES)["MIT"].replace("[year]", "2024").replace("[fullname]", "Ann Lee")


def test_license_files_give_spdx_ids_and_dual_licenses_an_or(tmp_path):
    from identify.vendor.licenses import LICENSES

    (tmp_path / "LICENSE-MIT").write_text(_mit_text())
    assert detect_license(tmp_path) == "MIT"
    (tmp_path / "LICENSE-APACHE").write_text(dict(LICENSES)["Apache-2.0"])
    assert detect_license(tmp_path) == "Apache-2.0 OR MIT"
    assert detect_license(tmp_path / "nothing") is None
    assert license_allowed("GPL-3.0 OR MIT", ["MIT"]) and not license_allowed("GPL-3.0 AND MIT", ["MIT"])
    assert not license_allowed(None, ["MIT"]) and license_allowed(None, ["MIT"], allow_unknown=True)


def _local_repo(store, path):
    from pipeline.curate.job import add_local_repo

    return store.get_repo(add_local_repo(store, str(path)))


def test_curation_stores_only_scrubbed_code_with_findings_and_the_repo_license(store, tmp_path):
    secret, line = plant(random.Random(5), "github_token")
    repo_dir = make_repo(tmp_path / "game", [("init", {"LICENSE": _mit_text(),
                                                        "src/net.py": function(random.Random(4), 1, line),
                                                        "src/keys.py": "def load():\n    k = '-----BEGIN RSA PRIVATE KEY-----\\nMIIEpAIBAAKCAQEA'\n    return k\n"})])
    repo = _local_repo(store, repo_dir)
    done = curate_repo(store, repo, CurateConfig(min_lines=1))
    assert done["license"] == "MIT" and store.get_repo(repo["id"])["license"] == "MIT"
    rows = list(store.db.query("SELECT code, scrub, license FROM snippets"))
    assert len(rows) == 1 and "<TOKEN>" in rows[0]["code"] and rows[0]["license"] == "MIT"
    planted_line = function(random.Random(4), 1, line).split("\n").index("    " + line) + 1
    assert json.loads(rows[0]["scrub"]) == [{"kind": "token", "line": planted_line, "field": "code"}]
    stats = store.get_repo(repo["id"])["stats"]["scrub"]
    assert stats["replaced"] == {"token": 1} and stats["held"] == 1
    assert stats["held_back"][0]["path"] == "src/keys.py" and "no END line" in stats["held_back"][0]["reason"]
    stored = db_bytes(store)
    assert b"<TOKEN>" in stored  # the check reads where SQLite really wrote (the WAL too)
    assert secret.encode() not in stored and b"MIIEpAIBAAKCAQEA" not in stored


def test_a_repo_outside_the_allowed_licenses_is_refused_before_extraction(store, tmp_path):
    from identify.vendor.licenses import LICENSES

    repo_dir = make_repo(tmp_path / "gpl", [("init", {"COPYING": dict(LICENSES)["GPL-3.0"], "a.py": "def f():\n    return 1\n"})])
    repo = _local_repo(store, repo_dir)
    with pytest.raises(LicenseRefused, match="license GPL-3.0 is not among the allowed licenses"):
        curate_repo(store, repo, CurateConfig(min_lines=1))
    assert store.curate_summary()["snippets"] == 0
    curate_repo(store, store.get_repo(repo["id"]), CurateConfig(min_lines=1, licenses=["GPL-3.0"]))
    assert store.curate_summary()["snippets"] == 1


def test_an_unlicensed_github_repo_is_refused_but_a_local_folder_is_not(store, tmp_path):
    repo_dir = make_repo(tmp_path / "nolicense", [("init", {"a.py": "def f():\n    return 1\n"})])
    rid = store.add_repos([{"source": "github", "full_name": "octo/nolicense", "url": "https://github.com/octo/nolicense",
                            "clone_url": file_url(repo_dir)}])[0][0]
    with pytest.raises(LicenseRefused, match="unknown"):
        curate_repo(store, store.get_repo(rid), CurateConfig(min_lines=1))
    curate_repo(store, _local_repo(store, repo_dir), CurateConfig(min_lines=1))
    assert store.curate_summary()["snippets"] == 1


def test_mined_commit_pairs_are_scrubbed_message_and_code(store, tmp_path):
    from tests.curate_repos import GAME_REPO, PLAYER_V2

    history = [*GAME_REPO[:1], ("Fix double jump that kai.moss@studio-mail.com reported",
                                {"player.gd": PLAYER_V2.replace("func", "# ask ops at 52.14.201.9\nfunc", 1)})]
    repo = _local_repo(store, make_repo(tmp_path / "game", history))
    curate_repo(store, repo, CurateConfig(min_lines=1, mine=True, min_tokens=1))
    [pair] = list(store.db.query("SELECT instruction, output, scrub FROM pairs WHERE origin = 'commit'"))
    assert "<EMAIL>" in pair["instruction"] and "<IP_ADDRESS>" in pair["output"]
    assert {(f["kind"], f["field"]) for f in json.loads(pair["scrub"])} == {("email", "instruction"), ("ip_address", "output")}
    assert store.get_repo(repo["id"])["stats"]["commit_scrub"]["pairs_scrubbed"] == 1
    assert b"kai.moss" not in db_bytes(store) and b"52.14.201.9" not in db_bytes(store)


def test_cli_scrubbed_lists_kinds_lines_and_held_snippets_never_values(store, tmp_path, capsys):
    from pipeline.__main__ import main

    secret, line = plant(random.Random(6), "stripe_key")
    repo_dir = make_repo(tmp_path / "shop", [("init", {"pay.py": function(random.Random(6), 1, line),
                                                        "keys.py": "def k():\n    return '-----BEGIN PRIVATE KEY-----\\nMIIEv'\n"})])
    curate_repo(store, _local_repo(store, repo_dir), CurateConfig(min_lines=1))
    assert main(["curate", "scrubbed"]) == 0
    out = capsys.readouterr().out
    assert "local/shop:pay.py:1 handler_1  replaced: api_key on line" in out
    assert "local/shop:keys.py:1 k  held back: code: a private key block" in out and "(not stored)" in out
    assert "replaced in the store so far: api_key 1" in out and secret not in out


def test_rescrub_cleans_snippets_stored_before_the_pass_existed(store, capsys):
    from pipeline.__main__ import main

    token, line = plant(random.Random(7), "gitlab_token")
    [repo_id], _ = store.add_repos([{"full_name": "old/repo", "url": "https://github.com/old/repo"}])
    for name, code in (("leak", f"def leak():\n    {line}\n"), ("clean", "def clean():\n    return 1\n"),
                       ("key_used", "def k():\n    return '-----BEGIN PRIVATE KEY-----\\nMIIEvA'\n"),
                       ("key_unused", "def u():\n    return '-----BEGIN PRIVATE KEY-----\\nMIIEvB'\n")):
        store.db["snippets"].insert({"repo_id": repo_id, "path": "a.py", "language": "python", "kind": "function",
                                     "name": name, "code": code, "content_hash": name})  # an old row: scrub NULL
    used = store.db.execute("SELECT id FROM snippets WHERE name = 'key_used'").fetchone()[0]
    store.db["pairs"].insert({"instruction": "i", "output": "o", "origin": "label", "snippet_id": used})
    store.db.conn.commit()
    assert main(["curate", "rescrub"]) == 0
    assert "held_deleted 1, held_marked 1, replaced token 1, rescrubbed 2" in capsys.readouterr().out
    codes = {r["name"]: r["code"] for r in store.db.query("SELECT name, code FROM snippets")}
    assert "<TOKEN>" in codes["leak"] and "key_unused" not in codes
    assert codes["key_used"].startswith("<HELD BACK: code: a private key block")
    assert store.unscanned_snippets() == [] and main(["curate", "rescrub"]) == 0
    assert "every snippet was already scanned" in capsys.readouterr().out
    stored = db_bytes(store)
    assert token.encode() not in stored and b"MIIEvA" not in stored and b"MIIEvB" not in stored


def test_section_numbers_are_not_ip_addresses():
    """Found by benchmarks/scrub.py on dateutil: '# RFC 5445 3.8.2.4: The VALUE…'."""
    source = "# RFC 5445 3.8.2.4: The VALUE\n# see section 4.1.2.3\nhost = '52.3.4.5'"
    assert scrub_text(source).findings == [{"kind": "ip_address", "line": 3}]
