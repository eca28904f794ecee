"""Importing pairs: every format, both shapes, the column mapping, and bad input — malformed
lines, wrong column names, non-UTF-8 bytes, a file too big to hold in memory."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import jobs
from pipeline.pairs.importer import ImportConfig, import_file, preview_file
from pipeline.pairs.readers import ImportFileError

ROOT = Path(__file__).resolve().parents[2]


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")
    return path


def run_import(store, path, **kw) -> dict:
    return import_file(store, ImportConfig(path=str(path), **kw))


def test_jsonl_bad_lines_are_reported_and_good_lines_imported(store, tmp_path):
    path = write_jsonl(tmp_path / "pairs.jsonl", [
        {"instruction": "Reverse a list", "output": "xs[::-1]"},
        '{"instruction": "broken", "output": ',
        "",
        {"instruction": "Sort a list", "input": "[3, 1]", "output": "sorted(xs)"},
        '["not", "an", "object"]',
        {"instruction": "", "output": "pass"},
        {"instruction": "Count words", "output": "len(s.split())", "language": "Python"},
    ])
    report = run_import(store, path)
    assert (report["imported"], report["malformed"]) == (3, 3)
    assert [(e["line"], e["error"].split(" (")[0]) for e in report["errors"]] == [
        (2, "not valid JSON"), (5, "expected a JSON object, got list"), (6, "empty instruction")]
    rows = store.query_pairs({"origin": "import"})["rows"]
    assert [r["instruction"] for r in rows] == ["Reverse a list", "Sort a list", "Count words"]
    assert rows[2]["language"] == "python" and store.get_pair(rows[1]["id"])["input"] == "[3, 1]"


def test_wrong_column_names_list_the_columns_found(store, tmp_path):
    path = write_jsonl(tmp_path / "odd.jsonl", [{"q": "What is 2+2?", "a": "4", "meta": 1}])
    with pytest.raises(ImportFileError, match=r"no instruction or output column: columns found: q, a, meta"):
        run_import(store, path)
    with pytest.raises(ImportFileError, match=r"column\(s\) not in the file: instruction=question; columns found: q, a, meta"):
        run_import(store, path, instruction="question", output="a")
    assert run_import(store, path, instruction="q", output="a")["imported"] == 1


def test_mapping_guesses_common_column_names(tmp_path):
    path = write_jsonl(tmp_path / "guess.jsonl", [{"prompt": "p", "completion": "c", "lang": "lua"}])
    preview = preview_file(path)
    assert preview["mapping"] == {"instruction": "prompt", "output": "completion", "language": "lang"}
    assert preview["columns"] == ["prompt", "completion", "lang"] and preview["shape"] == "alpaca"


def test_non_utf8_lines_are_reported_or_replaced(store, tmp_path):
    path = tmp_path / "latin.jsonl"
    good = json.dumps({"instruction": "Greet", "output": "print('hi')"}).encode()
    bad = '{"instruction": "Café order", "output": "serve(café)"}'.encode("latin-1")
    path.write_bytes(good + b"\n" + bad + b"\n")
    report = run_import(store, path)
    assert report["imported"] == 1
    assert report["errors"] == [{"line": 2, "error": "not valid utf-8 (byte 0xe9 at column 21); pass the file's "
                                 "encoding (e.g. latin-1) or replace bad bytes"}]
    report = run_import(store, path, replace_bad_bytes=True)
    assert (report["imported"], report["already_present"], report["replaced_bytes_records"]) == (1, 1, 1)
    assert store.query_pairs({"search": "order"})["rows"][0]["instruction"] == "Caf\ufffd order"


def test_an_explicit_encoding_decodes_legacy_files(store, tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes("instruction,output\nCafé order,serve(café)\n".encode("cp1252"))
    assert run_import(store, path, encoding="cp1252")["imported"] == 1
    assert store.query_pairs({})["rows"][0]["instruction"] == "Café order"


def test_utf16_is_refused_with_advice(store, tmp_path):
    path = tmp_path / "wide.jsonl"
    path.write_bytes(json.dumps({"instruction": "a", "output": "b"}).encode("utf-16"))
    with pytest.raises(ImportFileError, match="UTF-16 text; save it as UTF-8"):
        run_import(store, path)


def test_csv_with_multiline_fields_and_a_short_row(store, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text('question,answer,lang\n"Write a loop","for i in range(3):\n    print(i)",python\n'
                    'Broken row,only two\n"Quote ""this""",say("x"),lua\n', encoding="utf-8")
    report = run_import(store, path, instruction="question")
    assert (report["imported"], report["errors"]) == (2, [{"line": 4, "error": "2 fields but the header has 3"}])
    rows = store.query_pairs({})["rows"]
    assert store.get_pair(rows[0]["id"])["output"] == "for i in range(3):\n    print(i)"
    assert rows[1]["instruction"] == 'Quote "this"' and rows[1]["language"] == "lua"


