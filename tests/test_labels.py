"""Chapter 8's label models: the enumerated ELBO, the labelled/unlabelled split, the CVAE and the M2 loop."""

import math

import pyro
import pytest
import torch
from pyro.infer import Trace_ELBO, TraceEnum_ELBO
from torch.distributions import Normal

import vaelib
from vaelib import published

Z, H = 3, 16  # tiny networks: the tests check arithmetic, not learning


def tiny_m2(seed=0):
    torch.manual_seed(seed)
    return vaelib.M2.mlp(z_dim=Z, hidden_dim=H)


def binary_images(n, seed=0):
    return torch.bernoulli(torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed)))


def hand_written_unlabelled_bound(m2, x):
    """U(x) = sum over the ten classes of q(y|x) [L(x, y) - log q(y|x)], one draw of z per class and image,
    drawn from the torch generator exactly as Pyro's parallel enumeration draws it: shape (10, B, z)."""
    log_q_y = torch.log_softmax(m2.classifier(x), dim=-1)  # (B, 10)
    every = vaelib.one_hot(torch.arange(10)).view(10, 1, 10)
    loc, scale = m2.encoder(x, every)  # (10, B, z)
    z = Normal(loc, scale).rsample()
    total = torch.zeros(len(x))
    for c in range(10):
        label = vaelib.one_hot(torch.full((len(x),), c))
        log_px = vaelib.bernoulli_log_likelihood(m2.decoder(z[c], label), x)
        log_pz = Normal(0.0, 1.0).log_prob(z[c]).sum(-1)
        log_qz = Normal(loc[c], scale[c]).log_prob(z[c]).sum(-1)
        bound = log_px + log_pz - log_qz - math.log(10)  # log p(y) = -log 10
        total = total + log_q_y[:, c].exp() * (bound - log_q_y[:, c])
    return total  # (B,)


def test_enumerated_elbo_equals_the_hand_written_sum_over_ten_classes_and_so_do_its_gradients():
    m2, x = tiny_m2(), binary_images(6)
    pyro.set_rng_seed(1)
    enumerated = TraceEnum_ELBO(max_plate_nesting=1).differentiable_loss(m2.model, m2.enumerated_guide, x)
    grads_enum = torch.autograd.grad(enumerated, list(m2.classifier.parameters()))
    pyro.set_rng_seed(1)
    by_hand = -hand_written_unlabelled_bound(m2, x).sum()
    grads_hand = torch.autograd.grad(by_hand, list(m2.classifier.parameters()))
    torch.testing.assert_close(enumerated, by_hand, rtol=1e-5, atol=1e-3)
    for a, b in zip(grads_enum, grads_hand, strict=True):  # exact sums: no score-function term for y
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_without_enumeration_the_loss_is_a_one_class_sample_not_the_sum():
    """The negative control: the same guide without config_enumerate samples one y per image."""
    m2, x = tiny_m2(), binary_images(6)
    pyro.set_rng_seed(1)
    exact = TraceEnum_ELBO(max_plate_nesting=1).loss(m2.model, m2.enumerated_guide, x)
    pyro.set_rng_seed(1)
    sampled = Trace_ELBO().loss(m2.model, m2.guide, x)
    assert abs(exact - sampled) > 1e-3


def test_the_enumeration_dimension_sits_left_of_the_plate():
    m2, x = tiny_m2(), binary_images(5)
    guide = pyro.poutine.enum(m2.enumerated_guide, first_available_dim=-2)
    trace = pyro.poutine.trace(guide).get_trace(x)
    assert tuple(trace.nodes["y"]["value"].shape) == (10, 1)
    assert tuple(trace.nodes["z"]["value"].shape) == (10, 5, Z)


def test_a_labelled_batch_scores_the_cvae_bound_plus_log_p_y():
    m2, x = tiny_m2(), binary_images(4)
    y = torch.tensor([0, 3, 3, 9])
    cvae = vaelib.CVAE(m2.encoder, m2.decoder)  # the same networks
    pyro.set_rng_seed(2)
    m2_loss = Trace_ELBO().loss(m2.model, m2.guide, x, y)
    pyro.set_rng_seed(2)
    cvae_loss = Trace_ELBO().loss(cvae.model, cvae.guide, x, y)
    assert m2_loss == pytest.approx(cvae_loss + len(x) * math.log(10), rel=1e-6)


