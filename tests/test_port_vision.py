"""What porting pytorch/examples' vision programs (vae, dcgan, super_resolution,
fast_neural_style) to tensorgan needed: torch.backends flags, nn.parallel.data_parallel,
torch.utils.data.DataLoader's defaults, clear errors for torch.save(model) and torch .pth files."""
import zipfile

import numpy as np
import pytest

import tensorgan as tg
import tensorgan.nn as nn
from tensorgan.errors import CheckpointError, InputTypeError


def test_backends_cudnn_flags_are_recorded_checked_and_restored():
    import tensorgan.backends.cudnn as cudnn
    assert tg.backends.cudnn is cudnn
    assert cudnn.is_available() is False and cudnn.version() is None   # tensorgan uses no cuDNN
    saved = cudnn.benchmark
    try:
        cudnn.benchmark = True                       # dcgan/main.py's line
        assert tg.backends.cudnn.benchmark is True
        with pytest.raises(InputTypeError, match="cudnn.benchmark must be True or False"):
            cudnn.benchmark = 1
        with cudnn.flags(enabled=False, deterministic=True):
            assert cudnn.enabled is False and cudnn.deterministic is True and cudnn.benchmark is False
        assert cudnn.enabled is True and cudnn.deterministic is False and cudnn.benchmark is True
    finally:
        cudnn.benchmark = saved


def test_backends_mps_and_cuda():
    assert tg.backends.mps.is_available() is False and tg.backends.mps.is_built() is False
    matmul = tg.backends.cuda.matmul
    assert matmul.allow_tf32 is False                 # torch's default
    matmul.allow_tf32 = True
    matmul.allow_tf32 = False
    with pytest.raises(InputTypeError, match="allow_tf32"):
        matmul.allow_tf32 = "yes"
    assert isinstance(tg.backends.cuda.is_built(), bool)


def test_data_parallel_function_runs_the_module():
    from tensorgan.nn.parallel import data_parallel
    lin = nn.Linear(3, 2)
    x = tg.randn(4, 3, seed=0)
    expected = lin(x).numpy()
    assert np.array_equal(data_parallel(lin, x, range(1)).numpy(), expected)
    assert np.array_equal(data_parallel(lin, (x,)).numpy(), expected)
    bil = nn.Bilinear(3, 3, 1)
    assert data_parallel(bil, (x, x)).shape == (4, 1)


class _Items:
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.float64(i)


def test_torch_path_dataloader_has_torchs_defaults():
    """super_resolution's test loader: batch_size=10 over fewer items is one short batch, in
    order (tensorgan.data.DataLoader's GAN defaults refuse it: drop_last would leave none); no batch_size is 1."""
    from tensorgan.utils.data import DataLoader
    loader = DataLoader(_Items(), batch_size=10)
    batches = [b.tolist() for b in loader]
    assert batches == [[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]] and len(loader) == 1
    assert [b.tolist() for b in DataLoader(_Items(), 3)] == [[0, 1, 2], [3, 4, 5], [6, 7]]
    one = DataLoader(_Items())
    assert one.batch_size == 1 and len(one) == 8 and not one.shuffle and not one.drop_last
    # torch's positional order: (dataset, batch_size, shuffle, sampler, ...)
    assert [b.tolist() for b in DataLoader(_Items(), 4, False, [7, 6, 5, 4])] == [[7, 6, 5, 4]]
    shuffled = DataLoader(_Items(), 8, shuffle=True, generator=tg.Generator(0))
    (b,), = [[b.tolist()] for b in shuffled]
    assert sorted(b) == list(range(8))
    with pytest.raises(tg.ConfigError, match="drop_last=True would leave no batch"):
        tg.data.DataLoader(_Items(), batch_size=10)                      # the GAN defaults stay
    assert tg.data.DataLoader(_Items(), 2).drop_last and tg.data.DataLoader(_Items(), 2).shuffle


def test_saving_a_whole_module_says_to_save_its_state_dict(tmp_path):
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.PixelShuffle(1))
    with pytest.raises(CheckpointError, match=r"whole Sequential object.*state_dict\(\)"):
        tg.save(net, tmp_path / "model.pth")
    assert not (tmp_path / "model.pth").exists()
    tg.save(net.state_dict(), tmp_path / "sd.pth")
    again = nn.Sequential(nn.Conv2d(1, 2, 3), nn.PixelShuffle(1))
    again.load_state_dict(tg.load(tmp_path / "sd.pth"))
    assert np.array_equal(again[0].weight.numpy(), net[0].weight.numpy())


def test_loading_a_torch_save_file_names_it(tmp_path):
    path = tmp_path / "netG_epoch_1.pth"          # the layout of torch.save's zip archive
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("netG_epoch_1/data.pkl", b"\x80\x02}q\x00.")
        z.writestr("netG_epoch_1/.format_version", b"1")
        z.writestr("netG_epoch_1/data/0", b"\x00" * 16)
    with pytest.raises(CheckpointError, match="torch.save .*does not unpickle"):
        tg.load(path)
