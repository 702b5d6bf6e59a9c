"""Persistent contrastive divergence (PCD-k) and CD-k training.

Each update takes a shuffled minibatch and forms the positive phase from
the data, weighted by the sample weights and normalised by their sum.  The
negative phase comes from the chains after k block-Gibbs sweeps, normalised
by the number of chains.  Then the regularisers and the second-order
constraint penalty are added, the optimiser takes a step and the
constrained weights are projected.  With `rescale_hidden`, the real-valued
hidden units are then rescaled to variance 1 over the minibatch.
Minibatch order comes from a numpy generator per epoch and sampling from
the kernels' counter-based stream, both derived from the seed, so a run
does not depend on the number of threads and resumes bit for bit from a
checkpoint.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

from rbmfast._kernels import _gradient, _potts
from rbmfast._threads import blas_threads, resolve_threads, single_threaded_blas
from rbmfast.config import TrainConfig
from rbmfast.constraints import Constraints, label_constraints
from rbmfast.gauge import apply_zero_sum_gauge, project_zero_sum
from rbmfast.labels import check_weights
from rbmfast.layers import layer_from_name, layer_name
from rbmfast.optimizers import make_optimizer
from rbmfast.random import Stream, seed_sequence
from rbmfast.rbm import RBM

__all__ = ["TrainState", "fit", "train", "init_rbm", "learning_rate",
           "rescale_hidden_units"]


@dataclasses.dataclass
class TrainState:
    """Everything that changes during training, besides the RBM.

    update counts the updates done; (epoch, batch) is where the next one
    starts.  chains are the persistent visible states, stream the kernels'
    random stream, optimizer the optimiser with its buffers, history a list
    of per-epoch records.
    """

    update: int
    epoch: int
    batch: int
    chains: np.ndarray
    stream: Stream
    optimizer: object
    history: list


def learning_rate(config, update, n_updates):
    """Return the learning rate of update `update` (0-based) of `n_updates`.

    Constant until the fraction `lr_decay_start` of training, then geometric
    from `lr` to `config.final_lr()` at the last update.
    """
    start = int(config.lr_decay_start * n_updates)
    if update < start or n_updates - start <= 1:
        return config.lr
    frac = (update - start) / (n_updates - start - 1)
    return config.lr * (config.final_lr() / config.lr) ** frac


def init_rbm(config, data, weights=None):
    """Build the RBM of `config`, initialised from the data.

    Visible fields fit the independent-unit model of the data, hidden fields
    are zero and W ~ N(0, 1) weight_scale / sqrt(mean |v|^2), drawn from the
    seed (|v|^2 is the number of sites for one-hot Potts states, whose
    weights then go to the zero-sum gauge).
    """
    dtype = np.dtype(config.dtype)
    visible = layer_from_name(config.visible, data.shape[1], dtype, config.n_states)
    hidden = layer_from_name(config.hidden, config.n_hidden, dtype)
    visible.init_from_data(data, weights)
    if config.visible_gamma is not None:
        # init_from_data sets theta / gamma to the data means; keep them
        means = visible.theta.astype(np.float64) / visible.gamma
        visible.gamma = np.full(visible.n, config.visible_gamma, dtype=dtype)
        visible.theta = (means * config.visible_gamma).astype(dtype)
    rng = np.random.default_rng(seed_sequence(config.seed, 0))
    w = check_weights(weights, data.shape[0])
    if config.visible == "potts":
        mean_sq = float(data.shape[1])
    else:
        mean_sq = float(w @ np.einsum("bi,bi->b", data, data) / w.sum())
    scale = config.weight_scale / math.sqrt(max(mean_sq, 1e-12))
    W = rng.standard_normal(visible.weight_shape(config.n_hidden)) * scale
    rbm = RBM(visible, hidden, W)
    apply_zero_sum_gauge(rbm)
    return rbm


def rescale_hidden_units(rbm, data, weights=None, n_threads=None):
    """Rescale the real-valued hidden units in place to variance 1 over `data`.

    The variance of unit mu over the weighted data is the mean of
    Var[h_mu | v_b] plus the variance of E[h_mu | v_b].  The units change
    to h / std (`Layer.rescale`) and the weight columns are multiplied by
    std, which leaves the distribution of the visible units unchanged.
    Scaling a column keeps it in the null space of the linear constraints,
    and a zero column stays zero.  Units whose variance is not positive
    and finite are left as they are.

    Parameters
    ----------
    rbm : RBM
        Model with Gaussian, ReLU or dReLU hidden units.
    data : ndarray, shape (n_samples, n_visible)
        Valid visible states in the RBM's dtype.
    weights : ndarray, shape (n_samples,), optional
        Sample weights; all ones by default.

    Returns
    -------
    ndarray, shape (n_hidden,)
        The standard deviations before rescaling (1 where left as is).
    """
    hidden = rbm.hidden
    w = check_weights(weights, data.shape[0])
    p = w / w.sum()
    # one BLAS thread, so the products do not depend on the thread count
    with single_threaded_blas():
        inputs = rbm.inputs_h_from_v(data) if rbm.is_potts else data @ rbm.weights
        mean = hidden.mean(inputs, n_threads).astype(np.float64)
        var = hidden.var(inputs, n_threads).astype(np.float64)
        center = p @ mean
        total = p @ var + p @ (mean - center) ** 2
    valid = np.isfinite(total) & (total > 0)
    std = np.sqrt(np.where(valid, total, 1.0))
    hidden.rescale(1.0 / std)
    rbm.weights *= std
    return std


def new_state(rbm, config, n_chains):
    """Return the state at update 0: chains from the visible fields alone."""
    stream = Stream.from_seed(config.seed, 2)
    chains = rbm.sample_independent_visible(n_chains, stream, config.n_threads)
    optimizer = make_optimizer(config.optimizer, config.beta1, config.beta2,
                               config.eps, config.momentum)
    return TrainState(0, 0, 0, chains, stream, optimizer, [])


def train(config, data, labels=None, weights=None, callback=None, progress=False,
          stop_at_update=None):
    """Build, constrain and train an RBM from a config and data.

    Parameters
    ----------
    config : TrainConfig
    data : ndarray, shape (n_samples, n_visible)
    labels : array_like, shape (n_samples,), optional
        Label to disentangle; needed when ``config.n_free`` is set.
    weights : ndarray, shape (n_samples,), optional
        Sample weights.
    callback, progress, stop_at_update
        As in :func:`fit`.

    Returns
    -------
    rbm : RBM
    constraints : Constraints or None
    state : TrainState
    """
    data = _check_data(data, config)
    config.validate(len(data))
    lattice = config.periodic_lattice
    if lattice is not None and int(np.prod(lattice)) != data.shape[1]:
        raise ValueError(f"periodic_lattice {list(lattice)} has {int(np.prod(lattice))} "
                         f"sites but the data have {data.shape[1]} visible units")
    constraints = None
    if config.n_free is not None:
        if labels is None:
            raise ValueError("n_free is set but no labels were given; pass labels "
                             "or set n_free=None to train without constraints")
        constraints = label_constraints(data, labels, config.n_hidden, config.n_free,
                                        weights=weights, lambda_Q=config.lambda_Q,
                                        Q_rank=config.Q_rank, n_states=config.n_states,
                                        relative_Q=config.relative_Q,
                                        periodic_lattice=config.periodic_lattice)
    rbm = init_rbm(config, data, weights)
    state = fit(rbm, data, config, weights=weights, constraints=constraints,
                callback=callback, progress=progress, stop_at_update=stop_at_update)
    return rbm, constraints, state


def fit(rbm, data, config, weights=None, constraints=None, state=None,
        callback=None, progress=False, stop_at_update=None):
    """Train `rbm` in place by PCD-k or CD-k.

    Parameters
    ----------
    rbm : RBM
    data : ndarray, shape (n_samples, n_visible)
        Training states, validated against the visible layer.
    config : TrainConfig
    weights : ndarray, shape (n_samples,), optional
        Sample weights (non-negative); the data phase is normalised by the
        sum of the minibatch's weights.
    constraints : Constraints, optional
        Projected at the start and after every update.
    state : TrainState, optional
        Resume from this state (from a checkpoint); a new one otherwise.
    callback : callable, optional
        Called after every update as ``callback(update=, epoch=, batch=,
        rbm=, state=)``; returning False stops training.
    progress : bool
        Show a progress bar over the updates (tqdm).
    stop_at_update : int, optional
        Stop after this many updates in total (the schedule still spans the
        whole run), e.g. to checkpoint and resume.

    Returns
    -------
    TrainState
    """
    data = _check_data(data, config, rbm)
    config.validate(len(data))
    w = check_weights(weights, data.shape[0])
    n_chains = config.n_chains or config.batch_size
    if constraints is not None:
        constraints.check_weights(rbm.weights)
    if state is None:
        state = new_state(rbm, config, n_chains)
    loop = _Loop(rbm, data, w, config, constraints, state)
    # The projection and the penalty run on one BLAS thread (see _Loop), and
    # other numpy products (per-epoch diagnostics, the l1sq penalty) use the
    # BLAS with the run's thread count.
    with blas_threads(config.n_threads):
        if state.update == 0 and constraints is not None:
            with single_threaded_blas():
                constraints.project(rbm.weights)
        loop.run(callback, progress, stop_at_update)
    return state


def _check_data(data, config, rbm=None):
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise ValueError(f"data must be 2-D (n_samples, n_visible), got shape "
                         f"{arr.shape}; reshape one sample to (1, n_visible)")
    if arr.shape[0] == 0:
        raise ValueError("data is empty: at least one sample is needed")
    if rbm is None:
        layer = layer_from_name(config.visible, arr.shape[1], config.dtype,
                                config.n_states)
    else:
        layer = rbm.visible
        if rbm.dtype != np.dtype(config.dtype):
            raise ValueError(f"the RBM is {rbm.dtype} but config.dtype is {config.dtype}")
        if rbm.n_hidden != config.n_hidden:
            raise ValueError(f"the RBM has {rbm.n_hidden} hidden units but "
                             f"config.n_hidden is {config.n_hidden}")
        kinds = (layer_name(rbm.visible), layer_name(rbm.hidden))
        if kinds != (config.visible, config.hidden):
            raise ValueError(f"the RBM has {kinds[0]} visible and {kinds[1]} hidden "
                             f"units but the config asks for {config.visible} and "
                             f"{config.hidden}")
    return layer.check_states(arr, "data")


class _Loop:
    """The buffers and steps of one training run."""

    def __init__(self, rbm, data, weights, config, constraints, state):
        self.rbm, self.data, self.weights = rbm, data, weights
        self.config, self.constraints, self.state = config, constraints, state
        self.threads = resolve_threads(config.n_threads)
        self.n_batches = math.ceil(data.shape[0] / config.batch_size)
        self.n_updates = self.n_batches * config.n_epochs
        n_chains = state.chains.shape[0]
        B, M, N, dt = config.batch_size, rbm.n_hidden, rbm.n_visible, rbm.dtype
        rows = max(B, n_chains)
        self.inputs_h = np.empty((rows, M), dtype=dt)
        self.hidden = np.empty((rows, M), dtype=dt)
        self.chain_h = np.empty((n_chains, M), dtype=dt)
        self.gibbs_scratch = rbm.gibbs_scratch(n_chains)
        self.grad_w = np.empty(rbm.weights.shape, dtype=dt)
        # one row per parameter vector; dReLU hidden units have four
        self.stats_v = np.zeros((max(len(rbm.visible.param_names), 2),
                                 rbm.visible.n_flat))
        self.stats_h = np.zeros((max(len(rbm.hidden.param_names), 2), M))
        self.chain_coef = np.full(n_chains, 1.0 / n_chains, dtype=dt)
        self.fixed = set(config.fixed_parameters())
        self.perm = None
        self.rescale = config.rescales_hidden()

    def run(self, callback, progress, stop_at_update):
        state, cfg = self.state, self.config
        last = self.n_updates if stop_at_update is None else min(stop_at_update,
                                                                 self.n_updates)
        bar = _progress_bar(progress, last, state.update)
        try:
            while state.update < last:
                self.step()
                if bar is not None:
                    bar.update(1)
                if callback is not None and callback(
                        update=state.update, epoch=state.epoch, batch=state.batch,
                        rbm=self.rbm, state=state) is False:
                    break
        finally:
            if bar is not None:
                bar.close()

    def _minibatch(self):
        state, cfg = self.state, self.config
        if self.perm is None or self.perm[0] != state.epoch:
            rng = np.random.default_rng(seed_sequence(cfg.seed, 1, state.epoch))
            self.perm = (state.epoch, rng.permutation(self.data.shape[0]))
        idx = self.perm[1][state.batch * cfg.batch_size:(state.batch + 1) * cfg.batch_size]
        return np.ascontiguousarray(self.data[idx]), self.weights[idx]

    def step(self):
        rbm, cfg, state = self.rbm, self.config, self.state
        vis, hid = rbm.visible, rbm.hidden
        x, w = self._minibatch()
        self.stats_v[:] = 0
        self.stats_h[:] = 0

        # positive phase: data weighted by w / sum(w); the kernels call the
        # BLAS from inside their OpenMP regions, so it runs on one thread there
        total = w.sum()
        if not total > 0:
            raise ValueError(
                f"minibatch {state.batch} of epoch {state.epoch} has total sample "
                "weight 0; remove zero-weight samples or use larger batches"
            )
        coef = np.ascontiguousarray(-w / total, dtype=rbm.dtype)
        self._phase(x, coef, False)

        # negative phase: chains after k sweeps, weighted by 1 / n_chains
        if cfg.method == "cd":
            chains = x.copy()
            coef_c = np.full(len(x), 1.0 / len(x), dtype=rbm.dtype)
            scratch, chain_h = None, np.empty((len(x), rbm.n_hidden), rbm.dtype)
        else:
            chains, coef_c = state.chains, self.chain_coef
            scratch, chain_h = self.gibbs_scratch, self.chain_h
        rbm.gibbs_inplace(chains, chain_h, state.stream, cfg.n_gibbs,
                          n_threads=cfg.n_threads, scratch=scratch)
        self._phase(chains, coef_c, True)

        # regularisers and constraint penalty, then the optimiser step
        grads = self._gradients()
        params = self._parameters()
        lr = learning_rate(cfg, state.update, self.n_updates)
        penalties = {"weights": (cfg.l2_weights, cfg.l1_weights)}
        state.optimizer.step(params, grads, lr, penalties, cfg.n_threads,
                             update=state.update)
        # A fixed visible gamma is the only parameter the Gaussian visible layer
        # moves back into its domain, and it must keep its initial value.
        if "visible.gamma" not in self.fixed:
            vis.constrain_parameters()
        hid.constrain_parameters()
        # the Adam step leaves the zero-sum subspace; the gauge moves back
        # without changing the model, and commutes with the projection
        apply_zero_sum_gauge(rbm)
        if self.constraints is not None:
            with single_threaded_blas():
                self.constraints.project(rbm.weights)
        if self.rescale:
            rescale_hidden_units(rbm, x, w, cfg.n_threads)
            # a unit of small variance gets a small precision; the floor keeps
            # every precision in its domain at the cost of that unit's gauge
            hid.constrain_parameters()
        self._advance()

    def _phase(self, x, coef, accumulate):
        """Add the phase of states x with row coefficients coef."""
        rbm, vis, hid = self.rbm, self.rbm.visible, self.rbm.hidden
        if rbm.is_potts:
            _potts.phase_gradient(vis.theta, hid.kind, hid.params(), rbm.flat_weights,
                                  x, coef, self.inputs_h, self.hidden,
                                  self.grad_w.reshape(-1, rbm.n_hidden), accumulate,
                                  self.stats_v, self.stats_h, self.threads)
            return
        with single_threaded_blas():
            _gradient.phase_gradient(vis.kind, vis.params(), hid.kind, hid.params(),
                                     rbm.weights, x, coef, self.inputs_h, self.hidden,
                                     self.grad_w, accumulate, self.stats_v,
                                     self.stats_h, self.threads)

    def _parameters(self):
        rbm = self.rbm
        params = {"weights": rbm.weights}
        for prefix, layer in (("visible", rbm.visible), ("hidden", rbm.hidden)):
            for name in layer.param_names:
                if f"{prefix}.{name}" not in self.fixed:
                    params[f"{prefix}.{name}"] = getattr(layer, name)
        return params

    def _gradients(self):
        rbm, cfg = self.rbm, self.config
        grads = {"weights": self.grad_w}
        for prefix, layer, stats in (("visible", rbm.visible, self.stats_v),
                                     ("hidden", rbm.hidden, self.stats_h)):
            for i, name in enumerate(layer.param_names):
                if f"{prefix}.{name}" not in self.fixed:
                    shape = getattr(layer, name).shape
                    grads[f"{prefix}.{name}"] = stats[i].astype(rbm.dtype).reshape(shape)
        if cfg.l2_fields > 0:
            grads["visible.theta"] += cfg.l2_fields * rbm.visible.theta
        if cfg.l1sq_weights > 0:
            W = rbm.weights.reshape(-1, rbm.n_hidden)
            col_l1 = np.abs(W).sum(axis=0)
            scale = cfg.l1sq_weights / rbm.n_visible
            self.grad_w.reshape(W.shape)[:] += (scale * col_l1 * np.sign(W)).astype(
                rbm.dtype)
        if self.constraints is not None and self.constraints.has_penalty:
            # Right after the kernels' OpenMP regions a multi-threaded BLAS
            # competes with the OpenMP threads, which still spin.  On 2 cores
            # the penalty of 256 x 32 and 784 x 400 weights (9 label columns)
            # took 34 and 2.7 times longer on 2 BLAS threads than on one.
            with single_threaded_blas():
                self.constraints.add_penalty_gradient(rbm.weights, self.grad_w)
        if rbm.is_potts:
            project_zero_sum(grads["weights"])
            project_zero_sum(grads["visible.theta"])
        return grads

    def _advance(self):
        state = self.state
        state.update += 1
        state.batch += 1
        if state.batch == self.n_batches:
            state.batch = 0
            state.epoch += 1
            record = {"epoch": state.epoch, "update": state.update,
                      "lr": learning_rate(self.config, state.update - 1, self.n_updates)}
            if self.constraints is not None:
                record["constraint_violation"] = self.constraints.violation(
                    self.rbm.weights)
                if self.constraints.has_penalty:
                    record["penalty"] = self.constraints.penalty(self.rbm.weights)
            state.history.append(record)


def _progress_bar(progress, total, initial):
    if not progress:
        return None
    from tqdm.auto import tqdm

    # disable=None turns the bar off when the output is not a terminal
    return tqdm(total=total, initial=initial, unit="update", dynamic_ncols=True,
                disable=None)
