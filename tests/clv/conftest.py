"""Shared fixtures for the CLV model tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

CDNOW_CSV = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "cdnow"
    / "cdnow_customers_summary_with_transactions.csv"
)


@pytest.fixture(scope="session")
def cdnow() -> dict[str, np.ndarray]:
    """The CDNOW sample's 39-week calibration summary (see tests/fixtures/cdnow/README.md)."""
    data = np.genfromtxt(CDNOW_CSV, delimiter=",", names=True)
    return {name: np.asarray(data[name], dtype=float) for name in data.dtype.names}


def numeric_gradient(f, theta: np.ndarray, rel_step: float = 1e-6) -> np.ndarray:
    """Central differences, to check the models' analytic gradients."""
    grad = np.empty(theta.size)
    for j in range(theta.size):
        h = rel_step * theta[j]
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        grad[j] = (f(up) - f(down)) / (2 * h)
    return grad
