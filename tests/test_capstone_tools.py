"""The capstone's data sets and the check of a reported log-likelihood."""

import pytest
import torch

import vaelib


def test_digits_8x8_keep_their_17_levels_and_the_stand_in_split():
    train_x, train_y = vaelib.load_digits_8x8(train=True, device="cpu")
    test_x, test_y = vaelib.load_digits_8x8(train=False, device="cpu")
    assert train_x.shape == (1498, 1, 8, 8) and test_x.shape == (299, 1, 8, 8)
    assert len(train_y) == 1498 and len(test_y) == 299
    levels = torch.unique(torch.cat([train_x, test_x]) * 16)
    torch.testing.assert_close(levels, levels.round())
    assert levels.min() == 0 and levels.max() == 16
    assert torch.equal(test_y, vaelib.load_standin_digits(train=False, device="cpu").labels)


def test_fashion_mnist_without_network_or_files_says_what_to_do(tmp_path):
    with pytest.raises(vaelib.DataUnavailableError, match="load_digits_8x8"):
        vaelib.load_fashion_mnist(root=tmp_path, download=False, device="cpu")


@pytest.fixture(scope="module")
def report():
    torch.manual_seed(0)
    encoder = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2 * 3))

    def encode(x):
        out = encoder(x)
        return out[:, :3], torch.nn.functional.softplus(out[:, 3:]) + 1e-3

    decoder = torch.nn.Sequential(torch.nn.Linear(3, 64), torch.nn.Unflatten(1, (1, 8, 8)))
    x, _ = vaelib.load_digits_8x8(train=False, device="cpu")
    x = torch.bernoulli(x, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        ll = vaelib.iwae_bound(encode, decoder, x, 50, generator=torch.Generator().manual_seed(3))
        elbo = vaelib.elbo(encode, decoder, x).elbo
    conditions = dict(
        data="8x8 digits, one fixed binarization",
        likelihood="Bernoulli",
        architecture="linear",
        training="none",
        hardware="CPU",
    )
    return dict(encoder=encode, decoder=decoder, test_images=x, k=50, ll_per_image=ll, conditions=conditions), elbo


def test_a_correct_report_passes(report, capsys):
    good, _ = report
    assert vaelib.check_log_likelihood_report(good)
    assert "correct" in capsys.readouterr().out


def test_an_elbo_or_missing_conditions_or_nothing_fail(report, capsys):
    good, elbo = report
    assert not vaelib.check_log_likelihood_report({**good, "ll_per_image": elbo})
    assert "Did you report an ELBO" in capsys.readouterr().out
    assert not vaelib.check_log_likelihood_report({**good, "conditions": {"data": "digits"}})
    assert "conditions lack 'likelihood'" in capsys.readouterr().out
    assert not vaelib.check_log_likelihood_report({**good, "k": 0})
    assert not vaelib.check_log_likelihood_report(None)
    assert "not answered yet" in capsys.readouterr().out
