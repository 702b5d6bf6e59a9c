"""Tests for rbmfast.archive: round trips, malformed files and atomic writes."""

import io
import json
import os
import pickle
import stat
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import numpy.lib.format as npy_format
import pytest

import rbmfast.archive as archive_module
from rbmfast.archive import (
    ArchiveError,
    ArchiveNotFoundError,
    read_archive,
    write_archive,
)

KIND = "rbmfast-model"


def sample_arrays():
    rng = np.random.default_rng(0)
    return {
        "weights": rng.standard_normal((5, 3)).astype(np.float32),
        "visible_bias": rng.standard_normal(5),
        "fortran": np.asfortranarray(rng.standard_normal((3, 4))),
        "chains": rng.integers(0, 2, size=(4, 5), dtype=np.uint8),
        "step": np.array(12345678901, dtype=np.int64),
        "empty": np.zeros((0, 7), dtype=np.float32),
        "flags": np.array([True, False]),
        "big_endian": np.arange(3, dtype=">f8"),
        "labels": np.array(["zero", "one"]),
        "optimizer/m/weights": np.full((5, 3), np.nan, dtype=np.float32),
        "optimizer/v.1/weights-2": np.array([np.inf, -np.inf, 0.0]),
    }


def sample_content():
    return {
        "n_hidden": 3,
        "learning_rate": 0.01,
        "image_shape": (28, 28),
        "history": {"epoch": [1, 2], "pseudo_likelihood": [-90.5, None]},
        "name": "MNIST \u00e9t\u00e9",
        "enabled": True,
    }


@pytest.fixture
def archive_path(tmp_path):
    path = tmp_path / "model.rbm"
    return write_archive(path, KIND, sample_arrays(), sample_content())


def read_members(path):
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_members(path, members, compression=zipfile.ZIP_STORED):
    with warnings.catch_warnings():
        # zipfile warns about duplicate names, which one test writes on purpose.
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(path, "w", compression=compression) as archive:
            for name, data in members:
                archive.writestr(name, data)
    return path


