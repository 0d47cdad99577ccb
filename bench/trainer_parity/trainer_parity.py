#!/usr/bin/env python3
"""Trainer parity: slip_pretrain beside open_clip's own trainer (open_clip_train), the same model,
data and settings expressed in each trainer's flags, several seeds each, with zero-shot accuracy on
the seen and the held-out object-colour combinations every few epochs.

Corpora (slip_tools make-demo-data): "shapes" (the quickstart's corpus, 20,000 pairs, 10 epochs) and
"letters" (capital letters in Hershey fonts, 6,000 pairs, 30 epochs): about 200,000 samples a run.
Settings (both trainers): DEMO_CLIP's shape (modified ResNet width 16, layers 1-1-1-1, 8 heads;
text width 128, 4 heads, 3 layers, 16 tokens; embed 128), batch 128, lr 5e-3, wd 0.1, betas
0.9/0.98, eps 1e-8, one warmup epoch, cosine to 0, fp32, two loader workers, open_clip's training
view (RandomResizedCrop scale 0.9-1, bicubic) and preprocessing (OpenAI mean/std, bicubic).

Each trainer evaluates its own checkpoints its own way: eval_zeroshot for slipstream, open_clip's
zero-shot classifier for open_clip, with the corpus's prompts (templates.json). Results are
written per run (OUT/runs/*.json, reused on a rerun) and together as JSON (--json).

  trainer_parity.py --build build --out runs/trainer_parity [--corpora shapes,letters] [--seeds 0,1,2]
                    [--trainers slipstream,open_clip] [--eval-every N] [--json FILE] [--plot FILE]
                    [--variant NAME=ARGS ...] [--parallel N]

--variant adds a slipstream configuration (trainer name "slipstream:NAME") whose slip_pretrain
arguments replace the matching ones, e.g. --variant "slip_crop=--aug-cfg scale=(0.5,1.0)".
--parallel N runs N trainings at once, each on 2/N threads (results only: its timings are not
comparable and are left out of the JSON).
"""
import argparse
import concurrent.futures
import datetime
import glob
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPENAI_MEAN = ["0.48145466", "0.4578275", "0.40821073"]
OPENAI_STD = ["0.26862954", "0.26130258", "0.27577711"]
CORPORA = {  # kind: (training pairs, epochs)
    "shapes": (20000, 10),
    "letters": (6000, 30),
}
BATCH, LR, WD, BETA1, BETA2, EPS, WARMUP_EPOCHS = 128, 5e-3, 0.1, 0.9, 0.98, 1e-8, 1
OPEN_CLIP_MODEL = {"embed_dim": 128, "quick_gelu": True,
                   "vision_cfg": {"image_size": 64, "layers": [1, 1, 1, 1], "width": 16, "head_width": 64},
                   "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 3}}
SPLITS = ("seen", "held_out")  # the held-out images are the corpus's test split; seen: its probe split


def log(line):
    print(f"[trainer-parity] {line}", flush=True)


def run(args, env=None, cwd=None, output=None):
    """Runs a command, its output to `output` (a file) or captured; raises with its tail on failure."""
    with open(output, "w") if output else open(os.devnull, "w") as sink:
        result = subprocess.run([str(a) for a in args], env=env, cwd=cwd, stdout=sink if output else subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        tail = open(output).read()[-3000:] if output else (result.stdout or "")[-3000:]
        raise RuntimeError(f"{' '.join(map(str, args))} exited {result.returncode}:\n{tail}")
    return result.stdout


def thread_env(threads):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["MKL_NUM_THREADS"] = str(threads)
    return env


# ------------------------------------------------------------------ corpora and evaluation sets
def make_corpus(build, out, kind):
    samples, _ = CORPORA[kind]
    data = os.path.join(out, f"data_{kind}")
    if not os.path.exists(os.path.join(data, "held_out.json")):
        log(f"rendering the {kind} corpus ({samples} pairs) into {data}")
        run([os.path.join(build, "slip_tools"), "make-demo-data", "--kind", kind, "--output", data,
             "--train-samples", samples, "--held-out-per-combination", 50, "--probe-train-per-class", 50])
    # open_clip's CsvDataset opens the paths as written: absolute ones, so it can run from anywhere.
    with open(os.path.join(data, "train.csv")) as f, open(os.path.join(data, "train_absolute.csv"), "w") as g:
        g.write(f.readline())
        for line in f:
            g.write(os.path.join(data, line))
    # The evaluation catalog: each labelling (the object, the colour) on both splits.
    catalog, labels, templates = {}, {}, {}
    corpus_labels = json.load(open(os.path.join(data, "labels.json")))
    corpus_templates = json.load(open(os.path.join(data, "templates.json")))
    for labelling in (kind, "colours"):
        for split, folder in (("seen", "train"), ("held_out", "test")):
            name = f"{labelling}_{split}"
            catalog[name] = {"path": os.path.join(data, "held_out", labelling), "type": "imagefolder",
                             "train": "train", "test": folder}
            labels[name] = corpus_labels[f"demo_{labelling}"]
            templates[name] = corpus_templates[f"demo_{labelling}"]
    evaluation = os.path.join(data, "evaluation")
    os.makedirs(evaluation, exist_ok=True)
    for file, content in (("dataset_catalog.json", catalog), ("labels.json", labels), ("templates.json", templates)):
        json.dump(content, open(os.path.join(evaluation, file), "w"), indent=1)
    return data


def evaluation_sets(data):
    """{entry: [(path, label)]} of the evaluation catalog, in imagefolder order."""
    catalog = json.load(open(os.path.join(data, "evaluation", "dataset_catalog.json")))
    sets = {}
    for name, entry in catalog.items():
        root = os.path.join(entry["path"], entry["test"])
        items = []
        for label, folder in enumerate(sorted(os.listdir(root))):
            for file in sorted(os.listdir(os.path.join(root, folder))):
                items.append((os.path.join(root, folder, file), label))
        sets[name] = items
    return sets


def accuracies(kind, top1_by_entry):
    """{object_seen, object_held_out, colour_seen, colour_held_out} from {entry: top-1 %}."""
    out = {}
    for labelling, short in ((kind, "object"), ("colours", "colour")):
        for split in SPLITS:
            out[f"{short}_{split}"] = top1_by_entry[f"{labelling}_{split}"]
    return out


def eval_epochs(epochs, every):
    """The epochs evaluated: every `every`-th (default: five points a run) and the last."""
    every = every or max(1, epochs // 5)
    return sorted(set(list(range(every, epochs + 1, every)) + [epochs]))


# ------------------------------------------------------------------ slipstream
def slipstream_args(kind, data, seed, workers):
    _, epochs = CORPORA[kind]
    return ["--dataset", "csv", "--root", data, "--metadata", os.path.join(data, "train.csv"),
            "--model", os.path.join(SOURCE, "configs", "demo", "demo_clip.json"),
            "--batch-size", BATCH, "--epochs", epochs, "--warmup-epochs", WARMUP_EPOCHS, "--lr", LR, "--lr-start", 0,
            "--lr-end", 0, "--wd", WD, "--betas", BETA1, BETA2, "--eps", EPS, "--precision", "fp32",
            "--seed", seed, "--workers", workers, "--device", "cpu", "--print-freq", 0, "--keep-checkpoints", 1000,
            "--aug-cfg", "scale=(0.9,1.0)", "interpolation=bicubic",
            "--image-mean", *OPENAI_MEAN, "--image-std", *OPENAI_STD, "--image-interpolation", "bicubic"]


def slipstream_checkpoints(run_dir):
    """{epochs trained: checkpoint folder} of the epoch-end checkpoints."""
    found = {}
    for folder in glob.glob(os.path.join(run_dir, "checkpoints", "epoch_*_step_0000000")):
        found[int(re.search(r"epoch_(\d+)_step", folder).group(1))] = folder
    return found


def with_overrides(args, extra):
    """`args` with every flag `extra` gives again removed (with its values), then `extra`."""
    given = {a for a in extra if isinstance(a, str) and a.startswith("--")}
    out, skipping = [], False
    for a in args:
        if isinstance(a, str) and a.startswith("--"):
            skipping = a in given
        if not skipping:
            out.append(a)
    return out + list(extra)


def train_slipstream(build, kind, data, seed, run_dir, extra, threads):
    args = [os.path.join(build, "slip_pretrain"), *with_overrides(slipstream_args(kind, data, seed, 2), extra),
            "--output-dir", run_dir]
    started = time.time()
    run(args, env=thread_env(threads), output=os.path.join(run_dir + ".log"))
    seconds = time.time() - started
    log_lines = [json.loads(line) for line in open(os.path.join(run_dir, "log.txt"))]
    return seconds, log_lines[-1]["train_loss"]


def evaluate_slipstream(build, data, checkpoint, threads):
    out = checkpoint.rstrip("/") + ".zeroshot.json"
    if not os.path.exists(out):
        run([os.path.join(build, "eval_zeroshot"), "--resume", checkpoint,
             "--catalog", os.path.join(data, "evaluation", "dataset_catalog.json"), "--device", "cpu",
             "--workers", threads, "--cache-dir", "", "--output", out], env=thread_env(threads))
    results = json.load(open(out))["results"]
    return {row["dataset"]: row["top1"] for row in results if "top1" in row}


# ------------------------------------------------------------------ open_clip
def open_clip_model_dir(out):
    folder = os.path.join(out, "open_clip_demo_clip")
    os.makedirs(folder, exist_ok=True)
    json.dump({"model_cfg": OPEN_CLIP_MODEL, "preprocess_cfg": {}}, open(os.path.join(folder, "open_clip_config.json"), "w"))
    return folder


def train_open_clip(python, kind, data, seed, run_dir, model_dir, threads):
    samples, epochs = CORPORA[kind]
    steps_per_epoch = samples // BATCH
    logs, name = os.path.dirname(run_dir), os.path.basename(run_dir)
    args = [python, "-m", "open_clip_train.main", "--train-data", os.path.join(data, "train_absolute.csv"),
            "--dataset-type", "csv", "--csv-img-key", "filepath", "--csv-caption-key", "title", "--csv-separator", ",",
            "--model", "local-dir:" + model_dir, "--batch-size", BATCH, "--epochs", epochs,
            "--warmup", WARMUP_EPOCHS * steps_per_epoch, "--lr", LR, "--wd", WD, "--beta1", BETA1, "--beta2", BETA2,
            "--eps", EPS, "--precision", "fp32", "--seed", seed, "--workers", 2, "--device", "cpu",
            # every step logged: open_clip_train's running mean only counts the steps it logs
            "--logs", logs, "--name", name, "--save-frequency", 1, "--report-to", "", "--log-every-n-steps", 1]
    started = time.time()
    run(args, env=thread_env(threads), output=run_dir + ".log")
    seconds = time.time() - started
    # open_clip_train's lines: "... Loss: 1.5123 (1.6012)": the step's loss and the mean of the
    # epoch's logged steps (all of them, with --log-every-n-steps 1).
    losses = re.findall(r"Train Epoch: (\d+) .*? Loss: [\d.]+ \(([\d.]+)\)", open(os.path.join(run_dir, "out.log")).read())
    return seconds, float(losses[-1][1])


def evaluate_open_clip(data, model_dir, checkpoint, sets):
    out = checkpoint + ".zeroshot.json"
    if os.path.exists(out):
        return json.load(open(out))
    import open_clip
    import torch
    from open_clip.zero_shot_classifier import build_zero_shot_classifier
    from PIL import Image
    model, _, preprocess = open_clip.create_model_and_transforms("local-dir:" + model_dir)
    tokenizer = open_clip.get_tokenizer("local-dir:" + model_dir)
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    model.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    model.eval()
    labels = json.load(open(os.path.join(data, "evaluation", "labels.json")))
    templates = json.load(open(os.path.join(data, "evaluation", "templates.json")))
    top1 = {}
    with torch.no_grad():
        for name, items in sets.items():
            classifier = build_zero_shot_classifier(model, tokenizer=tokenizer, classnames=labels[name],
                                                    templates=[lambda c, t=t: t.format(c) for t in templates[name]],
                                                    num_classes_per_batch=None, device="cpu", use_tqdm=False)
            correct = 0
            for start in range(0, len(items), 256):
                chunk = items[start:start + 256]
                images = torch.stack([preprocess(Image.open(path)) for path, _ in chunk])
                predictions = (model.encode_image(images, normalize=True) @ classifier).argmax(-1)
                correct += sum(int(p) == label for p, (_, label) in zip(predictions, chunk))
            top1[name] = 100.0 * correct / len(items)
    json.dump(top1, open(out, "w"))
    return top1


# ------------------------------------------------------------------ one run
def one_run(job):
    trainer, kind, seed, settings = job
    out, build, python, every, threads, variants = (settings[k] for k in ("out", "build", "python", "every", "threads", "variants"))
    result_file = os.path.join(out, "runs", f"{trainer.replace(':', '_')}_{kind}_seed{seed}.json")
    if os.path.exists(result_file):
        return json.load(open(result_file))
    data = os.path.join(out, f"data_{kind}")
    samples, epochs = CORPORA[kind]
    run_dir = os.path.join(out, "train", f"{trainer.replace(':', '_')}_{kind}_seed{seed}")
    shutil.rmtree(run_dir, ignore_errors=True)  # an interrupted run starts again (its timing would be wrong)
    os.makedirs(os.path.dirname(run_dir), exist_ok=True)
    log(f"training {trainer} on {kind}, seed {seed}")
    curve = []
    if trainer.startswith("slipstream"):
        extra = variants.get(trainer.partition(":")[2], []) if ":" in trainer else []
        seconds, loss = train_slipstream(build, kind, data, seed, run_dir, extra, threads)
        checkpoints = slipstream_checkpoints(run_dir)
        for epoch in eval_epochs(epochs, every):
            curve.append({"epoch": epoch, **accuracies(kind, evaluate_slipstream(build, data, checkpoints[epoch], threads))})
        command = ["slip_pretrain", *with_overrides(slipstream_args(kind, "DATA", seed, 2), extra)]
    else:
        model_dir = open_clip_model_dir(out)
        seconds, loss = train_open_clip(python, kind, data, seed, run_dir, model_dir, threads)
        sets = evaluation_sets(data)
        for epoch in eval_epochs(epochs, every):
            checkpoint = os.path.join(run_dir, "checkpoints", f"epoch_{epoch}.pt")
            curve.append({"epoch": epoch, **accuracies(kind, evaluate_open_clip(data, model_dir, checkpoint, sets))})
        for stale in glob.glob(os.path.join(run_dir, "checkpoints", "epoch_*.pt")):  # 4 MB each; the last one is kept
            if not stale.endswith(f"epoch_{epochs}.pt"):
                os.remove(stale)
        command = ["open_clip_train.main", "(see trainer_parity.py: train_open_clip)"]
    trained = (samples // BATCH) * BATCH * epochs
    result = {"trainer": trainer, "corpus": kind, "seed": seed, "epochs": epochs, "curve": curve,
              "final": curve[-1], "last_epoch_train_loss": loss, "train_seconds": round(seconds, 1),
              "samples_per_second": round(trained / seconds, 1), "threads": threads,
              "command": " ".join(shlex.quote(str(a)) for a in command)}
    os.makedirs(os.path.dirname(result_file), exist_ok=True)
    json.dump(result, open(result_file, "w"), indent=1)
    final = curve[-1]
    log(f"{trainer} {kind} seed {seed}: object seen {final['object_seen']:.1f}% held-out {final['object_held_out']:.1f}%, "
        f"colour held-out {final['colour_held_out']:.1f}%, loss {loss:.3f}, {seconds:.0f} s")
    return result


# ------------------------------------------------------------------ summary
def summarise(results):
    groups = {}
    for r in results:
        groups.setdefault((r["corpus"], r["trainer"]), []).append(r)
    summary = []
    for (kind, trainer), runs in sorted(groups.items()):
        row = {"corpus": kind, "trainer": trainer, "seeds": [r["seed"] for r in runs]}
        for key in ("object_seen", "object_held_out", "colour_seen", "colour_held_out"):
            values = [r["final"][key] for r in runs]
            row[key] = {"values": values, "mean": statistics.mean(values), "min": min(values), "max": max(values),
                        "spread": max(values) - min(values)}
        row["last_epoch_train_loss"] = [r["last_epoch_train_loss"] for r in runs]
        if all(r["threads"] == 2 for r in runs):
            row["samples_per_second"] = statistics.median(r["samples_per_second"] for r in runs)
        summary.append(row)
    return summary


def verdicts(summary):
    """Per corpus and split: slipstream's mean within the larger seed spread of open_clip's mean?"""
    out = []
    by = {(row["corpus"], row["trainer"]): row for row in summary}
    for kind in sorted({row["corpus"] for row in summary}):
        reference = by.get((kind, "open_clip"))
        for trainer in sorted(t for k, t in by if k == kind and t != "open_clip"):
            ours = by[(kind, trainer)]
            if not reference:
                continue
            for split in ("object_seen", "object_held_out"):
                allowed = max(ours[split]["spread"], reference[split]["spread"])
                gap = ours[split]["mean"] - reference[split]["mean"]
                out.append({"corpus": kind, "trainer": trainer, "split": split, "gap": gap, "allowed": allowed,
                            "within": abs(gap) <= allowed})
    return out


def print_table(summary):
    print()
    print("| corpus | trainer | object, seen | object, held-out | colour, held-out | last-epoch loss | samples/s |")
    print("|---|---|---|---|---|---|---|")
    for row in summary:
        cells = []
        for key in ("object_seen", "object_held_out", "colour_held_out"):
            v = row[key]
            cells.append(f"{v['mean']:.1f} ({' / '.join(f'{x:.1f}' for x in v['values'])})")
        loss = " / ".join(f"{x:.2f}" for x in row["last_epoch_train_loss"])
        speed = f"{row['samples_per_second']:.0f}" if "samples_per_second" in row else "-"
        print(f"| {row['corpus']} | {row['trainer']} | {' | '.join(cells)} | {loss} | {speed} |")
    print()


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    kinds = sorted({r["corpus"] for r in results})
    trainers = sorted({r["trainer"] for r in results})
    colours = dict(zip(trainers, ["tab:orange", "tab:blue", "tab:green", "tab:red", "tab:purple", "tab:brown"]))
    figure, axes = plt.subplots(len(kinds), 2, figsize=(10, 3.6 * len(kinds)), squeeze=False)
    for i, kind in enumerate(kinds):
        for j, split in enumerate(SPLITS):
            axis = axes[i][j]
            for r in results:
                if r["corpus"] != kind:
                    continue
                epochs = [p["epoch"] for p in r["curve"]]
                axis.plot(epochs, [p[f"object_{split}"] for p in r["curve"]], color=colours[r["trainer"]], alpha=0.8,
                          label=f"{r['trainer']}" if r["seed"] == min(x["seed"] for x in results if x["trainer"] == r["trainer"]) else None)
            axis.set_title(f"{kind}: zero-shot by {'letter' if kind == 'letters' else 'shape'}, {split.replace('_', '-')} pairs")
            axis.set_xlabel("epoch")
            axis.set_ylabel("top-1 %")
            axis.set_ylim(0, 100)
            axis.axhline(12.5, color="grey", linestyle=":", linewidth=1)
            axis.grid(alpha=0.3)
            axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default=os.path.join(SOURCE, "build"))
    parser.add_argument("--out", default=os.path.join(SOURCE, "runs", "trainer_parity"))
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--corpora", default="shapes,letters")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--trainers", default="slipstream,open_clip")
    parser.add_argument("--eval-every", type=int, help="evaluate every N epochs (default: a fifth of the run's)")
    parser.add_argument("--variant", action="append", default=[], help="NAME=slip_pretrain arguments")
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="a check of the whole path: 1,024 pairs, 2 epochs")
    parser.add_argument("--json")
    parser.add_argument("--plot")
    args = parser.parse_args()
    if args.quick:
        for kind in CORPORA:
            CORPORA[kind] = (1024, 2)
    out = os.path.abspath(args.out)
    build = os.path.abspath(args.build)
    os.makedirs(out, exist_ok=True)
    variants = {}
    for item in args.variant:
        name, _, extra = item.partition("=")
        variants[name] = shlex.split(extra)
    kinds = args.corpora.split(",")
    for kind in kinds:
        if kind not in CORPORA:
            raise SystemExit(f"--corpora: unknown corpus '{kind}' (expected {', '.join(CORPORA)})")
        make_corpus(build, out, kind)
    threads = max(1, 2 // args.parallel)
    settings = {"out": out, "build": build, "python": args.python, "every": args.eval_every, "threads": threads,
                "variants": variants}
    jobs = [(trainer, kind, int(seed), settings) for kind in kinds for seed in args.seeds.split(",")
            for trainer in args.trainers.split(",")]
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.parallel) as pool:
        results = list(pool.map(one_run, jobs))
    summary = summarise(results)
    print_table(summary)
    checks = verdicts(summary)
    for v in checks:
        log(f"{v['corpus']} {v['trainer']} {v['split']}: mean gap {v['gap']:+.1f} points, allowed {v['allowed']:.1f}: "
            f"{'within' if v['within'] else 'OUTSIDE'}")
    if args.json:
        import torch
        document = {"benchmark": "trainer parity: slip_pretrain beside open_clip_train, same model, data and settings",
                    "command": " ".join(shlex.quote(a) for a in sys.argv),
                    "machine": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
                                    platform.machine()), "cpus": os.cpu_count(),
                    "date": datetime.date.today().isoformat(), "torch": torch.__version__,
                    "settings": {"corpora": {k: {"pairs": CORPORA[k][0], "epochs": CORPORA[k][1]} for k in kinds},
                                 "batch": BATCH, "lr": LR, "wd": WD, "betas": [BETA1, BETA2], "eps": EPS,
                                 "warmup_epochs": WARMUP_EPOCHS, "model": OPEN_CLIP_MODEL, "variants": variants},
                    "summary": summary, "verdicts": checks,
                    "runs": [r if threads == 2 else {k: v for k, v in r.items() if k not in ("train_seconds", "samples_per_second")}
                             for r in results]}
        json.dump(document, open(args.json, "w"), indent=1)
    if args.plot:
        plot(results, args.plot)


if __name__ == "__main__":
    main()
