"""Compiled kernels of ``vae.explore.knn.ExactKnn`` (numba; imported only when first needed).

The search is exact, in three steps, for each query q:

1. An int8 copy of the points and an 8-bit copy of the query (one global scale s, so the
   integer dot products are exact) give every point's quantised score |x̂|² − 2 x̂·ŷ, blocks
   of ``BLOCK`` points at a time, with a quarter of the memory traffic of float32. The
   products are taken four dimensions at a time (``_block_scores``): one AVX-512 VNNI
   instruction (``vpdpbusd``) per 16 points where the CPU has it, plain LLVM vector code
   (sign-extend, multiply, add) everywhere else.
2. The k best block minima bound the k-th nearest distance U from above (they are k
   distinct points, each at most s·sqrt(score + |ŷ|²) + e_max + e_q away); once k points
   have been measured exactly, the k-th of them bounds it more tightly.
3. By the triangle inequality a point x is at least s·|x̂ − ŷ| − e_x − e_q from q, where e_x
   and e_q are the quantisation errors of x and q (a query outside the int8 range is
   clipped, and the clipping counts in e_q). Only points whose bound is ≤ U are measured
   exactly (in float64): a handful, out of thousands.

Layout of the int8 copy ``xv`` (flat): block b, group g of four dimensions, point n, then the
four values: ``xv[((b·G + g)·BLOCK + n)·4 + j]`` is dimension 4g + j of point b·BLOCK + n.
The query goes in as bytes ŷ + 128 (unsigned, as ``vpdpbusd`` wants them), so the kernels
compute (ŷ + 128)·x̂; ``nq`` holds |x̂|² + 256·Σx̂, which turns that into the score.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .knn import BLOCK  # a compile-time constant here

_VISITED = -(2**31)  # marks a block the search has been through: no score is that low
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_V16 = ir.VectorType(_I32, 16)  # 16 points a vector: 16 int32 lanes of four int8 values each


def _target_has_vnni(context) -> bool:
    """Whether the CPU numba compiles for has AVX-512 VNNI (numba caches kernels per CPU)."""
    features = getattr(context.codegen(), "_tm_features", "").split(",")
    return "+avx512vnni" in features and "+avx512bw" in features


def _arrays_of(*pairs) -> bool:
    """Whether each (numba type, dtype) pair is a C-contiguous 1-D array of that dtype: what the
    intrinsics below read 16 lanes at a time."""
    return all(isinstance(t, types.Array) and t.ndim == 1 and t.layout == "C" and t.dtype == d for t, d in pairs)


def _splat(builder, value, vtype):
    v = builder.insert_element(ir.Constant(vtype, None), value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(v, v, ir.Constant(vtype, None))


def _dot4(builder, total, y4, x4, vnni: bool):
    """total + per lane Σ_j byte_j(y4) · sbyte_j(x4): y4 (i32) packs four unsigned query bytes,
    x4 (16 × i32) packs four signed point values in each lane."""
    if vnni:
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(_V16, [_V16, _V16, _V16]), "llvm.x86.avx512.vpdpbusd.512")
        return builder.call(fn, [total, _splat(builder, y4, _V16), x4])
    for j in range(4):
        yj = builder.and_(builder.lshr(y4, ir.Constant(_I32, 8 * j)), ir.Constant(_I32, 255))
        xj = builder.ashr(builder.shl(x4, _splat(builder, ir.Constant(_I32, 24 - 8 * j), _V16)),
                          _splat(builder, ir.Constant(_I32, 24), _V16))
        total = builder.add(total, builder.mul(xj, _splat(builder, yj, _V16)))
    return total


@intrinsic
def _block_scores(typingctx, xv, xoff, yw, nq, acc, base):
    """acc[base : base + BLOCK] = nq[...] − 2·(ŷ + 128)·x̂ for the block that starts at xv[xoff];
    returns the block's smallest score."""
    if not _arrays_of((xv, types.int8), (yw, types.int32), (nq, types.int32), (acc, types.int32)):
        return None
    sig = types.int32(xv, types.intp, yw, nq, acc, types.intp)

    def codegen(context, builder, signature, args):
        xv, xoff, yw, nq, acc, base = args
        x_arr = context.make_array(signature.args[0])(context, builder, xv)
        y_arr = context.make_array(signature.args[2])(context, builder, yw)
        nq_arr = context.make_array(signature.args[3])(context, builder, nq)
        acc_arr = context.make_array(signature.args[4])(context, builder, acc)
        vnni = _target_has_vnni(context)
        n_groups = builder.extract_value(y_arr.shape, 0)
        x_block = builder.gep(x_arr.data, [xoff])
        lowest = cgutils.alloca_once_value(builder, ir.Constant(_V16, [2**31 - 1] * 16))
        total = cgutils.alloca_once(builder, _V16)
        with cgutils.for_range(builder, ir.Constant(_I64, BLOCK // 16)) as chunk:
            builder.store(ir.Constant(_V16, None), total)
            x_chunk = builder.gep(x_block, [builder.mul(chunk.index, ir.Constant(_I64, 64))])
            with cgutils.for_range(builder, n_groups) as group:
                g = group.index
                at = builder.gep(x_chunk, [builder.mul(g, ir.Constant(_I64, BLOCK * 4))])
                x4 = builder.load(builder.bitcast(at, _V16.as_pointer()), align=1)
                y4 = builder.load(builder.gep(y_arr.data, [g]))
                builder.store(_dot4(builder, builder.load(total), y4, x4, vnni), total)
            at = builder.add(base, builder.mul(chunk.index, ir.Constant(_I64, 16)))
            norms = builder.load(builder.bitcast(builder.gep(nq_arr.data, [at]), _V16.as_pointer()), align=4)
            dots = builder.load(total)
            scores = builder.sub(norms, builder.add(dots, dots))
            builder.store(scores, builder.bitcast(builder.gep(acc_arr.data, [at]), _V16.as_pointer()), align=4)
            low = builder.load(lowest)
            builder.store(builder.select(builder.icmp_signed("<", scores, low), scores, low), lowest)
        smin = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I32, [_V16]),
                                              "llvm.vector.reduce.smin.v16i32")
        return builder.call(smin, [builder.load(lowest)])

    return sig, codegen


