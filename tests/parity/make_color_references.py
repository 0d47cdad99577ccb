"""Writes the references for slipstream's colour and blur transforms (tests/parity/test_parity_color.cpp).

A deterministic photo-like RGB image (96x128: smooth gradients, hard edges, a ring, a saturated
patch, a grey patch and noise), round-tripped through PNG so it is exactly what a lossless decode
gives, is put through torchvision's PIL functional ops (adjust_brightness / contrast / saturation /
hue, torchvision 0.26) and Pillow's convert("L") and ImageFilter.GaussianBlur (SLIP's GaussianBlur).
A few edge cases
(factors 0 and 2.5, sigma 0.3, and a 5x7 crop blurred with radii larger than itself) come along.
Every result is a uint8 [H, W, 3] tensor in <out>/color_references.safetensors, next to the input
("input") and the PNG itself.

    python make_color_references.py --out DIR
"""
import argparse
import io
import os

import numpy as np
import PIL
import torch
import torchvision
import torchvision.transforms.functional as TF
from PIL import Image, ImageFilter
from safetensors.torch import save_file

FACTORS = [0.6, 1.0, 1.4]  # brightness, contrast, saturation
HUES = [-0.1, 0.05, 0.1]
SIGMAS = [0.1, 0.7, 2.0]
# Edge cases beyond SLIP's ranges: factor 0 (the shortcut) and 2.5 (clipping); a blur that changes
# something at a fractional radius below 1; a 5x7 crop blurred with box radii larger than the image.
EXTRA_FACTORS = [0.0, 2.5]
EXTRA_SIGMAS = [0.3]
SMALL_SIGMAS = [1.0, 3.0, 10.0]
HEIGHT, WIDTH = 96, 128


def synthetic_photo() -> Image.Image:
    rng = np.random.default_rng(20240611)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    # smooth "sky to ground" gradients with different slopes per channel
    r = 40 + 180 * (x / WIDTH) + 20 * np.sin(y / 9.0)
    g = 70 + 120 * (y / HEIGHT) + 30 * np.cos(x / 13.0)
    b = 200 - 150 * (y / HEIGHT) * (x / WIDTH)
    img = np.stack([r, g, b], axis=-1)
    # a hard-edged dark object and a bright saturated one
    img[20:50, 15:45] = [35, 30, 25]
    img[55:85, 70:110] = [230, 40, 20]
    # a neutral grey patch (exercises the s == 0 paths of RGB<->HSV)
    img[5:18, 90:120] = 128
    # a ring with a soft edge
    d = np.hypot(y - 60, x - 35)
    ring = np.clip(1 - np.abs(d - 18) / 3.0, 0, 1)[..., None]
    img = img * (1 - ring) + ring * np.array([20, 200, 90])
    # sensor-like noise, then clip into range
    img = img + rng.normal(0, 6, img.shape)
    # a few pixels at the extremes
    img[0, :8] = 0
    img[-1, -8:] = 255
    return png_round_trip(img)


def png_round_trip(img: np.ndarray) -> Image.Image:
    """Float pixels rounded to uint8, through a PNG file and back, as a photo loaded from disk is."""
    arr = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr, "RGB").save(buf, format="PNG")
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out.convert("RGB")


def as_tensor(image: Image.Image) -> torch.Tensor:
    assert image.mode == "RGB", image.mode
    return torch.from_numpy(np.array(image, dtype=np.uint8).copy()).contiguous()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    image = synthetic_photo()
    image.save(os.path.join(args.out, "color_input.png"))
    tensors = {"input": as_tensor(image)}
    for f in FACTORS:
        tensors[f"brightness_{f}"] = as_tensor(TF.adjust_brightness(image, f))
        tensors[f"contrast_{f}"] = as_tensor(TF.adjust_contrast(image, f))
        tensors[f"saturation_{f}"] = as_tensor(TF.adjust_saturation(image, f))
    for h in HUES:
        tensors[f"hue_{h}"] = as_tensor(TF.adjust_hue(image, h))
    tensors["grayscale"] = as_tensor(image.convert("L").convert("RGB"))
    for s in SIGMAS:
        # SLIP's GaussianBlur: x.filter(ImageFilter.GaussianBlur(radius=sigma))
        tensors[f"blur_{s}"] = as_tensor(image.filter(ImageFilter.GaussianBlur(radius=s)))
    for f in EXTRA_FACTORS:
        tensors[f"brightness_{f}"] = as_tensor(TF.adjust_brightness(image, f))
        tensors[f"contrast_{f}"] = as_tensor(TF.adjust_contrast(image, f))
        tensors[f"saturation_{f}"] = as_tensor(TF.adjust_saturation(image, f))
    for s in EXTRA_SIGMAS:
        tensors[f"blur_{s}"] = as_tensor(image.filter(ImageFilter.GaussianBlur(radius=s)))
    small = image.crop((60, 50, 67, 55))  # (left, upper, right, lower): 7 wide, 5 high, across an edge
    tensors["small_input"] = as_tensor(small)
    for s in SMALL_SIGMAS:
        tensors[f"small_blur_{s}"] = as_tensor(small.filter(ImageFilter.GaussianBlur(radius=s)))
    path = os.path.join(args.out, "color_references.safetensors")
    save_file(tensors, path, metadata={"pillow": PIL.__version__, "torchvision": torchvision.__version__})
    print(f"wrote {len(tensors)} tensors to {path} (Pillow {PIL.__version__}, torchvision {torchvision.__version__})")


if __name__ == "__main__":
    main()
