"""One entry point for every estimator: :func:`entropy`, :func:`mutual_information`,
:func:`list_methods`.

Each method is also a public function of its own (``method="ksg"`` is
:func:`infolens.ksg_mi`); the dispatchers only look the function up, check the
keyword arguments against its signature and call it, so there is one
implementation and one docstring per method.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass

from infolens.core.validation import InvalidParameterError

__all__ = ["MethodInfo", "entropy", "list_methods", "mutual_information"]


@dataclass(frozen=True)
class MethodInfo:
    """What one method measures and what it costs.

    Attributes
    ----------
    name : str
        Value of ``method=`` in :func:`entropy` / :func:`mutual_information`.
    kind : {"entropy", "mi", "score"}
        ``"score"`` methods (Vendi, RankMe, alpha-ReQ, nuclear norm) are called by
        their function name only.
    function : str
        The public function, ``infolens.<function>``.
    unit : str
        Unit of the value with default arguments ("bits" unless ``base`` is
        changed; scores have their own units).
    y_kinds : tuple of str
        Reference variables accepted (MI methods): "labels", "scalar",
        "vector" (clustered), "continuous" (used as is).
    stochastic : bool
        Whether the value depends on a random seed beyond tie-breaking.
    cost : str
        Time and memory class in ``N`` samples and ``D`` features.
    reference : str
    """

    name: str
    kind: str
    function: str
    unit: str
    y_kinds: tuple
    stochastic: bool
    cost: str
    reference: str


_DSE_REF = "Liao, Liu et al., arXiv 2312.04823 (2023)"
_M = MethodInfo
_REGISTRY = (
    _M("dse", "entropy", "dse", "bits", (), False, "O(N^2 D + N^3) time, O(N^2) memory",
       _DSE_REF),
    _M("ase", "entropy", "ase", "bits", (), False, "O(N^2 D + N^3) time, O(N^2) memory",
       _DSE_REF),
    _M("cse", "entropy", "cse", "bits", (), False, "O(N D log N)", _DSE_REF),
    _M("kl", "entropy", "kl_entropy", "bits", (), False, "O(N log N) for D <= 16, else O(N^2 D)",
       "Kozachenko & Leonenko, Probl. Inf. Transm. 23 (1987)"),
    _M("renyi", "entropy", "renyi_entropy", "bits", (), False,
       "O(N^2 D + N^3) time, O(N^2) memory", "Giraldo, Rao & Principe, IEEE TIT 61 (2015)"),
    _M("von_neumann", "entropy", "von_neumann_entropy", "bits", (), False,
       "O(N^2 D + N^3) time, O(N^2) memory", "Giraldo, Rao & Principe, IEEE TIT 61 (2015)"),
    _M("dsmi", "mi", "dsmi", "bits", ("labels", "scalar", "vector"), False,
       "O(classes x (1 + repeats) x n_c^3)", _DSE_REF),
    _M("asmi", "mi", "asmi", "bits", ("labels", "scalar", "vector"), False,
       "O(classes x (1 + repeats) x n_c^3)", _DSE_REF),
    _M("csmi", "mi", "csmi", "bits", ("labels", "scalar", "vector"), False, "O(N D log N)",
       _DSE_REF),
    _M("ksg", "mi", "ksg_mi", "bits", ("continuous", "labels"), False,
       "O(N log N) for D <= 16, else O(N^2 D)",
       "Kraskov, Stoegbauer & Grassberger, PRE 69 (2004); Ross, PLoS ONE 9 (2014)"),
    _M("mine", "mi", "mine_mi", "bits", ("continuous", "labels"), True,
       "O(epochs x N x network); torch", "Belghazi et al., ICML (2018)"),
    _M("nwj", "mi", "nwj_mi", "bits", ("continuous", "labels"), True,
       "O(epochs x N x network); torch", "Nguyen, Wainwright & Jordan, IEEE TIT 56 (2010)"),
    _M("infonce", "mi", "infonce_mi", "bits", ("continuous", "labels"), True,
       "O(epochs x N x (network + batch)); torch", "van den Oord et al., arXiv 1807.03748"),
    _M("renyi", "mi", "renyi_mi", "bits", ("continuous", "labels"), False,
       "O(N^2 D + N^3) time, O(N^2) memory", "Giraldo, Rao & Principe, IEEE TIT 61 (2015)"),
    _M("cs", "mi", "cs_mi", "bits", ("continuous", "labels"), False,
       "O(N^2 D) time, O(N^2) memory", "Principe (2010); Yu et al., ICLR (2024)"),
    _M("compressed", "mi", "compressed_mi", "bits", ("continuous", "labels"), False,
       "PCA O(N D k) (or autoencoder training) + KSG in k dims",
       "Butakov et al., ICLR (2024)"),
    _M("adaptive_binning", "mi", "adaptive_binning_mi", "bits", ("continuous", "labels"), False,
       "O(N D log N)", "Chelombiev, Houghton & O'Donnell, ICLR (2019)"),
    _M("vendi", "score", "vendi_score", "effective samples", (), False,
       "O(N D^2 + D^3) dual (cosine/linear, N > D), else O(N^2 D + N^3)",
       "Friedman & Dieng, TMLR (2023)"),
    _M("rankme", "score", "rankme", "effective rank", (), False, "O(N D min(N, D))",
       "Garrido et al., ICML (2023)"),
    _M("alpha_req", "score", "alpha_req", "exponent", (), False, "O(N D min(N, D))",
       "Agrawal et al., NeurIPS (2022)"),
    _M("nuclear_norm", "score", "nuclear_norm", "none", (), False, "O(N D min(N, D))",
       "matrix nuclear norm of row-normalised embeddings"),
)


def list_methods(kind=None):
    """Every method with its unit, accepted reference variables, randomness, cost and reference.

    Parameters
    ----------
    kind : {None, "entropy", "mi", "score"}, default=None
        Restrict to one kind.

    Returns
    -------
    list of MethodInfo
    """
    if kind is not None and kind not in ("entropy", "mi", "score"):
        raise InvalidParameterError(
            f"The 'kind' parameter of list_methods must be one of None, 'entropy', 'mi', "
            f"'score'. Got {kind!r} instead.")
    return [m for m in _REGISTRY if kind is None or m.kind == kind]


def resolve_function(info):
    """The callable behind a :class:`MethodInfo`."""
    return getattr(importlib.import_module("infolens"), info.function)


def _lookup(method, kind, caller):
    options = [m for m in _REGISTRY if m.kind == kind]
    for m in options:
        if method in (m.name, m.function):
            return m
    names = ", ".join(repr(m.name) for m in options)
    raise InvalidParameterError(
        f"The 'method' parameter of {caller} must be one of {names}. Got {method!r} instead. "
        f"See infolens.list_methods({kind!r}) for units and costs.")


def _call(info, caller, args, kwargs):
    func = resolve_function(info)
    accepted = [p for p in inspect.signature(func).parameters.values()
                if p.kind == inspect.Parameter.KEYWORD_ONLY]
    names = {p.name for p in accepted}
    if "spectral_method" in kwargs:
        # 'method' names the estimator here; the function's own 'method' is the
        # spectral method (exact, slq, ...).
        if "method" not in names:
            raise InvalidParameterError(
                f"{caller}(method={info.name!r}) has no spectral method; drop "
                f"spectral_method={kwargs['spectral_method']!r} (it applies to the spectral "
                f"measures, e.g. method='dse', spectral_method='slq').")
        kwargs = dict(kwargs)
        kwargs["method"] = kwargs.pop("spectral_method")
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise InvalidParameterError(
            f"{caller}(method={info.name!r}) got unknown keyword argument(s) "
            f"{', '.join(map(repr, unknown))}; infolens.{info.function} accepts "
            f"{', '.join(sorted(names))}.")
    return func(*args, **kwargs)


def entropy(Z, method="dse", **kwargs):
    """Entropy of embeddings by any registered method.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    method : str, default="dse"
        One of ``[m.name for m in list_methods("entropy")]``: ``"dse"``,
        ``"ase"``, ``"cse"``, ``"kl"`` (Kozachenko-Leonenko), ``"renyi"``,
        ``"von_neumann"``.  The function name (e.g. ``"kl_entropy"``) works too.
    **kwargs
        Keyword arguments of that method's function (e.g. ``base="e"``,
        ``t=3``); unknown names are refused with the accepted ones listed.
        The function's own ``method`` (``"exact"``, ``"slq"`` ... of the
        spectral measures) is passed as ``spectral_method``.

    Returns
    -------
    float or Result
        In bits unless ``base`` says otherwise.  Differential entropies
        (``"kl"``) and spectral entropies (``"dse"``, ``"renyi"``) are different
        quantities and are not comparable with each other.
    """
    return _call(_lookup(method, "entropy", "entropy"), "entropy", (Z,), kwargs)


def mutual_information(Z, Y, method="dsmi", **kwargs):
    """Mutual information between embeddings ``Z`` and a reference variable ``Y``.

    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
    method : str, default="dsmi"
        One of ``[m.name for m in list_methods("mi")]``: ``"dsmi"``, ``"asmi"``,
        ``"csmi"``, ``"ksg"``, ``"mine"``, ``"nwj"``, ``"infonce"``, ``"renyi"``,
        ``"cs"``, ``"compressed"``, ``"adaptive_binning"``.
    **kwargs
        Keyword arguments of that method's function; its own ``method``
        (``"exact"``, ``"slq"`` ... of the spectral measures) is passed as
        ``spectral_method``.

    Returns
    -------
    float or Result
        In bits unless ``base`` says otherwise.  Only ``"ksg"``, the neural
        bounds and ``"compressed"`` estimate Shannon MI in calibrated units;
        the spectral, matrix and Cauchy-Schwarz measures are monotone proxies.
    """
    return _call(_lookup(method, "mi", "mutual_information"), "mutual_information", (Z, Y),
                 kwargs)
