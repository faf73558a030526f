"""Gradients of ``sc.scan`` (backpropagation through time) and ``sc.if``, in the front-end's terms.

Both rules differentiate the op's body with the autodiff pass itself (installed in
:mod:`symcomp.ir.frontend` by :mod:`symcomp.autodiff`), on a detached copy of the body whose
block arguments are placeholders, and wrap the result in a new op of the same kind:

* ``sc.if``: the gradient is an ``ifelse`` on the same condition of the two branches' VJPs,
  so only the taken branch is differentiated at run time;
* ``sc.scan``: a second scan runs the steps backwards (Werbos 1990, "Backpropagation through
  time"; Theano's ``Scan.L_op`` builds the same loop).  At backward step ``t`` it recomputes
  step ``t`` of the forward body from the stored history, adds the cotangent of the state rows
  the later steps' taps read (a window of ``m`` rows carried as a state), and runs the body's
  VJP; the cotangents of the non-sequences are summed in states that keep only their final
  value, and the sequences' cotangents are per-step outputs.  ``truncate_gradient = k`` runs
  only the last ``k`` backward steps (truncated BPTT, Williams & Peng 1990).
"""

from __future__ import annotations

from symcomp.ir import frontend
from symcomp.ir.core import Placeholder


def detach_block(block):
    """A detached copy of ``block``'s ops computed from fresh placeholders.

    Returns:
        (placeholders, one per block argument; the values the block yields).
    """
    phs = [Placeholder(a.type, a.name) for a in block.args]
    mapping = dict(zip(block.args, phs))
    for o in block.ops:
        if o.name == "sc.yield":
            return phs, [mapping[v] for v in o.operands]
        c = o.clone({v: mapping[v] for v in o.operands})
        mapping.update(zip(o.results, c.results))
    raise ValueError("detach_block: the block has no sc.yield")


def _vjp_of(outs, seeds_for, phs):
    """Cotangents of ``phs`` given cotangents ``seeds_for[i]`` of ``outs[i]`` (None: none)."""
    seeds: dict = {}
    for o, g in zip(outs, seeds_for):
        if g is None or not o.type.dtype.is_float:
            continue
        seeds[o] = g if o not in seeds else seeds[o] + g
    if not seeds:
        return {}
    wrt = {p for p in phs if p.type.dtype.is_float}
    return frontend.backprop()(seeds, wrt, set())


def if_vjp(op, grads):
    from symcomp.tensor.graph import substitute
    from symcomp.tensor.ifelse import ifelse

    T = frontend.tensor()
    cond, inputs = op.operands[0], list(op.operands[1:])
    per_branch = []
    for region in op.regions:
        phs, outs = detach_block(region.block)
        got = _vjp_of(outs, grads, phs)
        gs = [got.get(p) for p in phs]
        vals = iter(substitute([g for g in gs if g is not None], dict(zip(phs, inputs))))
        per_branch.append([next(vals) if g is not None else None for g in gs])
    result = [None]
    for i, v in enumerate(inputs):
        a, b = per_branch[0][i], per_branch[1][i]
        if not v.type.dtype.is_float or (a is None and b is None):
            result.append(None)
            continue
        a = T.zeros_like(v) if a is None else T.cast(a, v.type.dtype)
        b = T.zeros_like(v) if b is None else T.cast(b, v.type.dtype)
        result.append(ifelse(cond, a, b))
    return result


def _rev(x):
    return x[::-1]


