#!/usr/bin/env python3
"""Builds the data-pipeline benchmark's varied photo set in OUT_DIR and prints its manifest as JSON.

The sources are the real photographs shipped inside installed wheels (nothing is downloaded):
scikit-image's skimage/data (astronaut, chelsea, coffee, rocket, motorcycle_left, camera, coins,
moon, hubble_deep_field) and scikit-learn's sklearn/datasets/images (china, flower). From them:
baseline JPEGs at their own sizes, progressive JPEGs, greyscale JPEGs (baseline and progressive),
RGB and grey PNGs, and resized ones (1920 px wide, a portrait crop, a panorama strip, a small
320 px photo). JPEGs are written by Pillow at quality 90 (4:2:0 chroma), PNGs at Pillow's default
compression.
    make_photo_set.py OUT_DIR [--quality 90]
"""
import argparse
import importlib.metadata
import importlib.util
import json
import os

from PIL import Image


def package_dir(name):
    """A package's folder without importing it (importing scikit-image/scikit-learn takes seconds)."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"make_photo_set.py: package {name} is not installed "
                         f"(pip install {'scikit-image' if name == 'skimage' else 'scikit-learn'})")
    return list(spec.submodule_search_locations)[0]


def center_crop(image, aspect):  # aspect = width / height
    w, h = image.size
    if w / h > aspect:
        cw, ch = round(h * aspect), h
    else:
        cw, ch = w, round(w / aspect)
    left, top = (w - cw) // 2, (h - ch) // 2
    return image.crop((left, top, left + cw, top + ch))


def resize_width(image, width):
    w, h = image.size
    height = round(h * width / w)
    resample = Image.Resampling.BICUBIC if width > w else Image.Resampling.LANCZOS
    return image.resize((width, height), resample)


# (output file, source, how to derive it, kind, note)
PHOTOS = [
    # baseline JPEGs at their own sizes
    ("china.jpg", "sklearn:china.jpg", None, "baseline-jpeg", "own size"),
    ("flower.jpg", "sklearn:flower.jpg", None, "baseline-jpeg", "own size"),
    ("astronaut.jpg", "skimage:astronaut.png", None, "baseline-jpeg", "own size, square"),
    ("coffee.jpg", "skimage:coffee.png", None, "baseline-jpeg", "own size"),
    ("rocket.jpg", "skimage:rocket.jpg", None, "baseline-jpeg", "own size"),
    # progressive JPEGs
    ("chelsea_progressive.jpg", "skimage:chelsea.png", None, "progressive-jpeg", "own size"),
    ("motorcycle_progressive.jpg", "skimage:motorcycle_left.png", None, "progressive-jpeg", "own size"),
    ("hubble_progressive.jpg", "skimage:hubble_deep_field.jpg", None, "progressive-jpeg", "own size"),
    # greyscale JPEGs (one component)
    ("camera_grey.jpg", "skimage:camera.png", None, "grey-jpeg", "own size, grey photograph"),
    ("coins_grey.jpg", "skimage:coins.png", None, "grey-jpeg", "own size, grey photograph"),
    ("china_grey_progressive.jpg", "sklearn:china.jpg", None, "grey-progressive-jpeg", "own size, converted to grey"),
    # PNGs
    ("astronaut.png", "skimage:astronaut.png", None, "png", "own size, RGB"),
    ("coffee.png", "skimage:coffee.png", None, "png", "own size, RGB"),
    ("moon_grey.png", "skimage:moon.png", None, "grey-png", "own size, grey photograph"),
    # other sizes and aspect ratios
    ("china_1920.jpg", "sklearn:china.jpg", lambda im: resize_width(im, 1920), "baseline-jpeg", "upscaled to 1920 px wide"),
    ("coffee_1600_progressive.jpg", "skimage:coffee.png", lambda im: resize_width(im, 1600), "progressive-jpeg",
     "upscaled to 1600 px wide"),
    ("rocket_portrait.jpg", "skimage:rocket.jpg", lambda im: center_crop(im, 3 / 4).resize((768, 1024), Image.Resampling.BICUBIC),
     "baseline-jpeg", "3:4 portrait centre crop at 768x1024"),
    ("china_panorama.jpg", "sklearn:china.jpg", lambda im: center_crop(im, 8 / 3).resize((1280, 480), Image.Resampling.BICUBIC),
     "baseline-jpeg", "8:3 panorama strip at 1280x480"),
    ("flower_320.jpg", "sklearn:flower.jpg", lambda im: resize_width(im, 320), "baseline-jpeg", "downscaled to 320 px wide"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--quality", type=int, default=90)
    args = parser.parse_args()
    folders = {"skimage": os.path.join(package_dir("skimage"), "data"),
               "sklearn": os.path.join(package_dir("sklearn"), "datasets", "images")}
    os.makedirs(args.out_dir, exist_ok=True)
    entries = []
    for name, source, derive, kind, note in PHOTOS:
        package, file = source.split(":")
        path = os.path.join(folders[package], file)
        if not os.path.isfile(path):
            raise SystemExit(f"make_photo_set.py: {path} is not in the installed {package} wheel")
        with Image.open(path) as original:
            image = original.convert("L" if kind.startswith("grey") else "RGB")
        if derive is not None:
            image = derive(image)
        out = os.path.join(args.out_dir, name)
        if kind.endswith("png"):
            image.save(out, format="PNG")
        else:
            image.save(out, format="JPEG", quality=args.quality, progressive="progressive" in kind, optimize=False)
        with Image.open(out) as written:  # check what was written
            written.load()
            assert written.size == image.size and written.mode == image.mode, (out, written.size, written.mode)
            assert bool(written.info.get("progressive") or written.info.get("progression")) == ("progressive" in kind), out
        entries.append({"file": name, "width": image.size[0], "height": image.size[1], "kind": kind,
                        "bytes": os.path.getsize(out), "source": f"{package}/{file}", "note": note})
    versions = {p: importlib.metadata.version(p) for p in ("scikit-image", "scikit-learn", "pillow")}
    print(json.dumps({"photos": entries, "quality": args.quality, "versions": versions}, indent=2))


if __name__ == "__main__":
    main()
