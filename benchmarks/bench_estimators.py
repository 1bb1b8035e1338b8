"""infolens estimators side by side with peer packages (benchmark-only dependencies).

Peers: scikit-learn ``mutual_info_regression`` (KSG, 1-D), ``infomeasure`` (KSG MI,
Kozachenko-Leonenko entropy), ``vendi-score``, ``reptrix`` (RankMe, alpha-ReQ) and
``benchmark-mi`` (bmi: its KSG and its tasks).  bmi pins numpy < 2 and breaks with JAX
>= 0.4.34 (``jax.core.pp_eqn_rules`` was removed), so it runs in its own virtual
environment with ``jax==0.4.30`` (``pip install benchmark-mi jax==0.4.30 jaxlib==0.4.30``) (``--bmi-python``, default
``/work/bmi-venv/bin/python``) and exchanges arrays through ``.npz`` files.

Prints a markdown section (values, agreement, time ratios) for benchmarks/RESULTS.md.

    python benchmarks/bench_estimators.py [--n 10000] [--repeat 3] [--bmi-python PATH]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

import infolens
from infolens import datasets

BMI_SCRIPT = textwrap.dedent("""\
    import json, sys, time
    import numpy as np
    import bmi
    cfg = json.loads(sys.argv[1])
    out = {}
    for name in cfg["tasks"]:
        task = bmi.benchmark.BENCHMARK_TASKS[name]
        X, Y = task.sample(cfg["n"], seed=0)
        X, Y = np.asarray(X, float), np.asarray(Y, float)
        np.savez(cfg["dir"] + "/" + name + ".npz", X=X, Y=Y)
        est = bmi.estimators.KSGEnsembleFirstEstimator(neighborhoods=(3,), standardize=True)
        est.estimate(X[:200], Y[:200])  # JIT warm-up, not timed
        best = float("inf")
        for _ in range(cfg["repeat"]):
            t = time.perf_counter(); v = est.estimate(X, Y); best = min(best, time.perf_counter() - t)
        out[name] = {"truth": float(task.mutual_information), "ksg": float(v), "time": best}
    from importlib.metadata import version
    print(json.dumps({"version": version("benchmark-mi"), "jax": version("jax"),
                      "results": out}))
