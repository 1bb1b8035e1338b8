"""The measure registry: which measures exist and what they take, declared once.

Every reader of "which measures exist" reads :data:`MEASURES`: the dispatchers
(:func:`infolens.entropy`, :func:`infolens.mutual_information`,
:func:`infolens.list_methods`), :func:`infolens.bootstrap_ci` and
:func:`infolens.permutation_test`, the command line (one subcommand per measure, its
options generated from the entry and the function's docstring), the batch manifest
(:func:`infolens.batch.manifest.resolve_measure`), the monitor's
:class:`infolens.monitor.Measure` and the parameter meta-test.

An entry (:class:`MethodInfo`) gives the measure's ``method=`` name, its function, its
aliases, its kind (:data:`KINDS`), unit, the reference kinds it takes (a subset of the
one ``y_kind`` vocabulary, :data:`infolens.measures.common.Y_KIND_VOCABULARY`), the
constraints of each parameter (:class:`~infolens.core.validation.Interval`,
:class:`~infolens.core.validation.Options`, ...; the defaults are read from the
function's signature, never re-typed), randomness, cost and literature reference, and
how the command line spells a parameter when not ``--param-name``.

Adding a measure
----------------
1. Write the function in the module of its family under ``infolens/measures/``:
   ``f(Z, *, ..., return_result=False)`` (or ``f(Z, Y, *, y_kind="auto", ...)`` for a
   mutual information), validating with :mod:`infolens.core.validation` and returning
   through :func:`infolens.core.result.build_result`; document every parameter in its
   numpydoc ``Parameters`` section (the command line's ``--help`` is read from it).
2. Import it at the top of this module and add one ``_entry(...)`` to :data:`MEASURES`
   with the constraints of every keyword parameter (``return_result`` and ``y_kind``
   are added from ``y_kinds``).
3. Export it from ``infolens/__init__.py`` (import line and ``__all__``).
4. Run ``tests/test_registry.py`` and ``tests/test_validation.py``: they check that every
   parameter has a constraint that its default meets, that values breaking the
   constraints are refused, and that the measure is reachable from the command line
   (``infolens <function> --help``), a batch manifest and the monitor.
5. Nothing else: ``entropy``/``mutual_information``, the CLI subcommand, manifests and
   ``Measure("<name>")`` pick it up from the entry.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from infolens.core.validation import (
    BOOLEAN,
    MAPPING,
    WIDTHS,
    Interval,
    InvalidParameterError,
    Options,
)
from infolens.kernels.bandwidth import BANDWIDTH_RULES
from infolens.measures.adaptive import adaptive_binning_mi
from infolens.measures.binning import cse, csmi
from infolens.measures.common import PARTITION_Y_KINDS, Y_KINDS
from infolens.measures.adjacency import ADJACENCIES, ase, asmi
from infolens.measures.cauchy_schwarz import cauchy_schwarz_mi
from infolens.measures.compressed import COMPRESSORS, compressed_mi
from infolens.measures.diffusion import PRESETS, dse, dsmi
from infolens.measures.kde import EVALUATIONS, kde_mi
from infolens.measures.kde_grid import BANDWIDTH_RULES as KDE_BANDWIDTHS
from infolens.measures.kernel_matrix import KERNELS
from infolens.measures.kernel_matrix import METHODS as KERNEL_METHODS
from infolens.measures.kernel_matrix import (
    renyi_entropy,
    renyi_mi,
    vendi_score,
    von_neumann_entropy,
)
from infolens.measures.knn import PREPROCESSING, kl_entropy, ksg_mi
from infolens.measures.neural import CRITICS, infonce_mi, mine_mi, nwj_mi
from infolens.measures.quality import NUCLEAR_METHODS, alpha_req, nuclear_norm, rankme
from infolens.measures.wasserstein import WDM_METHODS, wasserstein_dependency
from infolens.spectrum.planning import METHODS
from infolens.spectrum.precision import PRECISIONS

__all__ = ["KINDS", "MEASURES", "MethodInfo", "find", "list_methods", "lookup", "require"]

#: ``"entropy"`` of ``Z``; ``"mi"`` between ``Z`` and ``Y``; ``"score"`` of ``Z`` in its own
#: unit (called by function name only); ``"dependence"`` between ``Z`` and ``Y`` that is no
#: mutual information (none registered yet).
KINDS = ("entropy", "mi", "score", "dependence")

#: How the command line spells a parameter in every measure, unless an entry says otherwise.
CLI_FLAGS = {"random_state": "--seed"}


@dataclass(frozen=True)
class MethodInfo:
    """One registered measure: what it measures, what it takes and what it costs.

    Attributes
    ----------
    name : str
        Value of ``method=`` in :func:`infolens.entropy` / :func:`infolens.mutual_information`.
    kind : {"entropy", "mi", "score", "dependence"}
        ``"score"`` methods (Vendi, RankMe, alpha-ReQ, nuclear norm) are called by
        their function name only.
    function : str
        The public function, ``infolens.<function>``.
    unit : str
        Unit of the value with default arguments ("bits" unless ``base`` is
        changed; scores have their own units).
    y_kinds : tuple of str
        Reference kinds accepted (``y_kind`` values besides ``"auto"``), from
        :data:`infolens.measures.common.Y_KIND_VOCABULARY`; empty without ``Y``.
    stochastic : bool
        Whether the value depends on a random seed beyond tie-breaking.
    cost : str
        Time and memory class in ``N`` samples and ``D`` features.
    reference : str
        Literature reference.
    aliases : tuple of str
        Further names that find the entry (former function names).
    func : callable
        The function itself.
    constraints : dict
        Parameter name -> list of constraints, any one of which a valid value meets
        (``None`` in the list allows None).
    cli : dict
        Parameter name -> command-line flag where it is not ``--param-name``; a
        boolean flag sets the opposite of the default.
    renamed : dict
        Former parameter name -> current name, for parameters kept as deprecated
        aliases (they take the current name's constraints or None; no CLI option).
    examples : tuple of str
        Command lines for ``infolens <function> --help`` (generated when empty).
    eigenvalues : bool
        Whether the result can carry eigenvalues (``--eigenvalues`` on the command line).
    """

    name: str
    kind: str
    function: str
    unit: str
    y_kinds: tuple
    stochastic: bool
    cost: str
    reference: str
    aliases: tuple = ()
    func: object = field(default=None, compare=False, repr=False)
    constraints: dict = field(default_factory=dict, compare=False, repr=False)
    cli: dict = field(default_factory=dict, compare=False, repr=False)
    renamed: dict = field(default_factory=dict, compare=False, repr=False)
    examples: tuple = field(default=(), compare=False, repr=False)
    eigenvalues: bool = field(default=False, compare=False, repr=False)

    @property
    def parameters(self):
        """Keyword parameters of the function with their defaults, in signature order."""
        return {n: p.default for n, p in inspect.signature(self.func).parameters.items()
                if p.kind is p.KEYWORD_ONLY}

    @property
    def needs_reference(self):
        """Whether the function takes a reference variable ``Y``."""
        return "Y" in inspect.signature(self.func).parameters

    @property
    def names(self):
        """Every name that finds this entry: function, ``method=`` name, aliases."""
        return (self.function, self.name) + self.aliases


def _entry(func, name, kind, unit, constraints, *, cost, reference, y_kinds=(),
           stochastic=False, aliases=(), cli=None, renamed=None, examples=(),
           eigenvalues=False):
    """One :class:`MethodInfo`; ``return_result``, ``y_kind`` (from ``y_kinds``) and the
    renamed parameters get their constraints here, the defaults stay in the signature."""
    constraints = dict(constraints, return_result=[BOOLEAN])
    for old, new in (renamed or {}).items():
        constraints[old] = constraints[new] + [None]
    if "y_kind" in inspect.signature(func).parameters:
        constraints["y_kind"] = [Options("auto", *y_kinds)]
    return MethodInfo(name, kind, func.__name__, unit, tuple(y_kinds), stochastic, cost,
                      reference, tuple(aliases), func, constraints, {**CLI_FLAGS, **(cli or {})},
                      dict(renamed or {}), tuple(examples), eigenvalues)


# ---------------------------------------------------------------- shared constraints
_POSITIVE = Interval(int, 1)
_BASE = {"base": [Options(2, "e", 10)]}
_SEED = {"random_state": [Interval(int, 0), None]}
_RULE_SIGMA = [Interval(float, 0, None, "neither"), Options(*BANDWIDTH_RULES)]
_ORDER = [Interval(float, 0), Options(float("inf"))]
_SUBSAMPLING = {"max_n": [Interval(int, 2), None, Options("auto")],
                "preset": [Options(*PRESETS)], **_BASE, **_SEED}
_SPECTRAL = {"sigma": [Interval(float, 0, None, "neither"), Options("auto", *BANDWIDTH_RULES)],
             "precision": [Options(*PRECISIONS)], "method": [Options(*METHODS)],
             "method_options": [MAPPING, None], **_SUBSAMPLING}
_GROUPS = {"n_clusters": [Interval(int, 2)], "n_repeats": [_POSITIVE]}
_DIFFUSION = {"t": [_POSITIVE], "alpha": [Interval(float, 0, 1)], "keep_trivial": [BOOLEAN],
              "matrix_entry": [BOOLEAN], **_SPECTRAL}
_ADJACENCY = {"adjacency": [Options(*ADJACENCIES)], "n_neighbors": [_POSITIVE],
              "anisotropic": [BOOLEAN], **_SPECTRAL}
_BINNING = {"n_bins": [_POSITIVE], **_SUBSAMPLING}
_KERNEL = {"kernel": [Options(*KERNELS)], "sigma": _RULE_SIGMA,
           "method": [Options(*KERNEL_METHODS)], "method_options": [MAPPING, None]}
_NEURAL = {"critic": [Options(*CRITICS)], "hidden": [WIDTHS], "embed_dim": [_POSITIVE],
           "epochs": [_POSITIVE], "batch_size": [Interval(int, 2)],
           "lr": [Interval(float, 0, None, "neither")], "weight_decay": [Interval(float, 0)],
           "patience": [_POSITIVE], "val_fraction": [Interval(float, 0, 0.9, "right")],
           "ema": [Interval(float, 0, 1, "right")], "preprocess": [Options(*PREPROCESSING)],
           **_BASE, **_SEED}

_DSE = "Liao, Liu et al., arXiv 2312.04823 (2023)"
_GIRALDO = "Giraldo, Rao & Principe, IEEE TIT 61 (2015)"
_CUBIC = "O(N^2 D + N^3) time, O(N^2) memory"
_SPLIT = "O(classes x (1 + repeats) x n_c^3)"
_TRAINED = "O(epochs x N x network); torch"
_SVD = "O(N D min(N, D))"
_PARTITION = PARTITION_Y_KINDS[1:]
_ESTIMATOR = Y_KINDS[1:]
_DIFFUSION_CLI = {"keep_trivial": "--drop-trivial"}

#: Every registered measure, entropies first, then mutual informations, then scores.
MEASURES = (
    _entry(dse, "dse", "entropy", "bits", _DIFFUSION, cost=_CUBIC, reference=_DSE,
           cli=_DIFFUSION_CLI, eigenvalues=True, examples=(
               "infolens dse embeddings.npy",
               "infolens dse features.npz --key penultimate --t 2",
               "infolens dse Z.csv --preset dse-dsmi      # the reference's numbers (sigma=10)",
               "infolens dse Z.pt --sigma rms --base e --json")),
    _entry(ase, "ase", "entropy", "bits", _ADJACENCY, cost=_CUBIC, reference=_DSE,
           eigenvalues=True, examples=(
               "infolens ase embeddings.npy",
               "infolens ase Z.npy --adjacency knn --n-neighbors 15",
               "infolens ase Z.npy --anisotropic --json --eigenvalues")),
    _entry(cse, "cse", "entropy", "bits", _BINNING, cost="O(N D log N)", reference=_DSE,
           examples=("infolens cse embeddings.npy", "infolens cse Z.csv --n-bins 10 --json")),
    _entry(kl_entropy, "kl", "entropy", "bits",
           {"k": [_POSITIVE], "metric": [Options("euclidean", "chebyshev")], **_BASE},
           cost="O(N log N) for D <= 16, else O(N^2 D)",
           reference="Kozachenko & Leonenko, Probl. Inf. Transm. 23 (1987)"),
    _entry(renyi_entropy, "renyi", "entropy", "bits", {"order": _ORDER, **_KERNEL, **_BASE},
           renamed={"alpha": "order"}, cost=_CUBIC, reference=_GIRALDO, eigenvalues=True),
    _entry(von_neumann_entropy, "von_neumann", "entropy", "bits", {**_KERNEL, **_BASE},
           cost=_CUBIC, reference=_GIRALDO, eigenvalues=True),
    _entry(dsmi, "dsmi", "mi", "bits", {**_GROUPS, **_DIFFUSION}, cost=_SPLIT, reference=_DSE,
           y_kinds=_PARTITION, cli=_DIFFUSION_CLI, examples=(
               "infolens dsmi embeddings.npy --labels labels.npy",
               "infolens dsmi data.npz --key Z --labels data.npz --labels-key y",
               "infolens dsmi Z.npy --labels targets.csv --y-kind scalar --n-clusters 5",
               "infolens dsmi Z.npy --labels inputs.npy --y-kind vector --json",
               "infolens dsmi Z.npy --labels y.npy --preset dse-dsmi   # the reference's numbers")),
    _entry(asmi, "asmi", "mi", "bits", {**_GROUPS, **_ADJACENCY}, cost=_SPLIT, reference=_DSE,
           y_kinds=_PARTITION, examples=(
               "infolens asmi embeddings.npy --labels labels.npy",
               "infolens asmi Z.npy --labels y.csv --adjacency knn --json")),
    _entry(csmi, "csmi", "mi", "bits", {**_GROUPS, **_BINNING}, cost="O(N D log N)",
           reference=_DSE, y_kinds=_PARTITION, examples=(
               "infolens csmi embeddings.npy --labels labels.npy",
               "infolens csmi Z.npy --labels y.npy --n-bins 4 --preset dse-dsmi")),
    _entry(ksg_mi, "ksg", "mi", "bits",
           {"k": [_POSITIVE], "algorithm": [Interval(int, 1, 2)],
            "preprocess": [Options(*PREPROCESSING)], "jitter": [Interval(float, 0)],
            **_BASE, **_SEED},
           y_kinds=_ESTIMATOR, cost="O(N log N) for D <= 16, else O(N^2 D)",
           reference="Kraskov, Stoegbauer & Grassberger, PRE 69 (2004); Ross, PLoS ONE 9 (2014)"),
    _entry(mine_mi, "mine", "mi", "bits", _NEURAL, y_kinds=_ESTIMATOR, stochastic=True,
           cost=_TRAINED, reference="Belghazi et al., ICML (2018)"),
    _entry(nwj_mi, "nwj", "mi", "bits", _NEURAL, y_kinds=_ESTIMATOR, stochastic=True,
           cost=_TRAINED, reference="Nguyen, Wainwright & Jordan, IEEE TIT 56 (2010)"),
    _entry(infonce_mi, "infonce", "mi", "bits", _NEURAL, y_kinds=_ESTIMATOR, stochastic=True,
           cost="O(epochs x N x (network + batch)); torch",
           reference="van den Oord et al., arXiv 1807.03748"),
    _entry(renyi_mi, "renyi", "mi", "bits",
           {"order": _ORDER, "kernel": [Options(*KERNELS)], "sigma": _RULE_SIGMA,
            "sigma_y": _RULE_SIGMA, **_BASE},
           renamed={"alpha": "order"}, y_kinds=_ESTIMATOR, cost=_CUBIC, reference=_GIRALDO),
    _entry(cauchy_schwarz_mi, "cs", "mi", "bits",
           {"sigma": _RULE_SIGMA, "sigma_y": _RULE_SIGMA, **_BASE}, aliases=("cs_mi",),
           y_kinds=_ESTIMATOR, cost="O(N^2 D) time, O(N^2) memory",
           reference="Principe (2010); Yu et al., ICLR (2024)"),
    _entry(compressed_mi, "compressed", "mi", "bits",
           {"n_components": [_POSITIVE], "compressor": [Options(*COMPRESSORS)],
            "k": [_POSITIVE], "epochs": [_POSITIVE], "lr": [Interval(float, 0, None, "neither")],
            **_BASE, **_SEED},
           y_kinds=_ESTIMATOR, cost="PCA O(N D k) (or autoencoder training) + KSG in k dims",
           reference="Butakov et al., ICLR (2024)"),
    _entry(adaptive_binning_mi, "adaptive_binning", "mi", "bits",
           {"n_bins": [Interval(int, 2)], "n_bins_y": [Interval(int, 2), None], **_BASE},
           y_kinds=_ESTIMATOR, cost="O(N D log N)",
           reference="Chelombiev, Houghton & O'Donnell, ICLR (2019)"),
    _entry(kde_mi, "kde", "mi", "bits",
           {"bandwidth": [Options(*KDE_BANDWIDTHS), Interval(float, 0, None, "neither")],
            "bandwidth_multiplier": [Interval(float, 0, None, "neither")],
            "grid_size": [Interval(int, 16)], "copula": [BOOLEAN],
            "evaluation": [Options(*EVALUATIONS)], **_BASE},
           y_kinds=_ESTIMATOR, cost="O(N + G^2 log G) per pair on the grid; O(N^2 D) at samples",
           reference="Yang, Asgharian et al., fastHDMI, arXiv 2410.10082 (2024)"),
    _entry(wasserstein_dependency, "wasserstein", "dependence", "standardised distance",
           {"method": [Options(*WDM_METHODS)], "p": [Options(1, 2), None],
            "standardize": [BOOLEAN], "n_projections": [_POSITIVE], "hidden": [WIDTHS],
            "epochs": [_POSITIVE], "batch_size": [Interval(int, 2)],
            "lr": [Interval(float, 0, None, "neither")], "patience": [_POSITIVE], **_SEED},
           y_kinds=_ESTIMATOR, stochastic=True,
           cost="neural O(epochs x N x network), torch; exact O(N^3) (N <= 5000), POT",
           reference="Ozair et al., NeurIPS (2019)"),
    _entry(vendi_score, "vendi", "score", "effective samples",
           {"q": _ORDER, "dual": [Options("auto", True, False)], **_KERNEL},
           cost="O(N D^2 + D^3) dual (cosine/linear, N > D), else O(N^2 D + N^3)",
           reference="Friedman & Dieng, TMLR (2023)", eigenvalues=True),
    _entry(rankme, "rankme", "score", "effective rank", {"center": [BOOLEAN]}, cost=_SVD,
           reference="Garrido et al., ICML (2023)", eigenvalues=True),
    _entry(alpha_req, "alpha_req", "score", "exponent",
           {"n_eigenvalues": [Interval(int, 2), None], "skip_first": [Interval(int, 0)]},
           cost=_SVD, reference="Agrawal et al., NeurIPS (2022)", eigenvalues=True),
    _entry(nuclear_norm, "nuclear_norm", "score", "none",
           {"normalize": [BOOLEAN], "method": [Options(*NUCLEAR_METHODS)]},
           cost=_SVD + "; O(N D) with method='l12'",
           reference="matrix nuclear norm; method='l12': Li et al., arXiv 2410.10672 (2024)"),
)


def list_methods(kind=None):
    """Every registered measure with its unit, reference kinds, randomness, cost and reference.

    Parameters
    ----------
    kind : {None, "entropy", "mi", "score", "dependence"}, default=None
        Restrict to one kind.

    Returns
    -------
    list of MethodInfo
    """
    if kind is not None and kind not in KINDS:
        raise InvalidParameterError(
            f"The 'kind' parameter of list_methods must be one of None, "
            f"{', '.join(map(repr, KINDS))}. Got {kind!r} instead.")
    return [m for m in MEASURES if kind is None or m.kind == kind]


def lookup(method, kind, caller):
    """The entry of kind ``kind`` named ``method`` (``method=`` name, function or alias)."""
    options = list_methods(kind)
    for m in options:
        if method in m.names:
            return m
    names = ", ".join(repr(m.name) for m in options)
    raise InvalidParameterError(
        f"The 'method' parameter of {caller} must be one of {names}. Got {method!r} instead. "
        f"See infolens.list_methods({kind!r}) for units and costs.")


def find(name):
    """The entry called ``name`` (function name or alias first, then a unique ``method=`` name).

    Returns None when nothing is called so; a ``method=`` name that two kinds share
    (``"renyi"``) is refused with the function names to use instead.
    """
    exact = [m for m in MEASURES if name == m.function or name in m.aliases]
    if exact:
        return exact[0]
    named = [m for m in MEASURES if name == m.name]
    if len(named) > 1:
        raise InvalidParameterError(
            f"The measure name {name!r} is ambiguous: it is the method name of "
            f"{' and '.join(m.function for m in named)}. Use the function name.")
    return named[0] if named else None


def require(name, alternative):
    """:func:`find`, or an error that lists every registered measure and ``alternative``.

    ``alternative`` completes "Known measures: ...; or ..." (e.g. "name your own function
    as 'module:function'").
    """
    info = find(name)
    if info is None:
        known = ", ".join(sorted(m.function for m in MEASURES))
        raise InvalidParameterError(
            f"Unknown measure {name!r}. Known measures: {known}; or {alternative}.")
    return info
