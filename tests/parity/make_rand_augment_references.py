"""Writes the references for slipstream's RandAugment ops and bicubic resizes (tests/parity/test_parity_rand_augment.cpp).

Two deterministic photo-like RGB images (60x80 and 224x224: gradients, hard edges, a saturated patch
and noise, round-tripped through PNG) are put through timm's own RandAugment op functions
(timm.data.auto_augment.NAME_TO_OP) with the arguments timm's level functions (LEVEL_TO_ARG) give
at magnitudes 0, 3.7, 9 and 10, both signs for the signed ops (timm's _randomly_negate replaced by
a fixed choice), with the hparams of timm's create_transform for SLIP's finetuning (fill = ImageNet
mean * 255 = (124, 116, 104), BICUBIC). Every op of _RAND_TRANSFORMS and _RAND_INCREASING_TRANSFORMS
is covered, except Posterize at magnitude 0 and PosterizeIncreasing at 10
(0 bits, which Pillow 13 rejects). Further:
Image.rotate at angles with Pillow's fast paths and without, a bilinear affine transform, and
img.crop(box).resize(size, BICUBIC) down- and upscales.

Tensors (uint8 [H, W, 3]) in <out>/rand_augment_references.safetensors:
    input|<image>                                    the input images ("small", "large")
    ra|<image>|<timm op name>|<magnitude>|<negate>   RandAugment ops
    rotate|<image>|<degrees>                         img.rotate(degrees, BICUBIC, fillcolor=fill)
    affine_bilinear|<image>|<a,b,c,d,e,f>            img.transform(size, AFFINE, matrix, BILINEAR, fillcolor=fill)
    resize|<image>|<left,top,right,bottom>|<w>x<h>   img.crop(box).resize((w, h), BICUBIC)

    python make_rand_augment_references.py --out DIR
"""
import argparse
import os

import numpy as np
import PIL
import timm
import timm.data.auto_augment as aa
import torch
from PIL import Image
from safetensors.torch import save_file

from make_color_references import as_tensor, png_round_trip  # the script beside this one

FILL = (124, 116, 104)  # tuple(min(255, round(255 * x)) for x in IMAGENET_DEFAULT_MEAN)
MAGNITUDES = [0.0, 3.7, 9.0, 10.0]
HPARAMS = dict(translate_const=100, img_mean=FILL, interpolation=Image.BICUBIC, magnitude_std=0.5)
ROTATIONS = [90.0, 180.0, 270.0, -45.0, 123.4, 0.5]
AFFINE = (0.9, 0.2, 5.5, -0.15, 1.1, -3.25)
RESIZES = {
    "small": [((7, 5, 75, 52), (23, 31)), ((7, 5, 75, 52), (97, 150)), ((0, 0, 80, 60), (80, 33))],
    "large": [((20, 10, 180, 200), (64, 96)), ((0, 0, 224, 224), (257, 301)), ((3, 0, 224, 224), (224, 224))],
}


def synthetic(height: int, width: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = 30 + 190 * (x / width) + 25 * np.sin(y / 7.0)
    g = 60 + 140 * (y / height) + 30 * np.cos(x / 11.0)
    b = 210 - 170 * (y / height) * (x / width)
    img = np.stack([r, g, b], axis=-1)
    img[height // 5: height // 2, width // 8: width // 3] = [25, 20, 15]
    img[height // 2: 4 * height // 5, width // 2: 5 * width // 6] = [240, 30, 10]
    img = img + rng.normal(0, 8, img.shape)
    img[0, : width // 10] = 0
    img[-1, -width // 10:] = 255
    return png_round_trip(img)


def level_args(name: str, magnitude: float, negate: bool):
    original = aa._randomly_negate
    aa._randomly_negate = (lambda v: -v) if negate else (lambda v: v)
    try:
        fn = aa.LEVEL_TO_ARG[name]
        return fn(magnitude, HPARAMS) if fn is not None else ()
    finally:
        aa._randomly_negate = original


def is_signed(name: str) -> bool:
    # the level functions that call _randomly_negate
    return name in ("Rotate", "ShearX", "ShearY", "TranslateXRel", "TranslateYRel") or (
        name.endswith("Increasing") and not name.startswith(("Posterize", "Solarize")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    images = {"small": synthetic(60, 80, 7), "large": synthetic(224, 224, 11)}
    names = list(dict.fromkeys(aa._RAND_TRANSFORMS + aa._RAND_INCREASING_TRANSFORMS))
    tensors = {}
    for key, image in images.items():
        tensors[f"input|{key}"] = as_tensor(image)
        for name in names:
            for m in MAGNITUDES:
                for negate in ([False, True] if is_signed(name) else [False]):
                    level = level_args(name, m, negate)
                    if name.startswith("Posterize") and level[0] == 0:
                        continue  # ImageOps.posterize(img, 0) raises in Pillow 13
                    out = aa.NAME_TO_OP[name](image, *level, fillcolor=FILL, resample=Image.BICUBIC)
                    tensors[f"ra|{key}|{name}|{m!r}|{int(negate)}"] = as_tensor(out)
        for degrees in ROTATIONS:
            tensors[f"rotate|{key}|{degrees!r}"] = as_tensor(image.rotate(degrees, resample=Image.BICUBIC, fillcolor=FILL))
        matrix = ",".join(repr(v) for v in AFFINE)
        tensors[f"affine_bilinear|{key}|{matrix}"] = as_tensor(
            image.transform(image.size, Image.AFFINE, AFFINE, resample=Image.BILINEAR, fillcolor=FILL))
        for box, size in RESIZES[key]:
            tensors[f"resize|{key}|{','.join(map(str, box))}|{size[0]}x{size[1]}"] = as_tensor(
                image.crop(box).resize(size, Image.BICUBIC))
    path = os.path.join(args.out, "rand_augment_references.safetensors")
    save_file(tensors, path, metadata={"pillow": PIL.__version__, "timm": timm.__version__})
    print(f"wrote {len(tensors)} tensors to {path} (Pillow {PIL.__version__}, timm {timm.__version__})")


if __name__ == "__main__":
    main()
