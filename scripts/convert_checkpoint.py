#!/usr/bin/env python3
"""Convert SLIP, timm and open_clip checkpoints to slipstream's safetensors weights.

  slip       SLIP's release checkpoints (e.g. slip_base_25ep.pt): a .pt holding `state_dict` with the
             DistributedDataParallel `module.` prefix and an `args` namespace. The names are already
             slipstream's; the prefix is stripped and args.model is recorded as the model name.
  timm       a timm VisionTransformer state dict (.pth, .bin or .safetensors), e.g. for LiT's locked
             image tower: the classifier head is dropped and names get the `visual.` prefix.
  open_clip  an open_clip / OpenAI CLIP state dict. The text tower's names are already slipstream's.
             A modified ResNet maps name for name (its attention pool projects to the joint space, so
             `image_projection` becomes the identity). An OpenAI-layout ViT is renamed to timm's layout
             (conv1 -> patch_embed.proj, ln_pre -> norm_pre, ln_post -> norm,
             in_proj -> qkv, ...); its model config needs pre_norm, layer_norm_eps 1e-5 and, for the
             OpenAI weights, quick_gelu: pass --write-config to get a matching JSON config.

The output carries metadata: format, model (when known) and the source file name.
Loading a .pt runs Python's unpickler: only convert checkpoints from sources you trust.
"""
import argparse
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file


def load_state_dict(path):
    if path.endswith(".safetensors"):
        return load_file(path), {}
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(checkpoint, dict) and "state_dict" in checkpoint:
        return checkpoint["state_dict"], checkpoint
    if isinstance(checkpoint, dict) and "model" in checkpoint and isinstance(checkpoint["model"], dict):
        return checkpoint["model"], checkpoint
    if isinstance(checkpoint, dict):
        return checkpoint, {}
    raise SystemExit(f"convert_checkpoint: {path}: expected a state dict or a dict holding 'state_dict'")


def strip_prefix(state_dict, prefix):
    return {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state_dict.items()}


def convert_slip(state_dict, checkpoint):
    weights = strip_prefix(state_dict, "module.")
    metadata = {"format": "slip"}
    args = checkpoint.get("args")
    if args is not None:
        arguments = vars(args) if hasattr(args, "__dict__") else dict(args)
        metadata["model"] = str(arguments.get("model", ""))
        metadata["args"] = json.dumps({k: v if isinstance(v, (int, float, str, bool, type(None))) else str(v)
                                       for k, v in arguments.items()})
    if "epoch" in checkpoint:
        metadata["epoch"] = str(checkpoint["epoch"])
    return weights, metadata, None


def convert_timm(state_dict, prefix):
    weights = {}
    for name, tensor in strip_prefix(state_dict, "module.").items():
        if name.startswith("head."):
            continue
        weights[prefix + name] = tensor
    return weights, {"format": "timm"}, None


def openai_vit_to_timm(visual):
    """OpenAI/open_clip VisionTransformer names -> timm names (under `visual.`)."""
    out = {}
    width = visual["conv1.weight"].shape[0]
    out["patch_embed.proj.weight"] = visual["conv1.weight"]  # no bias: pre_norm ViTs have none
    out["cls_token"] = visual["class_embedding"].reshape(1, 1, width)
    out["pos_embed"] = visual["positional_embedding"].unsqueeze(0)
    out["norm_pre.weight"], out["norm_pre.bias"] = visual["ln_pre.weight"], visual["ln_pre.bias"]
    out["norm.weight"], out["norm.bias"] = visual["ln_post.weight"], visual["ln_post.bias"]
    renames = {"ln_1": "norm1", "ln_2": "norm2", "attn.in_proj_weight": "attn.qkv.weight",
               "attn.in_proj_bias": "attn.qkv.bias", "attn.out_proj": "attn.proj", "mlp.c_fc": "mlp.fc1",
               "mlp.c_proj": "mlp.fc2"}
    for name, tensor in visual.items():
        if not name.startswith("transformer.resblocks."):
            continue
        rest = name[len("transformer.resblocks."):]
        index, _, leaf = rest.partition(".")
        for old, new in renames.items():
            if leaf.startswith(old):
                leaf = new + leaf[len(old):]
                break
        out[f"blocks.{index}.{leaf}"] = tensor
    depth = len({k.split(".")[1] for k in out if k.startswith("blocks.")})
    return out, {"type": "vit", "width": width, "depth": depth,
                 "image_size": int(round((visual["positional_embedding"].shape[0] - 1) ** 0.5)) *
                 visual["conv1.weight"].shape[-1],
                 "patch_size": visual["conv1.weight"].shape[-1]}


