"""Plain training configuration: a dataclass of numbers and strings.

A run is a function of a TrainConfig and the data, so a config can be saved
as JSON, sent to another process and replayed there.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from rbmfast.layers.gaussian import Gaussian

__all__ = ["TrainConfig"]

HIDDEN_TYPES = ("binary", "spin", "gaussian", "relu", "drelu")
#: hidden types whose units can be rescaled (h -> s h)
CONTINUOUS_HIDDEN_TYPES = ("gaussian", "relu", "drelu")


@dataclass
class TrainConfig:
    """Settings of one training run.

    Model: `visible` ('binary', 'spin', 'gaussian' or 'potts'), `hidden`
    ('binary', 'spin', 'gaussian', 'relu', 'drelu'), `n_hidden`, `n_states`
    (states per site of a Potts visible layer, e.g. 21 for protein
    alignments), `dtype` ('float32' or 'float64').  Sampling: `method`
    ('pcd' or 'cd'), `n_gibbs` sweeps per update (k), `n_chains` persistent
    chains (default the batch size).  Schedule: `n_epochs` passes over the
    data in shuffled minibatches of `batch_size`.  The learning rate `lr` stays constant for
    the fraction `lr_decay_start` of training, then decays geometrically to
    `lr_final` (default lr / 10).  Regularisers: `l2_fields` on the visible
    fields, `l1_weights`, `l2_weights` and the L1-squared penalty
    (`l1sq_weights` / (2 N)) sum_mu (sum_i |W_i mu|)^2.  Constraints:
    `n_free` free hidden units (None: no constraint), `lambda_Q` for the
    second-order penalty, `Q_rank` for a low-rank Q, `relative_Q` to divide
    the penalty by the input variances of the constrained units (scale-free;
    no effect when lambda_Q = 0), `periodic_lattice` (a shape such as
    [16, 16]) to average the label statistics over the translations of the
    periodic lattice that the visible units form.  `weight_scale` sets the
    initial weights, N(0, 1) weight_scale / sqrt(mean |v|^2).
    `rescale_hidden` rescales each real-valued hidden unit after every
    update so that its variance over the minibatch is 1 (None: on for
    'relu' and 'drelu', off otherwise).  Gaussian visible units:
    `visible_gamma` sets every initial precision (None: 1 / the data
    variance of each unit), and with `learn_visible_gamma` False the
    precisions keep their initial values during training.
    """

    n_hidden: int = 100
    visible: str = "binary"
    hidden: str = "binary"
    n_states: int | None = None
    dtype: str = "float32"
    method: str = "pcd"
    n_gibbs: int = 1
    n_chains: int | None = None
    n_epochs: int = 10
    batch_size: int = 256
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_final: float | None = None
    lr_decay_start: float = 0.5
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    momentum: float = 0.0
    l2_fields: float = 0.0
    l1_weights: float = 0.0
    l2_weights: float = 0.0
    l1sq_weights: float = 0.0
    weight_scale: float = 0.1
    n_free: int | None = None
    lambda_Q: float = 0.0
    Q_rank: int | None = None
    relative_Q: bool = False
    periodic_lattice: list | None = None
    visible_gamma: float | None = None
    learn_visible_gamma: bool = True
    seed: int = 0
    n_threads: int | None = None
    rescale_hidden: bool | None = None

    def to_dict(self):
        """Return the config as a JSON-serialisable dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        """Build a config from :meth:`to_dict` output, rejecting unknown keys."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}; known: {sorted(names)}")
        return cls(**values)

    def validate(self, n_samples=None):
        """Raise ValueError naming the first invalid setting."""
        for name in ("n_hidden", "n_epochs", "batch_size", "n_gibbs"):
            _positive_int(name, getattr(self, name))
        for name in ("n_chains", "Q_rank"):
            if getattr(self, name) is not None:
                _positive_int(name, getattr(self, name))

        _choice("visible", self.visible, ("binary", "spin", "gaussian", "potts"))
        _choice("hidden", self.hidden, HIDDEN_TYPES)
        if self.visible == "potts":
            if self.n_states is None:
                raise ValueError("a Potts visible layer needs n_states, the number of "
                                 "states per site (21 for protein alignments)")
            _int("n_states", self.n_states)
            if not 2 <= self.n_states <= 256:
                raise ValueError(f"n_states must be in 2..256 for a Potts visible "
                                 f"layer, got {self.n_states!r}")
        elif self.n_states is not None:
            raise ValueError(f"n_states = {self.n_states} applies to Potts visible "
                             f"layers only, not {self.visible!r}; drop it")
        _choice("method", self.method, ("pcd", "cd"))
        _choice("optimizer", self.optimizer, ("adam", "sgd"))
        _choice("dtype", self.dtype, ("float32", "float64"))

        for name in ("lr", "eps"):
            if not _real(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be a finite number > 0, got "
                                 f"{getattr(self, name)!r}")
        if self.lr_final is not None and not _real(self.lr_final) > 0:
            raise ValueError(f"lr_final must be a finite number > 0, got "
                             f"{self.lr_final!r}")
        for name in ("lr_decay_start", "beta1", "beta2", "momentum"):
            if not 0 <= _real(getattr(self, name)) <= 1:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        for name in ("l2_fields", "l1_weights", "l2_weights", "l1sq_weights",
                     "lambda_Q", "weight_scale"):
            if not _real(getattr(self, name)) >= 0:
                raise ValueError(f"{name} must be a finite number >= 0, got "
                                 f"{getattr(self, name)!r}")

        if not isinstance(self.relative_Q, (bool, np.bool_)):
            raise ValueError(f"relative_Q must be True or False, got "
                             f"{self.relative_Q!r}")
        if self.periodic_lattice is not None:
            self._validate_lattice()
        if self.Q_rank is not None and self.lambda_Q == 0:
            raise ValueError(f"Q_rank = {self.Q_rank} has no effect with lambda_Q = 0; "
                             "set lambda_Q > 0 or drop Q_rank")
        self._validate_visible_gamma()
        if self.n_free is not None:
            _int("n_free", self.n_free)
            if not 0 <= self.n_free <= self.n_hidden:
                raise ValueError(f"n_free = {self.n_free} must be between 0 and "
                                 f"n_hidden = {self.n_hidden}")
        if self.n_threads is not None:
            _int("n_threads", self.n_threads)
            if self.n_threads == 0:
                raise ValueError("n_threads = 0 is invalid: use None for the OpenMP "
                                 "default or a thread count >= 1")

        if self.rescale_hidden is not None and not isinstance(
                self.rescale_hidden, (bool, np.bool_)):
            raise ValueError(f"rescale_hidden must be True, False or None, got "
                             f"{self.rescale_hidden!r}")
        if self.rescale_hidden and self.hidden not in CONTINUOUS_HIDDEN_TYPES:
            raise ValueError(f"rescale_hidden needs real-valued hidden units "
                             f"({', '.join(CONTINUOUS_HIDDEN_TYPES)}), but hidden is "
                             f"{self.hidden!r}; set rescale_hidden to None or False")

        _int("seed", self.seed)
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if n_samples is not None and self.batch_size > n_samples:
            raise ValueError(
                f"batch_size = {self.batch_size} is larger than the {n_samples} "
                "training samples; use a smaller batch"
            )

    def rescales_hidden(self):
        """Return True when the hidden units are rescaled after each update."""
        if self.rescale_hidden is None:
            return self.hidden in ("relu", "drelu")
        return bool(self.rescale_hidden)
    def _validate_lattice(self):
        lattice = self.periodic_lattice
        if not isinstance(lattice, (list, tuple)) or not lattice or not all(
                isinstance(side, (int, np.integer)) and not isinstance(side, bool)
                and side >= 1 for side in lattice):
            raise ValueError(f"periodic_lattice must be a list of positive lattice "
                             f"sides such as [16, 16], got {lattice!r}")
        if self.visible == "potts":
            raise ValueError("periodic_lattice applies to one value per site, not to "
                             "Potts visible units; drop periodic_lattice")

    def _validate_visible_gamma(self):
        if not isinstance(self.learn_visible_gamma, (bool, np.bool_)):
            raise ValueError(f"learn_visible_gamma must be True or False, got "
                             f"{self.learn_visible_gamma!r}")
        if self.visible == "gaussian":
            if self.visible_gamma is not None and not (
                    _real(self.visible_gamma) >= Gaussian.gamma_min):
                raise ValueError(f"visible_gamma must be a finite number >= "
                                 f"{Gaussian.gamma_min} (the smallest precision training "
                                 f"keeps), got {self.visible_gamma!r}")
            return
        if self.visible_gamma is not None:
            raise ValueError(f"visible_gamma = {self.visible_gamma!r} applies to "
                             f"Gaussian visible units only, but visible is "
                             f"{self.visible!r}; drop visible_gamma")
        if not self.learn_visible_gamma:
            raise ValueError(f"learn_visible_gamma = False applies to Gaussian "
                             f"visible units only, but visible is {self.visible!r}")

    def fixed_parameters(self):
        """Return the names of the parameter blocks that training leaves unchanged.

        Names are those of the optimiser, such as ``"visible.gamma"``.
        """
        return () if self.learn_visible_gamma else ("visible.gamma",)

    def final_lr(self):
        """Return the learning rate at the end of training."""
        return self.lr / 10 if self.lr_final is None else self.lr_final


def _int(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")


def _positive_int(name, value):
    _int(name, value)
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _real(value):
    """Return value as a float, or NaN when it is not a finite real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        return math.nan
    return float(value) if math.isfinite(value) else math.nan


def _choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
