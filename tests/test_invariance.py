"""Scale and shift invariance of the default bandwidth, and one bandwidth per DSMI call.

Under a bandwidth *rule* (``"auto"`` = ``"median"``, or ``"rms"``) the bandwidth
is a degree-one homogeneous, translation-invariant function of the pairwise
distances, so the kernel matrix, and therefore DSE and DSMI, are the same for
``Z``, ``c * Z`` and ``Z + b``.  In floating point the only loss is in forming
``c * Z + b`` itself: a shift ``b`` rounds every coordinate to a multiple of
``ulp(b)``, a perturbation of relative size ``1.1e-16 * |b| / (c * extent of Z)``.
No algorithm can recover what that rounding destroyed, so the shifts here are
at most 1e5 times the spread of the data (relative perturbation ~1e-11, well
below the 1e-9 tolerance) -- in absolute terms up to 1e8 for ``c = 1e3``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist

import infolens
from infolens.kernels.bandwidth import resolve_bandwidth

RTOL = 1e-9

SCALES = [1e-3, 0.37, 7.3, 1e3]
SHIFTS = ["zero", 1e3, -1e5, "vector"]  # "vector": a different large shift per feature


def _structured(seed, n=300, d=10, k=5):
    """Unit-scale Gaussian blobs (max |coordinate| = 1) and their labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    Z = rng.normal(size=(k, d))[y] + 0.3 * rng.normal(size=(n, d))
    return Z / np.abs(Z).max(), y


def _shift(b, d, seed, c):
    """The shift, in units of the scaled data's spread ``c``."""
    if b == "zero":
        return 0.0
    if b == "vector":
        return c * np.random.default_rng(seed + 1).normal(scale=1e4, size=d)
    return c * b


@pytest.mark.parametrize("sigma", ["auto", "median", "rms"])
@pytest.mark.parametrize("t", [1, 3])
def test_dse_scale_and_shift_invariance(sigma, t):
    Z, _ = _structured(0, n=200)
    base = infolens.dse(Z, sigma=sigma, t=t)
    assert base > 0.05  # a value far from 0, so a relative tolerance is meaningful
    for c in SCALES:
        for b in SHIFTS:
            value = infolens.dse(c * Z + _shift(b, Z.shape[1], 0, c), sigma=sigma, t=t)
            np.testing.assert_allclose(value, base, rtol=RTOL, atol=0,
                                       err_msg=f"c={c}, b={b}")


@pytest.mark.parametrize("sigma", ["auto", "rms"])
@pytest.mark.parametrize("t", [1, 2])
def test_dsmi_scale_and_shift_invariance(sigma, t):
    Z, y = _structured(1, n=240)
    base = infolens.dsmi(Z, y, sigma=sigma, t=t, n_repeats=3)
    assert base > 0.05
    for c in SCALES:
        for b in SHIFTS:
            value = infolens.dsmi(c * Z + _shift(b, Z.shape[1], 1, c), y, sigma=sigma, t=t,
                                  n_repeats=3)
            np.testing.assert_allclose(value, base, rtol=RTOL, atol=0,
                                       err_msg=f"c={c}, b={b}")


def test_dsmi_invariance_with_uninformative_labels():
    """Shuffled labels give DSMI near 0, where a relative tolerance alone is too strict.

    DSMI is a difference of entropies of a few bits, each summed over hundreds
    of eigenvalues with relative rounding error ~1e-15, so values agree to
    about 1e-13 bits in absolute terms; atol=1e-11 bits covers that floor.
    """
    Z, y = _structured(2, n=200)
    y = np.random.default_rng(5).permutation(y)
    base = infolens.dsmi(Z, y)
    for c, b in [(1e-3, 0.0), (1e3, 1e6), (2.5, -1e5)]:
        np.testing.assert_allclose(infolens.dsmi(c * Z + b, y), base, rtol=RTOL, atol=1e-11)


