"""Reference PCD-k updates of a Binary-Binary RBM, timed against rbmfast.

Every class here has ``update(x)``, which applies one update to its own copy
of the parameters from the minibatch ``x`` (B x N, float32 states in {0, 1}).
The update is the one rbmfast.training.fit runs per minibatch:

1. positive phase: P(h | x) from I_h = x W (1 product);
2. k block-Gibbs sweeps h ~ p(h | v), v ~ p(v | h) on the persistent chains
   (2 products per sweep: v W and h W^T);
3. negative phase: P(h | v) of the chains from v W (1 product);
4. weight gradient x^T P(h | x) / B - v^T P(h | v) / C (2 products, each
   N x B times B x M);
5. an Adam step on W and both fields.

That is 2k + 4 products of size B x N x M. ``BareGemms`` and
``ScipyBlasGemms`` run only those products, ``NumpyPCD`` and ``TorchPCD``
run the whole update, and ``SklearnPCD1`` wraps scikit-learn's BernoulliRBM,
which runs a different PCD-1 update (see its docstring).

Thread counts are not set here. The caller limits the BLAS with
threadpoolctl and calls torch.set_num_threads.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "product_count",
    "BareGemms",
    "ScipyBlasGemms",
    "NumpyPCD",
    "TorchPCD",
    "SklearnPCD1",
]


def product_count(k):
    """Return the number of B x N x M matrix products in one PCD-k update."""
    return 2 * k + 4


def _sigmoid_inplace(x):
    # exp overflows to inf for x < -88 in float32, and 1 / (1 + inf) = 0 is
    # the correct limit, so the overflow warning is silenced.
    with np.errstate(over="ignore"):
        np.negative(x, out=x)
        np.exp(x, out=x)
        x += 1
        np.reciprocal(x, out=x)
    return x


class BareGemms:
    """The 2k + 4 products of one PCD-k update with numpy, and nothing else.

    The operands are random binary matrices of the right shapes. A BLAS gemm
    does not branch on the values, so its time does not depend on them.
    """

    def __init__(self, n_visible, n_hidden, batch_size, k, seed=0,
                 dtype=np.float32):
        rng = np.random.default_rng(seed)
        N, M, B = n_visible, n_hidden, batch_size
        self.k = k
        self.W = rng.standard_normal((N, M)).astype(dtype)
        self.v = (rng.random((B, N)) < 0.13).astype(dtype)
        self.h = (rng.random((B, M)) < 0.5).astype(dtype)
        self.out_h = np.empty((B, M), dtype)
        self.out_v = np.empty((B, N), dtype)
        self.out_w = np.empty((N, M), dtype)

    def update(self, x):
        """Run the products of one update; `x` is the data minibatch."""
        W, v, h = self.W, self.v, self.h
        np.matmul(x, W, out=self.out_h)
        for _ in range(self.k):
            np.matmul(v, W, out=self.out_h)
            np.matmul(h, W.T, out=self.out_v)
        np.matmul(v, W, out=self.out_h)
        np.matmul(x.T, h, out=self.out_w)
        np.matmul(v.T, h, out=self.out_w)


class ScipyBlasGemms(BareGemms):
    """The same products through scipy.linalg.blas.sgemm.

    scipy.linalg.cython_blas, which the rbmfast kernels call, is the same
    OpenBLAS build as scipy.linalg.blas, and numpy may ship a different one.
    Each row-major product C = A B is computed as the column-major product
    C^T = B^T A^T, as the kernels do, so no operand is copied.
    """

    def __init__(self, n_visible, n_hidden, batch_size, k, seed=0):
        super().__init__(n_visible, n_hidden, batch_size, k, seed, np.float32)
        from scipy.linalg.blas import sgemm

        self._sgemm = sgemm

    def _product(self, a, b, out):
        # a @ b into the C-ordered `out`, as out^T = b^T a^T on the
        # Fortran-ordered view out.T. An operand that is C-ordered enters as
        # its Fortran-ordered transpose with the transpose flag set.
        op_a, trans_a = _fortran_operand(b.T)
        op_b, trans_b = _fortran_operand(a.T)
        self._sgemm(1.0, op_a, op_b, beta=0.0, c=out.T, trans_a=trans_a,
                    trans_b=trans_b, overwrite_c=1)

    def update(self, x):
        """Run the products of one update; `x` is the data minibatch."""
        W, v, h = self.W, self.v, self.h
        self._product(x, W, self.out_h)
        for _ in range(self.k):
            self._product(v, W, self.out_h)
            self._product(h, W.T, self.out_v)
        self._product(v, W, self.out_h)
        self._product(x.T, h, self.out_w)
        self._product(v.T, h, self.out_w)


def _fortran_operand(a):
    """Return (array, transpose flag) giving `a` to a Fortran gemm uncopied."""
    if a.flags.f_contiguous:
        return a, 0
    if a.flags.c_contiguous:
        return a.T, 1
    raise ValueError(f"operand of shape {a.shape} is neither C- nor F-contiguous")


class _Adam:
    """Adam with bias correction, as in rbmfast.optimizers.Adam."""

    def __init__(self, params, beta1=0.9, beta2=0.999, eps=1e-8):
        self.params = params
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.scratch = [np.empty_like(p) for p in params]
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.t = 0

    def step(self, grads, lr):
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step = lr / (1 - b1 ** self.t)
        inv_bc2 = 1 / np.sqrt(1 - b2 ** self.t)
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.scratch):
            m *= b1
            m += (1 - b1) * g
            np.multiply(g, g, out=tmp)
            tmp *= 1 - b2
            v *= b2
            v += tmp
            # p -= step * m / (sqrt(v / (1 - b2^t)) + eps)
            np.sqrt(v, out=tmp)
            tmp *= inv_bc2
            tmp += self.eps
            np.divide(m, tmp, out=tmp)
            tmp *= step
            p -= tmp


class NumpyPCD:
    """A plain numpy PCD-k update with a numpy Generator for the draws.

    Parameters
    ----------
    weights, theta_v, theta_h : ndarray
        Initial W (N x M) and fields, copied.
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
        self.k, self.lr = k, lr
        self.rng = np.random.default_rng(seed)
        N, M, C = self.W.shape[0], self.W.shape[1], n_chains
        p_v = _sigmoid_inplace(np.broadcast_to(self.theta_v, (C, N)).copy())
        self.chains = (self.rng.random((C, N), dtype=dtype) < p_v).astype(dtype)
        self.chain_h = np.empty((C, M), dtype)
        self.p_h = None
        self.p_hc = np.empty((C, M), dtype)
        self.p_v = np.empty((C, N), dtype)
        self.u_h = np.empty((C, M), dtype)
        self.u_v = np.empty((C, N), dtype)
        self.grad_w = np.empty_like(self.W)
        self.grad_w_chains = np.empty_like(self.W)
        self.adam = _Adam([self.W, self.theta_v, self.theta_h])

    def _sample(self, inputs, theta, uniforms, out):
        inputs += theta
        _sigmoid_inplace(inputs)
        self.rng.random(out=uniforms, dtype=np.float32)
        np.less(uniforms, inputs, out=out)

    def update(self, x):
        """Apply one PCD-k update from the minibatch `x`."""
        W, v, h = self.W, self.chains, self.chain_h
        B, C = x.shape[0], v.shape[0]
        if self.p_h is None or self.p_h.shape[0] != B:
            self.p_h = np.empty((B, W.shape[1]), W.dtype)

        np.matmul(x, W, out=self.p_h)
        self.p_h += self.theta_h
        _sigmoid_inplace(self.p_h)

        for _ in range(self.k):
            np.matmul(v, W, out=self.p_hc)
            self._sample(self.p_hc, self.theta_h, self.u_h, h)
            np.matmul(h, W.T, out=self.p_v)
            self._sample(self.p_v, self.theta_v, self.u_v, v)

        np.matmul(v, W, out=self.p_hc)
        self.p_hc += self.theta_h
        _sigmoid_inplace(self.p_hc)

        # Gradient of the negative log-likelihood: chains minus data.
        np.matmul(v.T, self.p_hc, out=self.grad_w_chains)
        np.matmul(x.T, self.p_h, out=self.grad_w)
        self.grad_w *= -1.0 / B
        self.grad_w_chains *= 1.0 / C
        self.grad_w += self.grad_w_chains
        grad_v = v.mean(axis=0) - x.mean(axis=0)
        grad_h = self.p_hc.mean(axis=0) - self.p_h.mean(axis=0)
        self.adam.step([self.grad_w, grad_v, grad_h], self.lr)


