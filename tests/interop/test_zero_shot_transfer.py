#!/usr/bin/env python3
"""Zero-shot classification agrees across the border, both ways:
  1. a model trained by open_clip's own trainer (open_clip_train, a few steps on a small generated
     corpus), converted in by scripts/convert_checkpoint.py: eval_zeroshot gives the same per-image
     predictions as open_clip's zero-shot classifier on the same images with the same prompts;
  2. a model trained by slip_pretrain on the same corpus, exported by slip_tools export: open_clip's
     zero-shot classifier gives the same per-image predictions as eval_zeroshot.
Each side uses its own preprocessing and tokenizer on the raw image files.

  test_zero_shot_transfer.py BIN_DIR BPE WORK_DIR
"""
import csv
import json
import os
import random
import shutil
import subprocess
import sys

import torch
from PIL import Image, ImageDraw

BIN, BPE, WORK = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHAPES = ["circle", "square", "triangle", "cross"]
COLOURS = {"red": (220, 30, 30), "green": (30, 180, 40), "blue": (30, 60, 220), "yellow": (230, 210, 30)}
TEMPLATES = ["a photo of a {}.", "a drawing of a {}."]
EPOCHS = 10  # 80 steps: enough for both models to tell some shapes apart, so agreement means something
failures = []


def run(*args):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(map(str, args))}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def check(what, ok, detail=""):
    print(f"[zero-shot] {'ok  ' if ok else 'FAIL'} {what} {detail}", flush=True)
    if not ok:
        failures.append(what)


