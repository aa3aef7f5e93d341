"""Lets einops (``rearrange`` / ``reduce`` / ``repeat`` / ``einsum`` / ``pack`` ...) take tensorgan
tensors, whichever of the two is imported first, without tensorgan importing einops.

einops finds a framework's backend among the subclasses of ``einops._backends.AbstractBackend``
whose ``framework_name`` is in ``sys.modules``; the subclass (``tensorgan.einops_backend``) can only
be defined once einops is there.  So ``import tensorgan``:

* with einops already imported: defines it at once;
* otherwise: puts a finder in ``sys.meta_path`` that does nothing until ``einops._backends`` is
  imported, then lets that module load as usual, defines the backend right after it and takes
  itself out (one string comparison per import until then).  Nothing is looked up or imported
  when einops is never imported: ``import tensorgan`` pays for one small object, no search for
  the einops package.
"""
import sys

_TARGET = "einops._backends"


def _register() -> None:
    module = sys.modules.get(__package__ + ".einops_backend")
    if module is not None and not hasattr(module, "TensorganBackend"):
        return      # ``import tensorgan.einops_backend`` is running: its class is the registration
    try:
        from . import einops_backend  # defining the subclass is the registration
        if einops_backend.TensorganBackend.__base__ is not sys.modules[_TARGET].AbstractBackend:
            import importlib    # einops._backends was reloaded: subclass its new AbstractBackend
            importlib.reload(einops_backend)
    except Exception as e:   # an einops too unlike the one this was written for (0.8)
        import warnings
        warnings.warn(f"tensorgan: could not register its einops backend ({type(e).__name__}: {e}); "
                      f"einops will not take tensorgan tensors", RuntimeWarning, stacklevel=2)


class _Loader:
    """Runs einops._backends' own loader, then registers the tensorgan backend."""

    def __init__(self, loader) -> None:
        self._loader = loader

    def create_module(self, spec):
        create = getattr(self._loader, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module) -> None:
        self._loader.exec_module(module)
        _uninstall()
        _register()

    def __getattr__(self, name):         # get_source, get_filename, is_package, ...: the real loader's
        return getattr(self._loader, name)


class _EinopsFinder:
    """A ``sys.meta_path`` entry that answers only for ``einops._backends``: the spec the other
    finders give, its loader wrapped; it takes itself out once that module has run."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != _TARGET:
            return None
        for finder in list(sys.meta_path):
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec = find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None

    def invalidate_caches(self) -> None:
        pass


_finder = _EinopsFinder()


def _uninstall() -> None:
    try:
        sys.meta_path.remove(_finder)
    except ValueError:
        pass


def install() -> None:
    if _TARGET in sys.modules:
        _register()
    elif _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