def npy_bytes(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def metadata_of(members):
    return json.loads(members["metadata.json"])


def with_metadata(members, metadata):
    updated = dict(members)
    updated["metadata.json"] = json.dumps(metadata).encode("utf-8")
    return list(updated.items())


def assert_archive_error(path, *fragments, kind=KIND, max_version=1):
    with pytest.raises(ArchiveError) as caught:
        read_archive(path, kind, max_version=max_version)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    return message


# --------------------------------------------------------------------------------------
# Round trip
# --------------------------------------------------------------------------------------


def test_round_trip_arrays_identical(archive_path):
    arrays, _, _ = read_archive(archive_path, KIND)
    expected = sample_arrays()
    assert list(arrays) == list(expected)
    for name, array in expected.items():
        assert arrays[name].dtype.str == array.dtype.str, name
        assert arrays[name].shape == array.shape, name
        assert arrays[name].tobytes() == array.tobytes(), name


def test_round_trip_writable_arrays(archive_path):
    arrays, _, _ = read_archive(archive_path, KIND)
    for name, array in arrays.items():
        assert array.flags.writeable, name


def test_round_trip_content(archive_path):
    _, content, version = read_archive(archive_path, KIND)
    expected = dict(sample_content(), image_shape=[28, 28])
    assert content == expected
    assert version == 1


def test_round_trip_numpy_scalars(tmp_path):
    content = {"a": np.int64(3), "b": np.float32(0.5), "c": np.bool_(True)}
    path = write_archive(tmp_path / "m.rbm", KIND, {}, content)
    _, loaded, _ = read_archive(path, KIND)
    assert loaded == {"a": 3, "b": 0.5, "c": True}
    assert type(loaded["a"]) is int
    assert type(loaded["b"]) is float
    assert type(loaded["c"]) is bool


def test_round_trip_non_finite_content(tmp_path):
    content = {"best": float("inf"), "loss": [float("nan")]}
    path = write_archive(tmp_path / "m.rbm", KIND, {}, content)
    _, loaded, _ = read_archive(path, KIND)
    assert loaded["best"] == float("inf")
    assert np.isnan(loaded["loss"][0])


def test_round_trip_no_arrays(tmp_path):
    path = write_archive(tmp_path / "m.rbm", KIND, {}, {})
    assert read_archive(path, KIND) == ({}, {}, 1)


def test_round_trip_version(tmp_path):
    path = write_archive(tmp_path / "m.rbm", KIND, {}, {}, version=3)
    _, _, version = read_archive(path, KIND, max_version=3)
    assert version == 3


def test_write_returns_path(tmp_path):
    result = write_archive(str(tmp_path / "m.rbm"), KIND, {}, {})
    assert result == tmp_path / "m.rbm"
    assert isinstance(result, Path)


def test_write_deterministic_bytes(tmp_path):
    first = write_archive(tmp_path / "a.rbm", KIND, sample_arrays(), sample_content())
    second = write_archive(tmp_path / "b.rbm", KIND, sample_arrays(), sample_content())
    assert first.read_bytes() == second.read_bytes()


def test_write_layout(archive_path):
    members = read_members(archive_path)
    metadata = metadata_of(members)
    assert sorted(metadata) == ["arrays", "content", "format", "format_version"]
    assert metadata["format"] == KIND
    assert metadata["arrays"]["weights"] == {"dtype": "<f4", "shape": [5, 3]}
    assert "optimizer/m/weights.npy" in members


def test_write_uses_stored_members(archive_path):
    with zipfile.ZipFile(archive_path) as archive:
        methods = {info.compress_type for info in archive.infolist()}
    assert methods == {zipfile.ZIP_STORED}


def test_read_deflated_members(archive_path, tmp_path):
    members = read_members(archive_path)
    deflated = write_members(
        tmp_path / "deflated.rbm", members.items(), zipfile.ZIP_DEFLATED
    )
    arrays, _, _ = read_archive(deflated, KIND)
    assert arrays["chains"].tobytes() == sample_arrays()["chains"].tobytes()


def test_overwrite_replaces_content(archive_path):
    write_archive(archive_path, KIND, {"x": np.ones(2)}, {"new": 1})
    arrays, content, _ = read_archive(archive_path, KIND)
    assert list(arrays) == ["x"]
    assert content == {"new": 1}


def test_read_never_unpickles(archive_path, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was called while reading an archive")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    arrays, _, _ = read_archive(archive_path, KIND)
    assert len(arrays) == len(sample_arrays())


# --------------------------------------------------------------------------------------
# Invalid arguments to write_archive
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["", "a//b", "a/", "/abs", "../x", "a/..", "./a", "a b", "\u00e4", "a\\b", "a:", 3],
)
def test_write_rejects_bad_name(tmp_path, name):
    with pytest.raises(ValueError, match="invalid array name"):
        write_archive(tmp_path / "m.rbm", KIND, {name: np.ones(1)}, {})


@pytest.mark.parametrize(
    "array",
    [
        np.array([1, "a", None], dtype=object),
        np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]),
        np.zeros(2, dtype="V4"),
    ],
    ids=["object", "structured", "void"],
)
def test_write_rejects_dtype(tmp_path, array):
    with pytest.raises(TypeError, match="'bad' has dtype"):
        write_archive(tmp_path / "m.rbm", KIND, {"bad": array}, {})


@pytest.mark.parametrize("value", [[1.0, 2.0], 3.0, np.float64(1.0)])
def test_write_rejects_non_ndarray(tmp_path, value):
    with pytest.raises(TypeError, match="numpy.asarray"):
        write_archive(tmp_path / "m.rbm", KIND, {"x": value}, {})


def test_write_rejects_non_mapping_arrays(tmp_path):
    with pytest.raises(TypeError, match="arrays must be a mapping"):
        write_archive(tmp_path / "m.rbm", KIND, [np.ones(1)], {})


@pytest.mark.parametrize(
    ("content", "key_path"),
    [
        ({"a": {"b": [1, {1, 2}]}}, "content['a']['b'][1] has type set"),
        ({"a": b"bytes"}, "content['a'] has type bytes"),
        ({"a": np.ones(2)}, "put arrays in `arrays`"),
        ({"a": 1j}, "content['a'] has type complex"),
        ({"a": np.datetime64("2020-01-01")}, "content['a'] has type datetime64"),
        ({"a": [{2: "x"}]}, "content['a'][0] has key 2"),
        ({(1, 2): "x"}, "content has key (1, 2)"),
    ],
)
def test_write_rejects_content(tmp_path, content, key_path):
    with pytest.raises(TypeError) as caught:
        write_archive(tmp_path / "m.rbm", KIND, {}, content)
    assert key_path in str(caught.value)


def test_write_rejects_circular_content(tmp_path):
    content = {"history": []}
    content["history"].append(content)
    with pytest.raises(TypeError, match=r"content\['history'\]\[0\] is a circular"):
        write_archive(tmp_path / "m.rbm", KIND, {}, content)


