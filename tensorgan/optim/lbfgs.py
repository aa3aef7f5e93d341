"""L-BFGS, torch 2.13's ``torch.optim.LBFGS`` (a port of minFunc, as torch's): closure-based, one
parameter group, the parameters handled as one flat vector; ``line_search_fn`` None (a fixed step
``lr``, the first one scaled by ``min(1, 1 / |g|_1)``) or ``"strong_wolfe"``.

Its state lives on the first parameter (``opt.state[params[0]]``, as torch's) and ``state_dict()``
gives it in torch's layout: the curvature pairs as lists of flat Tensors.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable

import numpy as np

from ..complex_ops import real_pairs
from ..errors import CheckpointError, ConfigError
from ..tensor import Tensor, enable_grad
from . import Optimizer, _check_number, _host_array
from .lr_scheduler import _check_int

__all__ = ["LBFGS"]


def _flat_size(p: Tensor) -> int:
    """A parameter's length in the flat vectors: a complex one's real and imaginary parts."""
    return 2 * p.size if p.array.dtype.kind == "c" else p.size


def _flat_dtype(p: Tensor) -> np.dtype:
    return p.array.real.dtype if p.array.dtype.kind == "c" else p.array.dtype


def _flat(a):
    return (real_pairs(a) if a.dtype.kind == "c" else a).reshape(-1)


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimizer of the cubic through (x1, f1, g1), (x2, f2, g2), clamped to ``bounds``."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = d2_square ** 0.5
    if x1 <= x2:
        pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(pos, lo), hi)


def _strong_wolfe(obj_func, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """torch's strong-Wolfe line search along ``d`` from step ``t``: (loss, flat grad, t, evals)."""
    d_norm = float(abs(d).max())
    f_new, g_new = obj_func(t)
    evals, gtd_new = 1, float(g_new @ d)
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done, ls_iter = False, 0
    while ls_iter < max_ls:   # bracketing phase
        sufficient = not (f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev))
        if sufficient and abs(gtd_new) <= -c2 * gtd:
            bracket, bf, bg, done = [t], [f_new], [g_new], True
            break
        if not sufficient or gtd_new >= 0:
            bracket, bf, bg, bgtd = [t_prev, t], [f_prev, f_new], [g_prev, g_new], [gtd_prev, gtd_new]
            break
        t_next = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                                    bounds=(t + 0.01 * (t - t_prev), t * 10))
        t_prev, f_prev, g_prev, gtd_prev, t = t, f_new, g_new, gtd_new, t_next
        f_new, g_new = obj_func(t)
        evals, gtd_new, ls_iter = evals + 1, float(g_new @ d), ls_iter + 1
    if ls_iter == max_ls:
        bracket, bf, bg = [0, t], [f, f_new], [g, g_new]
    insuf_progress = False
    low, high = (0, 1) if bf[0] <= bf[-1] else (1, 0)
    while not done and ls_iter < max_ls:   # zoom phase
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bf[0], bgtd[0], bracket[1], bf[1], bgtd[1])
        top, bottom = max(bracket), min(bracket)
        eps = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < eps:
            if insuf_progress or t >= top or t <= bottom:
                t = top - eps if abs(t - top) < abs(t - bottom) else bottom + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(t)
        evals, gtd_new, ls_iter = evals + 1, float(g_new @ d), ls_iter + 1
        if f_new > f + c1 * t * gtd or f_new >= bf[low]:
            bracket[high], bf[high], bg[high], bgtd[high] = t, f_new, g_new, gtd_new
            low, high = (0, 1) if bf[0] <= bf[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bf[high], bg[high], bgtd[high] = bracket[low], bf[low], bg[low], bgtd[low]
            bracket[low], bf[low], bg[low], bgtd[low] = t, f_new, g_new, gtd_new
    return bf[low], bg[low], bracket[low], evals


@dataclass
class _Run:
    """One LBFGS.step's running values (torch's loop locals): the current loss and flat gradient,
    the function evaluations so far, and the values the next step goes on from (``CARRIED``:
    saved into the state at the end, in torch's key order)."""
    CARRIED: ClassVar[tuple[str, ...]] = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag",
                                          "prev_flat_grad", "prev_loss")
    loss: float
    flat_grad: Any
    d: Any
    t: Any
    old_dirs: Any
    old_stps: Any
    ro: Any
    H_diag: Any
    prev_flat_grad: Any
    prev_loss: Any
    evals: int = 1