def draw(shape, colour, rng, size=64):
    image = Image.new("RGB", (size, size), (245, 245, 240))
    d = ImageDraw.Draw(image)
    r = rng.randint(12, 22)
    cx, cy = rng.randint(r + 2, size - r - 2), rng.randint(r + 2, size - r - 2)
    if shape == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif shape == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=colour)
    elif shape == "triangle":
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
    else:
        d.rectangle([cx - r, cy - r // 3, cx + r, cy + r // 3], fill=colour)
        d.rectangle([cx - r // 3, cy - r, cx + r // 3, cy + r], fill=colour)
    return image


def make_corpus():
    rng = random.Random(0)
    os.makedirs(os.path.join(WORK, "train"), exist_ok=True)
    with open(os.path.join(WORK, "train.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["filepath", "title"])
        for i in range(256):
            shape, colour = SHAPES[i % 4], list(COLOURS)[(i // 4) % 4]
            path = os.path.join(WORK, "train", f"{i}.png")
            draw(shape, COLOURS[colour], rng).save(path)
            writer.writerow([path, f"a photo of a {colour} {shape}."])
    test = []
    for c, shape in enumerate(SHAPES):
        folder = os.path.join(WORK, "shapes", "test", f"{c:02d}")
        os.makedirs(folder, exist_ok=True)
        for i in range(8):
            path = os.path.join(folder, f"{i}.jpg")
            draw(shape, COLOURS[list(COLOURS)[i % 4]], rng, size=80).save(path, quality=92)
            test.append((path, c))
    json.dump({"shapes": {"path": os.path.join(WORK, "shapes"), "type": "imagefolder", "train": "train", "test": "test"}},
              open(os.path.join(WORK, "dataset_catalog.json"), "w"))
    json.dump({"shapes": TEMPLATES}, open(os.path.join(WORK, "templates.json"), "w"))
    json.dump({"shapes": SHAPES}, open(os.path.join(WORK, "labels.json"), "w"))
    return sorted(test)


def eval_zeroshot(checkpoint):
    out = os.path.join(WORK, "predictions.json")
    run(os.path.join(BIN, "eval_zeroshot"), "--resume", checkpoint, "--catalog", os.path.join(WORK, "dataset_catalog.json"),
        "--bpe", BPE, "--device", "cpu", "--workers", 1, "--cache-dir", "", "--predictions", out)
    return json.load(open(out))["shapes"]


def open_clip_predictions(model, preprocess, tokenizer, test):
    from open_clip.zero_shot_classifier import build_zero_shot_classifier
    model.eval()
    with torch.no_grad():
        classifier = build_zero_shot_classifier(model, tokenizer=tokenizer, classnames=SHAPES,
                                                templates=[lambda c, t=t: t.format(c) for t in TEMPLATES],
                                                num_classes_per_batch=None, device="cpu", use_tqdm=False)
        images = torch.stack([preprocess(Image.open(path)) for path, _ in test])
        features = model.encode_image(images, normalize=True)
        return (features @ classifier).argmax(-1).tolist()


def compare(what, ours, theirs, test):
    labels = [label for _, label in test]
    same = sum(a == b for a, b in zip(ours["predictions"], theirs))
    accuracy = 100.0 * sum(p == l for p, l in zip(theirs, labels)) / len(labels)
    check(f"{what}: per-image predictions equal", ours["labels"] == labels and same == len(labels),
          f"({same}/{len(labels)} equal; top-1 {accuracy:.1f}%, chance 25%)")
    # agreement on a model that predicts one class for everything would prove little
    check(f"{what}: the predictions are not all one class", len(set(theirs)) >= 2, f"classes predicted: {sorted(set(theirs))}")


def main():
    import open_clip
    shutil.rmtree(WORK, ignore_errors=True)  # a rerun must not resume the last run's checkpoints
    os.makedirs(WORK)
    test = make_corpus()
    model_dir = os.path.join(WORK, "open_clip_model")
    os.makedirs(model_dir, exist_ok=True)
    model_cfg = {"embed_dim": 64, "quick_gelu": False,
                 "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16, "head_width": 64},
                 "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 3}}
    json.dump({"model_cfg": model_cfg, "preprocess_cfg": {}}, open(os.path.join(model_dir, "open_clip_config.json"), "w"))

    # 1. open_clip_train -> convert_checkpoint.py -> eval_zeroshot
    logs = os.path.join(WORK, "logs")
    run(sys.executable, "-m", "open_clip_train.main", "--train-data", os.path.join(WORK, "train.csv"),
        "--dataset-type", "csv", "--csv-img-key", "filepath", "--csv-caption-key", "title", "--csv-separator", ",",
        "--model", "local-dir:" + model_dir, "--batch-size", 32, "--epochs", EPOCHS, "--workers", 0, "--device", "cpu",
        "--precision", "fp32", "--lr", 5e-3, "--wd", 0.1, "--warmup", 2, "--logs", logs, "--name", "run",
        "--save-frequency", EPOCHS, "--seed", 0, "--report-to", "")
    checkpoint = torch.load(os.path.join(logs, "run", "checkpoints", f"epoch_{EPOCHS}.pt"), map_location="cpu", weights_only=False)
    state_dict = {k.removeprefix("module."): v for k, v in checkpoint["state_dict"].items()}
    converted = os.path.join(WORK, "open_clip_trained.safetensors")
    run(sys.executable, os.path.join(SOURCE, "scripts", "convert_checkpoint.py"), "open_clip",
        os.path.join(logs, "run", "checkpoints", f"epoch_{EPOCHS}.pt"), converted, "--open-clip-config", model_dir)
    model, _, preprocess = open_clip.create_model_and_transforms("local-dir:" + model_dir)
    model.load_state_dict(state_dict)
    theirs = open_clip_predictions(model, preprocess, open_clip.get_tokenizer("local-dir:" + model_dir), test)
    compare("open_clip_train's model, converted in: eval_zeroshot vs open_clip", eval_zeroshot(converted), theirs, test)

    # 2. slip_pretrain -> slip_tools export -> open_clip
    config = {"name": "TRANSFER_RN", "family": "clip", "embed_dim": 64,
              "vision": {"type": "modified_resnet", "image_size": 64, "width": 16, "heads": 8,
                         "resnet_layers": [1, 1, 1, 1], "output_dim": 64},
              "text": {"context_length": 16, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 3}}
    json.dump(config, open(os.path.join(WORK, "transfer_rn.json"), "w"))
    run_dir = os.path.join(WORK, "slipstream_run")
    run(os.path.join(BIN, "slip_pretrain"), "--dataset", "csv", "--root", "/", "--metadata", os.path.join(WORK, "train.csv"),
        "--model", os.path.join(WORK, "transfer_rn.json"), "--bpe", BPE, "--batch-size", 32, "--epochs", EPOCHS,
        "--warmup-epochs", 1, "--lr", 5e-3, "--workers", 1, "--device", "cpu", "--output-dir", run_dir)
    ours = eval_zeroshot(os.path.join(run_dir, "checkpoint_last"))
    exported = os.path.join(WORK, "exported")
    run(os.path.join(BIN, "slip_tools"), "export", os.path.join(run_dir, "checkpoint_last"), "--format", "open_clip",
        "--output", exported)
    model, _, preprocess = open_clip.create_model_and_transforms("local-dir:" + exported)
    theirs = open_clip_predictions(model, preprocess, open_clip.get_tokenizer("local-dir:" + exported), test)
    compare("slip_pretrain's model, exported out: open_clip vs eval_zeroshot", ours, theirs, test)
    if failures:
        raise SystemExit(f"FAIL: {failures}")
    print("[zero-shot] both directions agree", flush=True)


if __name__ == "__main__":
    main()