def convert_open_clip(state_dict):
    state_dict = strip_prefix(state_dict, "module.")
    weights = {k: v for k, v in state_dict.items() if not k.startswith("visual.") and k != "attn_mask"}
    visual = {k[len("visual."):]: v for k, v in state_dict.items() if k.startswith("visual.")}
    shape = None
    if "attnpool.c_proj.weight" in visual:  # modified ResNet: identical names
        for name, tensor in visual.items():
            weights["visual." + name] = tensor
        output_dim = visual["attnpool.c_proj.weight"].shape[0]
        weights["image_projection"] = torch.eye(output_dim, dtype=visual["attnpool.c_proj.weight"].dtype)
        shape = {"type": "modified_resnet", "output_dim": output_dim}
    elif "conv1.weight" in visual:  # OpenAI-layout ViT
        vit, shape = openai_vit_to_timm(visual)
        weights.update({"visual." + k: v for k, v in vit.items()})
        weights["image_projection"] = visual["proj"]
    else:
        raise SystemExit("convert_checkpoint: open_clip state dict has no recognisable visual tower")
    return weights, {"format": "open_clip"}, shape


def model_config_for_open_clip(weights, shape, heads, quick_gelu, name):
    text_width = weights["token_embedding.weight"].shape[1]
    text_layers = len({k.split(".")[2] for k in weights if k.startswith("transformer.resblocks.")})
    config = {"name": name, "family": "clip", "embed_dim": int(weights["text_projection"].shape[1]),
              "text": {"context_length": int(weights["positional_embedding"].shape[0]),
                       "vocab_size": int(weights["token_embedding.weight"].shape[0]), "width": int(text_width),
                       "heads": int(text_width // 64), "layers": int(text_layers)}}
    if shape["type"] == "modified_resnet":
        stem = int(weights["visual.conv3.weight"].shape[0])
        layers = [len({k.split(".")[2] for k in weights if k.startswith(f"visual.layer{i}.")}) for i in range(1, 5)]
        spatial = int(round((weights["visual.attnpool.positional_embedding"].shape[0] - 1) ** 0.5))
        config["vision"] = {"type": "modified_resnet", "image_size": spatial * 32, "width": stem,
                            "heads": heads or stem * 32 // 64, "resnet_layers": layers,
                            "output_dim": int(shape["output_dim"])}
    else:
        config["vision"] = {"type": "vit", "image_size": int(shape["image_size"]), "patch_size": int(shape["patch_size"]),
                            "width": int(shape["width"]), "depth": int(shape["depth"]),
                            "heads": heads or int(shape["width"] // 64), "pre_norm": True,
                            "layer_norm_eps": 1e-5, "activation": "quick_gelu" if quick_gelu else "gelu"}
    return config


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("format", choices=["slip", "timm", "open_clip"], help="layout of the input checkpoint")
    parser.add_argument("input", help="checkpoint to read (.pt, .pth, .bin or .safetensors)")
    parser.add_argument("output", help="safetensors file to write")
    parser.add_argument("--prefix", default="visual.", help="timm: name prefix for the tower (default visual.)")
    parser.add_argument("--model", help="model name to record (overrides the checkpoint's)")
    parser.add_argument("--write-config", metavar="JSON",
                        help="open_clip: also write a slipstream model config matching the weights")
    parser.add_argument("--vision-heads", type=int, help="open_clip: attention heads of the image tower "
                        "(default width/64, OpenAI's rule)")
    parser.add_argument("--quick-gelu", action="store_true",
                        help="open_clip: the image tower uses QuickGELU (OpenAI's weights)")
    args = parser.parse_args()

    if not os.path.exists(args.input):
        raise SystemExit(f"convert_checkpoint: {args.input}: no such file")
    state_dict, checkpoint = load_state_dict(args.input)
    if args.format == "slip":
        weights, metadata, shape = convert_slip(state_dict, checkpoint)
    elif args.format == "timm":
        weights, metadata, shape = convert_timm(state_dict, args.prefix)
    else:
        weights, metadata, shape = convert_open_clip(state_dict)
    if args.model:
        metadata["model"] = args.model
    metadata["source"] = os.path.basename(args.input)
    weights = {k: v.detach().contiguous().clone() for k, v in weights.items() if isinstance(v, torch.Tensor)}
    save_file(weights, args.output, metadata=metadata)
    if args.write_config:
        if shape is None:
            raise SystemExit("convert_checkpoint: --write-config applies to open_clip checkpoints")
        config = model_config_for_open_clip(weights, shape, args.vision_heads, args.quick_gelu,
                                            metadata.get("model", "OPEN_CLIP_CONVERTED"))
        with open(args.write_config, "w") as f:
            json.dump(config, f, indent=2)
    print(f"wrote {len(weights)} tensors ({sum(v.numel() for v in weights.values()) / 1e6:.2f}M values) "
          f"to {args.output} [{', '.join(f'{k}={v}' for k, v in metadata.items() if k != 'args')}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
