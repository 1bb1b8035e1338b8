"""Peak memory of attention entropy: eager (weights stored) vs streamed from q and k.

The eager path is what a user has with Hugging Face's eager backend: the
(batch, heads, T, T) float32 attention weights, then attention_entropy on them.
The streamed path is attention_entropy_from_qk on q and k (never T x T).
Peak memory is measured with tracemalloc (numpy allocations are traced).

    python benchmarks/bench_attention_memory.py [--T 4096] [--heads 4]
"""

import argparse
import time
import tracemalloc

import numpy as np

import infolens


def eager(q, k):
    s = np.einsum("bhqd,bhkd->bhqk", q, k) / np.sqrt(q.shape[-1])
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)
    return infolens.attention_entropy(s, causal=False)


def peak(f, *args):
    tracemalloc.start()
    tracemalloc.reset_peak()
    t = time.perf_counter()
    out = f(*args)
    elapsed = time.perf_counter() - t
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, top / 2**20, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--T", type=int, default=4096)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--dim", type=int, default=64)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    q = rng.normal(size=(1, args.heads, args.T, args.dim)).astype(np.float32)
    k = rng.normal(size=(1, args.heads, args.T, args.dim)).astype(np.float32)
    e, e_mib, e_s = peak(eager, q, k)
    s, s_mib, s_s = peak(lambda a, b: infolens.attention_entropy_from_qk(a, b, block=1024), q, k)
    print(f"T={args.T} heads={args.heads} head_dim={args.dim} (q, k float32 "
          f"{2 * q.nbytes / 2**20:.0f} MiB, allocated before measuring)")
    print("| path | peak MiB | seconds |\n|---|---|---|")
    print(f"| eager: weights + attention_entropy | {e_mib:.0f} | {e_s:.1f} |")
    print(f"| streamed: attention_entropy_from_qk, block 1024 | {s_mib:.0f} | {s_s:.1f} |")
    print(f"ratio streamed / eager peak: {s_mib / e_mib:.3f} (target <= 0.125); "
          f"max |difference| {np.abs(e - s).max():.2e} bits")


if __name__ == "__main__":
    main()