""")

BMI_TASKS = ["1v1-normal-0.75", "half_cube-1v1-normal-0.75", "multinormal-dense-2-2-0.5",
             "multinormal-sparse-3-3-2-2.0", "spiral-multinormal-sparse-3-3-2-2.0",
             "student-identity-1-1-1", "student-identity-2-2-2", "asinh-student-identity-1-1-1"]


def best_time(f, repeat):
    best, value = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        value = f()
        best = min(best, time.perf_counter() - t)
    return float(value), best


def run_bmi(python, n, repeat):
    if not os.path.exists(python):
        return None, f"bmi interpreter {python} not found"
    tmp = tempfile.mkdtemp(prefix="bmi-")
    cfg = {"tasks": BMI_TASKS, "n": n, "repeat": repeat, "dir": tmp}
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    proc = subprocess.run([python, "-c", BMI_SCRIPT, json.dumps(cfg)], capture_output=True,
                          text=True, env=env, timeout=3000)
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    for name, row in payload["results"].items():
        with np.load(os.path.join(tmp, name + ".npz")) as data:
            row["X"], row["Y"] = data["X"], data["Y"]
    return payload, None


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--bmi-python", default="/work/bmi-venv/bin/python")
    args = p.parse_args(argv)
    n, R = args.n, args.repeat
    lines = []
    say = lines.append

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout
    say("## Estimator suite vs peer packages (issue 4)")
    say("")
    say(f"- date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC; commit "
        f"{commit.strip()}; machine: {platform.machine()}, {os.cpu_count()} CPUs (shared with "
        f"other jobs), Python {platform.python_version()}, numpy {np.__version__}")
    say(f"- command: `OPENBLAS_NUM_THREADS=1 python benchmarks/bench_estimators.py --n {n} "
        f"--repeat {R}`; times are the best of {R} runs; ratio = peer time / infolens time "
        f"(> 1: infolens faster). MI in nats.")
    say("")

    # --- KSG on infolens's ground-truth tasks -------------------------------------------
    import sklearn
    from sklearn.feature_selection import mutual_info_regression

    import infomeasure as im

    tasks = [datasets.bivariate_normal(n, 0.75, random_state=0),
             datasets.multivariate_normal(n, 2, 2, random_state=0),
             datasets.student_t(n, 1, 1, 1, random_state=0),
             datasets.student_t(n, 2, 2, 2, random_state=0)]
    say(f"### KSG mutual information, N = {n}, k = 3")
    say("")
    say("| task | truth | infolens ksg (rank) | time s | infolens ksg (standardize) | "
        f"sklearn {sklearn.__version__} | ratio | infomeasure {im.__version__} | ratio |")
    say("|---|---|---|---|---|---|---|---|---|")
    ratios = {"sklearn": [], "infomeasure": []}
    for task in tasks:
        ours, t_ours = best_time(lambda: infolens.ksg_mi(task.X, task.Y, base="e"), R)
        std, _ = best_time(lambda: infolens.ksg_mi(task.X, task.Y, base="e",
                                                   preprocess="standardize"), 1)
        if task.X.shape[1] == 1 and task.Y.shape[1] == 1:
            sk, t_sk = best_time(lambda: mutual_info_regression(
                task.X, task.Y[:, 0], n_neighbors=3, random_state=0)[0], R)
            ratios["sklearn"].append(t_sk / t_ours)
            sk_cells = f"{sk:.4f} ({t_sk:.3f} s) | {t_sk / t_ours:.1f}"
        else:
            sk_cells = "1-D only | -"
        # infomeasure's normalize= only accepts 1-D arrays: standardise columns here.
        Xs = (task.X - task.X.mean(0)) / task.X.std(0)
        Ys = (task.Y - task.Y.mean(0)) / task.Y.std(0)
        imv, t_im = best_time(lambda: im.mutual_information(Xs, Ys, approach="ksg", k=3), R)
        ratios["infomeasure"].append(t_im / t_ours)
        say(f"| {task.name} | {task.mi:.4f} | {ours:.4f} | {t_ours:.3f} | {std:.4f} | "
            f"{sk_cells} | {imv:.4f} ({t_im:.3f} s) | {t_im / t_ours:.1f} |")
        print(lines[-1], file=sys.stderr, flush=True)
    say("")

    # --- bmi -----------------------------------------------------------------------------
    payload, why = run_bmi(args.bmi_python, n, R)
    if payload is None:
        say(f"bmi (benchmark-mi) could not be run: {why}.")
    else:
        say(f"### benchmark-mi {payload['version']} (JAX {payload['jax']}, CPU): its tasks, "
            f"its KSG (k = 3, standardised) vs infolens")
        say("")
        say("| bmi task | truth | bmi KSG | bmi time s | infolens ksg | infolens time s | "
            "ratio |")
        say("|---|---|---|---|---|---|---|")
        ratios["bmi"] = []
        for name, row in payload["results"].items():
            ours, t_ours = best_time(lambda: infolens.ksg_mi(row["X"], row["Y"], base="e"), R)
            ratios["bmi"].append(row["time"] / t_ours)
            say(f"| {name} | {row['truth']:.4f} | {row['ksg']:.4f} | {row['time']:.3f} | "
                f"{ours:.4f} | {t_ours:.3f} | {row['time'] / t_ours:.1f} |")
    say("")

    # --- entropy ------------------------------------------------------------------------
    cov = np.array([[2.0, 0.6, 0.0], [0.6, 1.0, 0.3], [0.0, 0.3, 0.5]])
    Z = np.random.default_rng(0).multivariate_normal(np.zeros(3), cov, n)
    ours, t_ours = best_time(lambda: infolens.kl_entropy(Z, base="e"), R)
    imv, t_im = best_time(lambda: im.entropy(Z, approach="metric", k=3), R)
    say(f"### Kozachenko-Leonenko entropy, 3-D Gaussian, N = {n}: truth "
        f"{datasets.gaussian_entropy(cov):.4f} nats; infolens {ours:.4f} ({t_ours:.3f} s); "
        f"infomeasure {imv:.4f} ({t_im:.3f} s, ratio {t_im / t_ours:.1f})")
    say("")

    # --- Vendi ----------------------------------------------------------------------------
    from vendi_score import vendi

    rng = np.random.default_rng(1)
    V = rng.standard_normal((2000, 64)) + 3 * np.eye(64)[rng.integers(0, 8, 2000)]
    say("### Vendi score (N = 2000, D = 64)")
    say("")
    say("| variant | infolens | time s | vendi-score | time s | ratio |")
    say("|---|---|---|---|---|---|")
    for q in (1.0, 2.0):
        ours, t_ours = best_time(lambda: infolens.vendi_score(V, q=q), R)
        vd, t_vd = best_time(lambda: vendi.score_dual(V, q=q), R)
        say(f"| cosine, q={q:g}, dual | {ours:.6f} | {t_ours:.4f} | {vd:.6f} (score_dual) | "
            f"{t_vd:.4f} | {t_vd / t_ours:.1f} |")
    ours, t_ours = best_time(lambda: infolens.vendi_score(V, q=2.0, dual=False), 1)
    vx, t_vx = best_time(lambda: vendi.score_X(V, q=2.0), 1)
    say(f"| cosine, q=2, N x N | {ours:.6f} | {t_ours:.4f} | {vx:.6f} (score_X) | {t_vx:.4f} "
        f"| {t_vx / t_ours:.1f} |")
    say("")
    say("vendi-score's `score_X` ignores `q` (it always returns the q = 1 score), so it "
        "disagrees with both infolens and its own `score_dual` at q = 2.")
    say("")

    # --- reptrix --------------------------------------------------------------------------
    import torch
    from reptrix import alpha as rp_alpha
    from reptrix import rankme as rp_rankme

    lam = np.arange(1, 201, dtype=float) ** -1.0
    U = np.linalg.qr(rng.standard_normal((1000, 200)))[0]
    E = (U - U.mean(axis=0)) @ np.diag(np.sqrt(lam)) @ np.linalg.qr(
        rng.standard_normal((200, 200)))[0]
    T = torch.as_tensor(E)
    ours_rm, t1 = best_time(lambda: infolens.rankme(E), R)
    ours_rm_c = infolens.rankme(E, center=True)
    rp_rm, t2 = best_time(lambda: rp_rankme.get_rankme(T), R)
    s = np.linalg.svd(E - E.mean(axis=0), compute_uv=False)
    p = s**2 / (s**2).sum() + 1e-7
    rp_like = float(np.exp(-(p * np.log(p)).sum()))
    ours_a, t3 = best_time(lambda: infolens.alpha_req(E, skip_first=10, n_eigenvalues=90), R)
    rp_a, t4 = best_time(lambda: rp_alpha.get_alpha(T, fit_range=np.arange(10, 100))[0], R)
    say("### reptrix (N = 1000, D = 200, covariance spectrum i^-1)")
    say("")
    say("| measure | infolens | time s | reptrix | time s | ratio |")
    say("|---|---|---|---|---|---|")
    say(f"| RankMe | {ours_rm:.3f} (centred: {ours_rm_c:.3f}) | {t1:.4f} | {rp_rm:.3f} | {t2:.4f} "
        f"| {t2 / t1:.1f} |")
    say(f"| alpha-ReQ (ranks 11-100) | {ours_a:.4f} | {t3:.4f} | {rp_a:.4f} | {t4:.4f} | "
        f"{t4 / t3:.1f} |")
    say("")
    say(f"RankMe differs by definition: reptrix takes the entropy of the normalised covariance "
        f"*eigenvalues* (squared singular values of the centred data) plus 1e-7, infolens "
        f"follows Garrido et al. (singular values of the embedding matrix). Recomputing "
        f"reptrix's formula from numpy gives {rp_like:.3f}. alpha-ReQ: reptrix weights the "
        f"log-log least squares by 1/rank (Stringer & Pachitariu); on an exact power law both "
        f"recover alpha = 1.")
    say("")
    fastest = {k: min(v) for k, v in ratios.items() if v}
    say("KSG speed: smallest peer/infolens time ratio per peer over the tasks: "
        + ", ".join(f"{k} {v:.1f}x" for k, v in fastest.items())
        + (" - infolens is at least as fast as every peer." if all(
            v >= 1 for v in fastest.values()) else " - some peer is faster (see table)."))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
