r"""Chapter 11: deeper VAEs, diffusion read as a hierarchical VAE, and latent diffusion in miniature.

A topic sub-package on the core only (like ``bounds``, ``labels`` and ``priors``). ``ladder``: a VAE with two
stochastic layers and top-down (ladder) inference, its ELBO with one KL per layer, warm-up and free bits
(:class:`LadderObjective`, an ``objective=`` for ``vaelib.fit``), active units per layer; L_K goes through the
core's ``log_importance_weights`` because the code [z1, z2], the encoder's ``rsample`` and the prior's
``log_prob`` have the core's interfaces. ``diffusion``: a Gaussian diffusion as a hierarchical VAE whose
encoder is the noise schedule (fixed, DDPM's, or VDM's learned monotone one); the ELBO term by term, the
weights that turn DDPM's simple loss into the ELBO, the continuous-time loss, a discrete decoder, sampling,
bits per dimension. ``latent``: the spread and scale factor of a trained VAE's codes and a diffusion model on
them. ``__all__`` holds the names chapter 11 calls (the top level takes them by star import); the parts they are
built from (the encoder, prior and decoder of the ladder, the noise predictor, the per-term functions) stay
reachable as ``vaelib.hierarchy.NAME``.

Notes from the groundwork (measured before and while chapter 11 was written; not recorded)
========================================================================================

Sections. (1) Overview, goals, prerequisites (chapters 4, 6, 9). (2) Two stochastic layers: the ladder's
top-down inference, one KL per layer, a table of L_5000, KL of each layer and active units per layer for the
one-layer ``VAE.mlp(50, 250)`` (430,884 parameters) and ``TwoLayerVAE()`` (430,484) trained plainly, with
warm-up and with free bits. (3) Diffusion as a hierarchical VAE with a fixed encoder: the ELBO term by term
(``diffusion_terms``), the per-step KL table and plot (``step_kl_table``), the simple loss as a reweighted
ELBO (``elbo_weights``: equal weights for a schedule linear in log SNR, far from equal for DDPM's), the
continuous-time loss and VDM's learned schedule, the bound in nats and bits per dimension. (4) Latent
diffusion in miniature: ``latent_spread`` and the scale factor, ``LatentDiffusion`` trained on chapter 4's
kind of convolutional VAE, samples decoded, and chapter 9's hole measure (``vaelib.log_aggregate_posterior``:
share of codes where q(z) < N(z; 0, I) / 10, mean log q(z) - log N(z)) for its samples, for N(0, I) draws and
for codes from q itself. (5) Exercises (one step's KL in closed form; the weights of the simple loss; a
third layer; the scale factor as a shift of gamma, and the prior term of unscaled codes). (6) Summary,
references.

Data for the diffusion sections, and why. On binarized MNIST (784 values) the MLP noise predictor stays far
from a meaningful bound on a CPU: all of MNIST, 6 epochs, continuous-time ELBO, gamma from -3 to 5, gave a
test estimate of -1496 nats, worse than the 543 nats (1 bit per pixel) of sending the raw bits; with VDM's
gamma(0) = -13.3 it was far worse (6520 nats after 3 epochs on 10k images, against 2233 from gamma(0) = -3:
most of [0, 1] is then spent where binary data are already determined; hence ``discrete_gamma_min``). The
chapter therefore uses ``DiffusionVAE(49, 17, pool=4)``: binarized MNIST averaged over 4x4 blocks, 7x7 images
of black-pixel counts on 17 levels, made from the same binarized digits, 60,000 of them (the 8x8 digits have
1,498 training images, and vaelib.fit takes 28x28 ImageData). Measured (all of MNIST, 4 epochs, T = 1000
bound on 500 test images): fixed schedule 3.58 bits/dim, VDM's learned schedule 2.62 bits/dim, against 4.09
for uniform levels and 1.65 (56.1 nats) for independent per-block categoricals fitted on the training set:
the diffusion bound was still worse than that factorized baseline, so the chapter must print the baseline and
claim a win only if its record shows one. These are bounds on log-probabilities of discrete data (the decoder
at t = 0 is a categorical over the levels): no dequantization is involved, but they are numbers of another
data set than chapter 6's, never compared with them.

Two layers, measured (all of MNIST, 3 epochs, batch 100, L_100 on 500 test images): one layer -106.1; two
layers plain -124.9 (KL z1 2.3, z2 9.1 nats), with warm-up over the first third -114.3 (KL z1 12.7, z2 1.9),
with free bits of 1 nat per layer -123.8 (KL z1 4.4, z2 6.8). So at a short budget the two-layer model is
behind the one-layer one, and which layer starves depends on the remedy; Burda et al.'s two-layer gain came
after 3,280 passes. Every statement of the page about collapse and remedies must be asserted on the record.

Latent diffusion, measured (chapter 4's ``VAE.conv(16)``, one epoch of MNIST, latent diffusion 4 epochs,
500 samples at T = 200, chapter 9's measure against the aggregate posterior of 5,000 training codes). With
the ELBO's KL weight 1 the codes are already about unit-variance (std 1.05, scale factor 0.95; with 3 epochs
1.02 and 0.98): scaling changes nothing, and training with factor 1 gave the same samples' scores. With
``fit(beta=0.05)`` the spread grows (std 1.58, factor 0.63; Stable Diffusion's autoencoder has a far smaller
KL weight, hence its 0.18215), but its posteriors shrink (mean scale 0.066) and the hole measure saturates:
even codes of held-out test images then sit in holes (98%). At KL weight 1: hole share (q(z) < N(z; 0, I)/10)
of N(0, I) draws 99.6% (mean log q - log N -36.2), of latent-diffusion samples 94.6% (-27.6), of codes of 500
held-out test images 57.0% (-7.5). In 16 dimensions a finite aggregate posterior has holes between its
training codes that any new code falls into, so the page compares the samples with codes of held-out images
(what a perfect sampler would score), not with zero; after this short run the samples were between N(0, I)
and that reference. The scale-factor exercise needs a VAE with a small KL weight, and says what happens to
the holes then.

Fourier features. Measured while writing the chapter (one thread, all of MNIST, 5 epochs, fixed schedule, T = 1000
bound on 200 test images): 3.27 bits/dim with an MLP on z_t alone, 2.54 with VDM's Fourier features of z_t
(exponents 3, 4, 5); without them most of the bound was spent in the low-noise steps, where the network must
read z_t's offset from the nearest level. The chapter's models use them (``fourier=``). Latent codes, measured
the same way (conv VAE with KL weight 0.1, 3 epochs on 20,000 images; latent diffusion 15 epochs; 2,000 codes
each): mean log q(z) of N(0, I) draws -1176, of latent-diffusion samples -835, of held-out test codes -547;
every kind of code sits in a hole by chapter 9's threshold (over 99.8%), so the chapter reads mean log q(z).

Settings: ``vaelib/book/budgets.py``'s table "11_hierarchy" (its comment says what the full mode is sized to).

Published numbers. Stored (``vaelib.published``): VDM's CIFAR-10 bits/dim (2.64, and 2.49 with augmentation),
read in the authors' README, different data, shown only as context; Burda et al.'s two-layer ELBO-trained row
(-85.33), read where the one-layer rows were read (a reproduction's README quoting the paper's Table 1, whose
one-layer entries match the ones read in the paper); Stable Diffusion v1's scale factor 0.18215, read in its
released configuration. Not stored, because no readable source was reached: Sønderby et al.'s ladder-VAE rows
and Ho et al.'s CIFAR-10 bits/dim.
"""

