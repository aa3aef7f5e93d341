"""pyproject.toml's explicit package list covers every package folder: a folder missing there
is absent from a wheel / non-editable install (tensorgan.utils and tensorgan.distributions once
were), though every test run from the checkout still imports it.  tensorgan.assets (data only,
no __init__.py) is listed too, so setuptools ships its .npz files without a warning."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _folders_with_init(top: str, name: str) -> set[str]:
    base = ROOT / top
    return {".".join([name, *p.parent.relative_to(base).parts]) for p in base.rglob("__init__.py")
            if "__pycache__" not in p.parts}


def _folder(package: str) -> Path:
    parts = package.split(".")
    if parts[:2] == ["tensorgan", "kernels"]:             # package-dir maps it to kernels/
        return ROOT.joinpath("kernels", *parts[2:])
    return ROOT.joinpath("tensorgan", *parts[1:])


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = _folders_with_init("tensorgan", "tensorgan") | _folders_with_init("kernels", "tensorgan.kernels")
    assert on_disk - listed == set(), f"package folders missing from pyproject.toml: {sorted(on_disk - listed)}"
    missing = [name for name in listed if not _folder(name).is_dir()]
    assert missing == [], f"pyproject.toml lists packages with no folder: {missing}"
    for package, patterns in config["package-data"].items():     # each pattern ships something
        assert all(any(_folder(package).glob(p)) for p in patterns), (package, patterns)