class LBFGS(Optimizer):
    """L-BFGS with torch's arguments and defaults (``max_eval`` None: ``max_iter * 5 // 4``).
    ``step(closure)`` needs the closure (it re-evaluates the loss, with backward) and returns the
    first loss it computed."""

    _ARRAYS = ("d", "prev_flat_grad")             # flat vectors
    _HISTORY = ("old_dirs", "old_stps")           # lists of flat vectors
    _NUMBERS = ("t", "H_diag", "prev_loss")
    _hidden_state_keys = ("step",)     # counted here (n_iter); torch's LBFGS state has no step
    _tensor_number_keys = ("H_diag",)  # a 0-d Tensor in torch's state once it is computed

    def __init__(self, params: Iterable[Any], lr: float = 1, max_iter: int = 20,
                 max_eval: int | None = None, tolerance_grad: float = 1e-7,
                 tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        if max_eval is None and isinstance(max_iter, int):
            max_eval = max_iter * 5 // 4
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval,
                                      tolerance_grad=tolerance_grad, tolerance_change=tolerance_change,
                                      history_size=history_size, line_search_fn=line_search_fn))
        if len(self.param_groups) != 1:
            raise ConfigError("LBFGS doesn't support per-parameter options (parameter groups)")

    def _validate(self, group: dict[str, Any]) -> None:
        super()._validate(group)
        for key in ("max_iter", "max_eval", "history_size"):
            group[key] = _check_int("LBFGS", key, group[key], 1)
        for key in ("tolerance_grad", "tolerance_change"):
            group[key] = _check_number("LBFGS", key, group[key], low=0.0)
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ConfigError(f"LBFGS: line_search_fn must be None or 'strong_wolfe' (the only line "
                              f"search torch has), got {group['line_search_fn']!r}")

    # -- the parameters as one flat vector ------------------------------------------------------
    def _flat_grad(self):
        """The gradients as one flat vector (a complex parameter's as its view_as_real pairs, as
        torch's: the vector, and so every dot product, is real)."""
        params = self.param_groups[0]["params"]
        xp = params[0].device.xp
        return xp.concatenate([xp.zeros(_flat_size(p), _flat_dtype(p)) if p.grad is None
                               else _flat(p.grad.array) for p in params])

    def _add_to_params(self, step: float, direction) -> None:
        offset = 0
        for p in self.param_groups[0]["params"]:
            n = _flat_size(p)
            if p.array.dtype.kind == "c":
                pairs = real_pairs(p.array)
                pairs += step * direction[offset:offset + n].reshape(pairs.shape)
            else:
                p.array += step * direction[offset:offset + n].reshape(p.shape)
            p._bump_version()
            offset += n

    def _evaluate(self, closure: Callable[[], Any]) -> float:
        with enable_grad():
            return float(closure())

    # -- the algorithm --------------------------------------------------------------------------
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Up to ``max_iter`` L-BFGS iterations; returns the closure's first loss.  torch's loop:
        each iteration picks a direction (steepest descent first, then the two-loop recursion
        over the stored curvature pairs), a step length (lr, or a strong Wolfe line search), moves
        and stops on any of torch's conditions."""
        if closure is None:
            raise ConfigError("LBFGS.step needs a closure that recomputes the loss (with backward)")
        group = dict(self.param_groups[0])    # the options as at the start (torch reads them once)
        group["lr"] = group["lr"].item() if isinstance(group["lr"], Tensor) else group["lr"]
        if self._states[0] is None:
            self._states[0] = {"step": 0, "func_evals": 0, "n_iter": 0}
        state = self._states[0]
        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        state["func_evals"] += 1
        run = _Run(loss=loss, flat_grad=self._flat_grad(),
                   **{key: state.get(key) for key in _Run.CARRIED})
        if self._max_abs(run.flat_grad) <= group["tolerance_grad"]:
            return orig_loss
        for n_iter in range(1, group["max_iter"] + 1):
            state["n_iter"] += 1
            gtd = self._new_direction(run, state, group)
            if gtd > -group["tolerance_change"]:          # not a descent direction (any more)
                break
            opt_cond = self._move(closure, run, state, group, gtd, last=n_iter == group["max_iter"])
            if (n_iter == group["max_iter"] or run.evals >= group["max_eval"] or opt_cond
                    or self._max_abs(run.d * run.t) <= group["tolerance_change"]
                    or abs(run.loss - run.prev_loss) < group["tolerance_change"]):
                break
        state.update({key: getattr(run, key) for key in _Run.CARRIED})
        state["step"] = state["n_iter"]
        return orig_loss

    def _max_abs(self, vector) -> float:
        return float(self.param_groups[0]["params"][0].device.xp.abs(vector).max())

    def _new_direction(self, run: "_Run", state: dict[str, Any], group: dict[str, Any]) -> float:
        """Set the iteration's direction ``d`` and first step length ``t``; returns the
        directional derivative g.d.  The first iteration ever goes down the gradient, with a
        step scaled to the gradient's size (no curvature known yet)."""
        first, lr = state["n_iter"] == 1, group["lr"]
        if first:                                            # (H_diag: torch's int 1)
            run.d, run.old_dirs, run.old_stps, run.ro, run.H_diag = -run.flat_grad, [], [], [], 1
        else:
            run.d, run.H_diag, al = self._direction(run.flat_grad, run.prev_flat_grad, run.d, run.t,
                                                    run.old_dirs, run.old_stps, run.ro, run.H_diag,
                                                    group["history_size"])
            # torch keeps the two-loop recursion's coefficients in the state too
            state["al"] = al + [None] * (group["history_size"] - len(al))
        run.prev_flat_grad, run.prev_loss = run.flat_grad.copy(), run.loss
        xp = self.param_groups[0]["params"][0].device.xp
        run.t = min(1.0, 1.0 / float(xp.abs(run.flat_grad).sum())) * lr if first else lr
        return float(run.flat_grad @ run.d)

    def _move(self, closure: Callable[[], Any], run: "_Run", state: dict[str, Any],
              group: dict[str, Any], gtd: float, last: bool) -> bool:
        """Step the parameters along ``d`` (by the line search's length, or by ``t``) and take the
        new loss and gradient -- except after a fixed step of the last iteration, as torch's (the
        step's loss is not needed then).  Returns whether the gradient is now small enough."""
        evals, opt_cond = 0, False
        if group["line_search_fn"] == "strong_wolfe":
            run.loss, run.flat_grad, run.t, evals = self._line_search(
                closure, run.t, run.d, run.loss, run.flat_grad, gtd, group["max_eval"] - run.evals)
            self._add_to_params(run.t, run.d)
            opt_cond = self._max_abs(run.flat_grad) <= group["tolerance_grad"]
        else:
            self._add_to_params(run.t, run.d)
            if not last:
                run.loss = self._evaluate(closure)
                run.flat_grad = self._flat_grad()
                opt_cond = self._max_abs(run.flat_grad) <= group["tolerance_grad"]
                evals = 1
        run.evals += evals
        state["func_evals"] += evals
        return opt_cond

    @staticmethod
    def _direction(flat_grad, prev_flat_grad, d, t, old_dirs, old_stps, ro, H_diag, history_size):
        """Store the newest curvature pair (if ``y.s > 1e-10``) and run the two-loop recursion:
        the new direction ``-H g``, the updated ``H_diag`` and the recursion's ``al``."""
        y = flat_grad - prev_flat_grad
        s = d * t
        ys = float(y @ s)
        if ys > 1e-10:
            if len(old_dirs) == history_size:
                old_dirs.pop(0)
                old_stps.pop(0)
                ro.pop(0)
            old_dirs.append(y)
            old_stps.append(s)
            ro.append(1.0 / ys)
            H_diag = ys / float(y @ y)
        al = [0.0] * len(old_dirs)
        q = -flat_grad
        for i in range(len(old_dirs) - 1, -1, -1):
            al[i] = float(old_stps[i] @ q) * ro[i]
            q = q - al[i] * old_dirs[i]
        r = q * H_diag
        for i in range(len(old_dirs)):
            be_i = float(old_dirs[i] @ r) * ro[i]
            r = r + (al[i] - be_i) * old_stps[i]
        return r, H_diag, al

    def _line_search(self, closure, t, d, loss, flat_grad, gtd, max_ls):
        """Strong Wolfe from the current parameters, which it leaves as it found them."""
        params = self.param_groups[0]["params"]
        start = [p.array.copy() for p in params]

        def obj_func(step: float):
            self._add_to_params(step, d)
            value = self._evaluate(closure)
            grad = self._flat_grad()
            for p, a in zip(params, start):
                p.array[...] = a
            return value, grad

        return _strong_wolfe(obj_func, t, d, loss, flat_grad, gtd, max_ls=max_ls)

    # -- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """torch's LBFGS state: its keys in torch's order, ``d`` / ``prev_flat_grad`` CPU Tensors
        (host copies), the curvature pairs ``old_dirs`` / ``old_stps`` lists of flat Tensors,
        ``ro`` and ``al`` lists of 0-d Tensors (``al`` padded with None to ``history_size``, as
        torch's), ``H_diag`` a 0-d Tensor once computed (torch's int 1 before), ``t`` and
        ``prev_loss`` floats; no ``step`` (n_iter counts)."""
        s = self._states[0]
        self._states[0] = None
        try:
            sd = super().state_dict()
        finally:
            self._states[0] = s
        if s is not None:
            dtype = _flat_dtype(self.param_groups[0]["params"][0])

            def tensor(value: Any, dt: Any = None) -> Tensor:
                return Tensor._from(np.array(_host_array(value), dtype=dt), device="cpu")

            saved: dict[str, Any] = {}
            for key, value in s.items():        # the order torch's state gets its keys in
                if key in self._hidden_state_keys:
                    continue
                if key in self._ARRAYS:
                    saved[key] = tensor(value)
                elif key in self._HISTORY:
                    saved[key] = [tensor(v) for v in value]
                elif key in ("ro", "al"):       # numbers here (float64: an exact resume)
                    saved[key] = [None if v is None else tensor(v, np.float64) for v in value]
                elif key == "H_diag" and isinstance(value, float):
                    saved[key] = tensor(value, dtype)
                else:
                    saved[key] = value
            sd["state"][0] = saved
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore ``state_dict()`` output, or torch's LBFGS state converted to arrays / Tensors
        (curvature pairs as lists, no ``step``: n_iter is used); checked before anything changes."""
        states, _ = self._saved_layout(state_dict)     # either layout, checked
        entry = None if states[0] is None else self._restored(states[0])
        super().load_state_dict({**state_dict, "state": [None] * len(states),
                                 "param_groups": [{k: v for k, v in g.items() if k != "params"}
                                                  | {"num_params": len(pg["params"])}
                                                  for g, pg in zip(state_dict["param_groups"],
                                                                   self.param_groups)]})
        self._states[0] = entry

    def _restored(self, s: dict[str, Any]) -> dict[str, Any]:
        params = self.param_groups[0]["params"]
        n, xp, dtype = sum(_flat_size(p) for p in params), params[0].device.xp, _flat_dtype(params[0])
        try:
            entry = {k: int(s[k]) for k in ("func_evals", "n_iter")}
            entry["step"] = int(s.get("step", entry["n_iter"]))    # torch's state has no step
            if "d" not in s:            # saved before its first iteration ended
                return entry
            for key in self._NUMBERS:
                entry[key] = float(s[key])
            for key in self._ARRAYS:
                entry[key] = xp.array(_host_array(s[key]).reshape(n), dtype=dtype)    # a copy: no aliasing
            k = len(s["ro"])
            for key in self._HISTORY:
                rows = s[key]     # (k, n) as saved here, or torch's list of k vectors
                stacked = (np.stack([_host_array(v).reshape(n) for v in rows]) if isinstance(rows, (list, tuple)) and rows
                           else _host_array(rows)).reshape(k, n)
                entry[key] = [xp.array(row, dtype=dtype) for row in stacked]
            entry["ro"] = [float(v) for v in s["ro"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"LBFGS state is malformed for {n} parameter values: "
                                  f"{type(exc).__name__} {exc}") from None
        return entry

    def __repr__(self) -> str:
        return Optimizer.__repr__(self)