def plain_copies(encoder, decoder):
    """vaelib.MLPEncoder/MLPDecoder holding the image (or latent) columns of the label networks' weights."""
    plain_enc, plain_dec = vaelib.MLPEncoder(Z, H), vaelib.MLPDecoder(Z, H)
    with torch.no_grad():
        plain_enc.hidden.weight.copy_(encoder.hidden.weight[:, : vaelib.N_PIXELS])
        plain_enc.hidden.bias.copy_(encoder.hidden.bias)
        plain_enc.loc.load_state_dict(encoder.loc.state_dict())
        plain_enc.raw_scale.load_state_dict(encoder.raw_scale.state_dict())
        plain_dec.hidden.weight.copy_(decoder.hidden.weight[:, :Z])
        plain_dec.hidden.bias.copy_(decoder.hidden.bias)
        plain_dec.logits.load_state_dict(decoder.logits.state_dict())
    return plain_enc, plain_dec


@pytest.mark.parametrize("conditional", [False, True], ids=["label zeroed", "label given"])
def test_the_cvae_with_its_label_zeroed_is_the_plain_vae(conditional):
    torch.manual_seed(0)
    encoder, decoder = vaelib.LabelMLPEncoder(Z, H), vaelib.LabelMLPDecoder(Z, H)
    cvae = vaelib.CVAE(encoder, decoder, conditional=conditional)
    plain = vaelib.PyroVAE(*plain_copies(encoder, decoder))
    x, y = binary_images(8), torch.arange(8)
    pyro.set_rng_seed(3)
    cvae_loss = Trace_ELBO().loss(cvae.model, cvae.guide, x, y)
    pyro.set_rng_seed(3)
    plain_loss = Trace_ELBO().loss(plain.model, plain.guide, x)
    if conditional:  # the label columns add a class-dependent bias: a different model
        assert abs(cvae_loss - plain_loss) > 1e-3
    else:
        assert cvae_loss == pytest.approx(plain_loss, rel=1e-6)