@intrinsic
def _at_most(typingctx, acc, at, threshold):
    """A bit mask of the 16 scores acc[at : at + 16] that are ≤ threshold (bit i: acc[at + i])."""
    if not _arrays_of((acc, types.int32)):
        return None
    sig = types.int64(acc, types.intp, types.int32)

    def codegen(context, builder, signature, args):
        acc, at, threshold = args
        acc_arr = context.make_array(signature.args[0])(context, builder, acc)
        scores = builder.load(builder.bitcast(builder.gep(acc_arr.data, [at]), _V16.as_pointer()), align=4)
        bits = builder.icmp_signed("<=", scores, _splat(builder, threshold, _V16))
        return builder.zext(builder.bitcast(bits, ir.IntType(16)), _I64)

    return sig, codegen


@intrinsic
def _lowest_bit(typingctx, mask):
    """The index of the lowest set bit of a non-zero int64."""
    sig = types.int64(types.int64)

    def codegen(context, builder, signature, args):
        cttz = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I64, [_I64, ir.IntType(1)]),
                                              "llvm.cttz.i64")
        return builder.call(cttz, [args[0], ir.Constant(ir.IntType(1), 1)])

    return sig, codegen


@njit(boundscheck=False, cache=True)
def _scores(xv, nq, yw, acc, block_min):
    """acc[n] = |x̂_n|² − 2 x̂_n·ŷ for every (padded) point, and each block's smallest score;
    yw holds the query's bytes ŷ + 128, four to a word."""
    block_bytes = yw.shape[0] * BLOCK * 4  # G groups × BLOCK points × 4 bytes
    for b in range(block_min.shape[0]):
        block_min[b] = _block_scores(xv, b * block_bytes, yw, nq, acc, b * BLOCK)


@njit(boundscheck=False, cache=True)
def _push(points, q, n, out_d, out_i):
    """Measure point n exactly (squared, float64) and keep it if it is among the k best so far."""
    s = 0.0
    for d in range(points.shape[1]):
        t = np.float64(points[n, d]) - np.float64(q[d])
        s += t * t
    _insert(out_d, out_i, s, n)


@njit(boundscheck=False, cache=True)
def _insert(values, ids, v, i):
    """Insert (v, i) into the ascending ``values`` (and their ``ids``) if v is below the last,
    which drops out."""
    j = values.shape[0] - 1
    if not v < values[j]:
        return
    while j > 0 and values[j - 1] > v:
        values[j] = values[j - 1]
        ids[j] = ids[j - 1]
        j -= 1
    values[j] = v
    ids[j] = i


@njit(boundscheck=False, cache=True)
def _threshold(dist, slack, inv, ny):
    """The largest score whose point can lie within ``dist`` of the query (given the slack of
    both quantisation errors), as an int32."""
    lim = (dist + slack) * inv
    return np.int32(min(np.ceil(lim * lim - ny), 2.0**31 - 1))


