"""Split a model's disparity into unique, redundant and masked parts (PID).

The fairness entry of the source material (Dutta, Venkatesh, Mardziel, Datta & Grover,
AAAI 2020, "An information-theoretic quantification of discrimination with exempt
features") reads the disparity of a model's decisions ``Yhat`` with respect to a protected
attribute ``A``, in the presence of a critical (exempt) feature ``C`` such as a required
qualification, through the partial information decomposition of ``I(A, C; Yhat)``:

* ``redundancy``  disparity that ``C`` accounts for (``A`` and ``C`` say the same thing
  about ``Yhat``): exempt by the business necessity of ``C``;
* ``unique_1``    disparity only ``A`` explains: the non-exempt, discriminatory part;
* ``synergy``     disparity *masked* in ``I(A; Yhat)``: it appears only when ``A`` and
  ``C`` are read together (e.g. a model that flips its decisions by group).

``I(A; Yhat) = redundancy + unique_1``: the total visible disparity.

    python examples/fairness_pid.py
"""

import numpy as np

import infolens

rng = np.random.default_rng(0)
n = 20_000
group = rng.integers(0, 2, n)                                  # protected attribute A
# The qualification C is unevenly distributed across the groups (70 % vs 40 %).
qualified = (rng.random(n) < np.where(group == 1, 0.7, 0.4)).astype(int)
noise = rng.random(n) < 0.05

models = {
    "hires the qualified": qualified ^ noise,
    "hires by group": group ^ noise,
    "qualification, but group 0 needs more": (qualified & ((group == 1) | (rng.random(n) < 0.5)))
    ^ noise,
    "flips by group (masked)": (qualified ^ group) ^ noise,
}

print(f"{'model':40s} {'I(A;Yhat)':>9s} {'exempt':>7s} {'non-exempt':>10s} {'masked':>7s}"
      f"   (bits, BROJA)")
for name, decision in models.items():
    r = infolens.partial_information(group, qualified, decision.astype(int))
    d = r.details
    print(f"{name:40s} {d['mi_1']:9.4f} {d['redundancy']:7.4f} {d['unique_1']:10.4f} "
          f"{d['synergy']:7.4f}")
print("\nexempt = redundancy(A, C); non-exempt = unique information of A; "
      "masked = synergy (invisible in I(A; Yhat)).")
