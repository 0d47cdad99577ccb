#!/usr/bin/env python3
"""SLIP's trainer in Python beside slip_pretrain: DEMO_SLIP on the quickstart's corpus, the same
settings in both, several seeds each, zero-shot on the held-out shape-colour combinations.

SLIP's own main.py cannot run here: it moves the model, the loss and every batch with .cuda() and
its model builders make timm ViTs only. So the reference below is SLIP's code written out for the
CPU and for open_clip's towers in DEMO_SLIP's shape:
  - main.py's train(): AdamW over SLIP's two parameter groups (no weight decay for ndim < 2 and
    names with "bias", "ln" or "bn"), the per-iteration cosine schedule of utils.cosine_scheduler
    (warm-up from lr_start over one epoch, cosine to lr_end), the loss, backward, step, then the
    logit scale clamped to [0, ln 100]; fp32 (SLIP's --disable-amp);
  - losses.py: CLIPLoss, SIMCLRLoss (tau 0.1) and SLIPLoss (clip + ssl_scale x ssl);
  - models.py's SLIP: the SimCLR head (Linear-BN-ReLU-Linear-BN-ReLU-Linear) on the image tower's
    output, the two SimCLR views first, then the image and the text;
  - datasets.py: the CLIP view RandomResizedCrop(scale 0.5-1) and the SimCLR augment
    (RandomResizedCrop 0.08-1, ColorJitter(0.4, 0.4, 0.4, 0.1) p 0.8, RandomGrayscale p 0.2,
    SLIP's PIL GaussianBlur sigma 0.1-2 p 0.5, horizontal flip), ImageNet mean/std; main.py's
    zero-shot (Resize + CenterCrop, prompts averaged per class).
The towers are open_clip's (ModifiedResNet width 16, layers 1-1-1-1, 8 heads, no projection after
the attention pool; text width 128, 4 heads, 3 layers, 16 tokens, QuickGELU; embed 128), the
tokenizer open_clip's. Two settings of DEMO_SLIP that SLIP (ViTs, one view size) never had are
taken from slipstream and said here: the SimCLR views are 32 px (the attention pool's positional
embedding resized bicubically to the smaller grid), and the tower's BatchNorm running statistics
follow the CLIP view only (momentum 0 while the SimCLR views pass).

slipstream's side is scripts/quickstart.sh's DEMO_SLIP run (slip_pretrain with its flags, then
eval_zeroshot) at this script's SSL_SCALE; runs bench/quickstart/run.sh made are reused when their
--ssl-scale is the same (the quickstart now uses 0.5), else slip_pretrain is run here. Writes OUT/python_seedN.json per run
and the summary to --json.
  slip_parity.py --build build --out runs/slip_parity [--seeds 0,1,2] [--reuse runs/quickstart_runs]
                 [--threads 2] [--workers 2] [--json bench/results/slip_trainer_parity.json]
The accuracies are the comparison; the Python runs' times are recorded but not compared (they may
share the cores with one another).
"""
import argparse
import csv
import datetime
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import time

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# DEMO_SLIP's settings, as scripts/quickstart.sh gives them to slip_pretrain (the rest its defaults).
BATCH, EPOCHS, LR, LR_START, LR_END, WD, BETAS, EPS, WARMUP_EPOCHS = 128, 10, 5e-3, 1e-6, 1e-5, 0.1, (0.9, 0.98), 1e-8, 1
SSL_SCALE, SSL_TEMP, SSL_MLP_DIM, SSL_EMB_DIM, IMAGE_SIZE, SSL_IMAGE_SIZE = 1.0, 0.1, 512, 128, 64, 32
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
OPEN_CLIP_MODEL = {"embed_dim": 128, "quick_gelu": True,
                   "vision_cfg": {"image_size": IMAGE_SIZE, "layers": [1, 1, 1, 1], "width": 16, "head_width": 64},
                   "text_cfg": {"context_length": 16, "vocab_size": 49408, "width": 128, "heads": 4, "layers": 3}}


def log(line):
    print(f"[slip-parity] {line}", flush=True)