def test_write_accepts_shared_content(tmp_path):
    shared = [1, 2]
    path = write_archive(tmp_path / "m.rbm", KIND, {}, {"a": shared, "b": shared})
    _, content, _ = read_archive(path, KIND)
    assert content == {"a": [1, 2], "b": [1, 2]}


def test_write_rejects_non_mapping_content(tmp_path):
    with pytest.raises(TypeError, match="content must be a mapping"):
        write_archive(tmp_path / "m.rbm", KIND, {}, [1, 2])


@pytest.mark.parametrize("kind", ["", None, 3])
def test_write_rejects_kind(tmp_path, kind):
    with pytest.raises(ValueError, match="kind must be a non-empty string"):
        write_archive(tmp_path / "m.rbm", kind, {}, {})


@pytest.mark.parametrize("version", [0, -1, True, "1", 1.0])
def test_write_rejects_version(tmp_path, version):
    with pytest.raises(ValueError, match="version must be a positive integer"):
        write_archive(tmp_path / "m.rbm", KIND, {}, {}, version=version)


def test_write_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_archive(tmp_path / "missing" / "m.rbm", KIND, {}, {})


def test_write_invalid_input_creates_nothing(tmp_path):
    with pytest.raises(TypeError):
        write_archive(tmp_path / "m.rbm", KIND, {"a": np.ones(1)}, {"b": object()})
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------


class InjectedFailure(Exception):
    pass


def test_failed_write_keeps_target(archive_path, monkeypatch):
    original_bytes = archive_path.read_bytes()
    real_write_array = npy_format.write_array
    calls = []

    def fail_after_first(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise InjectedFailure("disk full")
        real_write_array(*args, **kwargs)

    monkeypatch.setattr(npy_format, "write_array", fail_after_first)
    with pytest.raises(InjectedFailure):
        write_archive(archive_path, KIND, {"a": np.ones(3), "b": np.ones(4)}, {})
    assert len(calls) == 2
    assert archive_path.read_bytes() == original_bytes
    assert [path.name for path in archive_path.parent.iterdir()] == ["model.rbm"]


def test_failed_replace_keeps_target(archive_path, monkeypatch):
    original_bytes = archive_path.read_bytes()

    def fail_replace(source, target):
        raise InjectedFailure("rename failed")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(InjectedFailure):
        write_archive(archive_path, KIND, {"a": np.ones(3)}, {})
    assert archive_path.read_bytes() == original_bytes
    assert [path.name for path in archive_path.parent.iterdir()] == ["model.rbm"]


def test_interrupted_write_removes_temporary(tmp_path, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(npy_format, "write_array", interrupt)
    with pytest.raises(KeyboardInterrupt):
        write_archive(tmp_path / "m.rbm", KIND, {"a": np.ones(3)}, {})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_overwrite_keeps_permissions(archive_path):
    archive_path.chmod(0o600)
    write_archive(archive_path, KIND, {}, {})
    assert stat.S_IMODE(archive_path.stat().st_mode) == 0o600


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_new_file_follows_umask(tmp_path):
    previous = os.umask(0o027)
    try:
        path = write_archive(tmp_path / "m.rbm", KIND, {}, {})
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


# --------------------------------------------------------------------------------------
# Malformed files
# --------------------------------------------------------------------------------------


def test_read_missing_file(tmp_path):
    path = tmp_path / "absent.rbm"
    with pytest.raises(ArchiveNotFoundError) as caught:
        read_archive(path, KIND)
    assert isinstance(caught.value, FileNotFoundError)
    assert isinstance(caught.value, ArchiveError)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("data", [b"", b"not a zip file", b"PK\x03\x04" + bytes(40)])
def test_read_not_zip(tmp_path, data):
    path = tmp_path / "m.rbm"
    path.write_bytes(data)
    assert_archive_error(path, "not a valid ZIP file")


def test_read_truncated_everywhere(archive_path, tmp_path):
    data = archive_path.read_bytes()
    truncated = tmp_path / "truncated.rbm"
    for length in range(len(data)):
        truncated.write_bytes(data[:length])
        try:
            read_archive(truncated, KIND)
        except ArchiveError:
            continue
        pytest.fail(f"no ArchiveError for the first {length} of {len(data)} bytes")


def test_read_crc_error(archive_path):
    data = bytearray(archive_path.read_bytes())
    # Flip one bit in the last byte of the "visible_bias" data.
    array_bytes = sample_arrays()["visible_bias"].tobytes()
    position = bytes(data).index(array_bytes) + len(array_bytes) - 1
    data[position] ^= 0x01
    archive_path.write_bytes(bytes(data))
    assert_archive_error(archive_path, "CRC")


def test_read_flipped_bytes(tmp_path):
    arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.array(7)}
    content = {"a": [1, 2.5]}
    original = write_archive(tmp_path / "m.rbm", KIND, arrays, content).read_bytes()
    corrupt = tmp_path / "corrupt.rbm"
    for position in range(len(original)):
        data = bytearray(original)
        data[position] ^= 0xFF
        corrupt.write_bytes(bytes(data))
        # A flip in a field that zipfile ignores (such as the creator version) is
        # harmless, so the only acceptable outcomes are ArchiveError or intact data.
        try:
            loaded, loaded_content, _ = read_archive(corrupt, KIND)
        except ArchiveError:
            continue
        assert loaded_content == content, position
        for name, array in arrays.items():
            assert loaded[name].tobytes() == array.tobytes(), position
            assert loaded[name].dtype == array.dtype, position


def test_read_missing_metadata(archive_path):
    members = read_members(archive_path)
    del members["metadata.json"]
    write_members(archive_path, members.items())
    assert_archive_error(archive_path, "has no metadata.json member")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (b"{not json", "not valid UTF-8 JSON"),
        (b"\xff\xfe{}", "not valid UTF-8 JSON"),
        (b'{"format": 1, "format": 2}', "duplicate key 'format'"),
        (b"[1, 2]", "must contain a JSON object, got list"),
        (b"[" * 100000 + b"]" * 100000, "not valid UTF-8 JSON"),
    ],
    ids=["syntax", "encoding", "duplicate", "list", "deep"],
)
def test_read_invalid_metadata(archive_path, text, fragment):
    members = read_members(archive_path)
    members["metadata.json"] = text
    write_members(archive_path, members.items())
    assert_archive_error(archive_path, fragment)


