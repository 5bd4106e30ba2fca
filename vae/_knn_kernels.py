"""Compiled kernels of ``vae.knn.ExactKnn`` (numba; imported only when first needed).

The search is exact, in three steps, for each query q:

1. An int8 copy of the points (one global scale s, so the integer dot products are exact)
   gives every point's quantised squared distance, blocks of ``BLOCK`` points at a time
   and a quarter of the memory traffic of float32.
2. The k best block minima bound the k-th nearest distance U from above (they are k
   distinct points, each at most s·sqrt(score + |q̂|²) + e_max + e_q away); once k points
   have been measured exactly, the k-th of them bounds it more tightly.
3. By the triangle inequality a point x is at least s·|x̂ − q̂| − e_x − e_q from q, where e_x
   and e_q are the quantisation errors of x and q. Only points whose bound is ≤ U are
   measured exactly (in float64): a handful, out of thousands.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .knn import BLOCK  # a compile-time constant here: the loops over a block are vectorised


@njit(fastmath=True, boundscheck=False, cache=True)
def _scores(xq, nq, yq, acc, block_min):
    """acc[n] = |x̂_n|² − 2 x̂_n·ŷ for blocks of int8 points (nb, D8, BLOCK), D8 a multiple of 8,
    and each block's smallest score."""
    nb, d8 = xq.shape[0], xq.shape[1]  # xq.shape[2] == BLOCK (a constant: vectorised loops)
    for b in range(nb):
        xb = xq[b]
        base = b * BLOCK
        for n in range(BLOCK):
            acc[base + n] = nq[base + n]
        for d0 in range(0, d8, 8):  # eight dimensions per pass: vectorised across points
            y0 = 2 * yq[d0]
            y1 = 2 * yq[d0 + 1]
            y2 = 2 * yq[d0 + 2]
            y3 = 2 * yq[d0 + 3]
            y4 = 2 * yq[d0 + 4]
            y5 = 2 * yq[d0 + 5]
            y6 = 2 * yq[d0 + 6]
            y7 = 2 * yq[d0 + 7]
            r0, r1, r2, r3 = xb[d0], xb[d0 + 1], xb[d0 + 2], xb[d0 + 3]
            r4, r5, r6, r7 = xb[d0 + 4], xb[d0 + 5], xb[d0 + 6], xb[d0 + 7]
            for n in range(BLOCK):
                acc[base + n] -= (np.int32(r0[n]) * y0 + np.int32(r1[n]) * y1 + np.int32(r2[n]) * y2
                                  + np.int32(r3[n]) * y3 + np.int32(r4[n]) * y4 + np.int32(r5[n]) * y5
                                  + np.int32(r6[n]) * y6 + np.int32(r7[n]) * y7)
    for b in range(nb):  # a loop of its own: fused into the one above it is not vectorised
        base = b * BLOCK
        m = acc[base]
        for n in range(1, BLOCK):
            m = min(m, acc[base + n])
        block_min[b] = m


@njit(boundscheck=False, cache=True)
def _push(points, q, n, k, out_d, out_i):
    """Measure point n exactly (squared, float64) and keep it if it is among the k best so far."""
    for j in range(k):
        if out_i[j] == n:
            return
    s = 0.0
    for d in range(points.shape[1]):
        t = np.float64(points[n, d]) - np.float64(q[d])
        s += t * t
    if s < out_d[k - 1]:
        j = k - 1
        while j > 0 and out_d[j - 1] > s:
            out_d[j] = out_d[j - 1]
            out_i[j] = out_i[j - 1]
            j -= 1
        out_d[j] = s
        out_i[j] = n


@njit(boundscheck=False, cache=True)
def _threshold(dist, slack, inv, ny):
    """The largest score whose point can lie within ``dist`` of the query (given the slack of
    both quantisation errors), as an int32."""
    lim = (dist + slack) * inv
    return np.int32(min(np.ceil(lim * lim - ny), 2.0**31 - 1))