# ------------------------------------------------------------------ SLIP's model, losses and data
def build_model():
    import torch
    import torch.nn.functional as F
    from collections import OrderedDict
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    clip = CLIP(embed_dim=OPEN_CLIP_MODEL["embed_dim"], vision_cfg=CLIPVisionCfg(**OPEN_CLIP_MODEL["vision_cfg"]),
                text_cfg=CLIPTextCfg(**OPEN_CLIP_MODEL["text_cfg"]), quick_gelu=True)
    pool = clip.visual.attnpool

    def pool_forward(x):  # open_clip's AttentionPool2d.forward, its positional embedding resized to the grid
        grid = x.shape[-1]
        position = pool.positional_embedding
        side = int(round(math.sqrt(position.shape[0] - 1)))
        if grid != side:
            spatial = position[1:].reshape(1, side, side, -1).permute(0, 3, 1, 2)
            spatial = F.interpolate(spatial, size=(grid, grid), mode="bicubic", align_corners=False)
            position = torch.cat([position[:1], spatial.permute(0, 2, 3, 1).reshape(grid * grid, -1)])
        x = x.reshape(x.shape[0], x.shape[1], -1).permute(2, 0, 1)
        x = torch.cat([x.mean(dim=0, keepdim=True), x], dim=0) + position[:, None, :].to(x.dtype)
        x, _ = F.multi_head_attention_forward(
            query=x, key=x, value=x, embed_dim_to_check=x.shape[-1], num_heads=pool.num_heads,
            q_proj_weight=pool.q_proj.weight, k_proj_weight=pool.k_proj.weight, v_proj_weight=pool.v_proj.weight,
            in_proj_weight=None, in_proj_bias=torch.cat([pool.q_proj.bias, pool.k_proj.bias, pool.v_proj.bias]),
            bias_k=None, bias_v=None, add_zero_attn=False, dropout_p=0.0, out_proj_weight=pool.c_proj.weight,
            out_proj_bias=pool.c_proj.bias, use_separate_proj_weight=True, training=pool.training, need_weights=False)
        return x[0]

    pool.forward = pool_forward

    class Slip(torch.nn.Module):  # SLIP's models.SLIP around open_clip's CLIP
        def __init__(self):
            super().__init__()
            self.clip = clip
            width = OPEN_CLIP_MODEL["embed_dim"]  # the tower's output: the attention pool projects to it
            self.image_mlp = torch.nn.Sequential(OrderedDict([
                ("layer1", torch.nn.Linear(width, SSL_MLP_DIM)), ("bn1", torch.nn.BatchNorm1d(SSL_MLP_DIM)),
                ("relu1", torch.nn.ReLU(inplace=True)),
                ("layer2", torch.nn.Linear(SSL_MLP_DIM, SSL_MLP_DIM)), ("bn2", torch.nn.BatchNorm1d(SSL_MLP_DIM)),
                ("relu2", torch.nn.ReLU(inplace=True)),
                ("layer3", torch.nn.Linear(SSL_MLP_DIM, SSL_EMB_DIM))]))

        def forward(self, image, text, aug1, aug2):
            tower_norms = [m for m in self.clip.visual.modules() if isinstance(m, torch.nn.BatchNorm2d)]
            saved = [m.momentum for m in tower_norms]
            for m in tower_norms:  # the running statistics follow the CLIP view only
                m.momentum = 0.0
            aug1_embed = self.image_mlp(self.clip.visual(aug1))
            aug2_embed = self.image_mlp(self.clip.visual(aug2))
            for m, momentum in zip(tower_norms, saved):
                m.momentum = momentum
            return {"image_embed": self.clip.encode_image(image), "text_embed": self.clip.encode_text(text),
                    "logit_scale": self.clip.logit_scale.exp(), "aug1_embed": aug1_embed, "aug2_embed": aug2_embed}

    return Slip()


