"""Benchmark: DataLoader with per-item ToTensor vs vaelib's one-tensor pipeline.

Trains the MLP VAE of Pyro's tutorial (z=50, hidden 400, batch 256, Adam 1e-3, Bernoulli
likelihood on grey-scale pixels) twice from the same initial weights, once per pipeline,
and prints per epoch: data-iteration time alone, whole training time, test ELBO; then the
ratios. Targets (issue 2): data iteration >= 20x faster; a whole epoch no slower on CPU and
>= 5x faster on a GPU; the same test ELBO as the reference (Pyro's tutorial figure: about
-156 after 1 epoch and -108 after 10, grey-scale MNIST).

    python benchmarks/data_pipeline.py --data-root ../shared/data            # real MNIST, 10 epochs
    python benchmarks/data_pipeline.py --smoke                               # seconds, for CI
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.utils.data import DataLoader, Dataset
from torchvision.datasets import MNIST
from torchvision.transforms import ToTensor

import vaelib
from vaelib.book.published import PYRO_TUTORIAL_EARLY_TEST_ELBO


class PerItemImages(Dataset):
    """The stand-in digits served the way torchvision serves MNIST: uint8 -> PIL -> ToTensor per item."""

    def __init__(self, data: vaelib.ImageData):
        from PIL import Image

        self._image = Image
        self.pixels = (data.images.cpu() * 255).round().to(torch.uint8).squeeze(1).numpy()
        self.labels = data.labels.cpu()
        self.to_tensor = ToTensor()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return self.to_tensor(self._image.fromarray(self.pixels[i], mode="L")), int(self.labels[i])


def per_item_loader(args, train: vaelib.ImageData) -> DataLoader:
    """The seed tutorials' pipeline: a Dataset with a per-item transform in a DataLoader."""
    if train.source == vaelib.data.MNIST_SOURCE:
        dataset = MNIST(args.data_root, train=True, download=False, transform=ToTensor())
        if len(dataset) > len(train):
            dataset = torch.utils.data.Subset(dataset, range(len(train)))
    else:
        dataset = PerItemImages(train)
    return DataLoader(dataset, batch_size=args.batch_size, shuffle=True)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def iterate(batches, device: torch.device) -> float:
    """Seconds to pull every batch of one epoch onto the device, with no model work."""
    sync(device)
    start = time.perf_counter()
    for x, _ in batches:
        x = x.to(device, non_blocking=True)
    sync(device)
    return time.perf_counter() - start


def train_epoch(model, optimizer, batches, device: torch.device) -> float:
    sync(device)
    start = time.perf_counter()
    for x, _ in batches:
        x = x.to(device, non_blocking=True)
        loss = -vaelib.elbo(model.encoder, model.decoder, x).elbo.mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    sync(device)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-root", default=None, help="folder holding MNIST/raw (default: VAE_BOOK_DATA)")
    parser.add_argument("--epochs", type=int, default=None, help="default 10, or 1 with --smoke")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--smoke", action="store_true", help="2,000 training images, 1 epoch: seconds")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: CUDA when present)")
    args = parser.parse_args(argv)
    args.data_root = str(args.data_root or vaelib.data_root())
    epochs = args.epochs or (1 if args.smoke else 10)
    device = torch.device(args.device) if args.device else vaelib.pick_device()

    train = vaelib.load_mnist(train=True, root=args.data_root, device=device)
    test = vaelib.load_mnist(train=False, root=args.data_root, device=device)
    if args.smoke:
        train, test = train.subset(2000), test.subset(500)
    print(
        f"data: {train.source}, {len(train)} train / {len(test)} test images; device: {device}; "
        f"threads: {torch.get_num_threads()}; epochs: {epochs}; batch: {args.batch_size}"
    )

    loader = per_item_loader(args, train)
    tensor_batches = train.batches(args.batch_size)
    iterate(tensor_batches, device)  # warm-up: first CUDA/allocator calls
    data_seconds = {"per-item DataLoader": iterate(loader, device), "vaelib tensor": iterate(tensor_batches, device)}

    torch.manual_seed(0)
    initial = vaelib.VAE.mlp(z_dim=50, hidden_dim=400).to(device).state_dict()
    results = {}
    for name, batches in (("per-item DataLoader", loader), ("vaelib tensor", tensor_batches)):
        model = vaelib.VAE.mlp(z_dim=50, hidden_dim=400).to(device)
        model.load_state_dict(initial)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        torch.manual_seed(1)
        seconds, test_elbo = [], []
        for _ in range(epochs):
            seconds.append(train_epoch(model, optimizer, batches, device))
            test_elbo.append(vaelib.evaluate(model, test))
        results[name] = (seconds, test_elbo)

    print(f"\n{'pipeline':<22}{'data s/epoch':>14}{'train s/epoch':>15}  test ELBO by epoch (nats/image)")
    for name, (seconds, test_elbo) in results.items():
        elbos = " ".join(f"{v:.1f}" for v in test_elbo)
        print(f"{name:<22}{data_seconds[name]:>14.3f}{sum(seconds) / len(seconds):>15.3f}  {elbos}")
    reference = ", ".join(f"epoch {e}: {v:.0f}" for e, v in PYRO_TUTORIAL_EARLY_TEST_ELBO.items())
    print(f"{'Pyro tutorial (approx.)':<51}  {reference}  [grey-scale MNIST, full data]")

    (base_s, base_elbo), (fast_s, fast_elbo) = results["per-item DataLoader"], results["vaelib tensor"]
    data_ratio = data_seconds["per-item DataLoader"] / data_seconds["vaelib tensor"]
    epoch_ratio = (sum(base_s) / len(base_s)) / (sum(fast_s) / len(fast_s))
    print(f"\ndata iteration speed-up: {data_ratio:.1f}x  (target >= 20x)")
    print(f"whole-epoch speed-up:    {epoch_ratio:.2f}x  (target: >= 1x on CPU, >= 5x on GPU)")
    print(f"final test ELBO difference (tensor - per-item): {fast_elbo[-1] - base_elbo[-1]:+.2f} nats")


if __name__ == "__main__":
    main()
