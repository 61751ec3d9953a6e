"""Benchmark the CLV model fits at scale (not a test: shared machines are noisy).

Usage: .venv/bin/python benchmarks/clv_fit.py [--customers 1000000] [--seed 7]
Simulates ``--customers`` customers from known parameters for each model and times simulation and fit. Each
model runs in its own process so that its peak resident memory (getrusage's ru_maxrss, which includes the
interpreter and numpy/scipy, about 100 MiB) is its own. BG/NBD is timed twice: on continuous purchase
times (every row distinct) and on times rounded to whole days, as warehouse data arrive (rows collapse).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("sbg", "bgnbd", "bgnbd_days", "gamma_gamma")
ROW = "{:<12} {:>10} {:>10} {:>7} {:>5} {:>12}  {}"


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_one(model: str, n: int, seed: int) -> dict[str, object]:
    from clm.clv import BgnbdParams, GammaGammaParams, SbgParams, bgnbd, gamma_gamma, sbg, simulate

    start = time.perf_counter()
    if model == "sbg":
        truth = SbgParams(0.704, 1.182)
        horizon = np.random.default_rng(seed).integers(1, 25, n)  # monthly cohorts up to two years old
        sample = simulate.sbg(truth, n, horizon, seed + 1)
        simulated = time.perf_counter()
        fit = sbg.fit(sample.renewals, sample.alive)
        found = {"alpha": fit.alpha, "beta": fit.beta}
    elif model in ("bgnbd", "bgnbd_days"):
        truth = BgnbdParams(0.243, 4.414, 0.793, 2.426)
        ages = np.random.default_rng(seed).integers(1, 79, n) / 1.0  # weeks since first purchase
        sample = simulate.bgnbd(truth, n, ages, seed + 1)
        recency = np.round(sample.recency * 7) / 7 if model == "bgnbd_days" else sample.recency
        simulated = time.perf_counter()
        fit = bgnbd.fit(sample.frequency, recency, sample.T)
        found = {"r": fit.r, "alpha": fit.alpha, "a": fit.a, "b": fit.b}
    else:
        truth = GammaGammaParams(6.25, 3.74, 15.44)
        frequency = 1.0 + np.random.default_rng(seed).poisson(2.0, n)  # every customer a repeat buyer
        spend = simulate.gamma_gamma(truth, frequency, seed + 1)
        simulated = time.perf_counter()
        fit = gamma_gamma.fit(frequency, spend)
        found = {"p": fit.p, "q": fit.q, "gamma": fit.gamma}
    done = time.perf_counter()
    return {
        "model": model,
        "customers": n,
        "simulate_s": round(simulated - start, 2),
        "fit_s": round(done - simulated, 2),
        "iterations": fit.iterations,
        "peak_rss_mib": round(peak_rss_mib()),
        "truth": {k: round(float(v), 4) for k, v in vars(truth).items()},
        "fitted": {k: round(float(v), 4) for k, v in found.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--model", choices=MODELS, help="run one model in this process (used internally)")
    args = parser.parse_args()
    if args.model:
        print(json.dumps(run_one(args.model, args.customers, args.seed)))
        return
    print(ROW.format("model", "customers", "simulate s", "fit s", "iters", "peak RSS MiB", "fitted (truth)"))
    for model in MODELS:
        cmd = [sys.executable, __file__, "--model", model, "--customers", str(args.customers)]
        cmd += ["--seed", str(args.seed)]
        out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        fields = ("model", "customers", "simulate_s", "fit_s", "iterations", "peak_rss_mib")
        print(ROW.format(*(row[f] for f in fields), f"{row['fitted']} ({row['truth']})"))


if __name__ == "__main__":
    main()
