#!/usr/bin/env python3
"""The reference for slip_bench: open_clip's model and loss driven as open_clip_train's step drives
them (autocast at the precision, ClipLoss, backward with a GradScaler for fp16, AdamW, the logit
scale clamped), on the same synthetic inputs, timed the same way (wall time on the CPU, CUDA events
on a GPU), printed as the same JSON.

  open_clip_step.py --open-clip-model ViT-B-16 | --open-clip-config CFG.json --batch 32 [--precision fp32]
"""
import argparse
import json
import math
import resource
import time

import torch


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