from .diffusion import (
    DDPMSchedule,
    DiffusionObjective,
    DiffusionVAE,
    FixedSchedule,
    LearnedSchedule,
    bits_per_dim,
    diffusion_terms,
    discrete_gamma_min,
    elbo_weights,
    prior_kl,
    step_kl,
    step_kl_table,
)
from .diffusion import (
    DiffusionTerms as DiffusionTerms,
)
from .diffusion import (
    NoisePredictor as NoisePredictor,
)
from .diffusion import (
    NoiseSchedule as NoiseSchedule,
)
from .diffusion import (
    reconstruction_log_prob as reconstruction_log_prob,
)
from .diffusion import (
    sample_diffusion as sample_diffusion,
)
from .ladder import (
    HierarchicalPrior as HierarchicalPrior,
)
from .ladder import (
    LadderEncoder as LadderEncoder,
)
from .ladder import (
    LadderObjective,
    TwoLayerVAE,
    layer_active_units,
    layer_kls,
    parameter_count,
)
from .ladder import (
    ladder_terms as ladder_terms,
)
from .latent import LatentDiffusion, latent_spread

__all__ = [
    "bits_per_dim",
    "DDPMSchedule",
    "diffusion_terms",
    "discrete_gamma_min",
    "DiffusionObjective",
    "DiffusionVAE",
    "elbo_weights",
    "FixedSchedule",
    "LadderObjective",
    "latent_spread",
    "LatentDiffusion",
    "layer_active_units",
    "layer_kls",
    "LearnedSchedule",
    "parameter_count",
    "prior_kl",
    "step_kl",
    "step_kl_table",
    "TwoLayerVAE",
]
