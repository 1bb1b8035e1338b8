"""Short GPU check of the torch exact path (issue 3, item 4); run on a CUDA machine.

Times ``infolens.dse`` on CUDA tensors (exact, ``torch.linalg.eigvalsh`` in
float64 on the device) at N = 10,000 and 20,000 (D = 128) and compares each
value with the numpy SLQ estimate of the same data (CPU).  SLQ itself is a
numpy/CPU engine: at 100k and 1M points it is timed on the host.

    python benchmarks/bench_gpu.py            # prints one JSON line per case
"""

from __future__ import annotations

import json
import time

import numpy as np


def main():
    import torch

    import infolens

    if not torch.cuda.is_available():
        print(json.dumps({"skipped": "no CUDA device"}))
        return 0
    rng = np.random.default_rng(0)
    for n in (10000, 20000):
        centres = rng.normal(scale=2.0, size=(20, 128))
        X = centres[rng.integers(0, 20, n)] + rng.normal(size=(n, 128))
        Xt = torch.tensor(X, device="cuda")
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        r = infolens.dse(Xt, return_result=True, method="exact")
        torch.cuda.synchronize()
        t_gpu = time.perf_counter() - t0
        t0 = time.perf_counter()
        s = infolens.dse(X, method="slq", return_result=True)
        t_slq = time.perf_counter() - t0
        print(json.dumps({"n": n, "exact_cuda_bits": r.value, "exact_cuda_s": t_gpu,
                          "method": r.params["method"], "slq_cpu_bits": s.value,
                          "slq_se_bits": s.details["standard_error"], "slq_cpu_s": t_slq,
                          "device": torch.cuda.get_device_name()}), flush=True)
    for n in (100000, 1000000):
        k = 20
        lab = rng.integers(0, k, n)
        X = (rng.normal(scale=3.0, size=(k, 128))[lab]
             + rng.uniform(-1, 1, size=(n, 2)) @ rng.normal(size=(2, 128))).astype(np.float32)
        t0 = time.perf_counter()
        r = infolens.dse(X, method="sparse", return_result=True,
                         method_options={"n_neighbors": 60})
        print(json.dumps({"n": n, "sparse_bits": r.value, "se": r.details["standard_error"],
                          "kept_mass": r.details["operator"]["kept_mass"],
                          "seconds": time.perf_counter() - t0}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
