"""Read and write rbmfast model and checkpoint archives.

An archive is a ZIP file that contains ``metadata.json`` and one ``<name>.npy`` member
per array. ``metadata.json`` is a JSON object with four keys:

``format``
    The archive kind, for example ``"rbmfast-model"`` or ``"rbmfast-checkpoint"``.
``format_version``
    The version of that kind's layout, a positive integer.
``arrays``
    A mapping from array name to ``{"dtype": str, "shape": list[int]}``, where the
    dtype is numpy's ``dtype.str`` (for example ``"<f4"``).
``content``
    The caller's JSON object, for example hyperparameters or the training history.

Members are written with ``ZIP_STORED`` (no compression). Float weights, biases and
chains compress by only a few percent with deflate, so compression would cost CPU time
on every checkpoint and buy little disk space. The reader also accepts ``ZIP_DEFLATED``
members, so a file recompressed by a ZIP tool still loads. CRC-32 checks cover both.

Loading never runs code from the file because nothing is unpickled. Arrays are read with
``numpy.lib.format.read_array(..., allow_pickle=False)`` after their ``.npy`` header
has been checked against the listing, and the metadata is parsed with ``json``.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from tokenize import TokenError
from typing import IO, Any

import numpy as np
import numpy.lib.format as npy_format

__all__ = [
    "ArchiveError",
    "ArchiveNotFoundError",
    "read_archive",
    "write_archive",
]

METADATA_NAME = "metadata.json"
ARRAY_SUFFIX = ".npy"

# One path component of an array name. "." and ".." match this pattern too, so they
# are rejected separately.
_NAME_PART = re.compile(r"[A-Za-z0-9_.-]+")

# A fixed timestamp (the earliest a ZIP file can store) makes the bytes of an archive
# depend only on its inputs, so two saves of the same model compare equal by checksum.
_ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
_MEMBER_PERMISSIONS = 0o644

# metadata.json contains settings and short histories. The cap bounds the memory that
# reading a malformed or hostile archive can take before any check runs.
_MAX_METADATA_BYTES = 64 * 1024 * 1024

# Above this size a member needs ZIP64 fields, and zipfile needs to know that before
# the member is streamed (this is zipfile.ZIP64_LIMIT).
_ZIP64_LIMIT = (1 << 31) - 1

_METADATA_KEYS = ("format", "format_version", "arrays", "content")
_LISTING_KEYS = ("dtype", "shape")
_SUPPORTED_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class ArchiveError(ValueError):
    """Error for a file that is not a valid archive of the requested kind.

    The message names the file and what is wrong with it.
    """


class ArchiveNotFoundError(FileNotFoundError, ArchiveError):
    """Error for an archive path that does not exist.

    It is both a ``FileNotFoundError`` and an ``ArchiveError``, so either handler
    catches it.
    """


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------


def write_archive(
    path: str | os.PathLike[str],
    kind: str,
    arrays: Mapping[str, np.ndarray],
    content: Mapping[str, Any],
    version: int = 1,
) -> Path:
    """Write arrays and a JSON object to an archive file, atomically.

    The archive is written to a temporary file in the target's directory, flushed and
    fsynced, then renamed onto ``path`` with ``os.replace``. If anything fails, the
    temporary file is removed and an existing file at ``path`` is left unchanged. All
    inputs are validated before the temporary file is created.

    Parameters
    ----------
    path : str or os.PathLike
        Target file. Its directory must exist. An existing file is replaced and keeps
        its permission bits. A new file gets ``0o666`` minus the process umask. A
        symlink at ``path`` is replaced by the file, not followed.
    kind : str
        Archive kind stored as ``format``, for example ``"rbmfast-model"``.
    arrays : Mapping[str, numpy.ndarray]
        Arrays of any shape (0-d and empty included) and any numeric, boolean, string,
        datetime or timedelta dtype. Object and structured dtypes raise TypeError.
        Names are one or more ``/``-separated parts matching ``[A-Za-z0-9_.-]+``, for
        example ``"optimizer/m/weights"``. The parts ``.`` and ``..`` are invalid.
        Values are not checked for finiteness.
    content : Mapping[str, Any]
        JSON-serialisable object with string keys, stored as ``content``. numpy
        booleans, integers and floats are converted to Python ``bool``, ``int`` and
        ``float``. Tuples are stored as JSON arrays and read back as lists. NaN and
        infinity are stored as ``NaN`` and ``Infinity``, which Python's ``json``
        reads back although strict JSON parsers do not.
    version : int, default 1
        Layout version of ``kind``, stored as ``format_version``.

    Returns
    -------
    pathlib.Path
        ``path`` as a ``Path``.

    Raises
    ------
    TypeError
        If an array is not a numpy.ndarray or has an object or structured dtype, or if
        ``content`` contains a value JSON cannot store. The message names the array
        or the key path, for example ``content['optimizer']['betas'][1]``.
    ValueError
        If ``kind`` is empty, ``version`` is not a positive integer or an array name is
        invalid.
    FileNotFoundError
        If the target directory does not exist.
    """
    target = Path(path)
    _validate_kind(kind)
    _validate_version("version", version)
    checked_arrays = _validate_arrays(arrays)
    metadata = {
        "format": kind,
        "format_version": version,
        "arrays": {
            name: {"dtype": array.dtype.str, "shape": list(array.shape)}
            for name, array in checked_arrays.items()
        },
        "content": _to_json_object(content),
    }
    # ensure_ascii=True escapes every non-ASCII character, so the text is valid UTF-8
    # even for strings with lone surrogates.
    metadata_bytes = json.dumps(metadata, ensure_ascii=True).encode("utf-8")

    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(
            errno.ENOENT,
            f"cannot write archive {str(target)!r}: directory {str(directory)!r} "
            "does not exist; create it first",
        )
    return write_atomically(
        target, lambda stream: _write_zip(stream, metadata_bytes, checked_arrays))


def write_atomically(target, write, binary=True):
    """Write a file through a temporary file in its directory, then rename it.

    `write(stream)` fills the open temporary file (binary, or ASCII text with
    newline "\n" when `binary` is false).  The file is flushed and synced
    before ``os.replace`` puts it in place with the mode an existing target
    had, so a crash leaves the old file or the new one, never a part.  On
    any error the temporary file is removed and the target is untouched.
    """
    target = Path(target)
    directory = target.parent
    file_mode = _target_file_mode(target)
    descriptor, temporary_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=directory
    )
    try:
        if binary:
            stream = os.fdopen(descriptor, "wb")
        else:
            stream = os.fdopen(descriptor, "w", encoding="ascii", newline="\n")
        with stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary_name, file_mode)
        os.replace(temporary_name, target)
    except BaseException:
        try:
            os.remove(temporary_name)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)
    return target


def _validate_kind(kind: object) -> None:
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind must be a non-empty string, got {kind!r}")


def _validate_version(label: str, version: object) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{label} must be a positive integer, got {version!r}")


def _is_valid_array_name(name: object) -> bool:
    if not isinstance(name, str):
        return False
    parts = name.split("/")
    return all(
        _NAME_PART.fullmatch(part) is not None and part not in (".", "..")
        for part in parts
    )


def _validate_arrays(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not isinstance(arrays, Mapping):
        raise TypeError(
            f"arrays must be a mapping of name to numpy.ndarray, "
            f"got {type(arrays).__name__}"
        )
    checked: dict[str, np.ndarray] = {}
    for name, array in arrays.items():
        if not _is_valid_array_name(name):
            raise ValueError(
                f"invalid array name {name!r}: use '/'-separated parts of letters, "
                "digits, '_', '.' and '-', none of them '.' or '..'"
            )
        if not isinstance(array, np.ndarray):
            raise TypeError(
                f"array {name!r} must be a numpy.ndarray, got {type(array).__name__}; "
                "wrap it with numpy.asarray"
            )
        if array.dtype.hasobject or array.dtype.kind == "V":
            raise TypeError(
                f"array {name!r} has dtype {array.dtype}, which an archive cannot "
                "store because object and structured dtypes need pickle or lose "
                "their fields; convert it to a numeric, boolean or string dtype"
            )
        checked[name] = array
    return checked


def _to_json_object(content: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(content, Mapping):
        raise TypeError(
            f"content must be a mapping with string keys, got {type(content).__name__}"
        )
    return _to_json_value(content, "content", set())


def _to_json_value(value: Any, key_path: str, open_containers: set[int]) -> Any:
    """Return ``value`` as plain JSON types, or raise TypeError naming ``key_path``."""
    # bool and np.bool_ come before int because bool is an int subclass.
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (Mapping, list, tuple)):
        if id(value) in open_containers:
            raise TypeError(
                f"{key_path} is a circular reference to an enclosing container"
            )
        open_containers.add(id(value))
        try:
            if isinstance(value, Mapping):
                return _to_json_dict(value, key_path, open_containers)
            return [
                _to_json_value(item, f"{key_path}[{index}]", open_containers)
                for index, item in enumerate(value)
            ]
        finally:
            open_containers.discard(id(value))
    hint = ""
    if isinstance(value, np.ndarray):
        hint = "; put arrays in `arrays` instead of `content`"
    raise TypeError(
        f"{key_path} has type {type(value).__name__}, which JSON cannot store; "
        f"use None, bool, int, float, str, list, tuple or dict{hint}"
    )


def _to_json_dict(
    mapping: Mapping[Any, Any], key_path: str, open_containers: set[int]
) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in mapping.items():
        # json.dumps would turn an int key into a string, so the object read back
        # would differ from the one written.
        if not isinstance(key, str):
            raise TypeError(
                f"{key_path} has key {key!r} of type {type(key).__name__}; "
                "JSON object keys must be strings"
            )
        result[key] = _to_json_value(item, f"{key_path}[{key!r}]", open_containers)
    return result


def _member_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIMESTAMP)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = _MEMBER_PERMISSIONS << 16
    return info


def _write_zip(
    stream: IO[bytes], metadata_bytes: bytes, arrays: Mapping[str, np.ndarray]
) -> None:
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(_member_info(METADATA_NAME), metadata_bytes)
        for name, array in arrays.items():
            # The .npy header adds at most a few kilobytes to the data.
            needs_zip64 = array.nbytes + 65536 > _ZIP64_LIMIT
            info = _member_info(name + ARRAY_SUFFIX)
            with archive.open(info, "w", force_zip64=needs_zip64) as member:
                npy_format.write_array(member, array, allow_pickle=False)


def _target_file_mode(target: Path) -> int:
    """Return the existing file's permission bits, or ``0o666`` minus the umask."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_current_umask()


