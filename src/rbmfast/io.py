"""Model and checkpoint files.

Both are rbmfast archives (see rbmfast.archive): a ZIP of ``.npy`` arrays
and a JSON ``metadata.json``, written atomically and read without pickle.

Model file (kind ``rbmfast-model``, version 1) arrays:
``weights`` (n_visible, n_hidden); ``visible/<param>`` and
``hidden/<param>`` per layer parameter (e.g. ``visible/theta``,
``hidden/gamma``); ``constraints/<g>/units``, ``constraints/<g>/q`` and,
when present, ``constraints/<g>/Q`` or ``Q_vectors`` / ``Q_values`` per
constraint group.  Its content: ``visible`` and ``hidden`` (layer type
names), ``dtype``, ``constraints`` (group settings, or null) and the
caller's ``metadata``.

Checkpoint file (kind ``rbmfast-checkpoint``, version 1): the model arrays
plus ``chains`` (the persistent chains) and ``optimizer/<param>/<slot>``
(Adam moments or SGD momentum).  Its content adds ``config`` (the
TrainConfig, which names the optimiser), ``state`` (update, epoch, batch,
stream key and call, optimiser step) and ``history``.  Resuming from it
continues training exactly as if the run had not stopped.
"""
from __future__ import annotations

import numpy as np

from rbmfast.archive import ArchiveError, read_archive, write_archive
from rbmfast.config import TrainConfig
from rbmfast.constraints import Constraints
from rbmfast.layers import LAYER_TYPES, layer_name
from rbmfast.optimizers import make_optimizer
from rbmfast.random import Stream
from rbmfast.rbm import RBM

__all__ = ["save_model", "load_model", "save_checkpoint", "load_checkpoint",
           "ModelFileError"]

MODEL_KIND = "rbmfast-model"
CHECKPOINT_KIND = "rbmfast-checkpoint"


class ModelFileError(ArchiveError):
    """A model or checkpoint file is valid as an archive but not as a model."""


def _model_arrays(rbm, constraints):
    arrays = {"weights": rbm.weights}
    for prefix, layer in (("visible", rbm.visible), ("hidden", rbm.hidden)):
        for name in layer.param_names:
            arrays[f"{prefix}/{name}"] = getattr(layer, name)
    content = {"visible": layer_name(rbm.visible), "hidden": layer_name(rbm.hidden),
               "dtype": rbm.dtype.name, "constraints": None}
    if constraints is not None:
        c_arrays, c_content = constraints.to_arrays()
        arrays.update(c_arrays)
        content["constraints"] = c_content
    return arrays, content


def save_model(path, rbm, constraints=None, metadata=None):
    """Write `rbm` (and its constraints) to `path` atomically.

    Parameters
    ----------
    path : str or os.PathLike
    rbm : RBM
    constraints : Constraints, optional
    metadata : dict, optional
        JSON-serialisable data stored with the model (e.g. data source).
    """
    _check_finite(rbm)
    arrays, content = _model_arrays(rbm, constraints)
    content["metadata"] = metadata or {}
    return write_archive(path, MODEL_KIND, arrays, content)


def _check_finite(rbm):
    """Reject a model that load_model would not read back."""
    blocks = {"weights": rbm.weights}
    for prefix, layer in (("visible", rbm.visible), ("hidden", rbm.hidden)):
        for name in layer.param_names:
            blocks[f"{prefix}/{name}"] = getattr(layer, name)
    for name, arr in blocks.items():
        if not np.isfinite(arr).all():
            raise ValueError(f"cannot save a model whose {name} contains NaN or "
                             "infinite values")


