"""Speed of the Matrix Nuclear-Norm (method="l12", no SVD) against exact matrix entropy.

Matrix entropy as the paper times it: the von Neumann entropy of the trace-normalised
N x N Gram matrix of the row-normalised representations (full eigendecomposition);
infolens.von_neumann_entropy(kernel="cosine") uses the D x D dual when N > D and is
timed too.  Inputs: random 4096 x 768 matrices and all-MiniLM-L6-v2 last hidden states
(one matrix per text, as the paper scores one response at a time).  Medians of --repeats.

    python benchmarks/bench_nuclear.py [--repeats 3]
"""

import argparse
import statistics
import time

import numpy as np
import scipy.linalg

import infolens


def gram_entropy(Z):
    F = Z / np.linalg.norm(Z, axis=1, keepdims=True)
    lam = scipy.linalg.eigh(F @ F.T / F.shape[0], eigvals_only=True)
    lam = lam[lam > 1e-15]
    return float(-(lam * np.log2(lam)).sum())


def timed(f, mats, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        for Z in mats:
            f(Z)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def minilm_states():
    try:
        from infolens.models import resolve_model
        from infolens.models.loading import collect_states
    except ImportError:
        return None
    module, tok, _ = resolve_model("all-MiniLM-L6-v2")
    rng = np.random.default_rng(0)
    words = "the of model layer token attention entropy data river city music light".split()
    texts = [" ".join(rng.choice(words, size=rng.integers(60, 120))) for _ in range(16)]
    states = collect_states(module, tok, texts, attention=False)
    return [Z.astype(np.float64) for Z in states.per_text[-1]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    cases = {"random 4096 x 768": [rng.normal(size=(4096, 768))]}
    states = minilm_states()
    if states is not None:
        cases[f"MiniLM last layer, {len(states)} texts x ~{states[0].shape[0]} tokens x 384"] = (
            states)
    print("| input | MNN l12 (s) | exact N x N Gram entropy (s) | speed-up | "
          "von_neumann_entropy cosine, dual (s) | speed-up | nuclear_norm svd (s) |")
    print("|---|---|---|---|---|---|---|")
    for name, mats in cases.items():
        t_l12 = timed(lambda Z: infolens.nuclear_norm(Z, method="l12"), mats, args.repeats)
        t_gram = timed(gram_entropy, mats, args.repeats)
        t_vn = timed(lambda Z: infolens.von_neumann_entropy(Z, kernel="cosine"), mats,
                     args.repeats)
        t_svd = timed(infolens.nuclear_norm, mats, args.repeats)
        print(f"| {name} | {t_l12:.4f} | {t_gram:.3f} | {t_gram / t_l12:.0f}x | {t_vn:.3f} | "
              f"{t_vn / t_l12:.0f}x | {t_svd:.3f} |")


if __name__ == "__main__":
    main()
