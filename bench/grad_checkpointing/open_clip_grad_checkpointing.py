#!/usr/bin/env python3
"""open_clip's ViT-B-16 training step (CLIP loss, AdamW) without and with set_grad_checkpointing,
each in its own process so the peak resident memory is its own. Prints JSON."""
import argparse
import json
import subprocess
import sys

STEP = r"""
import resource, sys, time, torch, open_clip
batch, steps, checkpointing = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
torch.manual_seed(0)
model = open_clip.create_model("ViT-B-16")
model.set_grad_checkpointing(checkpointing)
model.train()
loss_fn = open_clip.ClipLoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
images, tokens = torch.randn(batch, 3, 224, 224), torch.randint(1, 49407, (batch, 77))
times = []
for _ in range(steps):
    start = time.perf_counter()
    image, text, scale = model(images, tokens)
    loss = loss_fn(image, text, scale)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    times.append(time.perf_counter() - start)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, sum(times[1:]) / max(1, len(times) - 1))
"""


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    out = {}
    for name, flag in [("plain", "0"), ("checkpointed", "1")]:
        result = subprocess.run([sys.executable, "-c", STEP, str(args.batch), str(args.steps), flag],
                                capture_output=True, text=True, check=True)
        peak, seconds = result.stdout.split()
        out[name] = {"peak_rss_mib": float(peak), "seconds_per_step": float(seconds)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