def test_tsv_reads_tabs(store, tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text("instruction\toutput\nAdd one\tx + 1\n", encoding="utf-8")
    assert run_import(store, path)["imported"] == 1


def test_json_array_streams_and_stops_at_a_broken_element(store, tmp_path):
    path = tmp_path / "pairs.json"
    path.write_text('[\n {"instruction": "One", "output": "1"},\n {"instruction": "Two", "output": "2"},\n'
                    ' {"instruction": "Three" "output": "3"},\n {"instruction": "Four", "output": "4"}\n]\n')
    report = run_import(store, path)
    assert report["imported"] == 2
    assert report["errors"][0]["line"] == 4 and "stopped reading here" in report["errors"][0]["error"]


def test_parquet_in_batches(store, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "pairs.parquet"
    n = 4500
    pq.write_table(pa.table({"task_text": [f"Task {i}" for i in range(n)], "reply": [f"print({i})" for i in range(n)]}),
                   path, row_group_size=1000)
    with pytest.raises(ImportFileError, match="columns found: task_text, reply"):
        run_import(store, path)
    report = run_import(store, path, instruction="task_text", output="reply")
    assert report["imported"] == n and store.count_pairs() == n


def test_messages_shape_openai_and_sharegpt(store, tmp_path):
    path = write_jsonl(tmp_path / "chat.jsonl", [
        {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Add 2 and 2"},
                      {"role": "assistant", "content": "4"}]},
        {"messages": [{"from": "human", "value": "Say hi"}, {"from": "gpt", "value": "hi"}]},
        {"messages": [{"role": "user", "content": "No answer"}]},
        {"messages": "not a list"},
    ])
    report = run_import(store, path)
    assert report["shape"] == "messages" and report["imported"] == 2
    assert [e["line"] for e in report["errors"]] == [3, 4]
    assert "no assistant reply" in report["errors"][0]["error"]
    assert [r["instruction"] for r in store.query_pairs({})["rows"]] == ["Add 2 and 2", "Say hi"]


def test_importing_the_same_file_twice_adds_nothing(store, tmp_path):
    path = write_jsonl(tmp_path / "again.jsonl", [{"instruction": f"T{i}", "output": str(i)} for i in range(5)])
    assert run_import(store, path)["imported"] == 5
    again = run_import(store, path)
    assert (again["imported"], again["already_present"]) == (0, 5) and store.count_pairs() == 5


@pytest.mark.slow
def test_import_job_runs_and_a_rerun_skips_done_records(store, tmp_path):
    path = write_jsonl(tmp_path / "big.jsonl", [{"instruction": f"Task {i}", "output": f"x = {i}"} for i in range(3000)])
    job = jobs.wait(store, jobs.submit(store, "import_pairs", {"path": str(path)}), timeout=120)
    assert job["status"] == "done", job["error"]
    assert job["result"]["imported"] == 3000 and job["done"] == job["total"]
    again = jobs.wait(store, jobs.submit(store, "import_pairs", {"path": str(path)}), timeout=120)
    assert (again["result"]["imported"], again["result"]["already_present"]) == (0, 3000)


@pytest.mark.slow
def test_a_1gb_file_is_streamed_not_loaded(studio_home, tmp_path):
    """1030 records each padded to 1 MiB with JSON whitespace: the importer's peak memory must stay
    far below the file size, and a broken last line is still reported by number."""
    path = tmp_path / "huge.jsonl"
    pad = b" " * (1 << 20)
    with open(path, "wb") as fh:
        for i in range(1030):
            fh.write(json.dumps({"instruction": f"Task {i}", "output": f"x = {i}"}).encode() + pad + b"\n")
        fh.write(b'{"instruction": "cut off"\n')
    assert path.stat().st_size > 1 << 30
    # The CLI in a child that reports its own peak resident memory when done (VmHWM belongs to the
    # child's own address space; ru_maxrss would carry over pytest's, inherited through fork).
    code = ("import re, sys; from pipeline.__main__ import main; rc = main(sys.argv[1:]); "
            "print('PEAK_KIB', re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); "
            "sys.exit(rc)")
    proc = subprocess.run([sys.executable, "-c", code, "pairs", "import", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "1030 imported" in proc.stdout and "line 1031: not valid JSON" in proc.stdout
    peak_mib = int(proc.stdout.split("PEAK_KIB")[1].split()[0]) / 1024
    assert peak_mib < 300, f"peak RSS {peak_mib:.0f} MiB for a {path.stat().st_size >> 20} MiB file"
    path.unlink()
