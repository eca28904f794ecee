"""The one cost model behind every estimate: defaults, re-calibration from finished jobs, the road's
ETA following its running child."""
from __future__ import annotations

from pipeline.jobs import costs
from pipeline.quickstart.road import STEPS, QuickstartConfig, Road, child_eta_s, expected_seconds, later_steps_s


def finished_job(store, kind: str, params: dict, total: int, seconds: float, status: str = "done",
                 attempts: int = 1) -> int:
    """A job row as a real run leaves it: claimed, progressed to `total`, finished `seconds` later."""
    job_id = store.create_job(kind, params)
    with store.tx() as db:
        db.execute("UPDATE jobs SET status=?, total=?, done=?, attempts=?, "
                   "started_at=strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?), "
                   "finished_at=strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id=?",
                   [status, total, total, attempts, f"-{seconds} seconds", job_id])
    return job_id


def test_without_finished_jobs_the_measured_defaults_are_used(store):
    per_step, source = costs.per_unit_seconds(store, "train")
    assert per_step == costs.COSTS["train"].per_unit_s
    assert "default" in source
    est = costs.estimate(store, "train", 40, {"batch_size": 2, "max_length": 256})
    assert est.seconds == costs.COSTS["train"].start_s + 40 * per_step


def test_finished_jobs_recalibrate_the_unit_cost(store):
    start = costs.COSTS["train"].start_s
    # two runs at 4x the reference tokens per step, 10 s a step → 2.5 s per reference step
    for _ in range(2):
        finished_job(store, "train", {"batch_size": 4, "max_length": 512}, total=20, seconds=start + 200)
    finished_job(store, "train", {"batch_size": 2}, total=10, seconds=9999, status="failed")   # ignored
    finished_job(store, "train", {"batch_size": 2}, total=10, seconds=9999, attempts=2)          # resumed: ignored
    per_step, source = costs.per_unit_seconds(store, "train")
    assert abs(per_step - 2.5) < 0.05
    assert "2 finished train" in source
    est = costs.estimate(store, "train", 40, {"batch_size": 2, "max_length": 256})
    assert abs(est.seconds - (start + 100)) < 2


def test_model_labelling_and_docstring_labelling_calibrate_apart(store):
    finished_job(store, "label", {"model": "gpt-4o-mini"}, total=10, seconds=costs.COSTS["label_model"].start_s + 50)
    assert costs.per_unit_seconds(store, "label")[0] == costs.COSTS["label"].per_unit_s
    assert abs(costs.per_unit_seconds(store, "label_model")[0] - 5.0) < 0.05


def test_the_plan_the_steps_and_the_whole_road_use_the_same_numbers(store, tmp_path):
    cfg = QuickstartConfig(source=str(tmp_path))
    road = Road(store, cfg)
    rows = road.status()
    train = next(r for r in rows if r["key"] == "train")
    assert train["expected_s"] == round(costs.estimate(store, "train", cfg.train_steps,
                                                       road.train_params()).seconds)
    assert abs(expected_seconds(store, cfg) - sum(r["expected_s"] for r in rows)) < len(STEPS)
    finished_job(store, "train", road.train_params(), total=10, seconds=costs.COSTS["train"].start_s + 300)
    assert Road(store, cfg).status()[STEPS.index(next(s for s in STEPS if s.key == "train"))]["expected_s"] \
        > train["expected_s"]                         # a slower machine's own runs move the plan
    assert "measured" in road.totals_text()


def test_the_roads_eta_follows_its_running_child(store, tmp_path):
    cfg = QuickstartConfig(source=str(tmp_path))
    road = Road(store, cfg)
    index = next(i for i, s in enumerate(STEPS) if s.key == "train")
    later = later_steps_s(road, index)
    assert later == sum(s.expected_s(road) for s in STEPS[index + 1:])
    child = store.get_job(store.create_job("train", {}))
    child.update(eta_s=1210.0, started_at=None)
    assert child_eta_s(road, STEPS[index], child) + later == 1210.0 + later   # the child's own ETA wins
    child.update(eta_s=None)
    assert child_eta_s(road, STEPS[index], child) <= STEPS[index].expected_s(road)


def test_durations_read_the_way_people_read_them():
    assert costs.duration_text(42) == "42 s"
    assert costs.duration_text(7 * 60) == "7 min"
    assert costs.duration_text(2.5 * 3600) == "2.5 h"
    assert costs.duration_text(10 * 86400) == "10 days"