@njit(boundscheck=False, cache=True)
def _knn_one(xv, nq, err, err_max, points, scale, mean, work, q, k, out_d, out_i):
    """The k nearest points to q: squared distances into out_d, indices into out_i, nearest first.

    ``work`` (int32) is scratch space: the scores (padded N), the block minima, the query's words.
    """
    n_points, dim = points.shape
    nb = nq.shape[0] // BLOCK
    acc = work[: nq.shape[0]]
    block_min = work[nq.shape[0] : nq.shape[0] + nb]
    yw = work[nq.shape[0] + nb :]
    inv = 1.0 / scale
    eq2 = 0.0
    ny = np.int64(0)
    for g in range(yw.shape[0]):
        word = np.int64(0)
        for j in range(4):
            d = 4 * g + j
            r = 0.0  # a padding dimension: ŷ = 0
            if d < dim:
                if not np.isfinite(q[d]):
                    raise ValueError("a query holds NaN or infinity: pass finite codes")
                y = (np.float64(q[d]) - mean[d]) * inv
                r = min(max(np.round(y), -128.0), 127.0)  # clipped: what it loses counts in e_q
                t = (y - r) * scale
                eq2 += t * t
                ny += np.int64(r) * np.int64(r)
            word |= (np.int64(r) + 128) << (8 * j)  # the byte ŷ + 128
        yw[g] = np.int32(word - 2**32 if word >= 2**31 else word)
    eq = np.sqrt(eq2)
    _scores(xv, nq, yw, acc, block_min)
    # The k-th smallest block minimum: k points (one per block) whose scores are at most
    # that, so the k-th nearest distance is at most s·sqrt(score + |ŷ|²) + e_max + e_q.
    best = np.full(k, np.inf)
    best_block = np.full(k, -1)
    for b in range(nb):
        _insert(best, best_block, np.float64(block_min[b]), b)
    upper = np.sqrt(max(best[k - 1] + ny, 0.0)) * scale + err_max + eq
    for j in range(k):
        out_d[j] = np.inf
        out_i[j] = -1
    # Every point whose lower bound s·sqrt(score + |ŷ|²) − e_x − e_q is at most that is measured:
    # first in the k blocks with the best minima (the bound tightens fast), then in every other
    # block whose minimum is within the bound. Each block is visited once, so each point is.
    threshold = _threshold(upper, err_max + eq, inv, ny)
    for step in range(k + nb):
        b = best_block[step] if step < k else step - k
        if b < 0 or block_min[b] == _VISITED or block_min[b] > threshold:
            continue
        block_min[b] = _VISITED  # (the minima are scratch space)
        for chunk in range(b * BLOCK, b * BLOCK + BLOCK, 16):
            mask = _at_most(acc, chunk, threshold)  # candidates are rare: most masks are 0
            while mask:
                n = chunk + _lowest_bit(mask)
                mask &= mask - 1
                if n >= n_points:
                    break
                lower = np.sqrt(max(np.float64(acc[n]) + ny, 0.0)) * scale - err[n] - eq
                if lower <= 0.0 or lower * lower <= out_d[k - 1]:
                    _push(points, q, n, out_d, out_i)
        if out_i[k - 1] >= 0:  # k points measured exactly: the k-th of them is a tighter bound
            threshold = min(threshold, _threshold(np.sqrt(out_d[k - 1]), err_max + eq, inv, ny))


@njit(boundscheck=False, cache=True)
def knn(xv, nq, err, err_max, points, scale, mean, work, queries, k, out_d, out_i):
    """Exact k nearest neighbours of each row of queries (M, D): distances (M, k) and indices."""
    d2 = np.empty(k)
    for r in range(queries.shape[0]):
        _knn_one(xv, nq, err, err_max, points, scale, mean, work, queries[r], k, d2, out_i[r])
        for j in range(k):
            out_d[r, j] = np.sqrt(d2[j])


@njit(boundscheck=False, cache=True)
def knn_idw(xv, nq, err, err_max, points, scale, mean, work, queries, k, values, power, out):
    """Inverse-distance-weighted mean of ``values`` (N, F) over each query's k nearest points.

    A query that coincides with a point (distance < 1e-9) gets that point's value exactly.
    """
    d2 = np.empty(k)
    idx = np.empty(k, np.int64)
    n_feat = values.shape[1]
    for r in range(queries.shape[0]):
        _knn_one(xv, nq, err, err_max, points, scale, mean, work, queries[r], k, d2, idx)
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