def _current_umask() -> int:
    # Linux reports the umask in /proc. Elsewhere the only way to read it is to set it,
    # which briefly changes it for every thread of the process.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable where the platform allows fsync on a directory."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    try:
        descriptor = os.open(directory, flags)
    except OSError:
        # Windows cannot open a directory with os.open, so the rename is not fsynced.
        return
    try:
        os.fsync(descriptor)
    except OSError:
        # Some file systems reject fsync on a directory with EINVAL. The archive data
        # itself has already been fsynced.
        pass
    finally:
        os.close(descriptor)


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------


def read_archive(
    path: str | os.PathLike[str], kind: str, max_version: int = 1
) -> tuple[dict[str, np.ndarray], dict[str, Any], int]:
    """Read an archive written by `write_archive` and check it completely.

    Parameters
    ----------
    path : str or os.PathLike
        Archive file.
    kind : str
        Expected ``format``, for example ``"rbmfast-model"``.
    max_version : int, default 1
        Newest ``format_version`` of ``kind`` that the caller can interpret.

    Returns
    -------
    arrays : dict[str, numpy.ndarray]
        Arrays in the order of the listing, with the dtype (byte order included) and
        shape they were written with.
    content : dict[str, Any]
        The ``content`` object, with lists in place of tuples.
    version : int
        ``format_version`` of the file, between 1 and ``max_version``.

    Raises
    ------
    ArchiveNotFoundError
        If ``path`` does not exist.
    ArchiveError
        If the file is malformed, with the path in the message. The cases are: not a
        ZIP file or truncated, a failed CRC check, a missing or invalid
        ``metadata.json``, another kind, a ``format_version`` above ``max_version``,
        a member path that is absolute or contains ``..``, a listed array missing, a
        member not listed, an array whose dtype or shape differs from its listing,
        and an array that would need pickle.
    ValueError
        If ``kind`` is empty or ``max_version`` is not a positive integer.
    """
    _validate_kind(kind)
    _validate_version("max_version", max_version)
    archive_path = Path(path)
    try:
        archive = zipfile.ZipFile(archive_path, "r")
    except FileNotFoundError:
        raise ArchiveNotFoundError(
            errno.ENOENT, "archive file not found", str(archive_path)
        ) from None
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as error:
        raise ArchiveError(
            f"{str(archive_path)!r} is not a valid ZIP file, or it is truncated "
            f"({error}); write the archive again"
        ) from error
    with archive:
        try:
            return _read_open_archive(archive, archive_path, kind, max_version)
        except ArchiveError:
            raise
        except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as error:
            raise ArchiveError(
                f"{str(archive_path)!r} is corrupt ({type(error).__name__}: {error}); "
                "write the archive again"
            ) from error


