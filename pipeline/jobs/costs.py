"""How long work takes: one model of cost per unit, behind every estimate the studio shows.

    estimate(store, "train", units=40, params={"batch_size": 2, "max_length": 256})
    → Estimate(seconds=212.0, source="measured: median of 3 finished train jobs here")

Each job kind has a fixed start cost (a child process importing torch, loading a model) and a cost
per unit of its work (a training step, an eval sample, a labelled snippet), scaled by the settings
that make a unit bigger (tokens per step, new tokens per answer). The defaults were measured on
this project's reference machine (2 CPU cores, no GPU, the embedded SmolLM2-135M); once the
studio has finished jobs of a kind, the median of their own measured per-unit cost replaces the
default, so the README, `quickstart plan`, each road step, the Train preview and each job's ETA
all come from the same numbers and improve with use.
"""
from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeline.store import Store


def _train_scale(params: dict) -> float:
    # Work per optimizer step grows with the tokens it sees.
    tokens = (params.get("batch_size") or 2) * (params.get("grad_accum") or 1) * (params.get("max_length") or 256)
    return tokens / (2 * 256)


def _eval_scale(params: dict) -> float:
    # A sample's cost is dominated by decoding: proportional to the tokens it may write.
    return (params.get("max_new_tokens") or 192) / 192


@dataclass(frozen=True)
class Cost:
    unit: str
    start_s: float                 # once per job: process start, imports, model load
    per_unit_s: float              # per unit at the reference size (scale 1.0)
    scale: Callable[[dict], float] = field(default=lambda params: 1.0)
    job_kind: str | None = None    # the job kind it re-calibrates from (default: its own key)
    accepts: Callable[[dict], bool] = field(default=lambda params: True)  # which of those jobs


# Measured on the reference machine (2 CPU cores, no GPU, the embedded SmolLM2-135M-Instruct) in
# the default road of 2026-12-06 (README, "A first run"): prepare 33 s; curate 1 s (946 functions);
# docstring labels 0.1 s for 400; 40 LoRA steps of 2 x 256 tokens 158 s; 10 HumanEval answers of
# up to 192 tokens through llama.cpp q8_0 (the auto engine) 17 s base, 20 s tuned; 32 own-code
# items 27 s base, 22 s tuned. Job start (a child process importing torch) is in `start_s`.
# Model labelling and cleaning were not measured there: their figures are rough until the
# studio's own finished jobs replace them.
COSTS: dict[str, Cost] = {
    "prepare_model": Cost("model", 35.0, 0.0),
    "curate": Cost("repo", 4.0, 1.0),
    "label": Cost("snippet", 4.0, 0.001, accepts=lambda p: p.get("model") == "docstring"),
    "label_model": Cost("snippet", 20.0, 4.0, job_kind="label", accepts=lambda p: p.get("model") != "docstring"),
    "clean": Cost("pair", 8.0, 0.01),
    "train": Cost("step", 30.0, 3.2, _train_scale),
    "eval_generate": Cost("sample", 6.0, 1.2, _eval_scale),
    # own-code items: an answer of up to 128 tokens plus one forward pass for the reference's loss
    "owncode_eval": Cost("item", 6.0, 0.65, lambda p: (p.get("max_new_tokens") or 128) / 128),
}
CALIBRATION_JOBS = 5
MAX_PLAUSIBLE_S = 7 * 24 * 3600    # past a week on this machine a setting is a typo, not a plan


@dataclass(frozen=True)
class Estimate:
    seconds: float
    source: str

    @property
    def text(self) -> str:
        return duration_text(self.seconds)


def per_unit_seconds(store: Store | None, kind: str) -> tuple[float, str]:
    """Seconds per reference unit of `kind`: the studio's own median when it has finished jobs of
    that kind, else the measured default."""
    cost = COSTS[kind]
    samples: list[float] = []
    if store is not None:
        for job in store.finished_job_timings(cost.job_kind or kind, 4 * CALIBRATION_JOBS):
            if not cost.accepts(job["params"]) or len(samples) == CALIBRATION_JOBS:
                continue
            scale = cost.scale(job["params"]) or 1.0
            samples.append(max(0.0, job["seconds"] - cost.start_s) / job["total"] / scale)
    if samples:
        return statistics.median(samples), f"measured: median of {len(samples)} finished {kind} job(s) here"
    return cost.per_unit_s, "default measured on 2 CPU cores"


def estimate(store: Store | None, kind: str, units: float, params: dict | None = None) -> Estimate:
    cost = COSTS[kind]
    per_unit, source = per_unit_seconds(store, kind)
    return Estimate(cost.start_s + units * per_unit * cost.scale(params or {}), source)


def remaining(store: Store | None, kind: str, units_left: float, params: dict | None = None) -> float:
    """Seconds left for a running job with `units_left` to do (its start is already paid)."""
    cost = COSTS[kind]
    return units_left * per_unit_seconds(store, kind)[0] * cost.scale(params or {})


def duration_text(seconds: float) -> str:
    """'40 s', '7 min', '2.5 h', '3 days' — rounded the way a person reads an estimate."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.0f} days"
