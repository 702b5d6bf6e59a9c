"""User data as a NumPy .npz file of plain arrays."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

__all__ = ["load_npz"]


def load_npz(path, data_key="data", labels_key="labels", weights_key="weights"):
    """Read data, labels and optional sample weights from an .npz file.

    Parameters
    ----------
    path : str or os.PathLike
        File written by ``numpy.savez(path, data=..., labels=..., weights=...)``.
        Loaded with ``allow_pickle=False``, so object arrays are rejected.

    Returns
    -------
    data : ndarray, shape (n_samples, n_visible)
    labels : ndarray, shape (n_samples,) or None
    weights : ndarray, shape (n_samples,) or None
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} not found")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError(f"{path} is a single .npy array, not an .npz file; save "
                             "it with numpy.savez(path, data=..., labels=...)")
        with loaded as f:
            if data_key not in f.files:
                raise ValueError(f"{path} has no array {data_key!r}; it has {f.files}")
            data = f[data_key]
            labels = f[labels_key] if labels_key in f.files else None
            weights = f[weights_key] if weights_key in f.files else None
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ValueError(f"{path} is not a readable .npz file: {error}") from None
    except ValueError as error:
        if "pickle" not in str(error):
            raise
        raise ValueError(f"{path} is not an .npz file of plain arrays (object "
                         "arrays and other files are not read); save it with "
                         "numpy.savez(path, data=..., labels=...)") from None
    if data.ndim != 2 or data.shape[0] == 0:
        raise ValueError(f"{path}: {data_key!r} must be a non-empty 2-D array, got "
                         f"shape {data.shape}")
    for name, arr in ((labels_key, labels), (weights_key, weights)):
        if arr is not None and len(arr) != len(data):
            raise ValueError(f"{path}: {name!r} has length {len(arr)} but "
                             f"{data_key!r} has {len(data)} rows")
    return data, labels, weights
