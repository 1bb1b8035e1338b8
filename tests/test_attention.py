"""Attention entropy per head, its streaming twin, and the mixture-of-experts routing measures."""

import math

import numpy as np
import pytest
from scipy.special import softmax

import infolens
from infolens import InvalidParameterError


def causal_uniform(T):
    A = np.tril(np.ones((T, T)))
    return (A / A.sum(axis=1, keepdims=True))[None, None]


def h2(p):
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def test_uniform_over_seven_keys_is_log2_7():
    out = infolens.attention_entropy(np.full((2, 3, 5, 7), 1 / 7))
    assert out.shape == (3,)
    np.testing.assert_allclose(out, 2.807355, atol=1e-6)
    np.testing.assert_allclose(infolens.attention_entropy(np.full((1, 1, 4, 7), 1 / 7), base="e"),
                               math.log(7), atol=1e-12)


@pytest.mark.parametrize("T", [2, 17, 128])
def test_causal_uniform_is_log2_factorial_over_T(T):
    expected = math.lgamma(T + 1) / math.log(2) / T
    r = infolens.attention_entropy(causal_uniform(T), return_result=True)
    assert r.params["causal"] is True  # detected: no mass above the diagonal
    assert r.details["per_head"] == pytest.approx([expected], abs=1e-9)
    if T == 128:
        assert expected == pytest.approx(5.595013, abs=1e-6)
    # normalised by log(i + 1), not log T: uniform over what each query sees is exactly 1
    assert infolens.attention_entropy(causal_uniform(T), normalize=True)[0] == pytest.approx(1.0)
    # the official code's log T would give log2(T!)/T / log2 T < 1 for the same uniform rows
    assert expected / math.log2(T) < 1.0


def test_one_hot_is_zero_and_two_point_is_binary_entropy():
    assert infolens.attention_entropy(np.eye(6)[None, None])[0] == 0.0
    for p in (0.5, 0.1, 0.37):
        A = np.zeros((1, 2, 3, 4))
        A[..., 1], A[..., 3] = p, 1 - p
        np.testing.assert_allclose(infolens.attention_entropy(A), h2(p), atol=1e-12)


def test_layers_list_torch_and_half_precision():
    torch = pytest.importorskip("torch")
    layer = torch.full((1, 2, 4, 4), 0.25, dtype=torch.bfloat16)
    out = infolens.attention_entropy([layer, layer.half(), layer.float()])
    assert out.shape == (3, 2)
    np.testing.assert_allclose(out, 2.0, atol=1e-12)
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True)
    x = torch.randn(2, 5, 8)
    _, weights = mha(x, x, x, average_attn_weights=False)
    assert infolens.attention_entropy(weights).shape == (2,)
    _, averaged = mha(x, x, x)  # the default averages heads: refused with the fix
    with pytest.raises(InvalidParameterError, match="average_attn_weights=False"):
        infolens.attention_entropy(averaged)


def test_mask_removes_padded_keys_and_queries():
    # sequence 1 has 3 real tokens of 5; its rows are uniform over the real keys
    A = np.full((2, 1, 5, 5), 1 / 5)
    A[1, :, :, :3], A[1, :, :, 3:] = 1 / 3, 0.0
    A[1, :, 3:, :] = np.array([0.5, 0.5, 0, 0, 0])  # padded query rows: anything, left out
    mask = np.array([[1] * 5, [1, 1, 1, 0, 0]])
    r = infolens.attention_entropy(A, mask=mask, return_result=True)
    assert r.details["n_queries"] == 8
    assert r.details["per_head"][0] == pytest.approx((5 * math.log2(5) + 3 * math.log2(3)) / 8)
    assert infolens.attention_entropy(A, mask=mask, normalize=True)[0] == pytest.approx(1.0)
    B = np.full((1, 1, 4, 4), 0.25)
    with pytest.raises(InvalidParameterError, match="padding"):
        infolens.attention_entropy(B, mask=np.array([[1, 1, 0, 0]]))


def test_collapsed_and_overloaded_fractions():
    T = 32
    A = np.zeros((1, 4, T, T))
    A[0, 0] = np.eye(T)                                  # collapsed
    A[0, 1] = 1 / T                                      # overloaded (uniform)
    A[0, 2] = softmax(np.random.default_rng(0).normal(size=(T, T)) * 3, axis=1)
    A[0, 3] = np.eye(T)
    r = infolens.attention_entropy(A, causal=False, return_result=True)
    assert r.details["collapsed_fraction"] == 0.5
    assert r.details["overloaded_fraction"] == 0.25
    assert r.details["query_std"][1] == pytest.approx(0.0, abs=1e-12)
    assert r.details["query_std"][2] > 0