def slip_loss(outputs):
    """losses.SLIPLoss at world size 1: CLIPLoss + SSL_SCALE x SIMCLRLoss(tau SSL_TEMP)."""
    import torch
    import torch.nn.functional as F
    image = F.normalize(outputs["image_embed"], dim=-1, p=2)
    text = F.normalize(outputs["text_embed"], dim=-1, p=2)
    labels = torch.arange(image.shape[0])
    logits_per_image = outputs["logit_scale"] * image @ text.t()
    logits_per_text = outputs["logit_scale"] * text @ image.t()
    clip_loss = (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2
    q_a = F.normalize(outputs["aug1_embed"], dim=-1, p=2)
    q_b = F.normalize(outputs["aug2_embed"], dim=-1, p=2)
    masks = F.one_hot(labels, q_a.shape[0]) * 1e9
    logits_aa = q_a @ q_a.t() / SSL_TEMP - masks
    logits_bb = q_b @ q_b.t() / SSL_TEMP - masks
    logits_ab = q_a @ q_b.t() / SSL_TEMP
    logits_ba = q_b @ q_a.t() / SSL_TEMP
    loss_a = F.cross_entropy(torch.cat([logits_ab, logits_aa], dim=1), labels)
    loss_b = F.cross_entropy(torch.cat([logits_ba, logits_bb], dim=1), labels)
    ssl_loss = (loss_a + loss_b) / 2
    return clip_loss + SSL_SCALE * ssl_loss, clip_loss, ssl_loss


class GaussianBlur:  # SLIP's utils.GaussianBlur
    def __init__(self, sigma=(0.1, 2.0)):
        self.sigma = sigma

    def __call__(self, x):
        from PIL import ImageFilter
        return x.filter(ImageFilter.GaussianBlur(radius=random.uniform(self.sigma[0], self.sigma[1])))


class CaptionedImages:  # datasets.ImageCaptionDatasetSLIP over the corpus's train.csv
    def __init__(self, data, tokenizer):
        from torchvision import transforms
        with open(os.path.join(data, "train.csv")) as f:
            self.rows = [(os.path.join(data, r["filepath"]), r["title"]) for r in csv.DictReader(f)]
        normalize = transforms.Normalize(mean=MEAN, std=STD)
        self.transform = transforms.Compose([transforms.RandomResizedCrop(IMAGE_SIZE, scale=(0.5, 1.0)),
                                             transforms.ToTensor(), normalize])
        self.augment = transforms.Compose([
            transforms.RandomResizedCrop(SSL_IMAGE_SIZE, scale=(0.08, 1.0)),
            transforms.RandomApply([transforms.ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
            transforms.RandomGrayscale(p=0.2),
            transforms.RandomApply([GaussianBlur([0.1, 2.0])], p=0.5),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(), normalize])
        self.tokenizer = tokenizer

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        from PIL import Image
        path, caption = self.rows[i]
        with open(path, "rb") as f:
            image = Image.open(f).convert("RGB")
        return self.transform(image), self.tokenizer([caption])[0], self.augment(image), self.augment(image)


def cosine_schedule(base, final, epochs, per_epoch, warmup_epochs, start):  # SLIP's utils.cosine_scheduler
    import numpy as np
    warmup_iters = warmup_epochs * per_epoch
    warmup = np.linspace(start, base, warmup_iters) if warmup_epochs > 0 else np.array([])
    iters = np.arange(epochs * per_epoch - warmup_iters)
    return np.concatenate((warmup, final + 0.5 * (base - final) * (1 + np.cos(np.pi * iters / len(iters)))))


def zero_shot(model, tokenizer, data, name):
    """main.py's validate_zeroshot on the catalog entry's test split: top-1 %."""
    import torch
    from PIL import Image
    from torchvision import transforms
    entry = json.load(open(os.path.join(data, "dataset_catalog.json")))[name]
    templates = json.load(open(os.path.join(data, "templates.json")))[name]
    labels = json.load(open(os.path.join(data, "labels.json")))[name]
    preprocess = transforms.Compose([transforms.Resize(IMAGE_SIZE), transforms.CenterCrop(IMAGE_SIZE), transforms.ToTensor(),
                                     transforms.Normalize(mean=MEAN, std=STD)])
    root = os.path.join(entry["path"], entry["test"])
    items = [(os.path.join(root, folder, file), label) for label, folder in enumerate(sorted(os.listdir(root)))
             for file in sorted(os.listdir(os.path.join(root, folder)))]
    model.eval()
    with torch.no_grad():
        classes = []
        for label in labels:
            embeddings = model.clip.encode_text(tokenizer([t.format(label) for t in templates]))
            embeddings = embeddings / embeddings.norm(dim=-1, keepdim=True)
            embedding = embeddings.mean(dim=0)
            classes.append(embedding / embedding.norm())
        classifier = torch.stack(classes)
        correct = 0
        for start in range(0, len(items), 256):
            chunk = items[start:start + 256]
            images = torch.stack([preprocess(Image.open(path).convert("RGB")) for path, _ in chunk])
            features = model.clip.encode_image(images)
            features = features / features.norm(dim=-1, keepdim=True)
            predictions = (features @ classifier.t()).argmax(-1)
            correct += sum(int(p) == label for p, (_, label) in zip(predictions, chunk))
    model.train()
    return 100.0 * correct / len(items)


def train_python(data, seed, threads, workers):
    """One SLIP run; returns its result (zero-shot by shape after every epoch, the final ones)."""
    import numpy as np
    import open_clip
    import torch
    torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    model = build_model()
    tokenizer = open_clip.get_tokenizer("RN50")  # CLIP's BPE
    tokenize = lambda texts: tokenizer(texts, context_length=OPEN_CLIP_MODEL["text_cfg"]["context_length"])
    dataset = CaptionedImages(data, tokenize)
    generator = torch.Generator().manual_seed(seed)
    loader = torch.utils.data.DataLoader(dataset, batch_size=BATCH, shuffle=True, num_workers=workers, drop_last=True,
                                         generator=generator, persistent_workers=True)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "bias" in name or "ln" in name or "bn" in name else decay).append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": no_decay, "weight_decay": 0}],
                                  lr=LR, betas=BETAS, eps=EPS, weight_decay=WD)
    schedule = cosine_schedule(LR, LR_END, EPOCHS, len(loader), WARMUP_EPOCHS, LR_START)
    curve, losses = [], []
    started = time.time()
    model.train()
    for epoch in range(EPOCHS):
        losses = []
        for step, (image, text, aug1, aug2) in enumerate(loader):
            for group in optimizer.param_groups:
                group["lr"] = schedule[epoch * len(loader) + step]
            loss, clip_loss, ssl_loss = slip_loss(model(image, text, aug1, aug2))
            if not math.isfinite(loss.item()):
                raise RuntimeError(f"loss is {loss.item()}, stopping training")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            with torch.no_grad():
                model.clip.logit_scale.clamp_(0, 4.6052)
            losses.append(loss.item())
        shapes = zero_shot(model, tokenize, data, "demo_shapes")
        curve.append({"epoch": epoch, "shape_top1": shapes})
        log(f"python SLIP seed {seed} epoch {epoch}: loss {statistics.mean(losses):.4f}, held-out shape {shapes:.2f}%")
    seconds = time.time() - started
    final = {"shape_top1": curve[-1]["shape_top1"], "colour_top1": zero_shot(model, tokenize, data, "demo_colours")}
    return {"trainer": "slip_reference.py", "seed": seed, "curve": curve, "final": final,
            "last_epoch_train_loss": statistics.mean(losses), "train_seconds": round(seconds, 1)}


# ------------------------------------------------------------------ slipstream's side
def slipstream_run(build, data, seed, out, reuse, bpe):
    """scripts/quickstart.sh's DEMO_SLIP run for `seed` (reused from bench/quickstart/run.sh's folder)."""
    folder = os.path.join(reuse, f"seed{seed}_native", "slip") if reuse else ""
    reusable = folder and os.path.exists(os.path.join(folder, "zeroshot.json")) and \
        json.load(open(os.path.join(folder, "config.json"))).get("ssl-scale") == SSL_SCALE  # this script's recipe only
    if not reusable:
        folder = os.path.join(out, f"slipstream_seed{seed}")
        if not os.path.exists(os.path.join(folder, "zeroshot.json")):
            shards = sorted(f for f in os.listdir(os.path.join(data, "shards")) if f.startswith("train-"))
            pattern = os.path.join(data, "shards", "train-{00000..%05d}.tar" % (len(shards) - 1))
            started = time.time()
            subprocess.run([os.path.join(build, "slip_pretrain"), "--dataset", "webdataset", "--root", pattern,
                            "--model", os.path.join(SOURCE, "configs", "demo", "demo_slip.json"), "--bpe", bpe,
                            "--batch-size", str(BATCH), "--epochs", str(EPOCHS), "--warmup-epochs", str(WARMUP_EPOCHS),
                            "--lr", str(LR), "--ssl-scale", str(SSL_SCALE), "--workers", "2", "--seed", str(seed), "--device", "cpu", "--print-freq", "50",
                            "--output-dir", folder, "--eval-catalog", os.path.join(data, "dataset_catalog.json"),
                            "--eval-dataset", "demo_shapes"], check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(folder, "train_seconds.txt"), "w") as f:
                f.write(str(int(time.time() - started)))
            subprocess.run([os.path.join(build, "eval_zeroshot"), "--resume", os.path.join(folder, "checkpoint_last"),
                            "--bpe", bpe, "--catalog", os.path.join(data, "dataset_catalog.json"), "--device", "cpu",
                            "--cache-dir", "", "--output", os.path.join(folder, "zeroshot.json")],
                           check=True, stdout=subprocess.DEVNULL)
    epochs = [json.loads(line) for line in open(os.path.join(folder, "log.txt"))]
    scores = {r["dataset"]: r["top1"] for r in json.load(open(os.path.join(folder, "zeroshot.json")))["results"] if "top1" in r}
    return {"trainer": "slip_pretrain", "seed": seed, "folder": folder,
            "curve": [{"epoch": e["epoch"], "shape_top1": e["test_acc1"]} for e in epochs],
            "final": {"shape_top1": scores["demo_shapes"], "colour_top1": scores["demo_colours"]},
            "last_epoch_train_loss": epochs[-1]["train_loss"],
            "train_seconds": float(open(os.path.join(folder, "train_seconds.txt")).read())}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", default=os.path.join(SOURCE, "build"))
    parser.add_argument("--out", default=os.path.join(SOURCE, "runs", "slip_parity"))
    parser.add_argument("--data", default="", help="the quickstart corpus (default: REUSE/data, else rendered in OUT)")
    parser.add_argument("--reuse", default=os.path.join(SOURCE, "runs", "quickstart_runs"),
                        help="bench/quickstart/run.sh's folder, whose native DEMO_SLIP runs are slipstream's side")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=2, help="the Python trainer's torch threads")
    parser.add_argument("--workers", type=int, default=2, help="its DataLoader workers")
    parser.add_argument("--json", default=os.path.join(SOURCE, "bench", "results", "slip_trainer_parity.json"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    import open_clip.tokenizer
    bpe = open_clip.tokenizer.default_bpe()
    data = args.data or (os.path.join(args.reuse, "data") if os.path.exists(os.path.join(args.reuse, "data", "held_out.json"))
                         else os.path.join(args.out, "data"))
    if not os.path.exists(os.path.join(data, "held_out.json")):
        subprocess.run([os.path.join(args.build, "slip_tools"), "make-demo-data", "--output", data], check=True)
    runs = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        path = os.path.join(args.out, f"python_seed{seed}.json")
        if not os.path.exists(path):
            log(f"training the Python SLIP reference, seed {seed}")
            json.dump(train_python(data, seed, args.threads, args.workers), open(path, "w"), indent=1)
        runs.append(json.load(open(path)))
        runs.append(slipstream_run(args.build, data, seed, args.out, args.reuse, bpe))
    summary = {}
    for trainer in ("slip_pretrain", "slip_reference.py"):
        mine = [r for r in runs if r["trainer"] == trainer]
        summary[trainer] = {key: {"values": [r["final"][key] for r in mine],
                                  "mean": statistics.mean(r["final"][key] for r in mine),
                                  "spread": max(r["final"][key] for r in mine) - min(r["final"][key] for r in mine)}
                            for key in ("shape_top1", "colour_top1")}
        summary[trainer]["last_epoch_train_loss"] = [r["last_epoch_train_loss"] for r in mine]
    verdict = {}
    for key in ("shape_top1", "colour_top1"):
        gap = summary["slip_pretrain"][key]["mean"] - summary["slip_reference.py"][key]["mean"]
        allowed = max(summary["slip_pretrain"][key]["spread"], summary["slip_reference.py"][key]["spread"])
        verdict[key] = {"gap": gap, "allowed": allowed, "within": abs(gap) <= allowed}
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.machine())
    json.dump({"benchmark": "DEMO_SLIP: slip_pretrain beside SLIP's trainer written out in Python",
               "command": "python bench/trainer_parity/slip_parity.py", "machine": cpu, "cpus": os.cpu_count(),
               "date": datetime.date.today().isoformat(), "runs": runs, "summary": summary, "verdict": verdict},
              open(args.json, "w"), indent=1)
    print(f"{'trainer':<20}{'seed':>5}{'shape':>9}{'colour':>9}{'loss':>9}")
    for r in runs:
        print(f"{r['trainer']:<20}{r['seed']:>5}{r['final']['shape_top1']:>8.1f}%{r['final']['colour_top1']:>8.1f}%"
              f"{r['last_epoch_train_loss']:>9.3f}")
    for key, v in verdict.items():
        print(f"{key}: slip_pretrain - reference {v['gap']:+.1f} points, allowed {v['allowed']:.1f}: within {v['within']}")


if __name__ == "__main__":
    sys.exit(main())
