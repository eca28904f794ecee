"""The own-code verdict's statistics on simulated paired scores, and the own-code eval's speed.

    python benchmarks/verdict.py [--items 50] [--effect 5] [--sims 1000] [--speed-items 8]

1. False alarms: two models with no true difference (per-item chrF of the candidate = the base's
   + noise centred on 0); how often the rule of evals.owncode.paired (permutation p < 0.05 AND the
   paired bootstrap 95 % interval excludes 0, at least 10 items) declares a difference. Target
   <= 5 %.
2. Power: a planted improvement of `--effect` chrF (default +5, the size of an in-domain
   fine-tune's gain on held-out code of the same projects); how often it is found, at the default
   test size (`--items` 50: the 15 % held out of ~330 pairs, a few hundred functions). Target >= 80 %.
   Per-item differences are heavy-tailed (Student t, 3 degrees of freedom, SD `--spread` 12 chrF):
   most items move a little, a few a lot, as real answers do.
   Baseline, in the same run on the same draws: the unpaired comparison (Welch's t-test on the two
   models' scores as if independent), which ignores that both answered the same items.
3. Speed: the own-code eval (generate + chrF + exact + validity + reference loss) on the embedded
   SmolLM2-135M-Instruct against generating the same answers alone (pipeline.models.generate),
   same prompts, greedy: the scoring's overhead.

Ends with one line: `false alarms N%, power N%`.
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def simulate(rng, n: int, effect: float, spread: float) -> tuple[np.ndarray, np.ndarray]:
    base = np.clip(rng.normal(35, 15, n), 0, 100)
    noise = spread * rng.standard_t(3, n) / math.sqrt(3)   # t3 has variance 3
    return base, np.clip(base + effect + noise, 0, 100)


def welch_p(a: np.ndarray, b: np.ndarray) -> float:
    from scipy import stats

    return float(stats.ttest_ind(b, a, equal_var=False).pvalue)


def rates(args, effect: float, seed: int) -> dict:
    from evals.owncode.paired import ALPHA, paired_comparison, sign_test_p, win_tie_loss

    rng = np.random.default_rng(seed)
    found = {"paired (ours)": 0, "sign test": 0, "unpaired Welch": 0}
    for sim in range(args.sims):
        a, b = simulate(rng, args.items, effect, args.spread)
        r = paired_comparison(list(a), list(b), seed=sim, n_boot=args.boot, n_perm=args.perm)
        found["paired (ours)"] += r["significant"]
        wins, _, losses = win_tie_loss(b - a)
        found["sign test"] += sign_test_p(wins, losses) < ALPHA
        found["unpaired Welch"] += welch_p(a, b) < ALPHA
    return {k: v / args.sims for k, v in found.items()}


def speed(args) -> tuple[float, float, int] | None:
    """(seconds for the own-code eval, seconds for generation alone, items), or None without the model."""
    from evals.owncode.run import OwnCodeConfig, run_owncode
    from pipeline import models
    from pipeline.models import GenParams
    from pipeline.models.default_model import bundled_gguf, convert_gguf, default_model_dir, is_prepared
    from pipeline.models.templates import to_messages
    from pipeline.store import Store
    from tests.owncode_helpers import curate_and_label, make_code_repos

    with tempfile.TemporaryDirectory() as home:
        os.environ["STUDIO_HOME"] = home
        folder = default_model_dir()
        if not is_prepared(folder):
            gguf = bundled_gguf()
            if gguf is None:
                return None
            print("converting the embedded GGUF once (about 20 s)...", file=sys.stderr)
            folder = convert_gguf(gguf, Path(home) / "SmolLM2-135M-Instruct")
        store = Store(Path(home) / "studio.db")
        store.register_model("smollm2", "local", str(folder), template="chat")
        print("building the held-out items from real repos...", file=sys.stderr)
        curate_and_label(store, make_code_repos(Path(home) / "repos"))
        from pipeline.pairs.export import freeze_dataset

        ds = freeze_dataset(store, "bench", {"status": ["approved"]}, split={"test_fraction": 0.3})
        items = store.test_examples(ds["id"])[:args.speed_items]
        params = GenParams(max_new_tokens=args.tokens, temperature=0.0, seed=0, batch_size=8)
        prompts = [to_messages(i["instruction"], i["input"]) for i in items]
        print("loading the model...", file=sys.stderr)
        models.generate("smollm2", prompts[:1], GenParams(max_new_tokens=4))     # load once, warm up
        print(f"generating {len(prompts)} answers alone...", file=sys.stderr)
        began = time.perf_counter()
        models.generate("smollm2", prompts, params)
        bare = time.perf_counter() - began
        print(f"the own-code eval of the same items ({bare:.0f} s for generation alone)...", file=sys.stderr)
        cfg = OwnCodeConfig(model="smollm2", dataset="bench", max_new_tokens=args.tokens, limit=len(items),
                            batch_size=8, allow_weak_sandbox=True)
        began = time.perf_counter()
        run_owncode(store, cfg, log=lambda m: None)
        full = time.perf_counter() - began
        return full, bare, len(items)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50, help="held-out items per simulated comparison")
    parser.add_argument("--effect", type=float, default=5.0, help="planted improvement, chrF points")
    parser.add_argument("--spread", type=float, default=12.0, help="SD of per-item differences, chrF points")
    parser.add_argument("--sims", type=int, default=1000, help="simulated comparisons per row")
    parser.add_argument("--boot", type=int, default=2000, help="bootstrap resamples per comparison")
    parser.add_argument("--perm", type=int, default=2000, help="permutations per comparison")
    parser.add_argument("--speed-items", type=int, default=8, help="held-out items for the speed run (0 = skip)")
    parser.add_argument("--tokens", type=int, default=96, help="max new tokens per answer in the speed run")
    args = parser.parse_args(argv)

    began = time.perf_counter()
    null = rates(args, 0.0, seed=1)
    planted = rates(args, args.effect, seed=2)
    print(f"{args.sims} simulated comparisons per cell · {args.items} items · planted +{args.effect:g} chrF · "
          f"per-item spread {args.spread:g} (t3) · {time.perf_counter() - began:.0f} s")
    print(f"{'rule':<18}{'false alarms':>14}{'power':>9}{'power vs unpaired':>20}")
    for rule in null:
        ratio = planted[rule] / planted["unpaired Welch"] if planted["unpaired Welch"] else float("inf")
        print(f"{rule:<18}{null[rule]:>13.1%}{planted[rule]:>9.1%}{ratio:>19.2f}x")
    if args.speed_items:
        timed = speed(args)
        if timed is None:
            print("speed: the embedded model's wheel is not installed here; skipped")
        else:
            full, bare, n = timed
            print(f"own-code eval on SmolLM2-135M-Instruct, {n} items, {args.tokens} new tokens max: "
                  f"{full:.1f} s ({n / full:.2f} items/s) vs generation alone {bare:.1f} s · "
                  f"scoring overhead {full / bare:.2f}x")
    print(f"false alarms {null['paired (ours)']:.1%}, power {planted['paired (ours)']:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
