"""The neural dual of the Wasserstein-1 dependency: a 1-Lipschitz critic.

Kantorovich-Rubinstein: ``W1(P, Q) = sup_{|f|_L <= 1} E_P f - E_Q f``.  The critic is an
MLP whose every weight matrix has all singular values equal to 1
(``torch.nn.utils.parametrizations.orthogonal``: orthonormal rows or columns) and whose
activation is MaxMin (GroupSort of size 2, Anil, Lucas & Grosse, ICML 2019).  Both are
1-Lipschitz in the Euclidean norm, so the network is too, by construction -- the hard form
of spectral normalisation: a gradient penalty only discourages steeper slopes (measured
1-6 % above the W2 upper bound).  Plain spectral normalisation (largest singular value 1,
power iteration) also keeps the bound, but lets the slope shrink layer by layer: with it the
critic reached 1.80 on 16 shared factors, below the analytic lower bound 2.18, against
2.30 with orthogonal layers (N = 4000, rho = 0.8).

The critic is trained on one half of the samples (a fifth of it held out for early
stopping) and the dual objective is evaluated on the other half, so the estimate is not
inflated by fitting noise; product samples pair ``Z`` with ``Y`` of a random permutation.
"""

from __future__ import annotations

import numpy as np

from infolens.core import optional

__all__ = ["neural_w1"]


def _critic(torch, d_in, hidden):
    """A MaxMin MLP ``d_in -> hidden... -> 1`` whose linear layers are orthogonal."""
    orthogonal = torch.nn.utils.parametrizations.orthogonal

    class MaxMin(torch.nn.Module):
        def forward(self, x):
            a, b = x.chunk(2, dim=1)
            return torch.cat([torch.maximum(a, b), torch.minimum(a, b)], dim=1)

    layers, width = [], d_in
    for h in hidden:
        layers += [orthogonal(torch.nn.Linear(width, 2 * (h // 2))), MaxMin()]
        width = 2 * (h // 2)
    layers.append(orthogonal(torch.nn.Linear(width, 1)))
    return torch.nn.Sequential(*layers)


def _gap(torch, net, z, y, gen, n_perm):
    """``mean f(joint) - mean f(product)`` with ``n_perm`` permutations of ``y``."""
    joint = net(torch.cat([z, y], dim=1)).mean()
    prod = torch.stack([net(torch.cat([z, y[torch.randperm(len(y), generator=gen)]],
                                      dim=1)).mean() for _ in range(n_perm)]).mean()
    return joint - prod


def neural_w1(A, B, *, hidden, epochs, batch_size, lr, patience, random_state):
    """Held-out neural estimate of ``W1(P_AB, P_A x P_B)``.

    Parameters
    ----------
    A, B : ndarray of shape (n_samples, d_a), (n_samples, d_b)
        The two variables, already scaled.
    hidden : tuple of int
        Hidden widths of the critic (rounded down to even numbers for MaxMin).
    epochs, batch_size, lr, patience : int, int, float, int
        Adam training: at most ``epochs`` passes over the training part, stopped when
        the validation objective has not improved for ``patience`` epochs; the best
        critic is kept.
    random_state : int or None
        Seeds the split, the permutations and the initial weights.

    Returns
    -------
    value : float
        The dual objective on the evaluation half (a lower bound of W1 in expectation).
    details : dict
        ``epochs_run``, ``best_epoch``, ``train_value`` (the best validation objective).
    """
    torch = optional.torch("wasserstein_dependency(method='neural')")
    threads = torch.get_num_threads()
    # A critic this small gains nothing from intra-op threads and loses much when the
    # cores are shared (measured 10x slower with 2 threads on 2 busy cores).
    torch.set_num_threads(1)
    try:
        return _train(torch, A, B, hidden, epochs, batch_size, lr, patience, random_state)
    finally:
        torch.set_num_threads(threads)


def _train(torch, A, B, hidden, epochs, batch_size, lr, patience, random_state):
    """:func:`neural_w1` with ``torch`` set up."""
    seed = 0 if random_state is None else int(random_state)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    n = A.shape[0]
    order = rng.permutation(n)
    half = n // 2
    n_val = max(2, half // 5)
    parts = [order[:half - n_val], order[half - n_val:half], order[half:]]
    tensors = [(torch.as_tensor(A[i], dtype=torch.float32),
                torch.as_tensor(B[i], dtype=torch.float32)) for i in parts]
    (z_fit, y_fit), (z_val, y_val), (z_eval, y_eval) = tensors
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = _critic(torch, A.shape[1] + B.shape[1], hidden)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    best, best_state, best_epoch, epoch = -np.inf, None, 0, 0
    for epoch in range(1, epochs + 1):
        net.train()
        idx = torch.randperm(len(z_fit), generator=gen)
        for s in range(0, len(idx), batch_size):
            sel = idx[s:s + batch_size]
            if len(sel) < 2:
                continue
            loss = -_gap(torch, net, z_fit[sel], y_fit[sel], gen, 1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            val = float(_gap(torch, net, z_val, y_val, gen, 4))
        if val > best:
            best, best_epoch = val, epoch
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        elif epoch - best_epoch >= patience:
            break
    net.load_state_dict(best_state)
    net.eval()
    with torch.no_grad():
        value = float(_gap(torch, net, z_eval, y_eval, gen, 10))
    return value, {"epochs_run": epoch, "best_epoch": best_epoch, "train_value": best}
