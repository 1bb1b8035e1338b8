"""Neural variational mutual-information estimators (torch, imported lazily).

A critic ``T(z, y)`` is trained to maximise a lower bound on ``I(Z; Y)``:

* MINE (Belghazi et al., ICML 2018): the Donsker-Varadhan bound
  ``E_p[T] - log E_{p_z p_y}[e^T]``, trained with the moving-average bias
  correction of the gradient of the log term;
* NWJ (Nguyen, Wainwright & Jordan 2010): ``E_p[T] - e^{-1} E_{p_z p_y}[e^T]``;
* InfoNCE (van den Oord et al. 2018; Poole et al., ICML 2019):
  ``E[T(z_i, y_i) - log (1/B) sum_j e^{T(z_i, y_j)}]``, at most ``log B``.

The data are split into a training part and a held-out part (``val_fraction``);
training stops when the held-out bound has not improved for ``patience``
epochs and the value reported is the held-out bound of the best epoch, so the
estimate is not inflated by a critic that memorised its training pairs.
"""

from __future__ import annotations

import numpy as np

from infolens.core import optional
from infolens.core.result import build_result, stopwatch
from infolens.core.validation import (
    InvalidParameterError,
    check_bool,
    check_int,
    check_option,
    check_real,
    resolve_base,
)
from infolens.measures.common import check_mi_inputs
from infolens.measures.knn import PREPROCESSING, preprocess_columns

__all__ = ["infonce_mi", "mine_mi", "nwj_mi"]

CRITICS = ("concat", "separable")


def mlp(torch, d_in, hidden, d_out):
    """A ReLU multilayer perceptron ``d_in -> hidden... -> d_out`` (``torch.nn.Sequential``).

    Parameters
    ----------
    torch : module
        The ``torch`` module (from :func:`infolens.core.optional.torch`).
    d_in, d_out : int
        Input and output widths.
    hidden : sequence of int
        Hidden-layer widths.
    """
    layers, width = [], d_in
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
        width = h
    layers.append(torch.nn.Linear(width, d_out))
    return torch.nn.Sequential(*layers)


class _Critic:
    """Scores of pairs: ``scores(z, y)`` on aligned rows, ``matrix(z, y)`` on all pairs."""

    def __init__(self, torch, kind, dz, dy, hidden, embed_dim):
        self.kind = kind
        if kind == "concat":
            self.net = mlp(torch, dz + dy, hidden, 1)
            self.modules = [self.net]
        else:
            self.f = mlp(torch, dz, hidden, embed_dim)
            self.g = mlp(torch, dy, hidden, embed_dim)
            self.modules = [self.f, self.g]
        self.torch = torch

    def parameters(self):
        return [p for m in self.modules for p in m.parameters()]

    def state(self):
        return [{k: v.clone() for k, v in m.state_dict().items()} for m in self.modules]

    def load(self, state):
        for m, s in zip(self.modules, state):
            m.load_state_dict(s)

    def scores(self, z, y):
        if self.kind == "concat":
            return self.net(self.torch.cat([z, y], dim=1)).squeeze(1)
        return (self.f(z) * self.g(y)).sum(dim=1)

    def matrix(self, z, y):
        """``S[i, j] = T(z_i, y_j)``."""
        if self.kind == "separable":
            return self.f(z) @ self.g(y).T
        b = z.shape[0]
        zz = z[:, None, :].expand(b, b, z.shape[1])
        yy = y[None, :, :].expand(b, b, y.shape[1])
        return self.net(self.torch.cat([zz, yy], dim=2).reshape(b * b, -1)).reshape(b, b)


def _bound(torch, objective, critic, z, y, gen):
    """The objective's bound on one batch (a differentiable scalar) and the marginal term."""
    if objective == "infonce":
        S = critic.matrix(z, y)
        b = S.shape[0]
        return (S.diagonal() - torch.logsumexp(S, dim=1)).mean() + np.log(b), None, None
    joint = critic.scores(z, y).mean()
    if critic.kind == "separable":
        S = critic.matrix(z, y)
        b = S.shape[0]
        off = S[~torch.eye(b, dtype=torch.bool)]
    else:
        perm = torch.randperm(z.shape[0], generator=gen)
        off = critic.scores(z, y[perm])
    if objective == "nwj":
        return joint - torch.exp(off - 1.0).mean(), joint, off
    log_mean_exp = torch.logsumexp(off, dim=0) - np.log(off.numel())
    return joint - log_mean_exp, joint, off


