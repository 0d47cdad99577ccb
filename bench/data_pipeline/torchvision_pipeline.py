#!/usr/bin/env python3
"""The Python references for bench_data_pipeline: SLIP's per-sample work (decode, CLIP view, two
SimCLR views, tokenize with open_clip's tokenizer) on one thread, images/s as one JSON line.

--path pil     SLIP's own code path: PIL decode + torchvision.transforms on PIL images.
--path tensor  torchvision's tensor path, which users pick for speed: torchvision.io.decode_image
               (libjpeg-turbo / libpng, mode RGB) + torchvision.transforms.v2 on uint8 tensors.
"""
import argparse
import io
import json
import random
import time

import torch
from open_clip.tokenizer import SimpleTokenizer
from PIL import Image, ImageFilter

MEAN = [0.485, 0.456, 0.406]  # SLIP's normalisation (ImageNet mean/std)
STD = [0.229, 0.224, 0.225]


class GaussianBlur:  # SLIP's utils.GaussianBlur
    def __init__(self, sigma=(0.1, 2.0)):
        self.sigma = sigma

    def __call__(self, x):
        return x.filter(ImageFilter.GaussianBlur(radius=random.uniform(self.sigma[0], self.sigma[1])))


def pil_path(encoded):
    """SLIP's pipeline: pil_loader, then torchvision.transforms on the PIL image."""
    import torchvision.transforms as T

    normalize = T.Normalize(mean=MEAN, std=STD)
    clip_view = T.Compose([T.RandomResizedCrop(224, scale=(0.5, 1.0)), T.ToTensor(), normalize])
    simclr_view = T.Compose([
        T.RandomResizedCrop(224, scale=(0.08, 1.)),
        T.RandomApply([T.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        T.RandomGrayscale(p=0.2),
        T.RandomApply([GaussianBlur([.1, 2.])], p=0.5),
        T.RandomHorizontalFlip(),
        T.ToTensor(),
        normalize,
    ])

    def views(index):
        image = Image.open(io.BytesIO(encoded[index % len(encoded)])).convert("RGB")  # SLIP's pil_loader
        return clip_view(image), simclr_view(image), simclr_view(image)

    return "torchvision-pil", views


def tensor_path(encoded):
    """The same per-sample work on uint8 tensors, as faithfully as torchvision allows."""
    from torchvision.io import ImageReadMode, decode_image
    from torchvision.transforms import v2

    # The encoded bytes as uint8 tensors up front (zero-copy views), as the PIL path starts from bytes.
    data = [torch.frombuffer(bytearray(b), dtype=torch.uint8) for b in encoded]
    to_float = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean=MEAN, std=STD)]
    clip_view = v2.Compose([v2.RandomResizedCrop(224, scale=(0.5, 1.0), antialias=True), *to_float])
    simclr_view = v2.Compose([
        v2.RandomResizedCrop(224, scale=(0.08, 1.0), antialias=True),
        v2.RandomApply([v2.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
        v2.RandomGrayscale(p=0.2),
        # v2's Gaussian blur: a separable convolution with a fixed 23-tap kernel and sigma drawn from
        # [0.1, 2.0]. SLIP blurs with PIL's ImageFilter.GaussianBlur(radius=sigma) (extended box
        # blurs, no fixed kernel), so the pixels and the cost differ; this is the closest v2 offers
        # (23 px is the kernel size the SimCLR recipe uses at 224 px).
        v2.RandomApply([v2.GaussianBlur(kernel_size=23, sigma=(0.1, 2.0))], p=0.5),
        v2.RandomHorizontalFlip(),
        *to_float,
    ])

    def views(index):
        # decode_image dispatches to decode_jpeg / decode_png; mode RGB makes grey images 3-channel
        # (as PIL's convert("RGB") does). [3, H, W] uint8.
        image = decode_image(data[index % len(data)], mode=ImageReadMode.RGB)
        return clip_view(image), simclr_view(image), simclr_view(image)

    return "torchvision-tensor", views


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--bpe", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--path", choices=["pil", "tensor"], default="pil",
                        help="pil: SLIP's PIL + torchvision.transforms (default); "
                             "tensor: torchvision.io decode + transforms.v2 on uint8 tensors")
    args = parser.parse_args()
    torch.set_num_threads(1)
    encoded = [open(f, "rb").read() for f in args.files]
    implementation, views = (pil_path if args.path == "pil" else tensor_path)(encoded)
    tokenizer = SimpleTokenizer(bpe_path=args.bpe)
    caption = "a photograph of a street with people and shops in the evening"

    def one_sample(index):
        clip, a, b = views(index)
        assert clip.shape == a.shape == b.shape == (3, 224, 224) and clip.dtype == torch.float32
        tokens = tokenizer([caption])
        return clip.shape[0] + a.shape[0] + b.shape[0] + tokens.shape[1]

    for i in range(5):
        one_sample(i)
    samples, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        one_sample(samples)
        samples += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"implementation": implementation, "images": samples, "seconds": elapsed,
                      "images_per_second": samples / elapsed, "threads": 1}))


if __name__ == "__main__":
    main()
