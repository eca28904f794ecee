"""The Jobs tab's handlers without a browser, on a real store: the list, the picker's ids, show,
cancel and resume, and the timer's quiet tick."""
from __future__ import annotations

import pytest

from pipeline import jobs
from studio import jobs_tab
from tests.studio.handlers import warned as _warned


def _queued(store, title: str = "clean pairs") -> int:
    # Not spawned: the row is what the tab reads, and no child may settle it under the test.
    return jobs.submit(store, "clean", {"dry_run": True}, title=title, spawn=False)


def test_an_empty_store_lists_no_jobs_and_offers_no_choices(store):
    bars, picker = jobs_tab.list_and_choices("all")
    assert "No jobs yet" in bars
    assert picker["choices"] == []


def test_the_list_labels_each_job_with_id_title_and_status_and_filters_by_status(store):
    first, second = _queued(store, "first"), _queued(store, "second")
    jobs.cancel(store, first)
    bars, picker = jobs_tab.list_and_choices("all")
    assert f"data-job-id='{first}'" in bars and f"data-job-id='{second}'" in bars
    assert sorted(picker["choices"]) == sorted([f"{first} · first · cancelled", f"{second} · second · queued"])
    bars, picker = jobs_tab.list_and_choices("cancelled")
    assert picker["choices"] == [f"{first} · first · cancelled"] and f"data-job-id='{second}'" not in bars


@pytest.mark.parametrize("value, number", [("12 · Prepare model · done", 12), ("#7", 7), (" 3 ", 3),
                                           ("", None), (None, None)])
def test_the_picker_reads_a_job_id_from_a_label_or_a_typed_number(value, number):
    assert jobs_tab.job_number(value) == number


def test_show_gives_the_row_and_the_log_and_nothing_for_an_empty_pick(store):
    job_id = _queued(store)
    jobs.log_path_for(job_id).parent.mkdir(parents=True, exist_ok=True)
    jobs.log_path_for(job_id).write_text("starting\nhalf way\n")
    row, log = jobs_tab.show_job(f"{job_id} · clean pairs · queued")
    assert row["id"] == job_id and row["kind"] == "clean"
    assert log.endswith("half way\n")
    assert jobs_tab.show_job("") == (None, "")


def test_a_typo_in_the_picker_is_one_warning_and_the_panel_keeps_its_values(store):
    result, warned = _warned(jobs_tab.show_job, "twelve")
    assert result == {"__type__": "update"}   # gr.skip(): every output keeps what it showed
    assert warned == ["'twelve' is not a job id"]


def test_an_unknown_job_id_is_refused_with_a_message(store):
    result, warned = _warned(jobs_tab.show_job, "999")
    assert result == {"__type__": "update"} and len(warned) == 1 and "999" in warned[0]


def test_cancel_stops_a_queued_job_and_resume_needs_a_pick(store):
    job_id = _queued(store)
    row, _ = jobs_tab.cancel_job(str(job_id))
    assert row["status"] == "cancelled" and store.get_job(job_id)["status"] == "cancelled"
    result, warned = _warned(jobs_tab.resume_job, "", "")
    assert result == {"__type__": "update"} and warned == ["Pick the job to resume"]


def test_cancelling_a_finished_job_is_refused_and_leaves_it(store):
    job_id = _queued(store)
    jobs.cancel(store, job_id)
    result, warned = _warned(jobs_tab.cancel_job, str(job_id))
    assert result == {"__type__": "update"}
    assert len(warned) == 1 and "only queued or running jobs can be cancelled" in warned[0]
    assert store.get_job(job_id)["status"] == "cancelled"


def test_the_timer_tick_is_quiet_about_a_half_typed_id(store):
    job_id = _queued(store)
    (bars, detail, log), warned = _warned(jobs_tab.tick, "all", "1x")
    assert f"data-job-id='{job_id}'" in bars
    assert detail == log == {"__type__": "update"} and warned == []
    (bars, detail, log), warned = _warned(jobs_tab.tick, "all", str(job_id))
    assert detail["id"] == job_id and log == "" and warned == []
