"""The Pairs tab's handlers without a browser, on a real store: filter and pages, the pair panel,
save / approve / previous with the edit check, bulk, stats, and the Clean, Import and Datasets
panels, with the warnings of bad input and of an empty store."""
from __future__ import annotations

import json

from studio import pairs_panels, pairs_tab
from tests.pairs_helpers import add_pairs
from tests.studio.handlers import SKIP
from tests.studio.handlers import warned as _warned

NO_FILTER = [None, None, None, None, None, "any", 0, 0, ""]   # the filter boxes as a new page has them


def _three(store) -> list[int]:
    return add_pairs(store, [
        {"instruction": "Add two numbers.", "input": "", "output": "def add(a, b):\n    return a + b\n",
         "language": "python", "status": "draft"},
        {"instruction": "Print hello.", "input": "", "output": "func _ready():\n\tprint('hello')\n",
         "language": "gdscript", "status": "draft"},
        {"instruction": "Square a number.", "input": "", "output": "def square(x):\n    return x * x\n",
         "language": "python", "status": "draft"},
    ])


def _filter(**boxes) -> list:
    names = ["status", "language", "repo", "origin", "labeller", "flag", "min_len", "max_len", "search"]
    return [boxes.get(n, v) for n, v in zip(names, NO_FILTER)]


# -- Review ---------------------------------------------------------------------------------------
def test_an_empty_store_shows_no_pairs_and_no_choices(store):
    flt, rows, summary, page = pairs_tab.apply_filter(*NO_FILTER, 50)
    assert flt["status"] == [] and flt["search"] is None
    assert rows == [] and summary == "**0** pairs · page 1 of 1" and page == 1
    assert [u["choices"] for u in pairs_tab.refresh_choices()] == [[], [], [], []]
    assert pairs_tab.stats({})[0].startswith("**0** pairs")


def test_the_filter_and_the_pages(store):
    ids = _three(store)
    flt, rows, summary, page = pairs_tab.apply_filter(*_filter(language=["python"]), 1)
    assert flt["language"] == ["python"] and flt["flag"] is None and flt["min_len"] is None
    assert [r[0] for r in rows] == [ids[0]] and summary == "**2** pairs · page 1 of 2"
    rows, summary, page = pairs_tab.next_page(flt, page, 1)
    assert [r[0] for r in rows] == [ids[2]] and page == 2
    rows, _, page = pairs_tab.next_page(flt, page, 1)   # past the last page: stays on it
    assert page == 2
    rows, _, page = pairs_tab.previous_page(flt, 1, 1)  # before the first: stays on it
    assert page == 1 and [r[0] for r in rows] == [ids[0]]
    assert pairs_tab.apply_filter(*_filter(search="hello"), 50)[1][0][6] == "Print hello."
    languages = pairs_tab.refresh_choices()[0]["choices"]
    assert sorted(languages) == ["gdscript", "python"]


def test_a_search_without_words_or_an_unknown_flag_is_one_warning_and_keeps_the_table(store):
    _three(store)
    result, warned = _warned(pairs_tab.apply_filter, *_filter(search="!!!"), 50)
    assert result == SKIP and warned == ["search '!!!' has no words to look for"]
    result, warned = _warned(pairs_tab.apply_filter, *_filter(flag="bogus"), 50)
    assert result == SKIP and len(warned) == 1 and "unknown flag filter 'bogus'" in warned[0]


def test_the_pair_panel_shows_the_pair_and_nothing_past_the_end(store):
    [first, *_] = _three(store)
    seen, header, code, instruction, input_box, output, history, diff, conversation, save_conv = \
        pairs_tab.show_pair(first)
    assert seen["id"] == first and seen["instruction"] == "Add two numbers."
    assert header.startswith(f"**Pair {first}** · `draft`")
    assert code["label"] == "Output (no source snippet)" and code["language"] == "python"
    assert instruction["value"] == "Add two numbers." and instruction["interactive"] is True
    assert input_box["value"] == "" and output["value"].startswith("def add(a, b):")
    assert history == [] and diff == "No human edit of the text yet."
    assert conversation["visible"] is False and save_conv["visible"] is False
    assert pairs_tab.show_pair(None)[:2] == [None, "No more pairs in this filter."]


def test_approve_saves_the_edit_and_moves_to_the_next_pair_previous_moves_back(store):
    ids = _three(store)
    seen = pairs_tab.show_pair(ids[0])[0]
    shown = pairs_tab.approve_pair(seen, "Add two integers.", "", seen["output"], {})
    assert shown[0]["id"] == ids[1]
    assert store.get_pair(ids[0])["status"] == "approved"
    assert store.get_pair(ids[0])["instruction"] == "Add two integers."
    shown = pairs_tab.back_to_previous_pair(shown[0], "Print hello.", "", shown[0]["output"], {})
    assert shown[0]["id"] == ids[0] and shown[6][0][1:] == ["instruction", "Add two numbers.", "Add two integers."]


def test_an_edit_of_a_pair_changed_meanwhile_is_refused_and_the_boxes_keep_the_text(store):
    [first, *_] = _three(store)
    seen = pairs_tab.show_pair(first)[0]
    store.edit_pair(first, {"instruction": "Changed by someone else."}, seen={"instruction": "Add two numbers."})
    result, warned = _warned(pairs_tab.save_pair, seen, "My edit.", "", seen["output"], {})
    assert result == SKIP and len(warned) == 1
    assert store.get_pair(first)["instruction"] == "Changed by someone else."


