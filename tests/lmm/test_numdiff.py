"""hlm.lmm.numdiff, the one finite-difference helper: exact (to rounding) on quadratics,
whose third derivatives vanish, so central differences have no truncation error."""

from __future__ import annotations

import numpy as np
import pytest

from hlm.lmm.numdiff import hessian, jacobian, steps


@pytest.fixture
def quadratic():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(4, 4))
    A = A + A.T
    b = rng.normal(size=4)
    x = np.array([0.3, -2.0, 50.0, 0.0])
    return A, b, x


def test_steps_are_relative_away_from_zero_absolute_near_it():
    assert steps(np.array([0.0, 0.5, -3.0, 200.0]), 1e-4) == pytest.approx([1e-4, 1e-4, 3e-4, 2e-2])


def test_hessian_of_a_quadratic_is_exact(quadratic):
    """Exact whatever the step (large steps, small rounding); the default step too, up to
    the rounding error of second differences, about eps |f| / h^2."""
    A, b, x = quadratic
    f = lambda v: 0.5 * v @ A @ v + b @ v + 7.0  # noqa: E731
    H = hessian(f, x, rel=1e-1)
    assert H == pytest.approx(A, rel=1e-9, abs=1e-9)
    assert np.array_equal(H, H.T)
    assert hessian(f, x) == pytest.approx(A, abs=1e-3)


def test_jacobian_of_a_quadratic_is_its_gradient(quadratic):
    A, b, x = quadratic
    f = lambda v: 0.5 * v @ A @ v + b @ v  # noqa: E731
    g = jacobian(f, x, rel=1e-1)
    assert g.shape == (4,)
    assert g == pytest.approx(A @ x + b, rel=1e-10, abs=1e-10)
    assert jacobian(f, x) == pytest.approx(A @ x + b, rel=1e-7, abs=1e-7)


def test_jacobian_of_a_gradient_is_the_hessian(quadratic):
    A, b, x = quadratic
    J = jacobian(lambda v: A @ v + b, x)
    assert J.shape == (4, 4)
    assert J == pytest.approx(A, rel=1e-8, abs=1e-8)


def test_jacobian_of_a_matrix_valued_function_is_indexed_last(quadratic):
    A, _, x = quadratic
    J = jacobian(lambda v: np.outer(v, v), x)                 # d(v v')_ab / dv_i
    expect = np.einsum("ai,b->abi", np.eye(4), x) + np.einsum("a,bi->abi", x, np.eye(4))
    assert J.shape == (4, 4, 4)
    assert J == pytest.approx(expect, rel=1e-8, abs=1e-8)
