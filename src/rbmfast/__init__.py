"""rbmfast: Restricted Boltzmann Machines on CPUs, with disentangling
weight constraints.

The main entry points are re-exported here; see the submodules for the
rest (rbmfast.evaluation, rbmfast.datasets, rbmfast.plots).
"""
import warnings

from rbmfast._kernels import _layers
from rbmfast.config import TrainConfig
from rbmfast.constraints import ConstraintGroup, Constraints, label_constraints
from rbmfast.io import load_checkpoint, load_model, save_checkpoint, save_model
from rbmfast.layers import Binary, DReLU, Gaussian, Potts, ReLU, Spin
from rbmfast.random import Stream
from rbmfast.rbm import RBM
from rbmfast.training import fit, init_rbm, train

__version__ = "0.1.0"

if not _layers.has_openmp():
    warnings.warn("rbmfast was built without OpenMP, so its kernels run on one "
                  "thread; install a compiler with OpenMP support and reinstall",
                  RuntimeWarning, stacklevel=2)

__all__ = ["RBM", "Binary", "Spin", "Gaussian", "ReLU", "DReLU", "Potts", "Stream",
           "TrainConfig", "train", "fit", "init_rbm", "Constraints", "ConstraintGroup", "label_constraints",
           "save_model", "load_model", "save_checkpoint", "load_checkpoint"]
