"""Tests for rbmfast.io: model and checkpoint files, exact resume, bad files."""

import dataclasses
import errno
import os
import zipfile

import numpy as np
import pytest

import rbmfast.archive as archive_module
from rbmfast.archive import ArchiveError, ArchiveNotFoundError, read_archive
from rbmfast.archive import write_archive
from rbmfast.config import TrainConfig
from rbmfast.constraints import ConstraintGroup, Constraints, label_constraints
from rbmfast.io import (CHECKPOINT_KIND, MODEL_KIND, ModelFileError, load_checkpoint,
                        load_model, save_checkpoint, save_model)
from rbmfast.layers import Binary, Gaussian, Spin
from rbmfast.rbm import RBM
from rbmfast.training import fit, train

LAYERS = {"binary": Binary, "spin": Spin, "gaussian": Gaussian}
DTYPES = [np.float32, np.float64]
N_VISIBLE, N_HIDDEN = 20, 8


def make_layer(cls, n, dtype, rng):
    params = {"theta": rng.normal(0.0, 1.0, n)}
    if cls is Gaussian:
        params["gamma"] = rng.uniform(0.5, 2.0, n)
    return cls(n, dtype=dtype, **params)


def make_rbm(visible="binary", hidden="binary", dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    return RBM(make_layer(LAYERS[visible], N_VISIBLE, dtype, rng),
               make_layer(LAYERS[hidden], N_HIDDEN, dtype, rng),
               rng.normal(0.0, 0.3, (N_VISIBLE, N_HIDDEN)))


def labelled_data(n=500, n_visible=N_VISIBLE, seed=0):
    """Return binary data and labels 0..2. Pixels 5k to 5k+4 are mostly on for k."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    data = rng.random((n, n_visible)) < 0.2
    for k in range(3):
        rows = labels == k
        data[rows, 5 * k:5 * k + 5] = rng.random((rows.sum(), 5)) < 0.8
    return data.astype(np.float64), labels


def assert_layers_equal(loaded, original):
    assert type(loaded) is type(original)
    for name in original.param_names:
        value = getattr(loaded, name)
        assert value.dtype == original.dtype, name
        assert value.tobytes() == getattr(original, name).tobytes(), name


def assert_rbms_equal(loaded, original):
    assert loaded.dtype == original.dtype
    assert loaded.weights.dtype == original.weights.dtype
    assert loaded.weights.tobytes() == original.weights.tobytes()
    assert_layers_equal(loaded.visible, original.visible)
    assert_layers_equal(loaded.hidden, original.hidden)


def assert_constraints_equal(loaded, original):
    assert loaded.n_hidden == original.n_hidden
    assert len(loaded.groups) == len(original.groups)
    assert np.array_equal(loaded.free_units, original.free_units)
    for new, old in zip(loaded.groups, original.groups):
        assert np.array_equal(new.units, old.units)
        assert new.lambda_Q == old.lambda_Q
        for name in ("q", "Q"):
            expected, value = getattr(old, name), getattr(new, name)
            if expected is None:
                assert value is None, name
            else:
                assert value.tobytes() == expected.tobytes(), name
        if old.Q_factors is None:
            assert new.Q_factors is None
        else:
            assert new.Q_factors[0].tobytes() == old.Q_factors[0].tobytes()
            assert new.Q_factors[1].tobytes() == old.Q_factors[1].tobytes()


# -- model files ------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("hidden", sorted(LAYERS))
@pytest.mark.parametrize("visible", sorted(LAYERS))
def test_model_round_trip(tmp_path, visible, hidden, dtype):
    rbm = make_rbm(visible, hidden, dtype)
    path = tmp_path / "model.rbm"
    assert save_model(path, rbm) == path

    loaded, constraints, metadata = load_model(path)

    assert_rbms_equal(loaded, rbm)
    assert constraints is None
    assert metadata == {}


def test_model_constraints_restored(tmp_path):
    x, y = labelled_data()
    rbm = make_rbm()
    constraints = label_constraints(x, y, N_HIDDEN, n_free=2, lambda_Q=0.5)
    save_model(tmp_path / "model.rbm", rbm, constraints)

    _, loaded, _ = load_model(tmp_path / "model.rbm")

    assert_constraints_equal(loaded, constraints)
    assert loaded.free_units.tolist() == [0, 1]
    assert loaded.violation(rbm.weights) == constraints.violation(rbm.weights)
    assert loaded.penalty(rbm.weights) == constraints.penalty(rbm.weights)


def test_model_two_groups_restored(tmp_path):
    # One group has q and low-rank Q factors, the other q alone, and units 0 and
    # 7 are free.
    rng = np.random.default_rng(3)
    factors = (rng.normal(size=(2, N_VISIBLE, 3)), rng.normal(size=(2, 3)))
    constraints = Constraints([
        ConstraintGroup([1, 2, 5], q=rng.normal(size=(N_VISIBLE, 2)),
                        Q_factors=factors, lambda_Q=0.25),
        ConstraintGroup([3, 4, 6], q=rng.normal(size=(N_VISIBLE, 1))),
    ], N_HIDDEN)
    save_model(tmp_path / "model.rbm", make_rbm(), constraints)

    _, loaded, _ = load_model(tmp_path / "model.rbm")

    assert_constraints_equal(loaded, constraints)
    assert loaded.free_units.tolist() == [0, 7]


def test_model_metadata_restored(tmp_path):
    metadata = {"data": {"data": "npz", "data_path": "/d/train.npz", "seed": 3},
                "typical_values": {"0": [0.25, -1.5], "1": [2.0, 0.0]},
                "free_units": [0, 1], "note": "caf\u00e9", "missing": None}
    save_model(tmp_path / "model.rbm", make_rbm(), None, metadata)

    _, _, loaded = load_model(tmp_path / "model.rbm")

    assert loaded == metadata


def test_save_model_overwrites(tmp_path):
    path = tmp_path / "model.rbm"
    save_model(path, make_rbm(seed=0))
    second = make_rbm(seed=1)
    save_model(path, second)

    loaded, _, _ = load_model(path)

    assert_rbms_equal(loaded, second)


def test_save_model_same_bytes(tmp_path):
    # The archive has fixed timestamps, so equal models give equal files.
    save_model(tmp_path / "a.rbm", make_rbm(), None, {"k": 1})
    save_model(tmp_path / "b.rbm", make_rbm(), None, {"k": 1})

    assert (tmp_path / "a.rbm").read_bytes() == (tmp_path / "b.rbm").read_bytes()


# -- checkpoints ------------------------------------------------------------------


def small_config(**changes):
    # 500 samples in batches of 50 are 10 updates per epoch, so 10 epochs are 100
    # updates. One thread keeps the run fast on a loaded machine, and the results
    # do not depend on the thread count (see test_resume_other_thread_count).
    settings = dict(n_hidden=8, n_epochs=10, batch_size=50, n_free=2, seed=1,
                    n_threads=1)
    settings.update(changes)
    return TrainConfig(**settings)


@pytest.fixture(scope="module")
def data():
    return labelled_data()


@pytest.fixture(scope="module")
def stopped_run(data):
    """Return (rbm, constraints, state, config) of a run stopped at update 35."""
    x, y = data
    config = small_config()
    rbm, constraints, state = train(config, x, y, stop_at_update=35)
    return rbm, constraints, state, config


def test_checkpoint_round_trip(tmp_path, stopped_run):
    rbm, constraints, state, config = stopped_run
    path = tmp_path / "checkpoint.rbm"
    metadata = {"data": {"data": "npz", "seed": 0}}
    assert save_checkpoint(path, rbm, constraints, state, config, metadata) == path

    ck = load_checkpoint(path)

    assert_rbms_equal(ck["rbm"], rbm)
    assert_constraints_equal(ck["constraints"], constraints)
    assert ck["config"] == config
    assert ck["metadata"] == metadata
    loaded = ck["state"]
    assert loaded.update == 35
    assert (loaded.epoch, loaded.batch) == (3, 5)
    assert loaded.chains.dtype == state.chains.dtype
    assert loaded.chains.tobytes() == state.chains.tobytes()
    assert loaded.stream == state.stream
    assert loaded.history == state.history
    assert len(loaded.history) == 3


def test_checkpoint_optimizer_restored(tmp_path, stopped_run):
    rbm, constraints, state, config = stopped_run
    save_checkpoint(tmp_path / "checkpoint.rbm", rbm, constraints, state, config)

    optimizer = load_checkpoint(tmp_path / "checkpoint.rbm")["state"].optimizer

    assert type(optimizer) is type(state.optimizer)
    assert optimizer.t == state.optimizer.t
    saved, original = optimizer.state_arrays(), state.optimizer.state_arrays()
    assert sorted(saved) == sorted(original)
    for key in original:
        assert saved[key].dtype == original[key].dtype, key
        assert saved[key].tobytes() == original[key].tobytes(), key


def test_checkpoint_without_constraints(tmp_path, data):
    x, _ = data
    config = small_config(n_free=None, n_epochs=1)
    rbm, constraints, state = train(config, x)
    save_checkpoint(tmp_path / "checkpoint.rbm", rbm, constraints, state, config)

    ck = load_checkpoint(tmp_path / "checkpoint.rbm")

    assert ck["constraints"] is None
    assert ck["metadata"] == {}
    assert ck["state"].update == 10


def test_load_model_reads_checkpoint(tmp_path, stopped_run):
    rbm, constraints, state, config = stopped_run
    path = tmp_path / "checkpoint.rbm"
    save_checkpoint(path, rbm, constraints, state, config, {"run": "a"})

    loaded, loaded_constraints, metadata = load_model(path)

    assert_rbms_equal(loaded, rbm)
    assert_constraints_equal(loaded_constraints, constraints)
    assert metadata == {"run": "a"}


def test_load_checkpoint_rejects_model(tmp_path):
    path = tmp_path / "model.rbm"
    save_model(path, make_rbm())

    with pytest.raises(ArchiveError) as raised:
        load_checkpoint(path)

    message = str(raised.value)
    assert str(path) in message
    assert MODEL_KIND in message
    assert CHECKPOINT_KIND in message


def test_load_model_rejects_other_kind(tmp_path):
    path = tmp_path / "other.rbm"
    write_archive(path, "something-else", {"weights": np.zeros((2, 2))}, {})

    with pytest.raises(ArchiveError) as raised:
        load_model(path)

    assert str(path) in str(raised.value)
    assert "something-else" in str(raised.value)


# -- resume exactness -------------------------------------------------------------


def resume(path, x, config=None):
    ck = load_checkpoint(path)
    state = fit(ck["rbm"], x, config or ck["config"], constraints=ck["constraints"],
                state=ck["state"])
    return ck["rbm"], state


def assert_runs_equal(rbm, state, reference_rbm, reference_state):
    assert np.array_equal(rbm.weights, reference_rbm.weights)
    for layer, reference in ((rbm.visible, reference_rbm.visible),
                             (rbm.hidden, reference_rbm.hidden)):
        for name in layer.param_names:
            assert np.array_equal(getattr(layer, name), getattr(reference, name)), name
    assert np.array_equal(state.chains, reference_state.chains)
    assert state.update == reference_state.update
    assert state.stream == reference_state.stream
    assert state.optimizer.t == reference_state.optimizer.t
    assert state.history == reference_state.history


@pytest.mark.parametrize("stop", [50, 55], ids=["epoch_end", "mid_epoch"])
@pytest.mark.parametrize("changes", [
    {},
    {"optimizer": "sgd", "momentum": 0.9, "lr": 0.01},
    {"visible": "gaussian", "hidden": "spin", "dtype": "float64", "lambda_Q": 0.1,
     "Q_rank": 4},
    {"method": "cd", "n_gibbs": 2, "l1sq_weights": 0.01, "l2_fields": 0.01},
], ids=["adam", "sgd_momentum", "gaussian_penalty", "cd_regularised"])
def test_resume_matches_full_run(tmp_path, data, stop, changes):
    x, y = data
    config = small_config(**changes)
    full_rbm, _, full_state = train(config, x, y)
    assert full_state.update == 100

    rbm, constraints, state = train(config, x, y, stop_at_update=stop)
    assert state.update == stop
    save_checkpoint(tmp_path / "checkpoint.rbm", rbm, constraints, state, config)
    resumed_rbm, resumed_state = resume(tmp_path / "checkpoint.rbm", x)

    assert_runs_equal(resumed_rbm, resumed_state, full_rbm, full_state)


def test_resume_twice_matches(tmp_path, data):
    # Checkpoints at updates 23 and 71, each loaded from disk and continued.
    x, y = data
    config = small_config()
    full_rbm, _, full_state = train(config, x, y)
    path = tmp_path / "checkpoint.rbm"
    rbm, constraints, state = train(config, x, y, stop_at_update=23)
    save_checkpoint(path, rbm, constraints, state, config)
    ck = load_checkpoint(path)
    state = fit(ck["rbm"], x, ck["config"], constraints=ck["constraints"],
                state=ck["state"], stop_at_update=71)
    save_checkpoint(path, ck["rbm"], ck["constraints"], state, ck["config"])

    resumed_rbm, resumed_state = resume(path, x)

    assert_runs_equal(resumed_rbm, resumed_state, full_rbm, full_state)


def test_resume_other_thread_count(tmp_path, data):
    x, y = data
    config = small_config()
    full_rbm, _, full_state = train(config, x, y)
    rbm, constraints, state = train(config, x, y, stop_at_update=90)
    save_checkpoint(tmp_path / "checkpoint.rbm", rbm, constraints, state, config)

    resumed_rbm, resumed_state = resume(tmp_path / "checkpoint.rbm", x,
                                        dataclasses.replace(config, n_threads=2))

    assert_runs_equal(resumed_rbm, resumed_state, full_rbm, full_state)


# -- damaged and inconsistent files -----------------------------------------------


@pytest.fixture
def model_path(tmp_path):
    x, y = labelled_data()
    constraints = label_constraints(x, y, N_HIDDEN, n_free=2)
    return save_model(tmp_path / "model.rbm", make_rbm(), constraints, {"k": 1})


def test_truncated_model_rejected(model_path):
    content = model_path.read_bytes()
    model_path.write_bytes(content[:len(content) // 2])

    with pytest.raises(ArchiveError) as raised:
        load_model(model_path)

    assert str(model_path) in str(raised.value)


@pytest.mark.parametrize("content",
                         [b"", b"not a zip file", b"PK\x03\x04" + b"\0" * 40],
                         ids=["empty", "text", "zip_magic"])
def test_garbage_model_rejected(tmp_path, content):
    path = tmp_path / "model.rbm"
    path.write_bytes(content)

    with pytest.raises(ArchiveError) as raised:
        load_model(path)

    assert str(path) in str(raised.value)


def test_corrupt_weights_rejected(model_path):
    # Flip the last data byte of the weights member, so only the CRC-32 differs.
    with zipfile.ZipFile(model_path) as archive:
        info = archive.getinfo("weights.npy")
    local_header = 30 + len(info.filename.encode()) + len(info.extra)
    last = info.header_offset + local_header + info.compress_size - 1
    content = bytearray(model_path.read_bytes())
    content[last] ^= 0xFF
    model_path.write_bytes(bytes(content))

    with pytest.raises(ArchiveError) as raised:
        load_model(model_path)

    assert str(model_path) in str(raised.value)


def test_missing_model_rejected(tmp_path):
    path = tmp_path / "absent.rbm"

    with pytest.raises(ArchiveNotFoundError) as raised:
        load_model(path)

    assert str(path) in str(raised.value)


def rewrite_model(path, edit, kind=MODEL_KIND):
    """Read the archive at `path`, apply edit(arrays, content), write it back."""
    arrays, content, _ = read_archive(path, kind)
    edit(arrays, content)
    write_archive(path, kind, arrays, content)
    return path


def shorten(name):
    def edit(arrays, content):
        arrays[name] = arrays[name][:-1]
    return edit


def delete(name):
    def edit(arrays, content):
        del arrays[name]
    return edit


def set_content(*keys, value):
    def edit(arrays, content):
        target = content
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return edit


def set_array(name, value):
    def edit(arrays, content):
        arrays[name] = value
    return edit


def with_nan_weight(arrays, content):
    arrays["weights"] = arrays["weights"].copy()
    arrays["weights"][2, 3] = np.nan


def to_gaussian_hidden(gamma):
    def edit(arrays, content):
        content["hidden"] = "gaussian"
        arrays["hidden/gamma"] = gamma
    return edit


INCONSISTENT_MODELS = {
    "short_visible_theta": (shorten("visible/theta"),
                            "weights must have shape (19, 8), got (20, 8)"),
    "short_hidden_theta": (shorten("hidden/theta"),
                           "weights must have shape (20, 7), got (20, 8)"),
    "short_weights": (shorten("weights"),
                      "weights must have shape (20, 8), got (19, 8)"),
    "unknown_visible_type": (set_content("visible", value="potts"),
                             "unknown visible layer type 'potts'"),
    "unknown_hidden_type": (set_content("hidden", value="softplus"),
                            "unknown hidden layer type 'softplus'"),
    "no_weights": (delete("weights"), "'weights'"),
    "no_hidden_theta": (delete("hidden/theta"), "'hidden/theta'"),
    "no_gamma": (set_content("hidden", value="gaussian"), "'hidden/gamma'"),
    "short_gamma": (to_gaussian_hidden(np.ones(N_HIDDEN - 1, np.float32)),
                    "gamma must have shape (8,)"),
    "negative_gamma": (to_gaussian_hidden(-np.ones(N_HIDDEN, np.float32)),
                       "gamma must be > 0"),
    "nan_weight": (with_nan_weight, "non-finite"),
    "unsupported_dtype": (set_content("dtype", value="float16"),
                          "float32 or float64"),
    "invalid_dtype": (set_content("dtype", value="no-such-dtype"), "no-such-dtype"),
    "no_dtype_key": (lambda arrays, content: content.pop("dtype"), "'dtype'"),
    "short_q": (shorten("constraints/0/q"), "q of a constraint group has 19"),
    "no_units": (delete("constraints/0/units"), "'constraints/0/units'"),
    "units_out_of_range": (set_array("constraints/0/units", np.arange(2, 9)),
                           "outside 0..7"),
    "constraints_n_hidden": (set_content("constraints", "n_hidden", value=9),
                             "constraints are for 9 hidden units"),
    "no_groups": (lambda arrays, content: content["constraints"].pop("groups"),
                  "'groups'"),
}


@pytest.mark.parametrize("case", sorted(INCONSISTENT_MODELS))
def test_inconsistent_model_rejected(model_path, case):
    edit, expected = INCONSISTENT_MODELS[case]
    rewrite_model(model_path, edit)

    with pytest.raises(ModelFileError) as raised:
        load_model(model_path)

    message = str(raised.value)
    assert str(model_path) in message
    assert expected in message


@pytest.fixture
def checkpoint_path(tmp_path, stopped_run):
    rbm, constraints, state, config = stopped_run
    return save_checkpoint(tmp_path / "checkpoint.rbm", rbm, constraints, state, config)


def set_chain_value(arrays, content):
    arrays["chains"] = arrays["chains"].copy()
    arrays["chains"][1, 2] = 0.5


INCONSISTENT_CHECKPOINTS = {
    "narrow_chains": (set_array("chains", np.zeros((50, 19), np.float32)),
                      "checkpoint chains must have shape (n_samples, 20)"),
    "half_chain_value": (set_chain_value, "got 0.5 at (sample 1, unit 2)"),
    "no_chains": (delete("chains"), "'chains'"),
    "no_state": (lambda arrays, content: content.pop("state"), "'state'"),
    "no_config": (lambda arrays, content: content.pop("config"), "'config'"),
    "unknown_setting": (set_content("config", "colour", value="red"),
                        "unknown training settings ['colour']"),
    "bad_stream_key": (set_content("state", "stream", "key", value=[1, 2, 3]),
                       "invalid stream key"),
    "unknown_optimizer": (set_content("config", "optimizer", value="lbfgs"),
                          "unknown optimizer 'lbfgs'"),
    "short_visible_theta": (shorten("visible/theta"), "weights must have shape"),
}


@pytest.mark.parametrize("case", sorted(INCONSISTENT_CHECKPOINTS))
def test_inconsistent_checkpoint_rejected(checkpoint_path, case):
    edit, expected = INCONSISTENT_CHECKPOINTS[case]
    rewrite_model(checkpoint_path, edit, CHECKPOINT_KIND)

    with pytest.raises(ModelFileError) as raised:
        load_checkpoint(checkpoint_path)

    message = str(raised.value)
    assert str(checkpoint_path) in message
    assert expected in message


# -- atomic writes ----------------------------------------------------------------


class FailingStream:
    """A file wrapper that raises ENOSPC once `limit` bytes have been written."""

    def __init__(self, raw, limit):
        self.raw, self.limit, self.written = raw, limit, 0

    def write(self, data):
        room = self.limit - self.written
        if len(data) > room:
            self.raw.write(bytes(data[:max(room, 0)]))
            self.written = self.limit
            raise OSError(errno.ENOSPC, "No space left on device")
        self.written += len(data)
        return self.raw.write(data)

    def __getattr__(self, name):
        return getattr(self.raw, name)


@pytest.fixture
def fill_disk(monkeypatch):
    """Return a function that makes later archive writes fail after `limit` bytes.

    Part of the new archive is then on disk, as when a disk fills up mid-write.
    """
    write_zip = archive_module._write_zip

    def enable(limit):
        def failing_write_zip(stream, metadata_bytes, arrays):
            write_zip(FailingStream(stream, limit), metadata_bytes, arrays)

        monkeypatch.setattr(archive_module, "_write_zip", failing_write_zip)

    return enable


def test_failed_save_keeps_model(tmp_path, fill_disk):
    path = tmp_path / "model.rbm"
    old = make_rbm(seed=0)
    save_model(path, old, None, {"version": "old"})
    fill_disk(1000)

    with pytest.raises(OSError) as raised:
        save_model(path, make_rbm(seed=1), None, {"version": "new"})

    assert raised.value.errno == errno.ENOSPC
    loaded, _, metadata = load_model(path)
    assert_rbms_equal(loaded, old)
    assert metadata == {"version": "old"}
    assert os.listdir(tmp_path) == ["model.rbm"]


def test_failed_save_keeps_checkpoint(tmp_path, fill_disk, stopped_run):
    rbm, constraints, state, config = stopped_run
    path = tmp_path / "checkpoint.rbm"
    save_checkpoint(path, rbm, constraints, state, config)
    fill_disk(2200)
    newer = rbm.copy()
    newer.weights += 1

    with pytest.raises(OSError):
        save_checkpoint(path, newer, constraints, state, config)

    ck = load_checkpoint(path)
    assert_rbms_equal(ck["rbm"], rbm)
    assert ck["state"].update == 35
    assert os.listdir(tmp_path) == ["checkpoint.rbm"]
