"""Reference PCD-k updates of an RBM with Potts visible units, timed against rbmfast.

The model has L visible sites with q states each, fields theta_v (L, q), M
Binary hidden units with fields theta_h (M,), and weights W (L, q, M):

    E(v, h) = -sum_i theta_v[i, v_i] - sum_j theta_h[j] h_j
              - sum_i sum_j W[i, v_i, j] h_j.

Every class here has ``update(x)``, which applies one update to its own copy
of the parameters from the minibatch ``x`` (B x L uint8 states in [0, q)):

1. positive phase: P(h = 1 | x) = sigmoid(I_h(x) + theta_h), with the hidden
   inputs I_h(v)[b, j] = sum_i W[i, v_bi, j], a gather of L rows of W;
2. k block-Gibbs sweeps on the persistent chains: h ~ P(h | v) from I_h(v),
   then the visible inputs I_v = h W_flat^T (C x L q, one product with
   W_flat = W.reshape(L q, M)) and, per site, v_i ~ softmax_a(I_v[i, a] +
   theta_v[i, a]);
3. negative phase: P(h = 1 | v) of the chains;
4. the gradient of the negative log-likelihood, chains minus data:
   dW[i, a] = sum_c [v_ci = a] P(h | v_c) / C - sum_b [x_bi = a] P(h | x_b) / B,
   a scatter-add of rows into W's shape for each phase, and the state
   frequencies and hidden means for the fields;
5. an Adam step on W and both fields.

That is k + 2 gathers, k products of size C x M x L q, and 2 scatter-adds.
``BarePotts`` runs only those. ``NumpyPotts`` and ``TorchPotts`` run the
whole update the plain way, on one-hot encoded states: dense (B x L q)
matrices, dense products, and a softmax and an inverse-CDF draw per site.

Thread counts are not set here. The caller limits the BLAS with
threadpoolctl and calls torch.set_num_threads.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse

# The numpy Adam and sigmoid of the Binary-Binary references, so that both
# benchmarks time the same optimiser step.
from reference_pcd import _Adam, _sigmoid_inplace

__all__ = [
    "operation_count",
    "BarePotts",
    "NumpyPotts",
    "TorchPotts",
    "one_hot",
]


def operation_count(k):
    """Return (gathers, products, scatter-adds) of one PCD-k update."""
    return k + 2, k, 2


def one_hot(states, n_states, dtype=np.float32):
    """Return the (n, L q) one-hot matrix of (n, L) states: column i q + a is
    1 where state a is at site i."""
    n_rows, n_sites = states.shape
    encoded = np.zeros((n_rows, n_sites * n_states), dtype=dtype)
    columns = np.arange(n_sites) * n_states + states
    encoded[np.arange(n_rows)[:, None], columns] = 1
    return encoded


def _sparse_one_hot(states, n_states):
    """Return the one-hot matrix of `states` as a float32 CSR matrix with one
    nonzero per site, so products with it are gathers and scatter-adds."""
    n_rows, n_sites = states.shape
    columns = (np.arange(n_sites) * n_states + states).ravel()
    values = np.ones(columns.size, dtype=np.float32)
    row_starts = np.arange(0, n_rows * n_sites + 1, n_sites)
    return scipy.sparse.csr_matrix((values, columns, row_starts),
                                   shape=(n_rows, n_sites * n_states))


def _initial_chains(rng, theta_v, n_chains):
    """Draw chains from the independent-site model softmax(theta_v)."""
    probabilities = np.exp(theta_v - theta_v.max(axis=1, keepdims=True))
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    cdf = np.cumsum(probabilities, axis=1)
    uniforms = rng.random((n_chains, theta_v.shape[0], 1))
    states = (cdf[None, :, :] < uniforms).sum(axis=2)
    return np.minimum(states, theta_v.shape[1] - 1).astype(np.uint8)


class BarePotts:
    """The gathers, products and scatter-adds of one PCD-k update, and nothing else.

    Gathers and scatter-adds are products with a one-hot CSR matrix of L
    nonzeros per row (scipy.sparse), which threadpoolctl does not limit. For
    the hidden inputs at L = 200, B = 256 and M = 100 they took 1.9 ms,
    against 5.1 ms for numpy fancy indexing and 3.5 ms for a dense one-hot
    product (one thread of a 2-core AMD EPYC, scipy 1.17, numpy 2.4). The
    visible inputs are one dense numpy product. There is no sampling: the
    states and hidden values are fixed random arrays, so this is a floor for
    the update's arithmetic.
    """

    def __init__(self, n_sites, n_states, n_hidden, batch_size, k, seed=0):
        rng = np.random.default_rng(seed)
        L, q, M, B = n_sites, n_states, n_hidden, batch_size
        self.n_states, self.k = q, k
        self.W = (0.1 * rng.standard_normal((L, q, M))).astype(np.float32)
        self.W_flat = self.W.reshape(L * q, M)
        self.v = rng.integers(0, q, (B, L)).astype(np.uint8)
        self.h = (rng.random((B, M)) < 0.5).astype(np.float32)
        self.out_v = np.empty((B, L * q), np.float32)

    def hidden_inputs(self, states):
        """Return I_h(v) = sum_i W[i, v_i, :], shape (n, M)."""
        return np.asarray(_sparse_one_hot(states, self.n_states) @ self.W_flat)

    def weight_scatter(self, states, hidden):
        """Return sum_b [v_bi = a] hidden[b] for every (i, a), shape (L, q, M)."""
        encoded = _sparse_one_hot(states, self.n_states)
        return np.asarray(encoded.T @ hidden).reshape(self.W.shape)

    def update(self, x):
        """Run the operations of one update; `x` is the data minibatch."""
        self.hidden_inputs(x)
        for _ in range(self.k):
            self.hidden_inputs(self.v)
            np.matmul(self.h, self.W_flat.T, out=self.out_v)
        self.hidden_inputs(self.v)
        self.weight_scatter(x, self.h)
        self.weight_scatter(self.v, self.h)


class NumpyPotts:
    """A plain numpy PCD-k update on one-hot states, with a numpy Generator.

    Parameters
    ----------
    weights, theta_v, theta_h : ndarray
        Initial W (L, q, M), visible fields (L, q) and hidden fields (M,),
        copied as float32.
    n_chains, k, lr : int, int, float
        Persistent chains, Gibbs sweeps per update and Adam learning rate.
    seed : int
        Seed of the Generator for the chains and the draws.
    """

    def __init__(self, weights, theta_v, theta_h, n_chains, k, lr=1e-3, seed=0):
        dtype = np.float32
        self.W = np.array(weights, dtype=dtype)
        self.theta_v = np.array(theta_v, dtype=dtype)
        self.theta_h = np.array(theta_h, dtype=dtype)
        self.n_sites, self.n_states, self.n_hidden = self.W.shape
        self.k, self.lr = k, lr
        self.rng = np.random.default_rng(seed)
        self.chains = _initial_chains(self.rng, self.theta_v, n_chains)
        self.adam = _Adam([self.W, self.theta_v, self.theta_h])
        self.last_gradients = None

    @property
    def W_flat(self):
        return self.W.reshape(self.n_sites * self.n_states, self.n_hidden)

    def hidden_inputs(self, states):
        """Return I_h(v) = one_hot(v) W_flat, shape (n, M)."""
        return one_hot(states, self.n_states) @ self.W_flat

    def sample_hidden(self, states):
        """Draw h ~ P(h | v) as float32 0/1 values, shape (n, M)."""
        probabilities = self.hidden_inputs(states)
        probabilities += self.theta_h
        _sigmoid_inplace(probabilities)
        uniforms = self.rng.random(probabilities.shape, dtype=np.float32)
        return (uniforms < probabilities).astype(np.float32)

    def sample_visible(self, hidden):
        """Draw v ~ P(v | h), one softmax and one inverse-CDF draw per site."""
        n_rows = hidden.shape[0]
        inputs = hidden @ self.W_flat.T
        logits = inputs.reshape(n_rows, self.n_sites, self.n_states) + self.theta_v
        logits -= logits.max(axis=2, keepdims=True)
        np.exp(logits, out=logits)
        cdf = np.cumsum(logits, axis=2)
        # A uniform in [0, 1) scaled to each site's total is an inverse-CDF
        # draw from the normalised softmax. The scaled uniform rounds to at
        # most the total, which is the last cumulative sum, so the count of
        # sums below it is at most q - 1.
        uniforms = self.rng.random((n_rows, self.n_sites, 1), dtype=np.float32)
        uniforms *= cdf[:, :, -1:]
        return (cdf < uniforms).sum(axis=2).astype(np.uint8)

    def gradients(self, x, chains):
        """Return the gradients (W, theta_v, theta_h) for data `x` and chains."""
        data = one_hot(x, self.n_states)
        model = one_hot(chains, self.n_states)
        p_data = _sigmoid_inplace(data @ self.W_flat + self.theta_h)
        p_model = _sigmoid_inplace(model @ self.W_flat + self.theta_h)
        grad_w = model.T @ p_model
        grad_w *= 1.0 / len(chains)
        grad_w -= (data.T @ p_data) * (1.0 / len(x))
        shape = (self.n_sites, self.n_states)
        grad_v = (model.mean(axis=0) - data.mean(axis=0)).reshape(shape)
        grad_h = p_model.mean(axis=0) - p_data.mean(axis=0)
        return grad_w.reshape(self.W.shape), grad_v, grad_h

    def update(self, x):
        """Apply one PCD-k update from the minibatch `x`."""
        chains = self.chains
        for _ in range(self.k):
            chains = self.sample_visible(self.sample_hidden(chains))
        self.chains = chains
        self.last_gradients = self.gradients(x, chains)
        self.adam.step(list(self.last_gradients), self.lr)


class TorchPotts:
    """A PyTorch CPU PCD-k update on one-hot states, with torch.optim.Adam.

    Parameters are those of :class:`NumpyPotts`; the draws come from a
    torch.Generator seeded with `seed`. Visible states are drawn per site by
    inverse CDF: the first state whose cumulative softmax reaches a uniform.
    """

    def __init__(self, weights, theta_v, theta_h, n_chains, k, lr=1e-3, seed=0):
        import torch

        self.torch = torch
        self.gen = torch.Generator().manual_seed(seed)
        self.W = torch.nn.Parameter(torch.tensor(weights, dtype=torch.float32))
        self.theta_v = torch.nn.Parameter(torch.tensor(theta_v, dtype=torch.float32))
        self.theta_h = torch.nn.Parameter(torch.tensor(theta_h, dtype=torch.float32))
        self.n_sites, self.n_states, self.n_hidden = self.W.shape
        self.k = k
        self.optimizer = torch.optim.Adam([self.W, self.theta_v, self.theta_h], lr=lr)
        with torch.no_grad():
            probabilities = torch.softmax(self.theta_v, dim=1).expand(n_chains, -1, -1)
            self.chains = self._inverse_cdf(probabilities)
        self.last_gradients = None

    def _one_hot(self, states):
        torch = self.torch
        encoded = torch.nn.functional.one_hot(states.long(), self.n_states)
        return encoded.reshape(states.shape[0], -1).to(torch.float32)

    def _inverse_cdf(self, probabilities):
        torch = self.torch
        cdf = torch.cumsum(probabilities, dim=2)
        uniforms = torch.rand(cdf.shape[:2] + (1,), generator=self.gen)
        # Rounding can leave the last cumulative sum below the uniform.
        states = (cdf < uniforms).sum(dim=2).clamp_(max=self.n_states - 1)
        return states.to(torch.uint8)

    def _W_flat(self):
        return self.W.reshape(self.n_sites * self.n_states, self.n_hidden)

    def _hidden_inputs(self, states):
        return self._one_hot(states) @ self._W_flat()

    def _sample_step(self, chains):
        torch = self.torch
        p_h = torch.sigmoid(self._hidden_inputs(chains) + self.theta_h)
        h = torch.bernoulli(p_h, generator=self.gen)
        inputs = torch.addmm(self.theta_v.reshape(-1), h, self._W_flat().T)
        logits = inputs.reshape(h.shape[0], self.n_sites, self.n_states)
        return self._inverse_cdf(torch.softmax(logits, dim=2))

    def _gradients(self, x, chains):
        torch = self.torch
        data, model = self._one_hot(x), self._one_hot(chains)
        p_data = torch.sigmoid(torch.addmm(self.theta_h, data, self._W_flat()))
        p_model = torch.sigmoid(torch.addmm(self.theta_h, model, self._W_flat()))
        grad_w = torch.mm(model.T, p_model).div_(model.shape[0])
        grad_w.addmm_(data.T, p_data, alpha=-1.0 / data.shape[0])
        shape = (self.n_sites, self.n_states)
        grad_v = (model.mean(0) - data.mean(0)).reshape(shape)
        grad_h = p_model.mean(0) - p_data.mean(0)
        return grad_w.reshape(self.W.shape), grad_v, grad_h

    def hidden_inputs(self, states):
        """Return I_h(v) = one_hot(v) W_flat as a numpy array, shape (n, M)."""
        with self.torch.no_grad():
            states = self.torch.from_numpy(np.ascontiguousarray(states))
            return self._hidden_inputs(states).numpy()

    def sample_visible(self, hidden):
        """Draw v ~ P(v | h) as a numpy uint8 array, shape (n, L)."""
        torch = self.torch
        with torch.no_grad():
            h = torch.from_numpy(np.asarray(hidden, dtype=np.float32))
            inputs = torch.addmm(self.theta_v.reshape(-1), h, self._W_flat().T)
            logits = inputs.reshape(h.shape[0], self.n_sites, self.n_states)
            return self._inverse_cdf(torch.softmax(logits, dim=2)).numpy()

    def gradients(self, x, chains):
        """Return the gradients (W, theta_v, theta_h) as numpy arrays."""
        torch = self.torch
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(x))
            chains = torch.from_numpy(np.ascontiguousarray(chains))
            return tuple(g.numpy() for g in self._gradients(x, chains))

    def update(self, x):
        """Apply one PCD-k update from the minibatch `x` (numpy uint8 array)."""
        torch = self.torch
        with torch.no_grad():
            x = torch.from_numpy(x)
            chains = self.chains
            for _ in range(self.k):
                chains = self._sample_step(chains)
            self.chains = chains
            grads = self._gradients(x, chains)
            for parameter, grad in zip((self.W, self.theta_v, self.theta_h), grads):
                parameter.grad = grad
            self.last_gradients = grads
        self.optimizer.step()