def test_saving_with_no_pair_shown_asks_for_one(store):
    result, warned = _warned(pairs_tab.save_pair, None, "x", "", "y", {})
    assert result == SKIP and warned == ["Pick a pair in the table first"]


def test_bulk_changes_every_matching_pair_and_says_how_many(store):
    ids = _three(store)
    flt = pairs_tab.apply_filter(*_filter(language=["python"]), 50)[0]
    assert pairs_tab.bulk(flt, "reject") == "2 pairs changed"
    assert [store.get_pair(i)["status"] for i in ids] == ["rejected", "draft", "rejected"]


def test_stats_count_the_filtered_pairs(store):
    _three(store)
    text, figure = pairs_tab.stats(pairs_tab.apply_filter(*_filter(language=["gdscript"]), 50)[0])
    assert text.startswith("**1** pairs · duplicates 0") and figure is not None


# -- Clean ----------------------------------------------------------------------------------------
CLEAN = (["exact dedup"], ["draft"], 0.8, "output", "substring", [], None, 0)


def test_cleaning_without_a_status_is_refused_before_any_job(store):
    result, warned = _warned(pairs_panels.run_clean, CLEAN[0], [], *CLEAN[2:])
    assert result == SKIP and warned == ["Pick at least one status to clean"]
    assert store.list_jobs() == []


def test_a_bad_cleaning_setting_is_refused_with_the_configs_message(store):
    result, warned = _warned(pairs_panels.run_clean, CLEAN[0], CLEAN[1], 7.0, *CLEAN[3:])
    assert result == SKIP and len(warned) == 1 and store.list_jobs() == []


def test_unflag_and_the_counts_on_an_empty_store(store):
    assert pairs_panels.unflag_pairs("all") == pairs_panels.flag_counts()
    assert "**0** duplicates" in pairs_panels.flag_counts()
    suites, counts = pairs_panels.clean_suite_choices()
    assert suites["choices"][0] == "humaneval" and counts == pairs_panels.flag_counts()
    box, result, counts, timer = pairs_panels.poll_clean(None)   # no job started from this page
    assert "No job started" in box and result == SKIP and timer.active is False


# -- Import ---------------------------------------------------------------------------------------
def test_import_preview_suggests_the_mapping_and_a_small_file_imports_at_once(store, tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"instruction": "Add.", "output": "def add(a, b): return a + b"}) + "\n"
                    + "not json\n")
    note, table, *maps = pairs_panels.preview_import(str(path), "utf-8", False)
    assert note.startswith("jsonl") and len(table) == 1
    assert [m["value"] for m in maps][:3] == ["instruction", pairs_panels.NONE, "output"]
    mapped = [m["value"] for m in maps]
    job, box, report, timer = pairs_panels.run_import(str(path), "utf-8", False, "auto", "python", *mapped)
    assert job is None and timer.active is False and "No job started" in box
    assert report.startswith("**1** imported · 0 already present · **1** bad records")
    assert "- line 2:" in report
    assert [p["language"] for p in store.query_pairs({}, 1, 10)["rows"]] == ["python"]


def test_import_without_a_file_asks_for_one(store):
    note, table, *maps = pairs_panels.preview_import(None, "utf-8", False)
    assert note == "Upload a file to preview it." and table is None and len(maps) == 5
    result, warned = _warned(pairs_panels.run_import, None, "utf-8", False, "auto", "", *[pairs_panels.NONE] * 5)
    assert result == SKIP and warned == ["Upload a file first"]


# -- Datasets -------------------------------------------------------------------------------------
def test_freeze_lists_the_new_version_and_picks_it_for_export(store, studio_home):
    _three(store)
    assert pairs_panels.list_datasets() == ([], {"choices": [], "__type__": "update"})
    flt = pairs_tab.apply_filter(*_filter(language=["python"]), 50)[0]
    rows, which, split = pairs_panels.freeze(flt, "py", "alpaca", False, 0, "auto")
    assert [r[1:4] for r in rows] == [["py", 1, 2]]
    assert which["value"] == "py@1" and split.startswith("**py@1** · ")
    result, path = pairs_panels.export_dataset("py@1", "jsonl", "alpaca", "")
    assert path == result["path"] and len(open(path).read().splitlines()) == 2
    assert pairs_panels.preview_dataset_card("py@1").startswith("```yaml\n")


def test_export_and_card_refuse_without_a_dataset_or_a_hub_repo(store):
    for args, message in ((("", "jsonl", "alpaca", ""), "Pick a dataset to export"),
                          (("py@1", "hub", "alpaca", " "), "Give the hub repo id (user/name) to push to")):
        result, warned = _warned(pairs_panels.export_dataset, *args)
        assert result == SKIP and warned == [message]
    result, warned = _warned(pairs_panels.preview_dataset_card, None)
    assert result == SKIP and warned == ["Pick a dataset to preview its card"]
    assert store.list_jobs() == []


def test_saving_a_conversation_with_no_conversation_pair_shown_saves_nothing(store):
    [first, *_] = _three(store)
    before = store.get_pair(first)["revision"]
    result, warned = _warned(pairs_tab.save_conversation_edit, None, '[{"role": "user", "content": "hi"}]')
    assert result == SKIP and warned == ["pick a conversation pair in the table first"]
    assert store.get_pair(first)["revision"] == before
