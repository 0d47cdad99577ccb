#!/usr/bin/env python3
"""The reference for slip_bench: open_clip's model and loss driven as open_clip_train's step drives
them (autocast at the precision, ClipLoss, backward with a GradScaler for fp16, AdamW, the logit
scale clamped), on the same synthetic inputs, timed the same way (wall time on the CPU, CUDA events
on a GPU), printed as the same JSON. --slip adds SLIP's SimCLR branch as SLIP's models.py builds it
over the image tower: the MLP (Linear-BN-ReLU-Linear-BN-ReLU-Linear, 4096 and 256 wide) on the
tower's pooled features before the projection, two more views through the tower, and SLIP's
SIMCLRLoss (temperature 0.1) added to the CLIP loss. --grad-checkpointing: open_clip's own.

  open_clip_step.py --open-clip-model ViT-B-16 | --open-clip-config CFG.json --batch 32 [--precision fp32] [--slip]
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def simclr_loss(q_a, q_b, tau=0.1):
    """SLIP's SIMCLRLoss on one process."""
    q_a, q_b = F.normalize(q_a, dim=-1), F.normalize(q_b, dim=-1)
    labels = torch.arange(q_a.size(0), device=q_a.device)
    masks = F.one_hot(labels, q_a.size(0)) * 1e9
    logits_aa = q_a @ q_a.t() / tau - masks
    logits_bb = q_b @ q_b.t() / tau - masks
    logits_ab = q_a @ q_b.t() / tau
    logits_ba = q_b @ q_a.t() / tau
    return (F.cross_entropy(torch.cat([logits_ab, logits_aa], 1), labels) +
            F.cross_entropy(torch.cat([logits_ba, logits_bb], 1), labels)) / 2


def pooled_and_projected(visual, images):
    """The tower's pooled features before its projection, and the projected embedding."""
    projection = visual.proj
    visual.proj = None
    pooled = visual(images)  # [B, width]
    visual.proj = projection
    return pooled, pooled @ projection


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--open-clip-model")
    parser.add_argument("--open-clip-config", help="an open_clip model config JSON (model_cfg)")
    parser.add_argument("--name", default="")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--flops-per-step", type=float, default=0.0, help="slip_bench's count, for achieved FLOP/s")
    parser.add_argument("--peak-tflops", type=float, default=0.0)
    parser.add_argument("--slip", action="store_true", help="SLIP: the SimCLR branch and loss added")
    parser.add_argument("--grad-checkpointing", action="store_true")
    args = parser.parse_args()

    import open_clip
    from open_clip.model import CLIP
    from open_clip.loss import ClipLoss
    torch.manual_seed(0)
    if args.open_clip_config:
        cfg = json.load(open(args.open_clip_config))
        model = CLIP(**cfg)
        name = args.name or args.open_clip_config
    else:
        model = open_clip.create_model(args.open_clip_model)
        name = args.open_clip_model
    if args.slip:  # SLIP's image_mlp over the tower's pooled width
        width = model.visual.proj.shape[0]
        model.image_mlp = nn.Sequential(nn.Linear(width, 4096), nn.BatchNorm1d(4096), nn.ReLU(inplace=True),
                                        nn.Linear(4096, 4096), nn.BatchNorm1d(4096), nn.ReLU(inplace=True),
                                        nn.Linear(4096, 256))
        name = "SLIP " + name
    if args.grad_checkpointing:
        model.set_grad_checkpointing(True)
    device = torch.device(args.device)
    model.to(device).train()
    loss_fn = ClipLoss()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "bn" not in n and "logit_scale" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "bn" not in n and "logit_scale" not in n)]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                                  lr=3e-3, betas=(0.9, 0.98), eps=1e-8)
    scaler = torch.amp.GradScaler(device.type) if args.precision == "fp16" else None
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)
    size = model.visual.image_size[0] if isinstance(model.visual.image_size, tuple) else model.visual.image_size
    context = model.context_length
    cuda = device.type == "cuda"

    def batch():
        images = torch.randn(args.batch, 3, size, size, device=device)
        tokens = torch.randint(1, 49406, (args.batch, context))
        lengths = torch.randint(2, context, (args.batch,))
        for i, length in enumerate(lengths.tolist()):
            tokens[i, length - 1] = 49407
            tokens[i, length:] = 0
        return images, tokens.to(device)

    def mark(marks):
        if cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            marks.append(event)
        else:
            marks.append(time.perf_counter())

    totals = [0.0] * 5
    for step in range(args.warmup + args.steps):
        marks = []
        mark(marks)
        images, tokens = batch()
        mark(marks)
        with torch.autocast(device.type, dtype=dtype, enabled=dtype is not None):
            if args.slip:  # SLIP's order: the two SimCLR views, then the CLIP view and the text
                aug1, _ = pooled_and_projected(model.visual, images.roll(1, 0))
                aug2, _ = pooled_and_projected(model.visual, images.flip(0))
                _, image_features = pooled_and_projected(model.visual, images)
                text_features = model.encode_text(tokens)
                loss = loss_fn(F.normalize(image_features, dim=-1), F.normalize(text_features, dim=-1),
                               model.logit_scale.exp())
                loss = loss + simclr_loss(model.image_mlp(aug1), model.image_mlp(aug2))
            else:
                image_features, text_features, logit_scale = model(images, tokens)
                loss = loss_fn(image_features, text_features, logit_scale)
        mark(marks)
        (scaler.scale(loss) if scaler else loss).backward()
        mark(marks)
        mark(marks)  # one process: no gradient all-reduce
        if scaler:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100))
        mark(marks)
        if cuda:
            marks[-1].synchronize()
            durations = [marks[i - 1].elapsed_time(marks[i]) for i in range(1, len(marks))]
        else:
            durations = [1000 * (marks[i] - marks[i - 1]) for i in range(1, len(marks))]
        if step >= args.warmup:
            totals = [t + d for t, d in zip(totals, durations)]
    phases = {name: total / args.steps for name, total in zip(["data", "forward", "backward", "grad_sync", "optimizer"], totals)}
    phases["step"] = sum(totals) / args.steps
    seconds = phases["step"] / 1000
    achieved = args.flops_per_step / seconds / 1e12 if args.flops_per_step else None
    memory = (torch.cuda.max_memory_allocated(device) / 2**20 if cuda
              else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps({
        "trainer": "open_clip", "model": name, "batch": args.batch, "precision": args.precision, "device": str(device),
        "grad_checkpointing": args.grad_checkpointing,
        "steps": args.steps, "warmup": args.warmup, "samples_per_second": args.batch / seconds, "phases_ms": phases,
        "flops_per_step": args.flops_per_step or None, "achieved_tflops": achieved,
        "peak_tflops": args.peak_tflops or None,
        "mfu": achieved / args.peak_tflops if achieved and args.peak_tflops else None,
        "peak_memory_mib": memory,
        "memory_source": "CUDA max_memory_allocated" if cuda else "peak resident memory of the process (getrusage)",
        "versions": {"torch": torch.__version__, "open_clip": open_clip.__version__, "threads": torch.get_num_threads()},
    }, indent=2))


if __name__ == "__main__":
    main()