def _heldout(torch, objective, critic, z, y, batch_size, gen, n_perm=10):
    """The bound on held-out data, with many marginal pairs for a low-variance estimate."""
    with torch.no_grad():
        if objective == "infonce":
            vals, weights = [], []
            idx = torch.randperm(z.shape[0], generator=gen)
            for s in range(0, z.shape[0], batch_size):
                sel = idx[s:s + batch_size]
                if sel.numel() < 2:
                    continue
                v, _, _ = _bound(torch, objective, critic, z[sel], y[sel], gen)
                vals.append(float(v))
                weights.append(sel.numel())
            return float(np.average(vals, weights=weights))
        joint = float(critic.scores(z, y).mean())
        offs = [critic.scores(z, y[torch.randperm(z.shape[0], generator=gen)])
                for _ in range(n_perm)]
        off = torch.cat(offs)
        if objective == "nwj":
            return joint - float(torch.exp(off - 1.0).mean())
        return joint - float(torch.logsumexp(off, dim=0) - np.log(off.numel()))


def _fit(objective, caller, Z, Y, *, y_kind, critic, hidden, embed_dim, epochs, batch_size,
         lr, weight_decay, patience, val_fraction, ema, preprocess, random_state, base,
         return_result):
    check_bool(return_result, "return_result", caller)
    preprocess = check_option(preprocess, "preprocess", caller, PREPROCESSING)
    critic_kind = check_option(critic, "critic", caller, CRITICS)
    hidden = _check_hidden(hidden, caller)
    embed_dim = check_int(embed_dim, "embed_dim", caller, low=1)
    epochs = check_int(epochs, "epochs", caller, low=1)
    batch_size = check_int(batch_size, "batch_size", caller, low=2)
    lr = check_real(lr, "lr", caller, low=0.0, closed_low=False)
    weight_decay = check_real(weight_decay, "weight_decay", caller, low=0.0)
    patience = check_int(patience, "patience", caller, low=1)
    val_fraction = check_real(val_fraction, "val_fraction", caller, low=0.0, high=0.9,
                              closed_low=False)
    ema = check_real(ema, "ema", caller, low=0.0, high=1.0, closed_low=False)
    random_state = check_int(random_state, "random_state", caller, low=0, allow_none=True)
    log_base, unit = resolve_base(base, caller)
    X, Yv, kind = check_mi_inputs(Z, Y, caller, y_kind)
    n = X.shape[0]
    n_val = int(round(val_fraction * n))
    if n_val < 2 or n - n_val < 2:
        raise InvalidParameterError(
            f"{caller} needs at least 2 training and 2 held-out samples; with {n} samples "
            f"and val_fraction={val_fraction} there are {n - n_val} and {n_val}. Pass more "
            f"samples or change val_fraction.")
    if preprocess == "auto":
        preprocess = "rank"
    torch = optional.torch("MINE/NWJ/InfoNCE")
    with stopwatch() as clock:
        seed = 0 if random_state is None else random_state
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        Xs = preprocess_columns(X, preprocess)
        if kind == "labels":
            Ys = np.eye(int(Yv.max()) + 1)[Yv]
        else:
            Ys = preprocess_columns(Yv, preprocess)
        perm = np.random.default_rng(seed).permutation(n)
        tz = torch.as_tensor(Xs[perm], dtype=torch.float32)
        ty = torch.as_tensor(Ys[perm], dtype=torch.float32)
        z_val, y_val, z_tr, y_tr = tz[:n_val], ty[:n_val], tz[n_val:], ty[n_val:]
        model = _Critic(torch, critic_kind, tz.shape[1], ty.shape[1], hidden, embed_dim)
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
        bsz = min(batch_size, z_tr.shape[0])
        best, best_state, best_epoch, since, history = -np.inf, model.state(), 0, 0, []
        moving = None
        for epoch in range(epochs):
            order = torch.randperm(z_tr.shape[0], generator=gen)
            for s in range(0, z_tr.shape[0] - bsz + 1, bsz):
                sel = order[s:s + bsz]
                value, joint, off = _bound(torch, objective, model, z_tr[sel], y_tr[sel],
                                           gen)
                if objective == "mine":
                    # Moving-average bias correction (Belghazi et al., sec. 3.2): the
                    # gradient of log E[e^T] is E[grad e^T] / E[e^T]; the denominator is
                    # replaced by a running average so the mini-batch gradient is
                    # less biased.
                    mean_exp = torch.exp(off).mean()
                    current = float(mean_exp.detach())
                    moving = current if moving is None else (1 - ema) * moving + ema * current
                    loss = -(joint - mean_exp / moving)
                else:
                    loss = -value
                if not bool(torch.isfinite(loss.detach())):
                    raise _diverged(caller, lr, f"the training loss became "
                                                f"{float(loss.detach())} in epoch {epoch + 1}")
                opt.zero_grad()
                loss.backward()
                opt.step()
            held = _heldout(torch, objective, model, z_val, y_val, bsz, gen)
            history.append(held)
            if held > best:
                best, best_state, best_epoch, since = held, model.state(), epoch, 0
            else:
                since += 1
                if since >= patience:
                    break
        model.load(best_state)
        nats = _heldout(torch, objective, model, z_val, y_val, bsz,
                        torch.Generator().manual_seed(seed + 1))
        if not np.isfinite(nats) or nats < DIVERGED_NATS:
            raise _diverged(caller, lr, f"the best held-out bound is {nats:.4g} nats, where a "
                                        f"constant critic gives 0")
    params = {"critic": critic_kind, "hidden": list(hidden), "embed_dim": embed_dim,
              "epochs": epochs, "batch_size": batch_size, "lr": lr,
              "weight_decay": weight_decay, "patience": patience,
              "val_fraction": val_fraction, "preprocess": preprocess, "y_kind": kind,
              "random_state": random_state,
              "base": base}
    if objective == "mine":
        params["ema"] = ema
    details = {"best_epoch": best_epoch, "epochs_run": len(history),
               "heldout_history": [h / log_base for h in history], "n_train": n - n_val,
               "n_heldout": n_val}
    if objective == "infonce":
        details["upper_limit"] = float(np.log(bsz)) / log_base
    return build_result(caller, nats / log_base, unit, params, elapsed_s=clock[0],
                        details=details, return_result=return_result)