def test_cvae_terms_add_up_and_the_kl_is_the_closed_form():
    torch.manual_seed(0)
    cvae = vaelib.CVAE(vaelib.LabelMLPEncoder(Z, H), vaelib.LabelMLPDecoder(Z, H))
    data = vaelib.ImageData(binary_images(10), torch.arange(10), "test")
    terms = vaelib.cvae_terms(cvae, data, batch_size=4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        loc, scale = cvae.encoder(data.images, vaelib.one_hot(data.labels))
        kl = torch.distributions.kl_divergence(Normal(loc, scale), Normal(0.0, 1.0)).sum(-1).mean()
    assert terms["kl"] == pytest.approx(kl.item(), rel=1e-5)
    assert terms["elbo"] == pytest.approx(terms["reconstruction"] - terms["kl"])


# --------------------------------------------------------------------------- the split


@pytest.fixture(scope="module")
def source():
    """300 stand-in training images, 10-40 of each class."""
    return vaelib.load_standin_digits(train=True, device="cpu").subset(300)


def test_the_labelled_subset_is_balanced_and_the_streams_partition_the_data(source):
    split = vaelib.split_labelled(source, 50, seed=0)
    assert torch.bincount(split.labelled.labels, minlength=10).tolist() == [5] * 10
    both = torch.cat([split.labelled_index, split.unlabelled_index]).sort().values
    assert torch.equal(both, torch.arange(len(source))), "every image in exactly one stream"
    torch.testing.assert_close(split.labelled.images, source.images[split.labelled_index])
    assert torch.equal(split.labelled.labels, source.labels[split.labelled_index]), "labels stay with their images"
    torch.testing.assert_close(split.unlabelled, source.images[split.unlabelled_index])


def test_the_choice_is_fixed_by_the_seed(source):
    a, b = vaelib.split_labelled(source, 50, seed=7), vaelib.split_labelled(source, 50, seed=7)
    c = vaelib.split_labelled(source, 50, seed=8)
    assert torch.equal(a.labelled_index, b.labelled_index)
    assert not torch.equal(a.labelled_index, c.labelled_index)


def test_the_unlabelled_stream_carries_images_and_no_labels(source):
    split = vaelib.split_labelled(source, 50, seed=0)
    assert isinstance(split.unlabelled, torch.Tensor) and split.unlabelled.is_floating_point()
    assert tuple(split.unlabelled.shape) == (len(source) - 50, *vaelib.IMAGE_SHAPE)
    label_tensors = [name for name, value in vars(split).items() if isinstance(value, vaelib.ImageData)]
    assert label_tensors == ["labelled"], "only the labelled part holds labels"
    seen, steps = [], 0
    for triple in split.batches(64, 20, binarize=False):
        x_u, x_l, y_l = triple
        assert x_u.is_floating_point() and x_u.dim() == 4, "the unlabelled item is an image batch, nothing else"
        seen.append(x_u)
        # each labelled image comes with its own label
        index = [int((split.labelled.images == img).flatten(1).all(1).nonzero()) for img in x_l]
        assert torch.equal(split.labelled.labels[index], y_l)
        steps += 1
    assert steps == math.ceil(len(split.unlabelled) / 64) and steps > len(split.labelled) // 20, "labels cycle"
    seen = torch.cat(seen)
    assert len(seen) == len(split.unlabelled), "one epoch visits every unlabelled image once"
    torch.testing.assert_close(seen.sum(0), split.unlabelled.sum(0))


@pytest.mark.parametrize("n, message", [(55, "multiple of 10"), (0, "multiple of 10"), (400, "at least")])
def test_impossible_splits_are_refused_with_what_to_do(source, n, message):
    with pytest.raises(ValueError, match=message):
        vaelib.split_labelled(source, n)


def test_bad_labels_are_refused():
    with pytest.raises(ValueError, match="0..9"):
        vaelib.one_hot(torch.tensor([3, 10]))
    with pytest.raises(ValueError, match="integers"):
        vaelib.one_hot(torch.tensor([1.0]))
    with pytest.raises(ValueError, match="one-hot"):
        vaelib.LabelMLPEncoder(Z, H)(binary_images(2), torch.tensor([1, 2]))


# --------------------------------------------------------------------------- the training loop


def test_m2_loss_weights_the_two_streams_with_poutine_scale():
    m2 = tiny_m2()
    x_u, x_l, y_l = binary_images(8, seed=1), binary_images(4, seed=2), torch.tensor([1, 2, 3, 4])
    n_u, n_l, alpha = 90, 10, 10.0
    pyro.set_rng_seed(5)
    per_u = TraceEnum_ELBO(max_plate_nesting=1).loss(m2.model, m2.enumerated_guide, x_u) / len(x_u)
    per_l = Trace_ELBO().loss(m2.model, m2.guide, x_l, y_l) / len(x_l)
    with torch.no_grad():
        ce = torch.nn.functional.cross_entropy(m2.classifier(x_l), y_l).item()
    pyro.set_rng_seed(5)
    parts = vaelib.m2_loss(m2, x_u, x_l, y_l, n_u, n_l, alpha)
    expected = n_u / 100 * per_u + n_l / 100 * per_l + alpha / 100 * ce
    assert parts["loss"].item() == pytest.approx(expected, rel=1e-5)
    assert parts["unlabelled"].item() == pytest.approx(per_u, rel=1e-5)
    assert parts["labelled"].item() == pytest.approx(per_l, rel=1e-5)


def test_fit_m2_trains_end_to_end_and_reports_errors(source):
    split = vaelib.split_labelled(source, 50, seed=0)
    test = vaelib.ImageData(source.images[:60].bernoulli(), source.labels[:60], source.source)
    m2 = tiny_m2()
    before = [p.detach().clone() for p in m2.parameters()]
    history = vaelib.fit_m2(m2, split, test, epochs=2, batch_size=64, labelled_batch_size=20, progress=False)
    assert len(history.train_elbo) == len(history.test_error) == 2
    assert all(math.isfinite(e) and e < 0 for e in history.train_elbo)
    assert all(0 <= e <= 1 for e in history.test_error)
    assert any(not torch.equal(a, b) for a, b in zip(before, m2.parameters(), strict=True)), "Adam updated the nets"


def test_a_non_finite_loss_stops_m2_before_the_update(source):
    split = vaelib.split_labelled(source, 50, seed=0)
    m2 = tiny_m2()
    with torch.no_grad():
        m2.decoder.logits.bias[0] = float("nan")
    before = [p.detach().clone() for p in m2.parameters()]
    with pytest.raises(vaelib.NonFiniteLossError, match="before this update"):
        vaelib.fit_m2(m2, split, epochs=1, batch_size=64, labelled_batch_size=20, progress=False)
    for a, b in zip(before, m2.parameters(), strict=True):
        torch.testing.assert_close(a, b.detach(), equal_nan=True)


def poison_gradients(module):
    """Every gradient reaching the module's first parameter becomes NaN; the loss stays finite."""
    next(iter(module.parameters())).register_hook(lambda grad: grad * math.nan)


def label_trainers(source):
    """(name, model, call that trains it) for each of chapter 8's training loops."""
    split = vaelib.split_labelled(source, 50, seed=0)
    torch.manual_seed(0)
    cvae, m2 = vaelib.CVAE(vaelib.LabelMLPEncoder(Z, H), vaelib.LabelMLPDecoder(Z, H)), tiny_m2()
    classifier = vaelib.MLPClassifier(H)
    return [
        ("fit_cvae", cvae, lambda: vaelib.fit_cvae(cvae, source, epochs=1, batch_size=64, progress=False)),
        (
            "fit_m2",
            m2,
            lambda: vaelib.fit_m2(m2, split, epochs=1, batch_size=64, labelled_batch_size=20, progress=False),
        ),
        (
            "fit_classifier",
            classifier,
            lambda: vaelib.fit_classifier(classifier, split.labelled, steps=5, batch_size=20),
        ),
    ]


def test_every_label_trainer_checks_the_gradients_not_only_the_loss(source):
    for name, model, train in label_trainers(source):
        poison_gradients(model)
        before = [p.detach().clone() for p in model.parameters()]
        with pytest.raises(
            vaelib.NonFiniteLossError, match=r"step 0: the loss is -?\d.*norm nan; no update was applied"
        ):
            train()
        assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True)), name
        assert all(p.grad is None for p in model.parameters()), f"{name}: the bad gradients are dropped"