class TorchPCD:
    """A straightforward PyTorch CPU PCD-k update with torch.optim.Adam.

    Parameters are those of :class:`NumpyPCD`; the draws come from a
    torch.Generator seeded with `seed`.
    """

    def __init__(self, weights, theta_v, theta_h, n_chains, k, lr=1e-3, seed=0):
        import torch

        self.torch = torch
        self.gen = torch.Generator().manual_seed(seed)
        self.W = torch.nn.Parameter(torch.tensor(weights, dtype=torch.float32))
        self.theta_v = torch.nn.Parameter(torch.tensor(theta_v, dtype=torch.float32))
        self.theta_h = torch.nn.Parameter(torch.tensor(theta_h, dtype=torch.float32))
        self.k = k
        self.optimizer = torch.optim.Adam([self.W, self.theta_v, self.theta_h], lr=lr)
        with torch.no_grad():
            p_v = torch.sigmoid(self.theta_v).expand(n_chains, -1)
            self.chains = torch.bernoulli(p_v, generator=self.gen)

    def update(self, x):
        """Apply one PCD-k update from the minibatch `x` (numpy array)."""
        torch = self.torch
        W, theta_v, theta_h = self.W, self.theta_v, self.theta_h
        x = torch.from_numpy(x)
        with torch.no_grad():
            p_h = torch.sigmoid(torch.addmm(theta_h, x, W))
            v = self.chains
            for _ in range(self.k):
                h = torch.bernoulli(torch.sigmoid(torch.addmm(theta_h, v, W)),
                                    generator=self.gen)
                v = torch.bernoulli(torch.sigmoid(torch.addmm(theta_v, h, W.T)),
                                    generator=self.gen)
            self.chains = v
            p_hc = torch.sigmoid(torch.addmm(theta_h, v, W))

            # Gradient of the negative log-likelihood: chains minus data.
            grad_w = torch.mm(v.T, p_hc).div_(v.shape[0])
            grad_w.addmm_(x.T, p_h, alpha=-1.0 / x.shape[0])
            W.grad = grad_w
            theta_v.grad = v.mean(0) - x.mean(0)
            theta_h.grad = p_hc.mean(0) - p_h.mean(0)
        self.optimizer.step()


class SklearnPCD1:
    """scikit-learn's BernoulliRBM, one ``partial_fit`` per update.

    This is not the same update as the others. partial_fit (checked in
    scikit-learn 1.9) converts the batch to float64, keeps its own hidden
    chain samples and runs PCD-1 with plain SGD: 5 products per update,
    because the chains' next hidden sample is drawn from the negative-phase
    P(h | v) instead of a separate sweep. It has no k and no Adam, so it is
    reported for k = 1 only.
    """

    def __init__(self, n_hidden, batch_size, lr=1e-3, seed=0):
        from sklearn.neural_network import BernoulliRBM

        self.model = BernoulliRBM(n_components=n_hidden, learning_rate=lr,
                                  batch_size=batch_size, random_state=seed)

    def update(self, x):
        """Apply one PCD-1 update from the minibatch `x`."""
        self.model.partial_fit(x)
