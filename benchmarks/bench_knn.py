"""Which kNN library for the sparse local kernel: time and recall@k.

Candidates: faiss-cpu inverted file (IVF-Flat), faiss HNSW, faiss exact
(Flat), scikit-learn ``NearestNeighbors`` (exact).  Recall is measured on
1000 query rows against brute-force numpy.  Timings of the exact methods are
measured on a slice of queries and scaled to all ``n`` queries.

    python benchmarks/bench_knn.py --n 200000 --d 128 --k 30
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def make_data(n, d, seed=3):
    rng = np.random.default_rng(seed)
    k = 20
    lab = rng.integers(0, k, n)
    u = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    basis = rng.normal(size=(k, 3, d)).astype(np.float32)
    centres = rng.normal(scale=3.0, size=(k, d)).astype(np.float32)
    feats = np.stack([u[:, 0], u[:, 1], u[:, 0] ** 2 - u[:, 1] ** 2], axis=1)
    X = centres[lab] + np.einsum("ni,nid->nd", feats, basis[lab])
    return X + 0.01 * rng.normal(size=(n, d)).astype(np.float32)


def truth(X, q, k):
    sq = (X * X).sum(1)
    out = []
    for i in q:
        d2 = sq - 2 * X @ X[i] + sq[i]
        out.append(np.argsort(d2)[1 : k + 1])
    return np.array(out)


def recall(found, exact):
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, exact)]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--n", type=int, default=200000)
    p.add_argument("--d", type=int, default=128)
    p.add_argument("--k", type=int, default=30)
    args = p.parse_args()
    import faiss

    X = make_data(args.n, args.d)
    X -= X.mean(0)
    n, d, k = args.n, args.d, args.k
    q = np.random.default_rng(0).choice(n, 1000, replace=False)
    exact = truth(X, q, k)
    rows = []

    def strip_self(idx, rows_):
        return [[j for j in r if j != i][:k] for i, r in zip(rows_, idx)]

    # faiss IVF-Flat (what infolens uses above 50k points)
    t0 = time.perf_counter()
    nlist = int(min(16384, max(256, 4 * np.sqrt(n))))
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, nlist)
    rng = np.random.default_rng(0)
    index.train(X[np.sort(rng.choice(n, min(n, 64 * nlist), replace=False))])
    index.add(X)
    index.nprobe = 16
    _, idx = index.search(X, k + 1)
    t = time.perf_counter() - t0
    rows.append({"method": "faiss IVF-Flat nprobe=16", "seconds": t,
                 "recall": recall(strip_self(idx[q], q), exact)})
    # faiss HNSW
    t0 = time.perf_counter()
    h = faiss.IndexHNSWFlat(d, 32)
    h.hnsw.efConstruction = 80
    h.add(X)
    h.hnsw.efSearch = 64
    _, idx = h.search(X, k + 1)
    t = time.perf_counter() - t0
    rows.append({"method": "faiss HNSW M=32 ef=64", "seconds": t,
                 "recall": recall(strip_self(idx[q], q), exact)})
    # exact flat, timed on 20000 queries and scaled
    m = min(n, 20000)
    flat = faiss.IndexFlatL2(d)
    flat.add(X)
    t0 = time.perf_counter()
    flat.search(X[:m], k + 1)
    rows.append({"method": "faiss Flat (exact)", "seconds": (time.perf_counter() - t0) * n / m,
                 "recall": 1.0, "extrapolated_from_queries": m})
    from sklearn.neighbors import NearestNeighbors

    m = min(n, 5000)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(X)
    t0 = time.perf_counter()
    nn.kneighbors(X[:m])
    rows.append({"method": "sklearn NearestNeighbors (exact)",
                 "seconds": (time.perf_counter() - t0) * n / m, "recall": 1.0,
                 "extrapolated_from_queries": m})
    for r in rows:
        r.update(n=n, d=d, k=k)
        print(json.dumps(r))


if __name__ == "__main__":
    main()
