"""Review of session 23's merged work: the finds fixed here, each pinned by a test that fails
without its fix (no torch import: expected values from Python's / NumPy's own integers)."""
import numpy as np
import pytest

import tensorgan as tg
from tensorgan.errors import InputTypeError


@pytest.mark.parametrize("call", [lambda t, v: t.sum(0, keepdim=v), lambda t, v: t.mean(0, keepdim=v),
                                  lambda t, v: t.amax(0, keepdim=v)])
def test_a_numpy_bool_flag_is_named_as_numpys_not_as_a_bare_bool(call):
    # torch: "argument 'keepdim' must be bool, not numpy.bool"; 'must be bool, not bool' named
    # nothing that was wrong
    with pytest.raises(InputTypeError, match=r"must be bool, not numpy\.bool"):
        call(tg.ones(2, 3), np.True_)
    with pytest.raises(InputTypeError, match=r"must be bool, not int \(1\)"):
        call(tg.ones(2, 3), 1)


@pytest.mark.parametrize("number", [True, False, 7, -3])
def test_a_bool_or_int_on_the_left_of_mod_and_floordiv_by_an_integer_tensor(number):
    # torch reads a Python bool as the int 0 / 1 here: integer results, as Python's own
    divisors = [2, 3, -4]
    t = tg.tensor(divisors)
    mod, div = number % t, number // t
    assert mod.dtype == tg.int64 and div.dtype == tg.int64
    assert mod.tolist() == [int(number) % d for d in divisors]
    assert div.tolist() == [int(number) // d for d in divisors]


def test_a_bool_on_the_left_of_mod_by_a_float_tensor_is_a_float_result():
    out = True % tg.tensor([0.75, 2.0])
    assert out.dtype == tg.float32
    np.testing.assert_allclose(out.numpy(), [0.25, 1.0])


def test_hub_list_names_the_entry_points_a_hubconf_imports_as_torch_lists_them(tmp_path):
    # torchvision's hubconf.py is 'from torchvision.models.resnet import resnet18, ...': torch's
    # hub.list gives every public callable of the module, imported or defined there
    import textwrap
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "review23_models.py").write_text(textwrap.dedent('''
        import tensorgan.nn as nn

        def resnet_tiny(width=3):
            """An imported entry point."""
            return nn.Linear(2, width)
    '''))
    (repo / "hubconf.py").write_text(textwrap.dedent('''
        import tensorgan.nn as nn
        from review23_models import resnet_tiny
        dependencies = ["tensorgan"]

        def generator(width=4):
            return nn.Linear(2, width)

        def _private():
            return None
    '''))
    assert tg.hub.list(str(repo)) == ["generator", "resnet_tiny"]
    assert tg.hub.help(str(repo), "resnet_tiny") == "An imported entry point."
    assert tg.hub.load(str(repo), "resnet_tiny", width=5, source="local").out_features == 5