def test_invariance_with_median_subsample_and_many_classes():
    """N > 2048: the median rule uses a fixed-seed subsample, which is still invariant.

    DSMI resolves sigma on all of Z (here 2200 points) but its eigen-solves are
    per class (22 classes of 100 points), which keeps this cheap.
    """
    rng = np.random.default_rng(3)
    y = np.repeat(np.arange(22), 100)
    Z = rng.normal(size=(22, 6))[y] + 0.5 * rng.normal(size=(y.size, 6))
    base = infolens.dsmi(Z, y, n_repeats=1, return_result=True)
    for c, b in [(1e-3, 0.0), (1e3, -1e7)]:
        res = infolens.dsmi(c * Z + b, y, n_repeats=1, return_result=True)
        np.testing.assert_allclose(res.params["sigma"], c * base.params["sigma"], rtol=1e-12)
        np.testing.assert_allclose(res.value, base.value, rtol=RTOL, atol=0)


def test_fixed_sigma_is_not_invariant():
    """Control: a fixed number is a length in the units of Z, so rescaling changes DSE."""
    Z, _ = _structured(0, n=150)
    assert abs(infolens.dse(Z, sigma=0.5) - infolens.dse(10 * Z, sigma=0.5)) > 0.1


# --------------------------------------------------------------------------
# DSMI resolves the bandwidth once, on all of Z
# --------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["median", "rms"])
def test_resolved_sigma_is_computed_on_all_of_z(rule):
    Z, y = _structured(4, n=250)
    d = pdist(Z)  # independent of infolens's GEMM distances
    expected = np.median(d) if rule == "median" else np.sqrt(np.mean(d**2))
    res_mi = infolens.dsmi(Z, y, sigma=rule, return_result=True)
    res_h = infolens.dse(Z, sigma=rule, return_result=True)
    assert isinstance(res_mi.params["sigma"], float)
    np.testing.assert_allclose(res_mi.params["sigma"], expected, rtol=1e-10)
    np.testing.assert_allclose(res_h.params["sigma"], expected, rtol=1e-10)
    assert res_mi.params["sigma_rule"] == rule


def test_class_terms_use_the_global_sigma():
    """Each class's conditional DSE equals dse(class, sigma=<sigma of all Z>), not the
    DSE with the class's own median, which differs markedly for tight classes."""
    Z, y = _structured(5, n=240)
    res = infolens.dsmi(Z, y, return_result=True)
    sigma = res.params["sigma"]
    groups = res.details["groups"]
    assert [g["group"] for g in groups] == sorted(np.unique(y).tolist())
    for g in groups:
        members = Z[y == g["group"]]
        assert g["n"] == len(members)
        with_global = infolens.dse(members, sigma=sigma)
        with_own = infolens.dse(members)
        np.testing.assert_allclose(g["conditional"], with_global, rtol=1e-12)
        assert abs(with_own - with_global) > 1e-2  # the check can tell them apart
        np.testing.assert_allclose(g["marginal"], np.mean(g["subsets"]), rtol=1e-12)
    manual = sum(g["n"] / len(y) * (g["marginal"] - g["conditional"]) for g in groups)
    np.testing.assert_allclose(res.value, manual, rtol=1e-12)


def test_subsets_and_classes_share_one_kernel_against_reference(reference):
    """With the reference's random draws (preset="dse-dsmi") and sigma="median",
    DSMI equals the reference's DSMI run with the fixed number sigma = median of
    all of Z: so every class *and every random subset* used that one bandwidth."""
    Z, y = _structured(6, n=200, k=4)
    res = infolens.dsmi(Z, y, sigma="median", preset="dse-dsmi", return_result=True)
    np.testing.assert_allclose(res.params["sigma"], np.median(pdist(Z)), rtol=1e-10)
    expected, _ = reference.dsmi.diffusion_spectral_mutual_information(
        Z, y, gaussian_kernel_sigma=res.params["sigma"])
    assert abs(res.value - expected) <= 1e-9