@njit(boundscheck=False, cache=True)
def _knn_one(xq, nq, err, err_max, points, scale, mean, y_lim, q, k, acc, block_min, out_d, out_i):
    """The k nearest points to q: squared distances into out_d, indices into out_i, nearest first."""
    nb, d8 = xq.shape[0], xq.shape[1]
    n_points, dim = points.shape
    inv = 1.0 / scale
    yq = np.zeros(d8, np.int32)
    eq2 = 0.0
    ny = np.int64(0)
    for d in range(dim):
        if not np.isfinite(q[d]):
            raise ValueError("a query holds NaN or infinity: pass finite codes")
        y = (np.float64(q[d]) - mean[d]) * inv
        r = min(max(np.round(y), -y_lim), y_lim)
        yq[d] = np.int32(r)
        t = (y - r) * scale
        eq2 += t * t
        ny += np.int64(r) * np.int64(r)
    eq = np.sqrt(eq2)
    _scores(xq, nq, yq, acc, block_min)
    # The k-th smallest block minimum: k points (one per block) whose scores are at most
    # that, so the k-th nearest distance is at most s·sqrt(score + |ŷ|²) + e_max + e_q.
    best = np.full(k, np.inf)
    for b in range(nb):
        v = np.float64(block_min[b])
        if v < best[k - 1]:
            j = k - 1
            while j > 0 and best[j - 1] > v:
                best[j] = best[j - 1]
                j -= 1
            best[j] = v
    upper = np.sqrt(max(best[k - 1] + ny, 0.0)) * scale + err_max + eq
    for j in range(k):
        out_d[j] = np.inf
        out_i[j] = -1
    # Every point whose lower bound s·sqrt(score + |ŷ|²) − e_x − e_q is at most that is measured.
    threshold = _threshold(upper, err_max + eq, inv, ny)
    cand = np.empty(BLOCK, np.int64)
    for b in np.argsort(block_min):  # the most promising blocks first: the bound tightens fast
        if block_min[b] > threshold:
            break  # and so are all the blocks after it
        c = 0
        for n in range(b * BLOCK, b * BLOCK + BLOCK):  # branch-free: candidates are rare
            cand[c] = n
            c += acc[n] <= threshold
        for j in range(c):
            n = cand[j]
            if n >= n_points:
                break
            lower = np.sqrt(max(np.float64(acc[n]) + ny, 0.0)) * scale - err[n] - eq
            if lower <= 0.0 or lower * lower <= out_d[k - 1]:
                _push(points, q, n, k, out_d, out_i)
        if out_i[k - 1] >= 0:  # k points measured exactly: the k-th of them is a tighter bound
            threshold = min(threshold, _threshold(np.sqrt(out_d[k - 1]), err_max + eq, inv, ny))


@njit(boundscheck=False, cache=True)
def knn(xq, nq, err, err_max, points, scale, mean, y_lim, queries, k, out_d, out_i):
    """Exact k nearest neighbours of each row of queries (M, D): distances (M, k) and indices."""
    acc = np.empty(xq.shape[0] * xq.shape[2], np.int32)
    block_min = np.empty(xq.shape[0], np.int32)
    d2 = np.empty(k)
    for r in range(queries.shape[0]):
        _knn_one(xq, nq, err, err_max, points, scale, mean, y_lim, queries[r], k, acc, block_min, d2, out_i[r])
        for j in range(k):
            out_d[r, j] = np.sqrt(d2[j])


@njit(boundscheck=False, cache=True)
def knn_idw(xq, nq, err, err_max, points, scale, mean, y_lim, queries, k, values, power, out):
    """Inverse-distance-weighted mean of ``values`` (N, F) over each query's k nearest points.

    A query that coincides with a point (distance < 1e-9) gets that point's value exactly.
    """
    acc = np.empty(xq.shape[0] * xq.shape[2], np.int32)
    block_min = np.empty(xq.shape[0], np.int32)
    d2 = np.empty(k)
    idx = np.empty(k, np.int64)
    n_feat = values.shape[1]
    for r in range(queries.shape[0]):
        _knn_one(xq, nq, err, err_max, points, scale, mean, y_lim, queries[r], k, acc, block_min, d2, idx)
        if d2[0] < 1e-18:
            for f in range(n_feat):
                out[r, f] = values[idx[0], f]
            continue
        total = 0.0
        sums = np.zeros(n_feat)
        for j in range(k):
            w = 1.0 / max(np.sqrt(d2[j]), 1e-12) ** power
            total += w
            for f in range(n_feat):
                sums[f] += w * values[idx[j], f]
        for f in range(n_feat):
            out[r, f] = sums[f] / total