#: A held-out bound below this (nats) means training diverged: a constant critic gives 0.
DIVERGED_NATS = -2.0


def _diverged(caller, lr, what):
    """The error of a training run that diverged (too large a learning rate, mostly)."""
    return InvalidParameterError(
        f"{caller}: training diverged: {what}. Lower the learning rate (got lr={lr!r}; the "
        f"default is 1e-3) or pass more samples.")


def _check_hidden(hidden, caller):
    ok = isinstance(hidden, (tuple, list)) and len(hidden) > 0 and all(
        isinstance(h, (int, np.integer)) and not isinstance(h, bool) and h > 0 for h in hidden)
    if not ok:
        raise InvalidParameterError(
            f"The 'hidden' parameter of {caller} must be a non-empty tuple of positive ints "
            f"(layer widths), e.g. (128, 128). Got {hidden!r} instead.")
    return tuple(int(h) for h in hidden)


_PARAMS_DOC = """
    Parameters
    ----------
    Z : array-like of shape (n_samples, n_features)
    Y : array-like of shape (n_samples,) or (n_samples, n_dims)
        Continuous vectors, or labels (one-hot encoded for the critic).
    y_kind : {{"auto", "continuous", "labels"}}, default="auto"
    critic : {{"concat", "separable"}}, default="{critic}"
        ``"concat"``: an MLP on ``[z, y]``; ``"separable"``: ``f(z) . g(y)`` with
        two MLPs (all B^2 pairs of a batch at the cost of B).
    hidden : tuple of int, default=(128, 128)
        Hidden-layer widths of each MLP.
    embed_dim : int, default=32
        Output width of ``f`` and ``g`` (separable critic).
    epochs : int, default=300
        Upper limit on training epochs.
    batch_size : int, default={batch}
    lr : float, default={lr}
        Adam learning rate.
    weight_decay : float, default=0.01
        L2 penalty of Adam; it delays the critic's overfitting, which matters
        most for InfoNCE in high dimension (25x25 Gaussian: -14 % without, -6 %
        with).
    patience : int, default=20
        Stop after this many epochs without a better held-out bound.
    val_fraction : float, default=0.2
        Share of the samples held out (never trained on); the estimate is
        the bound on them.
    ema : float, default=0.01
        Weight of the newest batch in MINE's moving average (MINE only).
    preprocess : {{"auto", "rank", "standardize", "none"}}, default="auto"
        Per-column map of ``Z`` and continuous ``Y`` before training; ``"auto"``
        is ``"rank"`` (normal scores, MI-preserving), which keeps heavy-tailed
        inputs such as Student-t from saturating the critic.
    random_state : int or None, default=0
        Seeds the split, the initialisation and the batches.
    base : {{2, "e", 10}}, default=2
        2 gives bits, ``"e"`` nats.
    return_result : bool, default=False
        A :class:`infolens.Result` whose ``details`` hold the held-out bound of
        every epoch and the epoch kept.

    Returns
    -------
    float or Result
        A lower-bound estimate, in the unit of ``base``; stochastic (depends on
        ``random_state``).
"""


