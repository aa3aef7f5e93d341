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


def test_a_checkout_on_pythonpath_imports_its_own_kernels(tmp_path):
    """Without installing (PYTHONPATH=<checkout>), tensorgan.kernels is the checkout's kernels/
    folder -- not missing, and not another checkout's that an editable install maps (the shared
    venv here maps /work/main's): a copy of kernels/__init__.py with a marker proves which ran."""
    import os
    import subprocess
    import sys
    root = Path(__file__).resolve().parents[1]
    checkout = tmp_path / "checkout"
    (checkout / "kernels").mkdir(parents=True)
    (checkout / "tensorgan").symlink_to(root / "tensorgan")
    (checkout / "pyproject.toml").write_text((root / "pyproject.toml").read_text())
    for entry in (root / "kernels").iterdir():
        if entry.name not in ("__init__.py", "__pycache__"):
            (checkout / "kernels" / entry.name).symlink_to(entry)
    (checkout / "kernels" / "__init__.py").write_text(
        (root / "kernels" / "__init__.py").read_text() + "\nMARKER = 'the checkout'\n")
    code = ("import tensorgan, tensorgan.kernels as k, tensorgan.kernels.reference as r\n"
            "print(k.MARKER, r.__name__, (tensorgan.ones(3) * 2).sum().item())\n")
    env = dict(os.environ, PYTHONPATH=str(checkout))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=tmp_path, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["the", "checkout", "tensorgan.kernels.reference", "6.0"]