def _read_open_archive(
    archive: zipfile.ZipFile, path: Path, kind: str, max_version: int
) -> tuple[dict[str, np.ndarray], dict[str, Any], int]:
    members = _check_members(archive, path)
    if METADATA_NAME not in members:
        raise ArchiveError(f"{str(path)!r} has no {METADATA_NAME} member")
    metadata = _read_metadata(archive, members[METADATA_NAME], path)
    version = _check_header(metadata, path, kind, max_version)
    listing = _check_listing(metadata["arrays"], path)
    if not isinstance(metadata["content"], dict):
        raise ArchiveError(
            f"{str(path)!r}: {METADATA_NAME} 'content' must be a JSON object, "
            f"got {type(metadata['content']).__name__}"
        )
    _check_member_names(members, listing, path)
    arrays = {
        name: _read_array(archive, members[name + ARRAY_SUFFIX], path, name, expected)
        for name, expected in listing.items()
    }
    return arrays, metadata["content"], version


def _check_members(archive: zipfile.ZipFile, path: Path) -> dict[str, zipfile.ZipInfo]:
    """Return the members by name after checking paths, duplicates and encoding."""
    members: dict[str, zipfile.ZipInfo] = {}
    file_size = path.stat().st_size
    for info in archive.infolist():
        name = info.filename
        # A corrupt end-of-central-directory record can shift every offset, even
        # below zero, where seeking would fail with EINVAL.
        if not 0 <= info.header_offset < file_size:
            raise ArchiveError(
                f"{str(path)!r} member {name!r} starts at offset {info.header_offset}, "
                f"outside the {file_size}-byte file; the archive is corrupt"
            )
        if _is_unsafe_member_path(name):
            raise ArchiveError(
                f"{str(path)!r} has member {name!r} with an absolute path or a '..' "
                "part; archives written by rbmfast never contain such paths"
            )
        if name in members:
            raise ArchiveError(f"{str(path)!r} contains member {name!r} twice")
        if info.flag_bits & 0x1:
            raise ArchiveError(
                f"{str(path)!r} member {name!r} is encrypted; rbmfast archives are not"
            )
        if info.compress_type not in _SUPPORTED_COMPRESSION:
            raise ArchiveError(
                f"{str(path)!r} member {name!r} uses ZIP compression method "
                f"{info.compress_type}; only stored (0) and deflated (8) are supported"
            )
        members[name] = info
    return members


