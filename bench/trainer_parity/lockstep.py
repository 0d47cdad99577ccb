#!/usr/bin/env python3
"""Lockstep check: slip_pretrain and open_clip_train from the same initial weights on the same
batches, step for step. One batch is the whole corpus (128 pairs), so each epoch is one step on the
same set of pairs in both trainers (the CLIP loss and BatchNorm do not depend on the order inside
a batch), and the view is deterministic (a crop of scale 1 of a 64 px image is the whole image at any
drawn ratio, rounding included), so the two runs differ only in how they compute: model, loss, optimizer, schedule,
weight decay, clamp. Their per-step losses must agree closely for many steps and drift apart only
slowly, as float rounding compounds. A second slipstream run keeps SLIP's parameterisation (an
image projection over the attention pool, starting as the identity, so the first forward is the
same) to show what that alone changes.

  lockstep.py --build build --out runs/lockstep [--steps 40] [--variant NAME=ARGS ...]

Writes OUT/lockstep.json with both loss sequences (and each variant's) and prints where they part.
"""
import argparse
import csv
import json
import os
import re
import shlex
import subprocess
import sys

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = {"embed_dim": 128, "quick_gelu": True,
         "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16, "head_width": 64},
         "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 3}}
BATCH, LR, WD = 128, 5e-3, 0.1


def run(args, output=None, env=None):
    with open(output, "w") if output else open(os.devnull, "w") as sink:
        result = subprocess.run([str(a) for a in args], stdout=sink, stderr=subprocess.STDOUT, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, args))} failed" + (f": see {output}" if output else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(SOURCE, "build"))
    parser.add_argument("--out", default=os.path.join(SOURCE, "runs", "lockstep"))
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=10, help="warmup steps (one step an epoch)")
    parser.add_argument("--variant", action="append", default=[], help="NAME=extra slip_pretrain arguments")
    args = parser.parse_args()
    import open_clip
    import torch
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS="2")

    # The corpus: the first 128 pairs of the letters corpus (rendered if missing).
    data = os.path.join(out, "data")
    if not os.path.exists(os.path.join(data, "train.csv")):
        run([os.path.join(args.build, "slip_tools"), "make-demo-data", "--kind", "letters", "--output", data,
             "--train-samples", BATCH, "--held-out-per-combination", 1, "--probe-train-per-class", 1])
    with open(os.path.join(data, "train.csv")) as f, open(os.path.join(data, "train_absolute.csv"), "w", newline="") as g:
        rows = list(csv.reader(f))
        writer = csv.writer(g)
        writer.writerow(rows[0])
        for path, caption in rows[1:]:
            writer.writerow([os.path.join(data, path), caption])

    # The same initial weights: open_clip's initialisation, converted for slipstream.
    model_dir = os.path.join(out, "open_clip_model")
    os.makedirs(model_dir, exist_ok=True)
    json.dump({"model_cfg": MODEL, "preprocess_cfg": {}}, open(os.path.join(model_dir, "open_clip_config.json"), "w"))
    torch.manual_seed(args.seed)
    model = open_clip.create_model("local-dir:" + model_dir)
    initial = os.path.join(out, "initial.pt")
    torch.save({"state_dict": model.state_dict()}, initial)
    converted = os.path.join(out, "initial.safetensors")
    config = os.path.join(out, "slipstream_model.json")
    run([sys.executable, os.path.join(SOURCE, "scripts", "convert_checkpoint.py"), "open_clip", initial, converted,
         "--open-clip-config", model_dir, "--write-config", config])
    # The same function with SLIP's parameterisation: an image projection, starting as the identity.
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    with safe_open(converted, "pt") as f:
        metadata = f.metadata()
    weights = load_file(converted)
    weights["image_projection"] = torch.eye(MODEL["embed_dim"])
    projected_config = json.load(open(config))
    projected_config.pop("image_projection")
    metadata["model_config"] = json.dumps(projected_config)
    projected = os.path.join(out, "initial_with_projection.safetensors")
    save_file(weights, projected, metadata=metadata)
    json.dump(projected_config, open(os.path.join(out, "slipstream_model_with_projection.json"), "w"))

    # open_clip_train, its own init replaced by the saved one (--pretrained), one step an epoch.
    logs = os.path.join(out, "open_clip_logs")
    subprocess.run(["rm", "-rf", logs])
    run([sys.executable, "-m", "open_clip_train.main", "--train-data", os.path.join(data, "train_absolute.csv"),
         "--dataset-type", "csv", "--csv-img-key", "filepath", "--csv-caption-key", "title", "--csv-separator", ",",
         "--model", "local-dir:" + model_dir, "--pretrained", initial, "--batch-size", BATCH, "--epochs", args.steps,
         "--warmup", args.warmup, "--lr", LR, "--wd", WD, "--beta1", 0.9, "--beta2", 0.98, "--eps", 1e-8, "--precision", "fp32",
         "--seed", args.seed, "--workers", 0, "--device", "cpu", "--logs", logs, "--name", "run",
         "--save-frequency", 0, "--report-to", "", "--log-every-n-steps", 1,
         "--aug-cfg", "scale=(1.0,1.0)"], output=os.path.join(out, "open_clip.log"), env=env)
    theirs = [float(x) for x in re.findall(r"Train Epoch: \d+ .*? Loss: ([\d.]+) ", open(os.path.join(logs, "run", "out.log")).read())]

    # slip_pretrain from the converted weights with open_clip's settings.
    common = ["--dataset", "csv", "--root", data, "--metadata", os.path.join(data, "train.csv"), "--model", config,
              "--resume", converted, "--batch-size", BATCH, "--epochs", args.steps, "--warmup-epochs", args.warmup,
              # open_clip's warmup, lr (step + 1) / warmup, is np.linspace(lr / warmup, lr, warmup): SLIP's with that start
              "--lr", LR, "--lr-start", LR / args.warmup, "--lr-end", 0, "--wd", WD, "--betas", 0.9, 0.98, "--eps", 1e-8,
              "--precision", "fp32", "--seed", args.seed, "--workers", 1, "--device", "cpu", "--print-freq", 0,
              "--keep-checkpoints", 1, "--aug-cfg", "scale=(1.0,1.0)"]
    results = {"open_clip": theirs}
    variants = [("slipstream", []),
                ("slipstream_image_projection", ["--model", os.path.join(out, "slipstream_model_with_projection.json"),
                                                 "--resume", projected])]
    for name, extra in variants + [(v.partition("=")[0], shlex.split(v.partition("=")[2])) for v in args.variant]:
        run_dir = os.path.join(out, name)
        subprocess.run(["rm", "-rf", run_dir])
        given = {a for a in extra if a.startswith("--")}
        base, skipping = [], False
        for a in map(str, common):
            skipping = (a in given) if a.startswith("--") else skipping
            if not skipping:
                base.append(a)
        run([os.path.join(args.build, "slip_pretrain"), *base, *extra, "--output-dir", run_dir],
            output=os.path.join(out, name + ".log"), env=env)
        results[name] = [json.loads(line)["loss"] for line in open(os.path.join(run_dir, "steps.jsonl"))]
    json.dump({"steps": args.steps, "seed": args.seed, "warmup": args.warmup, "losses": results}, open(os.path.join(out, "lockstep.json"), "w"), indent=1)
    names = list(results)
    print("step " + " ".join(f"{n:>14}" for n in names))
    for i in range(args.steps):
        print(f"{i + 1:>4} " + " ".join(f"{results[n][i]:>14.6f}" if i < len(results[n]) else " " * 14 for n in names))
    for name in names[1:]:
        gaps = [abs(a - b) for a, b in zip(results[name], theirs)]
        first = next((i + 1 for i, g in enumerate(gaps) if g > 1e-3), None)
        print(f"{name}: |loss - open_clip's| first above 1e-3 at step {first}; largest over the first 10 steps "
              f"{max(gaps[:10]):.2e}, over all {max(gaps):.2e}")


if __name__ == "__main__":
    main()