def _rebuild_model(arrays, content, path):
    try:
        dtype = np.dtype(content["dtype"])
        layers = []
        for prefix in ("visible", "hidden"):
            name = content[prefix]
            if name not in LAYER_TYPES:
                raise ModelFileError(f"{path}: unknown {prefix} layer type {name!r}")
            cls = LAYER_TYPES[name]
            params = {p: arrays[f"{prefix}/{p}"] for p in cls.param_names}
            n = len(params[cls.param_names[0]])
            layers.append(cls(n, dtype=dtype, **params))
        rbm = RBM(layers[0], layers[1], arrays["weights"])
        constraints = None
        if content.get("constraints") is not None:
            constraints = Constraints.from_arrays(arrays, content["constraints"])
            constraints.check_weights(rbm.weights)
    except KeyError as error:
        raise ModelFileError(f"{path}: model file lacks {error}; it is incomplete "
                             "or not written by rbmfast") from None
    except (TypeError, ValueError) as error:
        if isinstance(error, ModelFileError):
            raise
        raise ModelFileError(f"{path}: invalid model parameters: {error}") from None
    return rbm, constraints


def load_model(path):
    """Read a model file written by :func:`save_model` (or a checkpoint).

    Returns
    -------
    rbm : RBM
    constraints : Constraints or None
    metadata : dict
    """
    try:
        arrays, content, _ = read_archive(path, MODEL_KIND)
    except ArchiveError as error:
        # a checkpoint contains a whole model too, so it loads as one
        if repr(CHECKPOINT_KIND) not in str(error):
            raise
        arrays, content, _ = read_archive(path, CHECKPOINT_KIND)
    rbm, constraints = _rebuild_model(arrays, content, path)
    return rbm, constraints, content.get("metadata", {})


def save_checkpoint(path, rbm, constraints, state, config, metadata=None):
    """Write everything needed to resume training to `path` atomically.

    Parameters
    ----------
    rbm : RBM
    constraints : Constraints or None
    state : rbmfast.training.TrainState
    config : TrainConfig
    metadata : dict, optional
    """
    _check_finite(rbm)
    arrays, content = _model_arrays(rbm, constraints)
    arrays["chains"] = state.chains
    for key, arr in state.optimizer.state_arrays().items():
        arrays[f"optimizer/{key}"] = arr
    content["metadata"] = metadata or {}
    content["config"] = config.to_dict()
    content["state"] = {"update": state.update, "epoch": state.epoch,
                        "batch": state.batch, "stream": state.stream.state(),
                        "optimizer_step": state.optimizer.t}
    content["history"] = state.history
    return write_archive(path, CHECKPOINT_KIND, arrays, content)


def load_checkpoint(path):
    """Read a checkpoint written by :func:`save_checkpoint`.

    Returns
    -------
    dict with keys rbm, constraints, state (TrainState), config (TrainConfig)
    and metadata.
    """
    from rbmfast.training import TrainState

    arrays, content, _ = read_archive(path, CHECKPOINT_KIND)
    rbm, constraints = _rebuild_model(arrays, content, path)
    try:
        config = TrainConfig.from_dict(content["config"])
        s = content["state"]
        optimizer = make_optimizer(config.optimizer, config.beta1, config.beta2,
                                   config.eps, config.momentum)
        prefix = "optimizer/"
        optimizer.load_state(s["optimizer_step"], {
            k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})
        _check_optimizer_buffers(optimizer, rbm, config, path)
        chains = rbm.visible.check_states(arrays["chains"], "checkpoint chains")
        state = TrainState(int(s["update"]), int(s["epoch"]), int(s["batch"]),
                           chains.copy(), Stream.from_state(s["stream"]), optimizer,
                           list(content.get("history", [])))
    except KeyError as error:
        raise ModelFileError(f"{path}: checkpoint lacks {error}; it is incomplete "
                             "or not written by rbmfast") from None
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: invalid checkpoint: {error}") from None
    return {"rbm": rbm, "constraints": constraints, "state": state, "config": config,
            "metadata": content.get("metadata", {})}


def _check_optimizer_buffers(optimizer, rbm, config, path):
    """Raise ModelFileError unless every trained parameter block has its buffers."""
    if optimizer.t == 0:
        return
    expected = {"weights"} | {f"{prefix}.{name}" for prefix, layer in
                              (("visible", rbm.visible), ("hidden", rbm.hidden))
                              for name in layer.param_names}
    expected -= set(config.fixed_parameters())
    missing = sorted(expected - set(optimizer.buffers))
    if missing and optimizer.buffers_required:
        raise ModelFileError(
            f"{path}: checkpoint lacks optimizer buffers for {missing}; it cannot "
            "resume training exactly"
        )
