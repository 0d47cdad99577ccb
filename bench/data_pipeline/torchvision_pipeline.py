#!/usr/bin/env python3
"""The Python reference for bench_data_pipeline: SLIP's per-sample work with PIL, torchvision and
open_clip's tokenizer on one thread (decode, CLIP view, two SimCLR views, tokenize), images/s as JSON."""
import argparse
import io
import json
import random
import time

import torch
import torchvision.transforms as T
from open_clip.tokenizer import SimpleTokenizer
from PIL import Image, ImageFilter


class GaussianBlur:  # SLIP's utils.GaussianBlur
    def __init__(self, sigma=(0.1, 2.0)):
        self.sigma = sigma

    def __call__(self, x):
        return x.filter(ImageFilter.GaussianBlur(radius=random.uniform(self.sigma[0], self.sigma[1])))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--bpe", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    normalize = T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
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
    tokenizer = SimpleTokenizer(bpe_path=args.bpe)
    caption = "a photograph of a street with people and shops in the evening"
    encoded = [open(f, "rb").read() for f in args.files]

    def one_sample(index):
        image = Image.open(io.BytesIO(encoded[index % len(encoded)])).convert("RGB")  # SLIP's pil_loader
        views = clip_view(image), simclr_view(image), simclr_view(image)
        tokens = tokenizer([caption])
        return sum(v.shape[0] for v in views) + tokens.shape[1]

    for i in range(5):
        one_sample(i)
    samples, start = 0, time.perf_counter()
    while time.perf_counter() - start < args.seconds:
        one_sample(samples)
        samples += 1
    elapsed = time.perf_counter() - start
    print(json.dumps({"implementation": "torchvision", "images": samples, "seconds": elapsed,
                      "images_per_second": samples / elapsed, "threads": 1}))


if __name__ == "__main__":
    main()