# --------------------------------------------------------------------------
# Why the default is scale-aware: the reference's sigma = 10 on unit-scale data
# --------------------------------------------------------------------------


def test_reference_sigma_flattens_unit_scale_data(reference):
    structured, _ = _structured(7, n=250, k=5)
    rng = np.random.default_rng(8)
    noise = rng.normal(size=structured.shape)
    noise /= np.abs(noise).max()
    ref_structured = reference.dse.diffusion_spectral_entropy(structured)
    ref_noise = reference.dse.diffusion_spectral_entropy(noise)
    ours_preset = infolens.dse(structured, preset="dse-dsmi")
    # sigma = 10 on data of extent ~1: an almost constant kernel, DSE ~ 0.1 bits
    # whatever the structure.
    assert ref_structured < 0.2 and ref_noise < 0.2
    assert abs(ref_structured - ref_noise) < 0.1
    assert abs(ours_preset - ref_structured) <= 1e-6
    # The default sees the data: well above 0 and, once diffusion has run (t = 40),
    # about log2 5 for the five blobs and about 0 for the noise.
    default_structured = infolens.dse(structured, t=40)
    default_noise = infolens.dse(noise, t=40)
    assert default_structured > 1.0
    assert abs(default_structured - default_noise) > 0.5


@pytest.mark.parametrize("c", [1e-200, 1e-160, 1e150, 1e300])
def test_extreme_scales_neither_underflow_nor_overflow(c):
    """Squared distances of data at 1e-200 underflow to 0 and at 1e200 overflow to
    inf when computed naively; the invariance must hold there too."""
    Z, y = _structured(9, n=120, k=3)
    for func, args in [(infolens.dse, ()), (infolens.dsmi, (y,)), (infolens.ase, ()),
                       (infolens.asmi, (y,))]:
        base = func(Z, *args)
        value = func(c * Z, *args)
        np.testing.assert_allclose(value, base, rtol=RTOL, atol=1e-12,
                                   err_msg=func.__name__)
    res = infolens.dse(c * Z, return_result=True)
    np.testing.assert_allclose(res.params["sigma"], c * resolve_bandwidth(Z, "knn"), rtol=1e-10)


def test_large_n_invariance_and_the_float32_tolerance():
    """N >= 1024: with the float64 solver the invariance holds to 1e-9 relative.
    A single-precision solve (what precision="mixed" may choose there) rounds the
    operator to float32, so shifting the data can move a value by up to the
    solver's accepted error, 1e-6 bits, not further."""
    Z = np.random.default_rng(10).normal(size=(1024, 8))
    ref64 = infolens.dse(Z, precision="float64")
    ref32 = infolens.dse(Z, precision="float32")
    for c, b in [(1e-3, 10.0)]:  # scale and a shift of 1e4 times the spread
        np.testing.assert_allclose(infolens.dse(c * Z + b, precision="float64"), ref64,
                                   rtol=RTOL, atol=0)
        assert abs(infolens.dse(c * Z + b, precision="float32") - ref32) <= 1e-6
        assert abs(infolens.dse(c * Z + b, precision="mixed") - ref64) <= 1e-6
        # the default ("auto" = float64 under the default preset) keeps 1e-9
        np.testing.assert_allclose(infolens.dse(c * Z + b), ref64, rtol=RTOL, atol=0)


@pytest.mark.parametrize("func", [infolens.dse, infolens.dsmi], ids=lambda f: f.__name__)
def test_docstring_explains_the_rule_and_the_reference_behaviour(func):
    doc = " ".join(func.__doc__.split())
    assert '"knn"' in doc and "nearest neighbour" in doc and '"median"' in doc  # the rules
    assert "invariant" in doc and "c Z + b" in doc  # why
    assert "sigma=10" in doc and 'preset="dse-dsmi"' in doc  # how to get the reference's