def test_classification_error_and_confusion_matrix_agree(source):
    torch.manual_seed(0)
    classifier = vaelib.MLPClassifier(H)
    history = vaelib.fit_classifier(classifier, source.subset(100), source, steps=20, batch_size=50)
    confusion = vaelib.confusion_matrix(classifier, source, batch_size=64)
    assert confusion.sum() == len(source)
    assert torch.equal(confusion.sum(1), torch.bincount(source.labels, minlength=10))
    assert history.test_error[-1] == pytest.approx(1 - confusion.trace().item() / len(source))


def test_the_published_m2_errors_are_the_table_s():
    errors = {n: row.value for n, row in published.KINGMA_M2_ERROR.items()}
    assert errors == {100: 11.97, 600: 4.94, 1000: 3.60, 3000: 3.92}
    assert published.KINGMA_M2_ERROR_SPREAD == {100: 1.71}
    assert all(row.cite == "kingma2014semi" for row in published.KINGMA_M2_ERROR.values())


def test_fit_cvae_records_train_and_test_elbo_per_epoch(source):
    torch.manual_seed(0)
    cvae = vaelib.CVAE(vaelib.LabelMLPEncoder(Z, H), vaelib.LabelMLPDecoder(Z, H))
    test = vaelib.ImageData(source.images[:50].bernoulli(), source.labels[:50], source.source)
    history = vaelib.fit_cvae(cvae, source.subset(128), test, epochs=2, batch_size=32, progress=False)
    assert len(history.train_elbo) == len(history.test_elbo) == len(history.seconds) == 2
    assert all(math.isfinite(e) and e < 0 for e in history.train_elbo + history.test_elbo)
    assert history.test_elbo[-1] == pytest.approx(vaelib.cvae_terms(cvae, test)["elbo"], abs=5.0), (
        "the history's test ELBO is cvae_terms' (one sample of z: a few nats of noise)"
    )


def test_two_stream_batches_see_a_labelled_batch_every_step_and_restart_it(source):
    split = vaelib.split_labelled(source, 20, seed=0)
    assert isinstance(split, vaelib.LabelSplit)
    batches = vaelib.TwoStreamBatches(split, batch_size=100, labelled_batch_size=15, binarize=False)
    steps = list(batches)
    assert len(steps) == len(batches) == math.ceil(len(split.unlabelled) / 100)
    assert sum(len(x_u) for x_u, _, _ in steps) == len(split.unlabelled), "one pass over the unlabelled images"
    assert all(len(x_l) == len(y_l) == 15 for _, x_l, y_l in steps), "every step has a full labelled batch"