def mine_mi(Z, Y, *, y_kind="auto", critic="concat", hidden=(128, 128), embed_dim=32,
            epochs=300, batch_size=256, lr=1e-3, weight_decay=0.01, patience=20,
            val_fraction=0.2, ema=0.01, preprocess="auto", random_state=0, base=2,
            return_result=False):
    return _fit("mine", "mine_mi", Z, Y, **_settings(locals()))


def nwj_mi(Z, Y, *, y_kind="auto", critic="concat", hidden=(128, 128), embed_dim=32,
           epochs=300, batch_size=256, lr=1e-3, weight_decay=0.01, patience=20,
           val_fraction=0.2, ema=0.01, preprocess="auto", random_state=0, base=2,
           return_result=False):
    return _fit("nwj", "nwj_mi", Z, Y, **_settings(locals()))


def infonce_mi(Z, Y, *, y_kind="auto", critic="separable", hidden=(128, 128), embed_dim=32,
               epochs=300, batch_size=256, lr=1e-3, weight_decay=0.01, patience=20,
               val_fraction=0.2, ema=0.01, preprocess="auto", random_state=0, base=2,
               return_result=False):
    return _fit("infonce", "infonce_mi", Z, Y, **_settings(locals()))


def _settings(arguments):
    """The keyword arguments of a public wrapper, without the data."""
    return {k: v for k, v in arguments.items() if k not in ("Z", "Y")}


mine_mi.__doc__ = """MINE: Donsker-Varadhan bound with a moving-average gradient correction.

    References
    ----------
    M. I. Belghazi et al., "Mutual Information Neural Estimation", ICML (2018).
""" + _PARAMS_DOC.format(critic="concat", batch=256, lr="1e-3")

nwj_mi.__doc__ = """NWJ (f-divergence) lower bound ``E_p[T] - E_q[e^(T - 1)]``.

    References
    ----------
    X. Nguyen, M. J. Wainwright, M. I. Jordan, IEEE Trans. Inf. Theory 56 (2010);
    B. Poole et al., "On Variational Bounds of Mutual Information", ICML (2019).
""" + _PARAMS_DOC.format(critic="concat", batch=256, lr="1e-3")

infonce_mi.__doc__ = """InfoNCE contrastive lower bound (at most ``log batch_size``).

    References
    ----------
    A. van den Oord, Y. Li, O. Vinyals, "Representation Learning with Contrastive
    Predictive Coding", arXiv 1807.03748 (2018).
""" + _PARAMS_DOC.format(critic="separable", batch=256, lr="1e-3")
