import pytest
import torch

import vaelib


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"VAE_BOOK_SMOKE": "1"}, True),
        ({"VAE_BOOK_SMOKE": "0"}, False),
        ({"VAE_BOOK_SMOKE": "yes"}, True),
        ({"CI": "true"}, True),
        ({}, False),
        ({"CI": "true", "VAE_BOOK_SMOKE": "0"}, False),
    ],
    ids=str,
)
def test_smoke_switch(monkeypatch, env, expected):
    monkeypatch.delenv("VAE_BOOK_SMOKE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert vaelib.smoke_mode() is expected


def test_unknown_smoke_value_is_an_error(monkeypatch):
    monkeypatch.setenv("VAE_BOOK_SMOKE", "maybe")
    with pytest.raises(ValueError, match="VAE_BOOK_SMOKE"):
        vaelib.smoke_mode()


def test_budgets_follow_mode_and_device(monkeypatch):
    monkeypatch.delenv("VAE_BOOK_BUDGET", raising=False)
    smoke = vaelib.budget(smoke=True)
    cpu = vaelib.budget(smoke=False, device="cpu")
    full = vaelib.budget(smoke=False, device="cuda")
    assert (smoke.mode, cpu.mode, full.mode) == ("smoke", "cpu", "full")
    assert smoke.train_size is not None and cpu.train_size is None
    assert smoke.epochs <= cpu.epochs < full.epochs
    t_sne = vaelib.chapter_table("05_latent_space").rows["tsne_points"]
    assert t_sne[0] < t_sne[1] <= t_sne[2]


def test_device_and_data_root(monkeypatch, tmp_path):
    assert vaelib.pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("VAE_BOOK_DATA", str(tmp_path))
    assert vaelib.data_root() == tmp_path
    monkeypatch.delenv("VAE_BOOK_DATA")
    assert vaelib.data_root().name == "vae-book"


def test_seeding_repeats_draws():
    g1 = vaelib.seed_everything(3)
    a = torch.randn(3), torch.randn(3, generator=g1)
    g2 = vaelib.seed_everything(3)
    b = torch.randn(3), torch.randn(3, generator=g2)
    assert all(torch.equal(x, y) for x, y in zip(a, b, strict=True))


def test_budget_variable_chooses_a_real_budget(monkeypatch):
    monkeypatch.setenv("VAE_BOOK_BUDGET", "full")
    assert vaelib.budget(smoke=False, device="cpu").mode == "full"
    assert vaelib.budget(smoke=True, device="cpu").mode == "smoke"  # the smoke switch wins
    monkeypatch.setenv("VAE_BOOK_BUDGET", "CPU")
    assert vaelib.budget(smoke=False, device="cuda").mode == "cpu"
    monkeypatch.setenv("VAE_BOOK_BUDGET", "smoke")
    with pytest.raises(ValueError, match="VAE_BOOK_SMOKE=1"):
        vaelib.budget(smoke=False, device="cpu")


def test_hardware_name_says_what_ran():
    name = vaelib.hardware_name("cpu")
    assert name.startswith("CPU: ") and name.endswith(f"{torch.get_num_threads()} threads")
    assert name[len("CPU: ") :].split(",")[0].strip(), "the processor's model is named"