def test_read_oversized_metadata(archive_path, monkeypatch):
    monkeypatch.setattr(archive_module, "_MAX_METADATA_BYTES", 16)
    assert_archive_error(archive_path, "metadata.json is", "more than the 16 bytes")


def test_read_encrypted_member(archive_path):
    data = bytearray(archive_path.read_bytes())
    # Set bit 0 (encrypted) of the general purpose flags of the first member, in its
    # local header (offset 6) and its central directory entry (offset 8).
    data[6] |= 0x01
    data[bytes(data).index(b"PK\x01\x02") + 8] |= 0x01
    archive_path.write_bytes(bytes(data))
    assert_archive_error(archive_path, "'metadata.json' is encrypted")


def test_read_wrong_kind(archive_path):
    message = assert_archive_error(archive_path, kind="rbmfast-checkpoint")
    assert "'rbmfast-model' archive" in message
    assert "expected 'rbmfast-checkpoint'" in message


def test_read_newer_version(tmp_path):
    path = write_archive(tmp_path / "m.rbm", KIND, {}, {}, version=2)
    assert_archive_error(path, "version 2", "up to 1", "upgrade rbmfast")


@pytest.mark.parametrize("version", [0, True, "1", 1.5, None])
def test_read_invalid_version(archive_path, version):
    members = read_members(archive_path)
    metadata = dict(metadata_of(members), format_version=version)
    write_members(archive_path, with_metadata(members, metadata))
    assert_archive_error(archive_path, "format_version must be a positive integer")


@pytest.mark.parametrize("key", ["format", "format_version", "arrays", "content"])
def test_read_missing_key(archive_path, key):
    members = read_members(archive_path)
    metadata = metadata_of(members)
    del metadata[key]
    write_members(archive_path, with_metadata(members, metadata))
    assert_archive_error(archive_path, f"has no '{key}' key")


def test_read_unknown_key(archive_path):
    members = read_members(archive_path)
    metadata = dict(metadata_of(members), extra=1)
    write_members(archive_path, with_metadata(members, metadata))
    assert_archive_error(archive_path, "unknown keys ['extra']")


@pytest.mark.parametrize(
    ("arrays", "fragment"),
    [
        ([], "'arrays' must be a JSON object"),
        ({"a": {"dtype": "<f8"}}, "exactly the keys"),
        ({"a": {"dtype": "<f8", "shape": [1], "x": 0}}, "exactly the keys"),
        ({"a": {"dtype": 8, "shape": [1]}}, "dtype of array 'a' must be a string"),
        ({"a": {"dtype": "<f8", "shape": [-1]}}, "non-negative integers"),
        ({"a": {"dtype": "<f8", "shape": [True]}}, "non-negative integers"),
        ({"a": {"dtype": "<f8", "shape": 3}}, "non-negative integers"),
        ({"../a": {"dtype": "<f8", "shape": [1]}}, "invalid array name '../a'"),
    ],
)
def test_read_invalid_listing(archive_path, arrays, fragment):
    members = read_members(archive_path)
    metadata = dict(metadata_of(members), arrays=arrays)
    write_members(archive_path, with_metadata(members, metadata))
    assert_archive_error(archive_path, fragment)


