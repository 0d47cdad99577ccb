"""The reference side of bench_patch_dropout: timm's VisionTransformer shaped as SLIP's ViT-S/16
(384 wide, 12 blocks, 12 heads, CLS pooling, no classifier) with patch_drop_rate 0, 0.5, 0.75;
one training step = forward of a batch of 224 px images, backward of the outputs' sum."""
import argparse
import json
import time

import torch
from timm.models.vision_transformer import VisionTransformer


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images = torch.randn(args.batch, 3, 224, 224)
    rows = []
    for prob in (0.0, 0.5, 0.75):
        vit = VisionTransformer(embed_dim=384, depth=12, num_heads=12, num_classes=0, global_pool="token",
                                patch_drop_rate=prob).train()

        def step():
            vit.zero_grad(set_to_none=True)
            vit(images).sum().backward()

        step()  # warm-up
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < args.seconds:
            step()
            steps += 1
        elapsed = time.perf_counter() - start
        rows.append({"patch_dropout": prob, "steps": steps, "seconds": elapsed,
                     "images_per_second": steps * args.batch / elapsed})
    print(json.dumps({"implementation": "timm", "batch": args.batch, "threads": args.threads, "results": rows}))


if __name__ == "__main__":
    main()