def test_the_classification_error_is_the_share_of_wrong_argmax_classes(source):
    torch.manual_seed(0)
    classifier = vaelib.MLPClassifier(H)
    history = vaelib.fit_classifier(classifier, source.subset(100), source, steps=5, batch_size=50)
    assert isinstance(history, vaelib.LabelHistory)
    with torch.no_grad():
        wrong = (classifier.eval()(source.images).argmax(-1) != source.labels).float().mean().item()
    assert vaelib.classification_error(classifier, source, batch_size=64) == pytest.approx(wrong)


# --------------------------------------------------------------------------- cheaper enumeration, M1+M2 (issue 27)


def test_the_image_projection_computed_once_equals_the_plain_first_layer_values_and_gradients():
    torch.manual_seed(0)
    once = vaelib.LabelMLPEncoder(Z, H)
    plain = vaelib.LabelMLPEncoder(Z, H, project_once=False)
    plain.load_state_dict(once.state_dict())
    x = binary_images(5)
    every = vaelib.one_hot(torch.arange(10)).view(10, 1, 10)  # enumerated: (10, 1, 10)
    own = vaelib.one_hot(torch.tensor([0, 3, 9, 3, 1]))  # one label per image: (5, 10)
    for label in (every, own):
        a, b = once(x, label), plain(x, label)
        for u, v in zip(a, b, strict=True):
            torch.testing.assert_close(u, v, rtol=1e-5, atol=1e-6)
        grads_a = torch.autograd.grad(sum(t.sum() for t in a), list(once.parameters()))
        grads_b = torch.autograd.grad(sum(t.sum() for t in b), list(plain.parameters()))
        for u, v in zip(grads_a, grads_b, strict=True):
            torch.testing.assert_close(u, v, rtol=1e-4, atol=1e-5)


def test_multiply_adds_count_the_image_projection_once_per_image_not_once_per_class():
    torch.manual_seed(0)
    once, plain = vaelib.LabelMLPEncoder(Z, H), vaelib.LabelMLPEncoder(Z, H, project_once=False)
    x, every, b = binary_images(6), vaelib.one_hot(torch.arange(10)).view(10, 1, 10), 6
    work_once = vaelib.multiply_adds(lambda: once(x, every))
    work_plain = vaelib.multiply_adds(lambda: plain(x, every))
    heads = 10 * b * H * 2 * Z  # loc and scale heads, once per class and image in both versions
    assert work_plain == 10 * b * (784 + 10) * H + heads
    assert work_once == b * 784 * H + 10 * 10 * H + heads  # the class columns once per class, not per image
    linear = torch.nn.Linear(7, 3)
    assert vaelib.multiply_adds(lambda: linear(torch.ones(4, 7))) == 4 * 7 * 3


def tiny_code_m2(seed=0, x_dim=6):
    torch.manual_seed(seed)
    return vaelib.CodeM2(x_dim, z_dim=3, hidden=8, layers=2)


def test_the_code_m2_unlabelled_bound_is_the_sum_over_classes_written_out():
    model, x = tiny_code_m2(), torch.randn(5, 6)
    torch.manual_seed(3)
    enumerated = model.unlabelled_bound(x)
    torch.manual_seed(3)
    every = torch.eye(10).unsqueeze(1)  # (10, 1, 10)
    loc, scale = model.encode(x, every)  # (10, 5, 3)
    z = loc + scale * torch.randn_like(loc)  # the same draw
    log_q = torch.log_softmax(model.classifier(x), -1)
    total = torch.zeros(5)
    for c in range(10):
        label = every[c].expand(5, -1)
        log_px = Normal(model.decode(z[c], label), model.dec_log_scale.exp()).log_prob(x).sum(-1)
        kl = vaelib.gaussian_kl_to_standard(loc[c], scale[c])
        total = total + log_q[:, c].exp() * (log_px - kl - math.log(10) - log_q[:, c])
    torch.testing.assert_close(enumerated, total, rtol=1e-5, atol=1e-5)


def test_the_code_m2_loss_weights_the_streams_like_m2_loss():
    model, x_u, x_l, y_l = tiny_code_m2(), torch.randn(8, 6), torch.randn(4, 6), torch.tensor([1, 2, 3, 4])
    torch.manual_seed(5)
    u, lab = model.unlabelled_bound(x_u).mean(), model.labelled_bound(x_l, y_l).mean()
    ce = torch.nn.functional.cross_entropy(model.classifier(x_l), y_l)
    torch.manual_seed(5)
    loss = vaelib.code_m2_loss(model, x_u, x_l, y_l, 90, 10, alpha=20.0)
    torch.testing.assert_close(loss, -0.9 * u - 0.1 * lab + 0.2 * ce)
    with pytest.raises(ValueError, match=r"expects inputs \(B, 6\)"):
        model.unlabelled_bound(torch.randn(4, 5))