def scan_vjp(op, grads):
    from symcomp.tensor.graph import make_body, substitute
    from symcomp.tensor.scan import build_scan

    T = frontend.tensor()
    if op.until:
        raise NotImplementedError("the gradient of a scan with an until condition is not supported (Theano has "
                                  "none either): use a fixed n_steps and mask the steps after the condition")
    n = op.operands[0]
    nst, nn = op.n_states, op.n_nitsot
    seqs, inits, nonseqs = list(op.seqs), list(op.inits), list(op.nonseqs)
    seq_taps, state_taps = op.taps_of("seq"), op.taps_of("state")
    depths = [-t[0] for t in state_taps]

    # The forward histories (recomputed with the whole history where the op kept only the end).
    nres = op.n_residual
    user_nn = nn - nres
    fwd = op
    if any(op.state_keep):
        block = op.body
        from symcomp.ir.core import Block

        copy = Block([a.type for a in block.args], [a.name for a in block.args])
        mapping = dict(zip(block.args, copy.args))
        for o in block.ops:
            c = o.clone({v: mapping.get(v, v) for v in o.operands})
            copy.append(c)
            mapping.update(zip(o.results, c.results))
        full = build_scan(n, seqs, inits, nonseqs, copy, seq_taps, state_taps, [0] * nst, nn,
                          truncate_gradient=op.truncate_gradient, n_residual=nres)
        hist = list(full.results[:nst])
        fwd = full
    else:
        hist = list(op.results[:nst])
    g_hist = []
    for j in range(nst):
        g = grads[j]
        if g is not None and op.state_keep[j]:  # the cotangent of the final value: the last row's
            g = T.inc_subtensor(T.zeros_like(hist[j])[-1], g)
        g_hist.append(g)
    g_ys = list(grads[nst:nst + user_nn])  # residual outputs are read by no user: no cotangent

    phs, outs = detach_block(op.body)
    k = 0
    seq_phs = []
    for taps in seq_taps:
        seq_phs.append(phs[k:k + len(taps)])
        k += len(taps)
    state_phs = []
    for taps in state_taps:
        state_phs.append(phs[k:k + len(taps)])
        k += len(taps)
    nonseq_phs = phs[k:]

    float_states = [j for j in range(nst) if inits[j].type.dtype.is_float]
    float_nonseqs = [i for i, v in enumerate(nonseqs) if v.type.dtype.is_float]
    # Backward-step placeholders.
    gh_phs = {j: Placeholder(state_phs[j][0].type, None) for j in float_states}
    gy_phs = [Placeholder(_row_type(y), None) for y in op.results[nst:nst + user_nn]]
    win_phs = {j: Placeholder(inits[j].type.plain(), None) for j in float_states}
    acc_phs = {i: Placeholder(nonseqs[i].type.plain(), None) for i in float_nonseqs}

    seeds = []
    for j in range(nst):
        if j in gh_phs:
            m = depths[j]
            seeds.append(gh_phs[j] + win_phs[j][m - 1])
        else:
            seeds.append(None)
    seeds += [gy if y.type.dtype.is_float else None for gy, y in zip(gy_phs, outs[nst:nst + user_nn])]
    got = _vjp_of(outs[:nst + user_nn], seeds, phs)

    new_wins = []
    for j in float_states:
        m = depths[j]
        gtaps = [got.get(p) for p in state_phs[j]]
        if m == 1:
            g = gtaps[-1] if gtaps[-1] is not None else T.zeros_like(state_phs[j][0])
            new_wins.append(T.expand_dims(g, 0))
            continue
        w = win_phs[j]
        shifted = T.concatenate([T.zeros_like(w[:1]), w[:-1]], axis=0)
        for tap, g in zip(state_taps[j], gtaps):
            if g is not None:
                shifted = T.inc_subtensor(shifted[m + tap], g)
        new_wins.append(shifted)
    new_accs = []
    for i in float_nonseqs:
        g = got.get(nonseq_phs[i])
        new_accs.append(acc_phs[i] if g is None else acc_phs[i] + T.cast(g, nonseqs[i].type.dtype))
    gx_outs = []
    for ps in seq_phs:
        for p in ps:
            g = got.get(p)
            gx_outs.append(T.zeros_like(p) if g is None else g)

    # The forward's residuals (its products of states, stacked) replace their recomputation.
    res_phs = [Placeholder(_row_type(r), None) for r in fwd.results[nst + user_nn:nst + nn]]
    b_outs = new_wins + new_accs + gx_outs
    if res_phs:
        b_outs = substitute(b_outs, dict(zip(outs[nst + user_nn:nst + nn], res_phs)))
    # The backward scan: every per-step input is a sequence (tap 0), reversed.
    step_args = [p for ps in seq_phs for p in ps] + [p for ps in state_phs for p in ps] \
        + [gh_phs[j] for j in float_states] + gy_phs + res_phs
    b_args = step_args + [win_phs[j] for j in float_states] + [acc_phs[i] for i in float_nonseqs] + nonseq_phs
    body, captured = make_body(b_args, b_outs)
    b_seqs = []
    for x, taps in zip(seqs, seq_taps):
        for tap in taps:
            s = tap - taps[0]
            b_seqs.append(_rev(x[s:s + n]))
    for j in range(nst):
        m = depths[j]
        for tap in state_taps[j]:
            b_seqs.append(_rev(hist[j][m + tap:m + tap + n]))
    for j in float_states:
        m = depths[j]
        g = g_hist[j] if g_hist[j] is not None else T.zeros_like(hist[j])
        b_seqs.append(_rev(g[m:m + n]))
    for gy, y in zip(g_ys, op.results[nst:nst + user_nn]):
        b_seqs.append(_rev(gy if gy is not None else T.zeros_like(y)))
    for r in fwd.results[nst + user_nn:nst + nn]:
        b_seqs.append(_rev(r))
    trunc = op.truncate_gradient
    n_b = n if trunc is None or trunc < 0 else T.minimum(n, T.constant(trunc, "int64"))
    b_inits = [T.expand_dims(T.zeros_like(inits[j]), 0) for j in float_states] + \
        [T.expand_dims(T.zeros_like(nonseqs[i]), 0) for i in float_nonseqs]
    back = build_scan(n_b, b_seqs, b_inits, nonseqs + captured, body,
                      seq_taps=[[0]] * len(b_seqs), state_taps=[[-1]] * len(b_inits),
                      state_keep=[1] * len(b_inits), n_nitsot=len(gx_outs))
    res = list(back.results)
    wins = dict(zip(float_states, res[:len(float_states)]))
    accs = dict(zip(float_nonseqs, res[len(float_states):len(b_inits)]))
    gxs = res[len(b_inits):]

    result = [None]
    k = 0
    for x, taps in zip(seqs, seq_taps):
        if not x.type.dtype.is_float:
            result.append(None)
            k += len(taps)
            continue
        gx = T.zeros_like(x)
        for tap in taps:
            s = tap - taps[0]
            rows = _rev(gxs[k])  # forward order, the last n_b steps
            gx = T.inc_subtensor(gx[s + n - n_b:s + n], rows)
            k += 1
        result.append(gx)
    for j in range(nst):
        if j not in wins:
            result.append(None)
            continue
        m = depths[j]
        w = wins[j]
        if not (trunc is None or trunc < 0):
            w = T.switch(T.le(n, trunc), w, T.zeros_like(w))
        if g_hist[j] is not None:
            w = w + g_hist[j][:m]
        result.append(w)
    for i, v in enumerate(nonseqs):
        result.append(accs.get(i))
    return result


def _row_type(y):
    from symcomp.ir import types as IT

    return IT.TensorType(y.type.dtype, y.type.shape[1:])
