"""The Jobs tab under faults, in a real browser: a job killed with SIGKILL shows `interrupted`
within seconds without a reload, and Resume can be given the session key again."""
from __future__ import annotations

import os
import signal
import time
from dataclasses import asdict

import pytest

from pipeline.label.labeller import LabelConfig
from pipeline.store import Store
from tests.browser import open_tab
from tests.helpers import until
from tests.label_helpers import add_snippets, label_pairs, register_endpoint
from tests.label_openai_server import LabelServer

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_killed_job_shows_interrupted_and_resumes_with_a_key_typed_in_the_jobs_tab(studio_page, studio_server):
    from pipeline import jobs

    _, home = studio_server
    store = Store(home / "studio.db")
    secret = "sk-typed-in-the-jobs-tab-5150"
    with LabelServer(latency_s=0.05) as server:
        server.require_key = secret
        server.hold_after = 0  # the first request waits on the wire until released
        add_snippets(store, 3, start=900, language="jobsbrowserlang")  # its own: other tests' snippets stay out
        register_endpoint(store, server, name="killed-job-labeller")
        job_id = store.create_job("label", asdict(LabelConfig(model="killed-job-labeller",
                                                                          language="jobsbrowserlang")), "label in the browser")
        jobs.start(store, job_id, env={"STUDIO_LABEL_API_KEY": secret})
        until(lambda: server.held >= 1)
        open_tab(studio_page, "Jobs")
        row = f".job-row[data-job-id='{job_id}']"
        studio_page.wait_for_selector(f"{row}[data-status='running']")
        os.killpg(store.get_job(job_id)["pid"], signal.SIGKILL)  # what the OOM killer does
        killed = time.monotonic()
        studio_page.wait_for_selector(f"{row}[data-status='interrupted']", timeout=10_000)
        assert time.monotonic() - killed < 10
        server.hold_after = None
        server.release()
        studio_page.locator("#jobs-refresh").click()
        studio_page.locator("#job-pick input").click()
        studio_page.get_by_role("option", name=f"{job_id} · label in the browser · interrupted").click()
        studio_page.locator("#job-resume-key input").fill(secret)
        studio_page.get_by_role("button", name="Resume").click()
        studio_page.wait_for_selector(f"{row}[data-status='done']", timeout=60_000)
        assert sorted(p["snippet_id"] for p in label_pairs(store, "killed-job-labeller")) == sorted(
            r["id"] for r in store.db["snippets"].rows_where("language = 'jobsbrowserlang'"))
        assert secret.encode() not in (home / "studio.db").read_bytes()
    store.close()