def test_read_content_not_object(archive_path):
    members = read_members(archive_path)
    metadata = dict(metadata_of(members), content=[1])
    write_members(archive_path, with_metadata(members, metadata))
    assert_archive_error(archive_path, "'content' must be a JSON object")


def test_read_missing_array(archive_path):
    members = read_members(archive_path)
    del members["optimizer/m/weights.npy"]
    write_members(archive_path, members.items())
    assert_archive_error(
        archive_path, "'optimizer/m/weights' is listed", "is missing"
    )


def test_read_unlisted_member(archive_path):
    members = read_members(archive_path)
    members["extra.npy"] = npy_bytes(np.ones(2))
    write_members(archive_path, members.items())
    assert_archive_error(archive_path, "'extra.npy'", "does not list")


def test_read_duplicate_member(archive_path):
    members = list(read_members(archive_path).items())
    write_members(archive_path, members + [members[-1]])
    assert_archive_error(archive_path, "twice")


@pytest.mark.parametrize(
    "name", ["../evil.npy", "/etc/evil.npy", "a/../../evil.npy", "C:/evil.npy"]
)
def test_read_unsafe_member_path(archive_path, name):
    members = read_members(archive_path)
    members[name] = npy_bytes(np.ones(2))
    write_members(archive_path, members.items())
    assert_archive_error(archive_path, repr(name), "absolute path or a '..' part")


def test_read_dtype_mismatch(archive_path):
    members = read_members(archive_path)
    members["weights.npy"] = npy_bytes(np.zeros((5, 3), dtype=np.float64))
    write_members(archive_path, members.items())
    assert_archive_error(archive_path, "dtype '<f8'", "as '<f4'")


def test_read_shape_mismatch(archive_path):
    members = read_members(archive_path)
    members["weights.npy"] = npy_bytes(np.zeros((3, 5), dtype=np.float32))
    write_members(archive_path, members.items())
    assert_archive_error(archive_path, "shape (3, 5)", "as (5, 3)")


def test_read_object_array_rejected(archive_path, monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("pickle was called while reading an archive")

    members = read_members(archive_path)
    members["weights.npy"] = npy_bytes(
        np.array([{"a": 1}, None], dtype=object), allow_pickle=True
    )
    metadata = metadata_of(members)
    metadata["arrays"]["weights"] = {"dtype": "|O", "shape": [2]}
    write_members(archive_path, with_metadata(members, metadata))
    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    assert_archive_error(archive_path, "needs pickle")


def test_read_trailing_bytes(archive_path):
    members = read_members(archive_path)
    members["weights.npy"] += b"\x00" * 4
    write_members(archive_path, members.items())
    assert_archive_error(archive_path, "header describes")


def test_read_short_array_data(archive_path):
    members = read_members(archive_path)
    members["weights.npy"] = members["weights.npy"][:-4]
    write_members(archive_path, members.items())
    assert_archive_error(archive_path, "header describes")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"garbage bytes here", "not a .npy file"),
        (b"\x93NUMPY\x03\x00" + bytes(20), "format version 3.0"),
        (b"\x93NUMPY\x01\x00\x0a\x00{'descr'  \n", "invalid .npy header"),
    ],
    ids=["magic", "version", "header"],
)
def test_read_invalid_npy(archive_path, data, fragment):
    members = read_members(archive_path)
    members["weights.npy"] = data
    write_members(archive_path, members.items())
    assert_archive_error(archive_path, "'weights.npy'", fragment)


def test_read_unsupported_compression(archive_path):
    pytest.importorskip("bz2")
    members = read_members(archive_path)
    write_members(archive_path, members.items(), zipfile.ZIP_BZIP2)
    assert_archive_error(archive_path, "compression method 12")


@pytest.mark.parametrize("kind", ["", None])
def test_read_rejects_kind(archive_path, kind):
    with pytest.raises(ValueError, match="kind must be a non-empty string"):
        read_archive(archive_path, kind)


@pytest.mark.parametrize("max_version", [0, True, "2"])
def test_read_rejects_max_version(archive_path, max_version):
    with pytest.raises(ValueError, match="max_version must be a positive integer"):
        read_archive(archive_path, KIND, max_version=max_version)
