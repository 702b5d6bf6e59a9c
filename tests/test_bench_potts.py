"""Tests for the helpers of bench/bench_potts.py; the timed runs themselves are
left to the script."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_potts  # noqa: E402


def test_cases_match_benchmark_sizes():
    sizes = {name: (case.n_sites, case.n_states, case.n_hidden, case.batch_size,
                    case.k) for name, case in bench_potts.CASES.items()}
    assert sizes == {"L200-k1": (200, 21, 100, 256, 1),
                     "L200-k10": (200, 21, 100, 256, 10),
                     "L60-k10": (60, 21, 50, 512, 10)}


def test_parse_args_defaults_and_quick():
    args = bench_potts.parse_args([])
    assert args.threads == [1, 2]
    assert [case.name for case in args.cases] == list(bench_potts.CASES)
    assert (args.reps, args.updates) == (5, 10)
    quick = bench_potts.parse_args(["--quick", "--cases", "L60-k10",
                                    "--skip", "torch"])
    assert [case.name for case in quick.cases] == ["L60-k10"]
    assert (quick.reps, quick.updates) == (2, 3)
    assert quick.skip == {"torch"}


@pytest.mark.parametrize(("argv", "message"), [
    (["--cases", "L100"], "invalid --cases 'L100'"),
    (["--cases", ","], "invalid --cases ','"),
    (["--skip", "sklearn"], "invalid --skip names ['sklearn']"),
    (["--updates", "1"], "--updates >= 2, got 5 and 1"),
    (["--threads", "0"], "expected positive integers"),
])
def test_parse_args_rejects_invalid(argv, message, capsys):
    with pytest.raises(SystemExit):
        bench_potts.parse_args(argv)
    assert message in capsys.readouterr().err


def test_make_data_states_and_profiles():
    case = bench_potts.CASES["L60-k10"]
    data = bench_potts.make_data(case, 2000)
    assert data.dtype == np.uint8
    assert data.shape == (2000, 60)
    assert data.max() < 21
    # Dirichlet(0.5) profiles make some sites much more conserved than others.
    top_frequency = [np.bincount(column, minlength=21).max() / 2000
                     for column in data.T]
    assert max(top_frequency) > 2 * min(top_frequency)
    np.testing.assert_array_equal(data, bench_potts.make_data(case, 2000))


def test_summarise_ratios():
    raw = {("L60-k10", 1): {"bare": [(0.010, 0.0), (0.012, None), (0.011, 0.1)],
                            "numpy one-hot": [(0.040, 0.0), (0.044, 0.0)],
                            "rbmfast": [(0.005, 0.0), (0.006, 0.0)]}}
    rows = {row["implementation"]: row for row in bench_potts.summarise(raw)}
    assert rows["bare"]["ms_per_update"] == pytest.approx(11.0)
    assert rows["bare"]["other_cores"] == pytest.approx(0.05)
    assert rows["numpy one-hot"]["ratio_to_bare"] == pytest.approx(42 / 11)
    assert rows["numpy one-hot"]["rbmfast_over_this"] == pytest.approx(5.5 / 42)
    assert rows["rbmfast"]["rbmfast_over_this"] == pytest.approx(1.0)
    assert rows["rbmfast"]["min_ms_per_update"] == pytest.approx(5.0)


def test_summarise_without_rbmfast():
    raw = {("L200-k1", 2): {"bare": [(0.01, 0.0)], "numpy one-hot": [(0.03, 0.0)]}}
    rows = bench_potts.summarise(raw)
    assert [row["rbmfast_over_this"] for row in rows] == [None, None]