def _is_unsafe_member_path(name: str) -> bool:
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return True
    return ".." in re.split(r"[/\\]", name)


def _read_metadata(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path
) -> dict[str, Any]:
    if info.file_size > _MAX_METADATA_BYTES:
        raise ArchiveError(
            f"{str(path)!r}: {METADATA_NAME} is {info.file_size} bytes, more than the "
            f"{_MAX_METADATA_BYTES} bytes that rbmfast reads; the file is not an "
            "rbmfast archive or is corrupt"
        )
    raw = archive.read(info)
    try:
        metadata = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (ValueError, RecursionError) as error:
        # ValueError covers JSONDecodeError, UnicodeDecodeError and duplicate keys.
        raise ArchiveError(
            f"{str(path)!r}: {METADATA_NAME} is not valid UTF-8 JSON ({error})"
        ) from error
    if not isinstance(metadata, dict):
        raise ArchiveError(
            f"{str(path)!r}: {METADATA_NAME} must contain a JSON object, "
            f"got {type(metadata).__name__}"
        )
    return metadata


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _check_header(
    metadata: dict[str, Any], path: Path, kind: str, max_version: int
) -> int:
    """Check ``format``, ``format_version`` and the key set, and return the version."""
    for key in _METADATA_KEYS:
        if key not in metadata:
            raise ArchiveError(f"{str(path)!r}: {METADATA_NAME} has no {key!r} key")
    found_kind = metadata["format"]
    if found_kind != kind:
        raise ArchiveError(
            f"{str(path)!r} is a {found_kind!r} archive, expected {kind!r}"
        )
    version = metadata["format_version"]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ArchiveError(
            f"{str(path)!r}: format_version must be a positive integer, "
            f"got {version!r}"
        )
    if version > max_version:
        raise ArchiveError(
            f"{str(path)!r} is version {version} of {kind!r}, but this rbmfast reads "
            f"versions up to {max_version}; upgrade rbmfast to read it"
        )
    # Checked after the version, so a newer layout with new keys gets the upgrade
    # message above.
    unknown = sorted(set(metadata) - set(_METADATA_KEYS))
    if unknown:
        raise ArchiveError(
            f"{str(path)!r}: {METADATA_NAME} has unknown keys {unknown}; "
            f"version {version} has only {list(_METADATA_KEYS)}"
        )
    return version