@pytest.mark.parametrize("bad, match", [
    (np.full((1, 1, 3, 4), 0.3), "probability vectors"),
    (np.array([[[[1.5, -0.5], [0.5, 0.5]]]]), "negative"),
    (np.full((2, 4, 4), 0.25), "head-averaged"),
    (np.full((4, 4), 0.25), "shape"),
])
def test_bad_attention_is_refused_with_the_fix(bad, match):
    with pytest.raises(InvalidParameterError, match=match):
        infolens.attention_entropy(bad)


def test_causal_true_with_mass_above_the_diagonal_is_refused():
    with pytest.raises(InvalidParameterError, match="above the diagonal"):
        infolens.attention_entropy(np.full((1, 1, 3, 3), 1 / 3), causal=True)
    assert infolens.attention_entropy(causal_uniform(3), causal=False, normalize=True)[0] < 1


@pytest.mark.parametrize("causal", [False, True])
def test_streaming_equals_eager(causal):
    rng = np.random.default_rng(1)
    B, H, T, d = 2, 3, 130, 8
    q, k = rng.normal(size=(B, H, T, d)) * 2, rng.normal(size=(B, H, T, d))
    mask = np.ones((B, T), dtype=bool)
    mask[1, 100:] = False
    s = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d)
    s = np.where(mask[:, None, None, :], s, -np.inf)
    if causal:
        s = np.where(np.tril(np.ones((T, T), dtype=bool)), s, -np.inf)
    A = softmax(s, axis=-1)
    for normalize in (False, True):
        eager = infolens.attention_entropy(A, mask=mask, causal=causal, normalize=normalize)
        stream = infolens.attention_entropy_from_qk(q, k, mask=mask, causal=causal, block=32,
                                                    normalize=normalize)
        np.testing.assert_allclose(stream, eager, atol=1e-6, rtol=0)


def test_streaming_accepts_torch_and_checks_shapes():
    torch = pytest.importorskip("torch")
    q, k = torch.randn(1, 2, 9, 4, dtype=torch.float16), torch.randn(1, 2, 9, 4)
    A = torch.softmax(q.double() @ k.double().transpose(-1, -2) * 0.7, dim=-1)
    np.testing.assert_allclose(infolens.attention_entropy_from_qk(q, k, scale=0.7, block=4),
                               infolens.attention_entropy(A), atol=1e-9)
    with pytest.raises(InvalidParameterError, match="head_dim"):
        infolens.attention_entropy_from_qk(q, k[..., :3])


def test_distribution_entropy_of_router_rows():
    P = np.array([[0.25] * 4, [1, 0, 0, 0], [0.5, 0.5, 0, 0]])
    r = infolens.distribution_entropy(P, return_result=True)
    assert r.value == pytest.approx((2 + 0 + 1) / 3)
    assert r.details["load"] == pytest.approx([0.5833333, 0.25, 0.0833333, 0.0833333])
    assert infolens.distribution_entropy(np.full((2, 5, 8), 1 / 8)) == pytest.approx(3.0)
    with pytest.raises(InvalidParameterError, match="softmax"):
        infolens.distribution_entropy(np.array([[2.0, -1.0]]))


def test_routing_fluctuation_counts_top1_changes():
    before = np.array([[0.9, 0.1, 0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.5, 0.2, 0.3]])
    after = np.array([[0.8, 0.2, 0], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.1, 0.2, 0.7]])
    r = infolens.routing_fluctuation(before, after, return_result=True)
    assert r.value == 0.5 and r.details["changed"] == 2
    assert r.details["transitions"][1, 0] == 1 and r.details["transitions"][0, 2] == 1
    assert infolens.routing_fluctuation(before, np.log(before + 1e-9)) == 0.0  # logits too
    assert infolens.routing_fluctuation(np.array([0, 1, 2]), np.array([0, 2, 2])) == (
        pytest.approx(1 / 3))
    with pytest.raises(InvalidParameterError, match="same tokens"):
        infolens.routing_fluctuation(before, after[:3])
