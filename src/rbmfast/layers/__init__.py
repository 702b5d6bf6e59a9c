"""Layer types: Binary, Spin, Gaussian, ReLU, dReLU and Potts units behind one
interface."""
from rbmfast.layers.base import Layer
from rbmfast.layers.discrete import Binary, Spin
from rbmfast.layers.gaussian import Gaussian
from rbmfast.layers.potts import Potts
from rbmfast.layers.relu import DReLU, ReLU

LAYER_TYPES = {"binary": Binary, "spin": Spin, "gaussian": Gaussian, "relu": ReLU,
               "drelu": DReLU, "potts": Potts}


def layer_from_name(name, n, dtype, n_states=None):
    """Return a new layer of type `name` (a key of LAYER_TYPES).

    `n_states` is the number of states per site of a Potts layer.
    """
    try:
        cls = LAYER_TYPES[str(name).lower()]
    except KeyError:
        raise ValueError(
            f"unknown layer type {name!r}; choose one of {sorted(LAYER_TYPES)}"
        ) from None
    if cls is Potts:
        return Potts(n, n_states, dtype=dtype)
    return cls(n, dtype=dtype)


def layer_name(layer):
    """Return the registry name of `layer` (inverse of layer_from_name)."""
    for name, cls in LAYER_TYPES.items():
        if type(layer) is cls:
            return name
    raise TypeError(f"{type(layer).__name__} is not a registered layer type")


__all__ = ["Layer", "Binary", "Spin", "Gaussian", "ReLU", "DReLU", "Potts",
           "LAYER_TYPES", "layer_from_name", "layer_name"]