_Listing = dict[str, tuple[str, tuple[int, ...]]]


def _check_listing(listing: object, path: Path) -> _Listing:
    """Return ``name -> (dtype string, shape)`` from the ``arrays`` listing."""
    if not isinstance(listing, dict):
        raise ArchiveError(
            f"{str(path)!r}: {METADATA_NAME} 'arrays' must be a JSON object, "
            f"got {type(listing).__name__}"
        )
    checked: _Listing = {}
    for name, entry in listing.items():
        if not _is_valid_array_name(name):
            raise ArchiveError(f"{str(path)!r} lists invalid array name {name!r}")
        if not isinstance(entry, dict) or sorted(entry) != sorted(_LISTING_KEYS):
            raise ArchiveError(
                f"{str(path)!r}: listing of array {name!r} must be an object with "
                f"exactly the keys {list(_LISTING_KEYS)}, got {entry!r}"
            )
        dtype, shape = entry["dtype"], entry["shape"]
        if not isinstance(dtype, str):
            raise ArchiveError(
                f"{str(path)!r}: dtype of array {name!r} must be a string, "
                f"got {dtype!r}"
            )
        if not isinstance(shape, list) or not all(_is_dimension(n) for n in shape):
            raise ArchiveError(
                f"{str(path)!r}: shape of array {name!r} must be a list of "
                f"non-negative integers, got {shape!r}"
            )
        checked[name] = (dtype, tuple(shape))
    return checked


