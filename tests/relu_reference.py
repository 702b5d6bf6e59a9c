"""Float64 references for ReLU and dReLU units, from closed forms in scipy.

With sigma = 1 / sqrt(gamma) and alpha = -x sigma, a ReLU unit with input x
is h = sigma (Z - alpha) for a standard normal Z conditioned on Z > alpha.
The hazard lam = phi(alpha) / P(Z > alpha) comes from log_ndtr, and
    Gamma = x^2 / (2 gamma) + log(2 pi / gamma) / 2 + log Phi(x sigma)
    E[h] = sigma (lam - alpha),  Var[h] = sigma^2 (1 + alpha lam - lam^2).
These forms cancel for large alpha, losing about alpha^4 ulp in the
variance, so they serve |x| sigma up to about 15 (relative error below
1e-10).  The kernels use other forms (erfcx and a continued fraction).
"""
import numpy as np
from scipy.special import log_ndtr

LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def relu_cgf(x, gamma):
    x, gamma = np.asarray(x, np.float64), np.asarray(gamma, np.float64)
    return (x**2 / (2 * gamma) + 0.5 * np.log(2 * np.pi / gamma)
            + log_ndtr(x / np.sqrt(gamma)))


def relu_moments(x, gamma):
    """Return (E[h], E[h^2], Var[h]) of ReLU units."""
    x, gamma = np.asarray(x, np.float64), np.asarray(gamma, np.float64)
    sigma = 1 / np.sqrt(gamma)
    alpha = -x * sigma
    hazard = np.exp(-0.5 * alpha**2 - LOG_SQRT_2PI - log_ndtr(-alpha))
    mean = sigma * (hazard - alpha)
    var = sigma**2 * (1 + alpha * hazard - hazard**2)
    return mean, var + mean**2, var


def drelu_terms(x_plus, x_minus, gamma_plus, gamma_minus):
    """Return a dict of the cgf, side probabilities and moments of dReLU units.

    Keys: cgf, p_plus, p_minus, mean, var, mean_plus (E[h_+]), mean_minus
    (E[h_-]), second_plus (E[h_+^2]), second_minus (E[h_-^2]).
    """
    cgf_plus = relu_cgf(x_plus, gamma_plus)
    cgf_minus = relu_cgf(-np.asarray(x_minus, np.float64), gamma_minus)
    cgf = np.logaddexp(cgf_plus, cgf_minus)
    p_plus, p_minus = np.exp(cgf_plus - cgf), np.exp(cgf_minus - cgf)
    m_plus, s_plus, v_plus = relu_moments(x_plus, gamma_plus)
    m_minus, s_minus, v_minus = relu_moments(-np.asarray(x_minus, np.float64),
                                             gamma_minus)
    mean = p_plus * m_plus - p_minus * m_minus
    var = (p_plus * v_plus + p_minus * v_minus
           + p_plus * p_minus * (m_plus + m_minus) ** 2)
    return {"cgf": cgf, "p_plus": p_plus, "p_minus": p_minus, "mean": mean,
            "var": var, "mean_plus": p_plus * m_plus, "mean_minus": -p_minus * m_minus,
            "second_plus": p_plus * s_plus, "second_minus": p_minus * s_minus}


def layer_inputs(layer, inputs):
    """Return the float64 fields seen by each unit: x (ReLU) or (x_+, x_-)."""
    inputs = np.asarray(inputs, np.float64)
    if layer.kind == 3:
        return layer.theta.astype(np.float64) + inputs
    return (layer.theta_plus.astype(np.float64) + inputs,
            layer.theta_minus.astype(np.float64) + inputs)


def layer_terms(layer, inputs):
    """Return a dict with cgf (per unit), mean, var and the gradient rows.

    `rows` lists the per-unit E[s_p] of the parameters in `param_names`
    order: ReLU (E[h], -E[h^2] / 2), dReLU (E[h_+], E[h_-], -E[h_+^2] / 2,
    -E[h_-^2] / 2).
    """
    if layer.kind == 3:
        x = layer_inputs(layer, inputs)
        gamma = layer.gamma.astype(np.float64)
        mean, second, var = relu_moments(x, gamma)
        return {"cgf": relu_cgf(x, gamma), "mean": mean, "var": var,
                "mode": np.maximum(x, 0) / gamma, "rows": [mean, -second / 2]}
    x_plus, x_minus = layer_inputs(layer, inputs)
    gamma_plus = layer.gamma_plus.astype(np.float64)
    gamma_minus = layer.gamma_minus.astype(np.float64)
    terms = drelu_terms(x_plus, x_minus, gamma_plus, gamma_minus)
    gain_plus = np.where(x_plus > 0, 0.5 * x_plus**2 / gamma_plus, 0.0)
    gain_minus = np.where(x_minus < 0, 0.5 * x_minus**2 / gamma_minus, 0.0)
    mode = np.where(gain_plus >= gain_minus, np.maximum(x_plus, 0) / gamma_plus,
                    x_minus / gamma_minus)
    rows = [terms["mean_plus"], terms["mean_minus"], -terms["second_plus"] / 2,
            -terms["second_minus"] / 2]
    return {"cgf": terms["cgf"], "mean": terms["mean"], "var": terms["var"],
            "mode": mode, "rows": rows}


def layer_energy_units(layer, h):
    """Return U(h) per unit, shape of h."""
    h = np.asarray(h, np.float64)
    if layer.kind == 3:
        return (0.5 * layer.gamma.astype(np.float64) * h**2
                - layer.theta.astype(np.float64) * h)
    plus = h >= 0
    theta = np.where(plus, layer.theta_plus, layer.theta_minus).astype(np.float64)
    gamma = np.where(plus, layer.gamma_plus, layer.gamma_minus).astype(np.float64)
    return 0.5 * gamma * h**2 - theta * h
