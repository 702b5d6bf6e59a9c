"""Tests of the JSON writer shared by the reports."""
import json
import math

import numpy as np

from rbmfast.report import json_ready, write_json


def test_write_json_nonfinite_become_null(tmp_path):
    path = tmp_path / "metrics.json"
    write_json(path, {"std_error": float("nan"), "log_z": [1.5, math.inf],
                      "nested": {"low": -np.inf, "kept": np.float64(2.0)}})

    text = path.read_text()
    assert "NaN" not in text
    assert "Infinity" not in text
    result = json.loads(text)
    assert result == {"std_error": None, "log_z": [1.5, None],
                      "nested": {"low": None, "kept": 2.0}}


def test_json_ready_keeps_finite_values():
    obj = {"a": [1, 2.5, "x", None, True], "b": (0.0, -3)}

    assert json_ready(obj) == {"a": [1, 2.5, "x", None, True], "b": [0.0, -3]}
