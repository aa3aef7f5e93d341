"""``torch.hub``'s download-and-cache calls, for tensorgan checkpoints: ``load_state_dict_from_url``
fetches a file once into ``<hub dir>/checkpoints`` (checked against the SHA-256 prefix in its name
when asked, written atomically) and reads it with :func:`tensorgan.load` -- so never through pickle:
a torch ``.pth`` file is refused by ``tg.load`` with a note on converting it. ``load`` runs a
``hubconf.py`` entry point from a local directory (``source='local'``); fetching a GitHub repo's
code is left to the user (clone it, then ``source='local'``).

The hub directory is ``$TENSORGAN_HOME/hub`` (else ``$XDG_CACHE_HOME/tensorgan/hub`` or
``~/.cache/tensorgan/hub``), or what :func:`set_dir` gave."""
from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
import urllib.parse
import urllib.request
from http.client import HTTPException
from pathlib import Path
from typing import Any, Callable

from .errors import (CheckpointError, ConfigError, ConfigTypeError, DataError, HubError,
                     InputTypeError)
from .fileio import atomic_write

__all__ = ["get_dir", "set_dir", "download_url_to_file", "load_state_dict_from_url", "load",
           "list", "help"]

_HASH_IN_NAME = re.compile(r"-([a-f0-9]*)\.")     # torch's: 'resnet18-f37072fd.pth' -> 'f37072fd'
_hub_dir: "list[str]" = []


def __getattr__(name: str) -> Any:
    """``torch.hub.tqdm`` (re-exported by ``torch.utils.model_zoo``, where f-AnoGAN imports it):
    tqdm's progress bar, imported on first use so that ``import tensorgan`` stays quick."""
    if name == "tqdm":
        from tqdm import tqdm
        return tqdm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_dir() -> str:
    """Where downloads are cached (see the module docstring)."""
    if _hub_dir:
        return _hub_dir[0]
    home = os.environ.get("TENSORGAN_HOME")
    if not home:
        home = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "tensorgan")
    return os.path.join(os.path.expanduser(home), "hub")


def set_dir(d: str | os.PathLike[str]) -> None:
    _hub_dir[:] = [os.path.expanduser(os.fspath(d))]


def download_url_to_file(url: str, dst: str | os.PathLike[str], hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Download ``url`` to ``dst`` through a temporary file beside it that is renamed into place
    only when complete and, with ``hash_prefix``, when its SHA-256 starts with it: an interrupted
    or wrong download never leaves a file under ``dst``'s name."""
    if not isinstance(url, str):
        raise InputTypeError(f"download_url_to_file: url must be a str, got {type(url).__name__}")
    digest = hashlib.sha256()
    received = [0]

    def fetch(out) -> None:
        try:
            response = urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "tensorgan"}))
        except (OSError, ValueError) as exc:    # URLError is an OSError
            raise DataError(f"download_url_to_file: cannot fetch {url} ({exc})") from exc
        with response:
            total = response.headers.get("Content-Length") if hasattr(response, "headers") else None
            total = str(total).strip() if total is not None else None
            if total is not None and not total.isdigit():      # a garbled header: no size known
                total = None
            bar = None
            if progress:
                from tqdm import tqdm
                bar = tqdm(total=int(total) if total else None, unit="B", unit_scale=True,
                           unit_divisor=1024, desc=os.path.basename(os.fspath(dst)), file=sys.stderr)
            try:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    digest.update(block)
                    received[0] += len(block)
                    if bar is not None:
                        bar.update(len(block))
            except (OSError, HTTPException) as exc:     # a dropped connection mid-body
                raise DataError(f"download_url_to_file: the download of {url} broke off after "
                                f"{received[0]} bytes ({type(exc).__name__}: {exc}); {dst} was "
                                f"not written") from exc
            finally:
                if bar is not None:
                    bar.close()
            # http.client's read(n) ends quietly at a connection closed early: a body shorter
            # than its Content-Length is an interrupted download, not the file
            if total is not None and received[0] != int(total):
                raise DataError(f"download_url_to_file: the download of {url} broke off after "
                                f"{received[0]} of {int(total)} bytes (Content-Length); {dst} "
                                f"was not written")

    def check(_temp: Path) -> None:
        if hash_prefix is not None and not digest.hexdigest().startswith(hash_prefix):
            raise DataError(f'invalid hash value (expected "{hash_prefix}", got '
                            f'"{digest.hexdigest()}") for {url}; {dst} was not written')

    atomic_write(dst, fetch, check)


