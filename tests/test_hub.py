"""tg.hub (torch.hub's download-and-cache calls) on file:// URLs, so nothing leaves the machine:
atomic downloads, the SHA-256 prefix check, the cache, tg.load's refusal of a pickle, and
hubconf.py entry points from a local folder."""
import hashlib
import os
import pickle
import textwrap

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import CheckpointError, ConfigError, DataError


@pytest.fixture
def hub_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(tg.hub, "_hub_dir", [])
    monkeypatch.setenv("TENSORGAN_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "hub"


def _published(tmp_path, obj, stem="netG"):
    """obj saved by tg.save under torch's '<stem>-<sha256 prefix>.pt' naming; its file:// URL."""
    plain = tmp_path / "server" / f"{stem}.pt"
    plain.parent.mkdir(exist_ok=True)
    tg.save(obj, plain)
    digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    named = plain.with_name(f"{stem}-{digest[:8]}.pt")
    plain.rename(named)
    return named, named.as_uri(), digest


def test_get_dir_follows_the_environment_and_set_dir(hub_dir, tmp_path):
    assert tg.hub.get_dir() == str(hub_dir)
    tg.hub.set_dir(tmp_path / "elsewhere")
    assert tg.hub.get_dir() == str(tmp_path / "elsewhere")


def test_load_state_dict_from_url_downloads_once_checks_the_hash_and_loads(hub_dir, tmp_path):
    tg.manual_seed(0)
    net = nn.Linear(3, 2)
    served, url, _ = _published(tmp_path, net.state_dict())
    sd = tg.hub.load_state_dict_from_url(url, progress=False, check_hash=True)
    cached = hub_dir / "checkpoints" / served.name
    assert cached.is_file() and cached.read_bytes() == served.read_bytes()
    twin = nn.Linear(3, 2)
    twin.load_state_dict(sd)
    np.testing.assert_array_equal(twin.weight.detach().numpy(), net.weight.detach().numpy())
    served.unlink()                      # the second call reads the cache, not the URL
    again = tg.hub.load_state_dict_from_url(url, progress=False)
    np.testing.assert_array_equal(again["bias"].numpy(), net.bias.detach().numpy())
    assert tg.utils.model_zoo.load_url(url, progress=False).keys() == sd.keys()


def test_a_wrong_hash_leaves_no_file(hub_dir, tmp_path):
    served, _, digest = _published(tmp_path, {"w": tg.ones(2)})
    liar = served.with_name("netG-00000000.pt")
    served.rename(liar)
    with pytest.raises(DataError, match=r'invalid hash value \(expected "00000000", got "' + digest):
        tg.hub.load_state_dict_from_url(liar.as_uri(), progress=False, check_hash=True)
    assert not (hub_dir / "checkpoints" / liar.name).exists()
    assert os.listdir(hub_dir / "checkpoints") == []          # no temp file left either
    with pytest.raises(ConfigError, match="check_hash needs a name like"):
        tg.hub.load_state_dict_from_url((tmp_path / "x.pt").as_uri(), progress=False, check_hash=True)


def test_missing_url_and_pickled_file_fail_clearly(hub_dir, tmp_path):
    with pytest.raises(DataError, match="cannot fetch"):
        tg.hub.download_url_to_file((tmp_path / "absent.pt").as_uri(), tmp_path / "dst.pt", progress=False)
    assert not (tmp_path / "dst.pt").exists()
    evil = tmp_path / "server" / "model.pth"
    evil.parent.mkdir(exist_ok=True)
    evil.write_bytes(pickle.dumps({"weight": [1.0]}))
    with pytest.raises(CheckpointError, match="delete .*model.pth to fetch it again"):
        tg.hub.load_state_dict_from_url(evil.as_uri(), progress=False)


def test_download_shows_progress_on_stderr(hub_dir, tmp_path, capsys):
    _, url, digest = _published(tmp_path, {"w": tg.zeros(100)})
    tg.hub.download_url_to_file(url, tmp_path / "copy.pt", hash_prefix=digest[:12])
    err = capsys.readouterr().err
    assert "copy.pt" in err and "100%" in err
    assert hashlib.sha256((tmp_path / "copy.pt").read_bytes()).hexdigest() == digest


def test_hubconf_entry_points_from_a_local_folder(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "hubconf.py").write_text(textwrap.dedent('''
        import tensorgan.nn as nn
        dependencies = ["tensorgan"]

        def generator(width=4):
            """A tiny generator."""
            return nn.Linear(2, width)

        def _private():
            return None
    '''))
    assert tg.hub.list(str(repo)) == ["generator"]
    assert tg.hub.help(str(repo), "generator") == "A tiny generator."
    model = tg.hub.load(str(repo), "generator", width=5, source="local")
    assert model.out_features == 5
    with pytest.raises(ConfigError, match="cannot find callable _private"):
        tg.hub.load(str(repo), "_private", source="local")
    with pytest.raises(ConfigError, match="clone 'owner/repo' yourself"):
        tg.hub.load("owner/repo", "generator")
    with pytest.raises(DataError, match="no hubconf.py"):
        tg.hub.load(str(tmp_path), "generator", source="local")
