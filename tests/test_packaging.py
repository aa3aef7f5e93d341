"""pyproject.toml's explicit package list covers every package folder: a folder missing there
is absent from a wheel / non-editable install (tensorgan.utils and tensorgan.distributions once
were), though every test run from the checkout still imports it."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _folders_with_init(top: str, name: str) -> set[str]:
    base = ROOT / top
    return {".".join([name, *p.parent.relative_to(base).parts]) for p in base.rglob("__init__.py")
            if "__pycache__" not in p.parts}


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = _folders_with_init("tensorgan", "tensorgan") | _folders_with_init("kernels", "tensorgan.kernels")
    assert on_disk - listed == set(), f"package folders missing from pyproject.toml: {sorted(on_disk - listed)}"
    assert listed - on_disk == set(), f"pyproject.toml lists packages with no folder: {sorted(listed - on_disk)}"
