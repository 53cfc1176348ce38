import pickle

import pytest
import torch

import vaelib


def test_round_trip_gives_identical_outputs(tmp_path):
    torch.manual_seed(0)
    trained, fresh = vaelib.VAE.conv(z_dim=3, channels=(4, 8)), vaelib.VAE.conv(z_dim=3, channels=(4, 8))
    path = vaelib.save_checkpoint(trained, tmp_path / "sub" / "vae.pt", z_dim=3, epochs=7)
    metadata = vaelib.load_checkpoint(fresh, path)
    assert metadata == {"z_dim": 3, "epochs": 7}
    trained.eval(), fresh.eval()
    x = torch.rand(4, 1, 28, 28)
    assert torch.equal(trained(x), fresh(x))
    assert not (tmp_path / "sub" / "vae.pt.tmp").exists()


class Payload:
    def __reduce__(self):
        return (print, ("this ran while unpickling",))


def test_unsafe_checkpoint_is_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {}, "payload": Payload()}, path)
    with pytest.raises(vaelib.CheckpointError, match="weights_only=True"):
        vaelib.load_checkpoint(vaelib.VAE.mlp(), path)


def test_corrupt_and_missing_checkpoints(tmp_path):
    vae = vaelib.VAE.mlp(z_dim=2, hidden_dim=8)
    with pytest.raises(vaelib.CheckpointError, match="no checkpoint"):
        vaelib.load_checkpoint(vae, tmp_path / "nothing.pt")
    path = vaelib.save_checkpoint(vae, tmp_path / "vae.pt")
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(vaelib.CheckpointError, match="truncated or corrupt"):
        vaelib.load_checkpoint(vae, path)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(vaelib.CheckpointError, match="truncated or corrupt"):
        vaelib.load_checkpoint(vae, garbage)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(vaelib.CheckpointError, match="save_checkpoint"):
        vaelib.load_checkpoint(vae, other)
    assert pickle  # pickle errors are what weights_only raises on unsafe files


def test_mismatched_model_is_left_untouched(tmp_path):
    path = vaelib.save_checkpoint(vaelib.VAE.mlp(z_dim=2, hidden_dim=8), tmp_path / "small.pt", hidden_dim=8)
    target = vaelib.VAE.mlp(z_dim=2, hidden_dim=16)
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with pytest.raises(vaelib.CheckpointError, match=r"wrong shapes.*hidden_dim"):
        vaelib.load_checkpoint(target, path)
    assert all(torch.equal(before[k], v) for k, v in target.state_dict().items())


def test_metadata_that_would_not_load_back_is_refused_before_writing(tmp_path):
    model = vaelib.VAE.mlp(z_dim=4, hidden_dim=16)
    path = vaelib.save_checkpoint(model, tmp_path / "model.pt", epochs=3, history=[-120.5, -110.0], note="ok")
    saved = path.read_bytes()
    with pytest.raises(TypeError, match=r"'data_root' is a PosixPath.*str\(path\)"):
        vaelib.save_checkpoint(model, path, data_root=tmp_path)
    assert path.read_bytes() == saved, "a refused save must leave the previous checkpoint as it was"
    assert vaelib.load_checkpoint(model, path) == {"epochs": 3, "history": [-120.5, -110.0], "note": "ok"}