def load_state_dict_from_url(url: str, model_dir: str | os.PathLike[str] | None = None,
                             map_location: Any = None, progress: bool = True,
                             check_hash: bool = False, file_name: str | None = None,
                             weights_only: bool = False) -> Any:
    """The object saved at ``url`` (a tensorgan checkpoint), downloaded once into ``model_dir``
    (default ``<hub dir>/checkpoints``) under ``file_name`` or the URL's last path part.
    ``check_hash``: the file's SHA-256 must start with the hex digits after the last ``-`` in its
    name (torch's naming habit, ``netG-3f2a9c1d.pt``)."""
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    try:
        os.makedirs(model_dir, exist_ok=True)
    except OSError as exc:
        raise DataError(f"load_state_dict_from_url: cannot create {model_dir} ({exc})") from exc
    name = file_name or os.path.basename(urllib.parse.urlparse(url).path)
    if not name:
        raise ConfigError(f"load_state_dict_from_url: {url!r} names no file; pass file_name=")
    cached = os.path.join(model_dir, name)
    if not os.path.exists(cached):
        if progress:
            sys.stderr.write(f'Downloading: "{url}" to {cached}\n')
        match = _HASH_IN_NAME.search(name) if check_hash else None
        if check_hash and not match:
            raise ConfigError(f"load_state_dict_from_url: check_hash needs a name like "
                              f"'<name>-<sha256 prefix>.<ext>', got {name!r}")
        download_url_to_file(url, cached, match.group(1) if match else None, progress=progress)
    from .checkpoint import load as _load
    try:
        return _load(cached, map_location=map_location)
    except CheckpointError as exc:
        raise CheckpointError(f"{exc} (downloaded from {url}; delete {cached} to fetch it again)") from exc


def _hubconf(repo_or_dir: str, source: str, fn: str):
    if source not in ("github", "local"):
        raise ConfigError(f'{fn}: unknown source "{source}"; allowed values are "github" | "local"')
    if source == "github":
        raise ConfigError(f"{fn}: tensorgan does not download and run a GitHub repo's code; clone "
                          f"{repo_or_dir!r} yourself and call {fn}(<its folder>, ..., source='local')")
    path = Path(repo_or_dir) / "hubconf.py"
    if not path.is_file():
        raise DataError(f"{fn}: no hubconf.py in {repo_or_dir}")
    spec = importlib.util.spec_from_file_location(f"tensorgan_hubconf_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    except Exception as exc:        # the repo's code, not the caller's: say whose error it is
        raise HubError(f"{fn}: running {path} raised {type(exc).__name__}: {exc}") from exc
    finally:
        sys.path.remove(str(path.parent))
    module._tensorgan_hubconf_path = path
    return module


def _check_dependencies(module: Any, path: Path, fn: str) -> None:
    """torch.hub's check (load / help): the packages a hubconf lists in ``dependencies`` must be importable."""
    wanted = getattr(module, "dependencies", None)
    if wanted is None:
        return
    if isinstance(wanted, str) or not all(isinstance(name, str) for name in wanted):
        raise HubError(f"{fn}: {path}'s `dependencies` must be a list of package names, got {wanted!r}")
    missing = []
    for name in wanted:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    if missing:
        raise HubError(f"{fn}: Missing dependencies: {', '.join(missing)} (listed in {path})")


def _entrypoint(module: Any, model: str, fn: str) -> Callable:
    if not isinstance(model, str):      # torch: ValueError("model should be a string ...")
        raise ConfigTypeError(f"{fn}: model must be the name (a str) of a hubconf entry point, "
                              f"got {type(model).__name__}")
    _check_dependencies(module, module._tensorgan_hubconf_path, fn)   # as torch's, not in list()
    entry = getattr(module, model, None)
    if model.startswith("_") or not callable(entry):
        raise ConfigError(f"{fn}: cannot find callable {model} in hubconf")
    return entry


def list(github: str, force_reload: bool = False, skip_validation: bool = False,
         trust_repo: Any = None, verbose: bool = True) -> "list[str]":
    """The entry points of a local folder's hubconf.py: as torch's, every public callable in it,
    those it imports included (torchvision's hubconf imports its ``resnet18`` ...)."""
    module = _hubconf(github, "local" if os.path.isdir(github) else "github", "hub.list")
    return [name for name in dir(module) if not name.startswith("_") and callable(getattr(module, name))]


def help(github: str, model: str, force_reload: bool = False, skip_validation: bool = False,
         trust_repo: Any = None) -> str | None:
    """The docstring of a local folder's hubconf.py ``model``."""
    module = _hubconf(github, "local" if os.path.isdir(github) else "github", "hub.help")
    return _entrypoint(module, model, "hub.help").__doc__


def load(repo_or_dir: str, model: str, *args: Any, source: str = "github", trust_repo: Any = None,
         force_reload: bool = False, verbose: bool = True, skip_validation: bool = False,
         **kwargs: Any) -> Any:
    """``hubconf.<model>(*args, **kwargs)`` from a local folder (``source='local'``)."""
    return _entrypoint(_hubconf(repo_or_dir, source, "hub.load"), model, "hub.load")(*args, **kwargs)

