"""DSMI's default route for class-sized subsets: exact up to SUBSET_EXACT_MAX_N points,
one small SLQ batch with control variates above."""

import numpy as np
import pytest

import infolens
from infolens.spectrum.planning import SUBSET_EXACT_MAX_N


def blobs(n_per_class, classes=3, d=8, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(classes, d))
    labels = np.repeat(np.arange(classes), n_per_class)
    Z = centres[labels] + rng.normal(size=(labels.size, d))
    y = labels.copy()
    flip = rng.uniform(size=y.size) < 0.3
    y[flip] = rng.integers(0, classes, flip.sum())
    return Z, y


@pytest.fixture(scope="module")
def large_classes():
    return blobs(SUBSET_EXACT_MAX_N + 100)


def test_large_classes_take_slq_and_agree_with_the_exact_value(large_classes):
    Z, y = large_classes
    fast = infolens.dsmi(Z, y, return_result=True)
    exact = infolens.dsmi(Z, y, method="exact", return_result=True)
    assert fast.params["method"] == "slq"
    assert exact.params["method"] == "exact"
    # the tolerance against the reference is 0.02 bits; the subset estimates err
    # by about 0.001 nats each, and the reported standard error covers the difference
    assert abs(fast.value - exact.value) < 0.01
    assert abs(fast.value - exact.value) <= 3 * fast.standard_error
    assert fast.standard_error > exact.standard_error


def test_shuffled_labels_stay_near_zero_on_the_fast_route(large_classes):
    Z, y = large_classes
    shuffled = np.random.default_rng(5).permutation(y)
    assert abs(infolens.dsmi(Z, shuffled)) < 0.02


def test_small_classes_stay_exact():
    Z, y = blobs(SUBSET_EXACT_MAX_N // 2)
    r = infolens.dsmi(Z, y, return_result=True)
    assert r.params["method"] == "exact"
    assert r.value == infolens.dsmi(Z, y, method="exact")


def test_reference_preset_never_estimates(large_classes):
    Z, y = large_classes
    r = infolens.dsmi(Z, y, preset="dse-dsmi", return_result=True)
    assert r.params["method"] == "exact"


def test_method_options_given_by_the_user_win(large_classes):
    Z, y = large_classes
    default = infolens.dsmi(Z, y, return_result=True)
    more = infolens.dsmi(Z, y, method_options={"n_probes": 24, "n_steps": 24},
                         return_result=True)
    exact = infolens.dsmi(Z, y, method="exact")
    assert more.value != default.value
    assert abs(more.value - exact) <= abs(default.value - exact) + 1e-3


def test_several_threads_give_the_values_of_one(monkeypatch, large_classes):
    import infolens.measures.spectral_settings as settings

    Z, y = large_classes
    monkeypatch.setattr(settings, "choose_threads", lambda n: 2)
    assert settings.subset_workers(settings.SpectralSettings(
        "dsmi", Z, preset="infolens", sigma="knn", t=1, alpha=0.0, base=2, keep_trivial=True,
        max_n="auto", method="auto", precision="auto", random_state=0), 800, 18) == 2
    two = infolens.dsmi(Z, y, return_result=True)
    monkeypatch.setattr(settings, "choose_threads", lambda n: 1)
    one = infolens.dsmi(Z, y, return_result=True)
    # one BLAS thread per worker sums in another order: equal to rounding
    assert two.value == pytest.approx(one.value, abs=1e-8)
    for a, b in zip(two.details["groups"], one.details["groups"]):
        np.testing.assert_allclose(a["subsets"], b["subsets"], atol=1e-8)


def test_an_error_in_one_thread_reaches_the_caller(monkeypatch, large_classes):
    import infolens.measures.diffusion as diffusion
    import infolens.measures.spectral_settings as settings

    Z, y = large_classes
    monkeypatch.setattr(settings, "choose_threads", lambda n: 2)
    original, calls = diffusion._dse_value, []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("subset 3")
        return original(*args, **kwargs)

    monkeypatch.setattr(diffusion, "_dse_value", failing)
    with pytest.raises(MemoryError, match="subset 3"):
        infolens.dsmi(Z, y)
    assert len(calls) < 18  # the entropies not yet started were dropped
