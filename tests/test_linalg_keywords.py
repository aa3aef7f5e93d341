"""torch.linalg's keyword names: most functions take ``input`` (det, slogdet, inv, solve, svd,
qr, lu take ``A``); torch.det / torch.slogdet take ``input``."""
import numpy as np
import pytest

import tensorgan as tg

A = tg.tensor([[4.0, 1.0], [1.0, 3.0]], dtype=tg.float64)
B = tg.tensor([[1.0], [2.0]], dtype=tg.float64)

CASES = [
    ("cholesky", dict(input=A)), ("cholesky_ex", dict(input=A)), ("cond", dict(input=A)),
    ("eigh", dict(input=A)), ("eigvalsh", dict(input=A)), ("matrix_exp", dict(input=A)),
    ("matrix_power", dict(input=A, n=2)), ("matrix_rank", dict(input=A)), ("norm", dict(input=A)),
    ("pinv", dict(input=A)), ("vector_norm", dict(input=A)), ("matrix_norm", dict(input=A)),
    ("tensorinv", dict(input=A, ind=1)), ("lstsq", dict(input=A, b=B)),
    ("solve_triangular", dict(input=tg.linalg.cholesky(A), B=B, upper=False)),
    ("tensorsolve", dict(input=A, other=B[:, 0])),
    ("householder_product", dict(input=A, tau=tg.tensor([0.5], dtype=tg.float64))),
    ("det", dict(A=A)), ("slogdet", dict(A=A)), ("inv", dict(A=A)), ("solve", dict(A=A, B=B)),
    ("svd", dict(A=A)), ("qr", dict(A=A)),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=[c[0] for c in CASES])
def test_linalg_takes_torchs_keyword_names(name, kwargs):
    getattr(tg.linalg, name)(**kwargs)


def test_top_level_det_takes_input():
    assert tg.det(input=A).item() == pytest.approx(11.0)
    sign, logabsdet = tg.slogdet(input=A)
    assert sign.item() == 1.0 and logabsdet.item() == pytest.approx(np.log(11.0))
    assert tg.det.__name__ == "det" and A.det().item() == pytest.approx(11.0)
    assert tg.matrix_power(input=A, n=2).numpy()[0, 0] == pytest.approx(17.0)