def _is_dimension(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_member_names(
    members: Mapping[str, zipfile.ZipInfo],
    listing: Mapping[str, object],
    path: Path,
) -> None:
    for name in listing:
        if name + ARRAY_SUFFIX not in members:
            raise ArchiveError(
                f"{str(path)!r}: array {name!r} is listed in {METADATA_NAME} but "
                f"member {name + ARRAY_SUFFIX!r} is missing"
            )
    expected = {METADATA_NAME} | {name + ARRAY_SUFFIX for name in listing}
    for member_name in members:
        if member_name not in expected:
            raise ArchiveError(
                f"{str(path)!r} has member {member_name!r}, which {METADATA_NAME} "
                "does not list"
            )


def _read_array(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    path: Path,
    name: str,
    expected: tuple[str, tuple[int, ...]],
) -> np.ndarray:
    """Read one .npy member after checking its header against the listing."""
    where = f"{str(path)!r} member {info.filename!r}"
    with archive.open(info) as member:
        dtype, shape, header_size = _read_npy_header(member, where)
    _check_npy_header(where, name, expected, dtype, shape)
    data_size = math.prod(shape) * dtype.itemsize
    if info.file_size != header_size + data_size:
        raise ArchiveError(
            f"{where} is {info.file_size} bytes, but its header describes "
            f"{header_size + data_size} bytes; the archive is corrupt"
        )
    with archive.open(info) as member:
        try:
            array = npy_format.read_array(member, allow_pickle=False)
        except ValueError as error:
            raise ArchiveError(f"{where} is not a valid .npy file ({error})") from error
        # Reading past the data makes zipfile compare the CRC-32.
        if member.read(1):
            raise ArchiveError(f"{where} has data after the array")
    return array


def _read_npy_header(member: IO[bytes], where: str) -> tuple[np.dtype, tuple, int]:
    """Return the dtype, shape and header size from a .npy header."""
    try:
        major, minor = npy_format.read_magic(member)
    except ValueError as error:
        raise ArchiveError(f"{where} is not a .npy file ({error})") from error
    # Version 3.0 exists only for structured dtypes with non-ASCII field names, which
    # write_archive rejects.
    readers = {
        (1, 0): npy_format.read_array_header_1_0,
        (2, 0): npy_format.read_array_header_2_0,
    }
    if (major, minor) not in readers:
        raise ArchiveError(
            f"{where} has .npy format version {major}.{minor}; "
            "only 1.0 and 2.0 are supported"
        )
    try:
        shape, _, dtype = readers[major, minor](member)
    except (ValueError, TypeError, SyntaxError, RecursionError, TokenError) as error:
        # numpy parses the header with ast.literal_eval and, for headers that fail
        # to parse, retries with a tokenize pass that strips Python 2 long suffixes.
        raise ArchiveError(f"{where} has an invalid .npy header ({error})") from error
    return dtype, shape, member.tell()


def _check_npy_header(
    where: str,
    name: str,
    expected: tuple[str, tuple[int, ...]],
    dtype: np.dtype,
    shape: tuple[int, ...],
) -> None:
    expected_dtype, expected_shape = expected
    if dtype.hasobject:
        raise ArchiveError(
            f"{where} contains an array of dtype {dtype}, which needs pickle to load; "
            "rbmfast never unpickles archive data"
        )
    if dtype.str != expected_dtype:
        raise ArchiveError(
            f"{where} has dtype {dtype.str!r}, but {METADATA_NAME} lists array "
            f"{name!r} as {expected_dtype!r}"
        )
    if tuple(shape) != expected_shape:
        raise ArchiveError(
            f"{where} has shape {tuple(shape)}, but {METADATA_NAME} lists array "
            f"{name!r} as {expected_shape}"
        )
