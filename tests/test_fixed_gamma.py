"""Gaussian visible units with fixed precisions: config, training, files, CLI;
and training with the second-order penalty on 1 and 2 threads."""
import json

import numpy as np
import pytest

from rbmfast.cli import main
from rbmfast.config import TrainConfig
from rbmfast.io import load_checkpoint, load_model, save_checkpoint
from rbmfast.training import fit, init_rbm, train


def gaussian_data(n=600, n_visible=10, seed=0):
    """Real data with per-unit means and scales and a 2-class label."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    scale = np.linspace(0.5, 2.0, n_visible)
    x = rng.standard_normal((n, n_visible)) * scale + np.linspace(-1, 1, n_visible)
    x[y == 1, :3] += 1.5
    return x.astype(np.float32), y


def gaussian_config(**changes):
    settings = dict(n_hidden=6, visible="gaussian", hidden="binary", n_epochs=3,
                    batch_size=50, lr=0.01, seed=1, n_threads=1)
    settings.update(changes)
    return TrainConfig(**settings)


def test_fixed_gamma_keeps_data_precisions():
    x, _ = gaussian_data()
    config = gaussian_config(learn_visible_gamma=False)
    initial = init_rbm(config, x).visible.gamma.copy()
    rbm, _, _ = train(config, x)
    np.testing.assert_array_equal(rbm.visible.gamma, initial)
    variance = x.astype(np.float64).var(axis=0) + 1e-4
    np.testing.assert_allclose(initial, 1 / variance, rtol=1e-5)


def test_learned_gamma_moves():
    x, _ = gaussian_data()
    config = gaussian_config()
    initial = init_rbm(config, x).visible.gamma.copy()
    rbm, _, _ = train(config, x)
    assert np.max(np.abs(rbm.visible.gamma - initial)) > 1e-3


def test_fixed_gamma_trains_other_parameters():
    x, _ = gaussian_data()
    config = gaussian_config(learn_visible_gamma=False)
    initial = init_rbm(config, x)
    rbm, _, _ = train(config, x)
    assert np.max(np.abs(rbm.visible.theta - initial.visible.theta)) > 1e-3
    assert np.max(np.abs(rbm.weights - initial.weights)) > 1e-3


def test_given_gamma_keeps_data_means():
    x, _ = gaussian_data()
    rbm = init_rbm(gaussian_config(visible_gamma=2.5), x)
    np.testing.assert_array_equal(rbm.visible.gamma, np.full(10, 2.5, np.float32))
    means = x.astype(np.float64).mean(axis=0)
    np.testing.assert_allclose(rbm.visible.theta / rbm.visible.gamma, means,
                               rtol=1e-5, atol=1e-6)


def test_given_fixed_gamma_stays():
    x, _ = gaussian_data()
    config = gaussian_config(visible_gamma=0.7, learn_visible_gamma=False)
    rbm, _, _ = train(config, x)
    np.testing.assert_array_equal(rbm.visible.gamma, np.full(10, 0.7, np.float32))


def test_fixed_gamma_below_gamma_min_kept():
    # A unit with data variance above 1 / gamma_min gets a precision below
    # gamma_min, which a learned precision would be raised to.
    x, _ = gaussian_data()
    x[:, 0] *= 100
    config = gaussian_config(learn_visible_gamma=False)
    initial = init_rbm(config, x).visible.gamma.copy()
    assert initial[0] < 1e-3
    rbm, _, _ = train(config, x)
    np.testing.assert_array_equal(rbm.visible.gamma, initial)


def test_fixed_gamma_resumes_exactly(tmp_path):
    x, y = gaussian_data()
    config = gaussian_config(learn_visible_gamma=False, n_free=1, n_epochs=4)
    full, _, _ = train(config, x, y)
    part, constraints, state = train(config, x, y, stop_at_update=20)
    assert "visible.gamma" not in state.optimizer.buffers
    path = tmp_path / "checkpoint.rbm"
    save_checkpoint(path, part, constraints, state, config)
    checkpoint = load_checkpoint(path)
    fit(checkpoint["rbm"], x, checkpoint["config"],
        constraints=checkpoint["constraints"], state=checkpoint["state"])
    np.testing.assert_array_equal(checkpoint["rbm"].weights, full.weights)
    np.testing.assert_array_equal(checkpoint["rbm"].visible.gamma, full.visible.gamma)


@pytest.mark.parametrize("changes, message", [
    (dict(visible_gamma=0.0), r"visible_gamma must be a finite number >= 0.001 .*got 0.0"),
    (dict(visible_gamma=-1.0), r"visible_gamma must be a finite number >= 0.001 .*got -1.0"),
    (dict(visible_gamma=1e-4), "got 0.0001"),
    (dict(visible_gamma=float("nan")), "got nan"),
    (dict(learn_visible_gamma="no"), "learn_visible_gamma must be True or False"),
    (dict(visible="binary", visible_gamma=1.0), "applies to Gaussian visible units only"),
    (dict(visible="spin", learn_visible_gamma=False),
     "learn_visible_gamma = False applies to Gaussian visible units only, but "
     "visible is 'spin'"),
])
def test_visible_gamma_settings_rejected(changes, message):
    with pytest.raises(ValueError, match=message):
        gaussian_config(**changes).validate()


def test_fixed_parameters_names():
    assert gaussian_config().fixed_parameters() == ()
    assert gaussian_config(learn_visible_gamma=False).fixed_parameters() == (
        "visible.gamma",)


def test_config_round_trip_keeps_gamma_settings():
    config = gaussian_config(visible_gamma=0.5, learn_visible_gamma=False)
    assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_cli_fix_visible_gamma(tmp_path):
    x, y = gaussian_data()
    data_path = tmp_path / "gaussian.npz"
    np.savez(data_path, data=x, labels=y)
    out = tmp_path / "run"
    assert main(["train", "--data", "npz", "--data-path", str(data_path), "--out",
                 str(out), "--visible", "gaussian", "--hidden", "binary",
                 "--n-hidden", "6", "--n-free", "1", "--epochs", "2",
                 "--batch-size", "40", "--visible-gamma", "1.5",
                 "--fix-visible-gamma", "--quiet", "--threads", "1",
                 "--n-per-class", "5", "--sample-steps", "5"]) == 0
    rbm, _, _ = load_model(out / "model.rbm")
    np.testing.assert_array_equal(rbm.visible.gamma, np.full(10, 1.5, np.float32))
    saved = json.loads((out / "config.json").read_text())["config"]
    assert saved["visible_gamma"] == 1.5
    assert saved["learn_visible_gamma"] is False


def test_cli_fix_visible_gamma_needs_gaussian(tmp_path, capsys):
    x, y = gaussian_data()
    data_path = tmp_path / "binary.npz"
    np.savez(data_path, data=(x > 0).astype(np.float32), labels=y)
    out = tmp_path / "run"
    assert main(["train", "--data", "npz", "--data-path", str(data_path), "--out",
                 str(out), "--fix-visible-gamma", "--quiet"]) == 2
    assert "applies to Gaussian visible units only" in capsys.readouterr().err
    assert not out.exists()


def test_penalty_training_same_for_one_and_two_threads():
    # The second-order penalty and the projection run in numpy, outside the
    # kernels, so this checks that they too give the same result.
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 900)
    x = np.where(rng.random((900, 64)) < 0.5 + 0.1 * (y[:, None] - 1), 1.0, -1.0)
    x = x.astype(np.float32)
    results = []
    for n_threads in (1, 2):
        config = TrainConfig(n_hidden=40, visible="spin", hidden="spin", n_free=1,
                             lambda_Q=100.0, n_epochs=2, batch_size=300, seed=4,
                             n_threads=n_threads)
        rbm, _, _ = train(config, x, y)
        results.append(rbm.weights)
    np.testing.assert_array_equal(results[0], results[1])