def test_the_code_scaler_keeps_the_units_that_vary_and_standardises_them():
    loc = torch.randn(500, 4) * torch.tensor([1.0, 0.05, 3.0, 0.0]) + 2.0
    scaler = vaelib.CodeScaler.fit(loc)
    assert scaler.keep.tolist() == [True, False, True, False] and scaler.n_units == 2
    kept, scale = scaler(loc, torch.ones_like(loc))
    torch.testing.assert_close(kept.mean(0), torch.zeros(2), atol=1e-4, rtol=0)
    torch.testing.assert_close(kept.std(0), torch.ones(2), atol=1e-4, rtol=0)
    torch.testing.assert_close(scale, 1 / scaler.std.expand(500, -1))
    assert vaelib.M1_UNIT_MIN_STD == 0.1  # Kingma et al.'s released code
    with pytest.raises(ValueError, match="collapsed"):
        vaelib.CodeScaler.fit(torch.zeros(10, 3) + 0.01 * torch.randn(10, 3))


def test_held_out_labels_come_from_the_unlabelled_part_ten_per_class_at_most(source):
    split = vaelib.split_labelled(source, 50, seed=0)
    held = vaelib.held_out_labelled(source, split, per_class=3)
    assert torch.bincount(held.labels, minlength=10).tolist() == [3] * 10
    labelled = {tuple(x.flatten().tolist()) for x in split.labelled.images}
    assert not any(tuple(x.flatten().tolist()) in labelled for x in held.images), "none of the training labels"
    with pytest.raises(ValueError, match="at most 10 per class"):
        vaelib.held_out_labelled(source, split, per_class=11)
    with pytest.raises(ValueError, match="split's source"):
        vaelib.held_out_labelled(source.subset(100), split)


def test_m1_posterior_feeds_a_label_encoder_the_zero_label(source):
    torch.manual_seed(0)
    encoder, x = vaelib.LabelMLPEncoder(Z, H), source.images[:7]
    loc, scale = vaelib.m1_posterior(encoder, x, batch_size=3)
    with torch.no_grad():
        want_loc, want_scale = encoder(x, torch.zeros(7, 10))
    torch.testing.assert_close(loc, want_loc)
    torch.testing.assert_close(scale, want_scale)


def test_fit_code_m2_and_the_codes_only_control_train_end_to_end(source):
    split = vaelib.split_labelled(source, 50, seed=0)
    torch.manual_seed(0)
    codes = (torch.randn(len(source), 6) + source.labels[:, None].float(), 0.1 * torch.ones(len(source), 6))
    test = (codes[0][:40], source.labels[:40])
    model = tiny_code_m2()
    history = vaelib.fit_code_m2(model, codes, split, test, test, epochs=2, batch_size=64, labelled_batch_size=20)
    assert isinstance(history, vaelib.CodeHistory)
    assert history.steps == 2 * math.ceil(len(split.unlabelled) / 64)
    assert len(history.test_error) == len(history.validation_error) == len(history.loss) == 2
    assert all(0 <= e <= 1 for e in history.test_error) and all(math.isfinite(v) for v in history.loss)
    control = tiny_code_m2().classifier
    before = vaelib.code_error(control, *test)
    vaelib.fit_code_classifier(control, codes, split.labelled_index, split.labelled.labels, steps=300, lr=1e-2)
    assert vaelib.code_error(control, *test) < before, "the labelled codes teach the classifier"
    with pytest.raises(ValueError, match="for the split's images"):
        vaelib.fit_code_m2(model, (codes[0][:10], codes[1][:10]), split, test)


def test_the_pyro_rows_are_the_tutorial_s():
    pyro_rows = published.PYRO_SSVAE_ACCURACY
    assert pyro_rows["enumerated y with the classification term"][100].value == 0.9319
    assert pyro_rows["enumerated y, no classification term"][3000].value == 0.8932
    assert pyro_rows["labels-only classifier"][100].value == 0.7712
    assert "validation" in pyro_rows["labels-only classifier"][600].conditions
