#!/usr/bin/env python3
"""Convert SLIP, timm and open_clip checkpoints to slipstream's safetensors weights.

  slip       SLIP's release checkpoints (e.g. slip_base_25ep.pt): a .pt holding `state_dict` with the
             DistributedDataParallel `module.` prefix and an `args` namespace. The names are already
             slipstream's; the prefix is stripped and args.model is recorded as the model name.
  timm       a timm VisionTransformer state dict (.pth, .bin or .safetensors), e.g. for LiT's locked
             image tower: the classifier head is dropped and names get the `visual.` prefix.
  open_clip  an open_clip / OpenAI CLIP state dict. The text tower's names are already slipstream's.
             A modified ResNet maps name for name; its attention pool projects to the joint space, so
             the model config says "image_projection": false and there is none. An OpenAI-layout ViT is renamed to timm's layout
             (conv1 -> patch_embed.proj, ln_pre -> norm_pre, ln_post -> norm,
             in_proj -> qkv, ...); its model config needs pre_norm, layer_norm_eps 1e-5 and, for the
             OpenAI weights, quick_gelu. The shape is never guessed: it comes from open_clip's own
             config (--open-clip-model NAME or --open-clip-config JSON), is checked against the
             weights and recorded in them (model_config), with the model's preprocessing (mean,
             std, interpolation, resize mode), so eval_zeroshot --resume OUT needs nothing else.

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
    if any(k.startswith("text.") for k in state_dict):  # CustomTextCLIP: the text tower under text.
        state_dict = {(k[len("text."):] if k.startswith("text.") else k): v for k, v in state_dict.items()}
    weights = {k: v for k, v in state_dict.items() if not k.startswith("visual.") and k != "attn_mask"}
    visual = {k[len("visual."):]: v for k, v in state_dict.items() if k.startswith("visual.")}
    shape = None
    if "head.proj.weight" in visual:  # open_clip's timm tower over a timm ViT
        for name, tensor in visual.items():
            if name.startswith("trunk."):
                weights["visual." + name[len("trunk."):]] = tensor
        weights["image_projection"] = visual["head.proj.weight"].t().contiguous()
        shape = {"type": "vit"}
    elif "attnpool.c_proj.weight" in visual:  # modified ResNet: identical names
        for name, tensor in visual.items():
            weights["visual." + name] = tensor
        output_dim = visual["attnpool.c_proj.weight"].shape[0]
        shape = {"type": "modified_resnet", "output_dim": output_dim}
    elif "conv1.weight" in visual:  # OpenAI-layout ViT
        vit, shape = openai_vit_to_timm(visual)
        weights.update({"visual." + k: v for k, v in vit.items()})
        weights["image_projection"] = visual["proj"]
    else:
        raise SystemExit("convert_checkpoint: open_clip state dict has no recognisable visual tower")
    return weights, {"format": "open_clip"}, shape


# open_clip's config keys slipstream's towers reproduce, with the defaults they must keep; any other
# key, or one of these at another value, is refused rather than guessed.
VISION_KEYS = {"layers", "width", "head_width", "mlp_ratio", "patch_size", "image_size", "image_mean", "image_std",
               "image_interpolation", "image_resize_mode", "patch_dropout", "timm_model_name",
               "timm_model_pretrained", "timm_pool", "timm_proj", "timm_proj_bias", "timm_drop", "timm_drop_path"}
VISION_DEFAULTS = {"ls_init_value": None, "attentional_pool": False, "no_ln_pre": False, "pos_embed_type": "learnable",
                   "final_ln_after_pool": False, "pool_type": "tok", "output_tokens": False, "act_kwargs": None,
                   "norm_kwargs": None, "block_type": None, "qk_norm": False, "scaled_cosine_attn": False,
                   "scale_heads": False, "scale_attn_inner": False, "scale_attn": False, "scale_fc": False,
                   "attn_pooler_queries": 256, "attn_pooler_heads": 8}
TEXT_KEYS = {"context_length", "vocab_size", "width", "heads", "layers", "hf_tokenizer_name", "tokenizer_kwargs",
             "tokenizer_mode"}
TEXT_DEFAULTS = {"mlp_ratio": 4.0, "ls_init_value": None, "embed_cls": False, "pad_id": 0, "no_causal_mask": False,
                 "final_ln_after_pool": False, "pool_type": "argmax", "proj_bias": False, "proj_type": "linear",
                 "output_tokens": False, "act_kwargs": None, "norm_kwargs": None, "block_type": None,
                 "qk_norm": False, "scaled_cosine_attn": False, "scale_heads": False, "scale_attn_inner": False,
                 "scale_attn": False, "scale_fc": False, "hf_model_name": None, "eos_id": 2}
TOP_KEYS = {"embed_dim", "vision_cfg", "text_cfg", "quick_gelu", "init_logit_bias", "init_logit_scale", "custom_text",
            "cast_dtype"}
OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]


def refuse(message):
    raise SystemExit(f"convert_checkpoint: {message}")


def check_keys(section, cfg, keys, defaults):
    for key, value in cfg.items():
        if key in keys:
            continue
        if key in defaults:
            if value != defaults[key] and not (key == "eos_id" and cfg.get("pool_type", "argmax") == "argmax"):
                refuse(f"open_clip config {section}.{key} = {value!r}: slipstream's towers need {defaults[key]!r}")
            continue
        refuse(f"open_clip config {section}.{key}: not a setting slipstream can reproduce")


def read_open_clip_config(name, path, pretrained_tag):
    """open_clip's model config (and preprocessing) from a registered name or a JSON file/folder."""
    preprocess = {}
    if path:
        if os.path.isdir(path):
            path = os.path.join(path, "open_clip_config.json")
        if not os.path.exists(path):
            refuse(f"--open-clip-config {path}: no such file")
        with open(path) as f:
            cfg = json.load(f)
        if "model_cfg" in cfg:  # open_clip_config.json (hf-hub: / local-dir: layout)
            preprocess = cfg.get("preprocess_cfg", {})
            cfg = cfg["model_cfg"]
        return cfg, preprocess, os.path.splitext(os.path.basename(path))[0]
    import open_clip
    cfg = open_clip.get_model_config(name)
    if cfg is None:
        refuse(f"--open-clip-model {name}: not a model open_clip registers (see open_clip.list_models())")
    if pretrained_tag:
        tagged = open_clip.get_pretrained_cfg(name, pretrained_tag)
        if not tagged:
            refuse(f"--pretrained-tag {pretrained_tag}: open_clip has no such tag for {name}")
        preprocess = {k: tagged[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in tagged}
        if tagged.get("quick_gelu"):
            cfg = dict(cfg, quick_gelu=True)
    return cfg, preprocess, name


def timm_vit_shape(model_name):
    """The shape of a timm VisionTransformer, read from timm itself."""
    import timm
    model = timm.create_model(model_name, pretrained=False, num_classes=0)
    from timm.models.vision_transformer import VisionTransformer
    if not isinstance(model, VisionTransformer) or model.cls_token is None or not isinstance(model.norm_pre, torch.nn.Identity):
        refuse(f"vision_cfg.timm_model_name {model_name}: only timm ViTs with a class token and no pre-norm map to slipstream's")
    block = model.blocks[0]
    return {"type": "vit", "image_size": model.patch_embed.img_size[0], "patch_size": model.patch_embed.patch_size[0],
            "width": model.embed_dim, "depth": len(model.blocks), "heads": block.attn.num_heads,
            "mlp_ratio": block.mlp.fc1.out_features / model.embed_dim, "layer_norm_eps": block.norm1.eps,
            "activation": "gelu"}


def model_config_for_open_clip(weights, cfg, preprocess, name):
    check_keys("", {k: v for k, v in cfg.items() if k not in TOP_KEYS}, set(), {})
    vision, text = dict(cfg["vision_cfg"]), dict(cfg["text_cfg"])
    check_keys("vision_cfg", vision, VISION_KEYS, VISION_DEFAULTS)
    check_keys("text_cfg", text, TEXT_KEYS, TEXT_DEFAULTS)
    quick_gelu = bool(cfg.get("quick_gelu", False))
    activation = "quick_gelu" if quick_gelu else "gelu"
    image_size = vision.get("image_size", 224)
    if not isinstance(image_size, int):
        refuse(f"vision_cfg.image_size {image_size}: slipstream's towers are square")
    out = {"name": name, "family": "clip", "embed_dim": int(cfg["embed_dim"]),
           "text": {"context_length": int(text.get("context_length", 77)), "vocab_size": int(text.get("vocab_size", 49408)),
                    "width": int(text.get("width", 512)), "heads": int(text.get("heads", 8)),
                    "layers": int(text.get("layers", 12)), "activation": activation}}
    if cfg.get("init_logit_bias") is not None:
        out["contrastive_loss"] = "siglip"
    if vision.get("timm_model_name"):
        if vision.get("timm_pool", "avg") != "" or vision.get("timm_proj", "linear") != "linear" or vision.get("timm_proj_bias"):
            refuse("vision_cfg: a timm tower maps to slipstream's only with timm_pool '', timm_proj 'linear' and no projection bias")
        shape = timm_vit_shape(vision["timm_model_name"])
    elif isinstance(vision.get("layers"), (list, tuple)):
        width = int(vision.get("width", 64))
        shape = {"type": "modified_resnet", "image_size": image_size, "width": width,
                 "heads": width * 32 // int(vision.get("head_width", 64)), "resnet_layers": [int(n) for n in vision["layers"]],
                 "output_dim": int(cfg["embed_dim"])}
        out["image_projection"] = False  # the attention pool projects to the joint space
    else:
        width = int(vision.get("width", 768))
        shape = {"type": "vit", "image_size": image_size, "patch_size": int(vision.get("patch_size", 16)), "width": width,
                 "depth": int(vision.get("layers", 12)), "heads": width // int(vision.get("head_width", 64)),
                 "mlp_ratio": float(vision.get("mlp_ratio", 4.0)), "pre_norm": True, "layer_norm_eps": 1e-5,
                 "activation": activation}
    # The model's own preprocessing: the pretrained tag's or the config file's, else the vision
    # config's image_* keys, else open_clip's defaults (OpenAI's statistics, bicubic, shortest side).
    shape["image_mean"] = list(preprocess.get("mean", vision.get("image_mean") or OPENAI_MEAN))
    shape["image_std"] = list(preprocess.get("std", vision.get("image_std") or OPENAI_STD))
    shape["image_interpolation"] = preprocess.get("interpolation", vision.get("image_interpolation") or "bicubic")
    shape["image_resize_mode"] = preprocess.get("resize_mode", vision.get("image_resize_mode") or "shortest")
    if shape["image_interpolation"] not in ("bilinear", "bicubic") or shape["image_resize_mode"] not in ("shortest", "squash"):
        refuse(f"preprocessing {shape['image_interpolation']} / {shape['image_resize_mode']}: slipstream has bilinear or "
               "bicubic, shortest or squash")
    out["vision"] = shape
    check_shapes(weights, out)
    return out


def check_shapes(weights, config):
    """The weights must be the shape the config says: a mismatch means the config is not theirs."""
    text = config["text"]
    expected = {"token_embedding.weight": (text["vocab_size"], text["width"]),
                "positional_embedding": (text["context_length"], text["width"]),
                "text_projection": (text["width"], config["embed_dim"])}
    layers = len({k.split(".")[2] for k in weights if k.startswith("transformer.resblocks.")})
    if layers != text["layers"]:
        refuse(f"the weights have {layers} text layers, the open_clip config {text['layers']}")
    for name, shape in expected.items():
        if tuple(weights[name].shape) != shape:
            refuse(f"{name} is {tuple(weights[name].shape)}, the open_clip config implies {shape}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("format", choices=["slip", "timm", "open_clip"], help="layout of the input checkpoint")
    parser.add_argument("input", help="checkpoint to read (.pt, .pth, .bin or .safetensors)")
    parser.add_argument("output", help="safetensors file to write")
    parser.add_argument("--prefix", default="visual.", help="timm: name prefix for the tower (default visual.)")
    parser.add_argument("--model", help="model name to record (overrides the checkpoint's)")
    parser.add_argument("--open-clip-model", metavar="NAME",
                        help="open_clip: the registered model the weights are (e.g. ViT-B-16, RN50-quickgelu)")
    parser.add_argument("--open-clip-config", metavar="JSON",
                        help="open_clip: the model config JSON that trained them (or an open_clip_config.json / its folder)")
    parser.add_argument("--pretrained-tag", metavar="TAG",
                        help="open_clip: with --open-clip-model, the pretrained tag whose preprocessing to record (e.g. openai)")
    parser.add_argument("--write-config", metavar="JSON",
                        help="open_clip: also write the slipstream model config (it is recorded in the weights anyway)")
    args = parser.parse_args()

    if not os.path.exists(args.input):
        raise SystemExit(f"convert_checkpoint: {args.input}: no such file")
    state_dict, checkpoint = load_state_dict(args.input)
    if args.format == "slip":
        weights, metadata, shape = convert_slip(state_dict, checkpoint)
    elif args.format == "timm":
        weights, metadata, shape = convert_timm(state_dict, args.prefix)
    else:
        if bool(args.open_clip_model) == bool(args.open_clip_config):
            refuse("open_clip weights do not record their shape: pass --open-clip-model NAME or --open-clip-config JSON "
                   "(exactly one), the config that built them")
        weights, metadata, shape = convert_open_clip(state_dict)
        cfg, preprocess, config_name = read_open_clip_config(args.open_clip_model, args.open_clip_config,
                                                             args.pretrained_tag)
        config = model_config_for_open_clip(weights, cfg, preprocess, args.model or config_name)
        metadata["model_config"] = json.dumps(config)
    if args.model:
        metadata["model"] = args.model
    metadata["source"] = os.path.basename(args.input)
    weights = {k: v.detach().contiguous().clone() for k, v in weights.items() if isinstance(v, torch.Tensor)}
    save_file(weights, args.output, metadata=metadata)
    if args.write_config:
        if shape is None:
            raise SystemExit("convert_checkpoint: --write-config applies to open_clip checkpoints")
        with open(args.write_config, "w") as f:
            json.dump(json.loads(metadata["model_config"]), f, indent=2)
    print(f"wrote {len(weights)} tensors ({sum(v.numel() for v in weights.values()) / 1e6:.2f}M values) "
          f"to {args.output} [{', '.join(f'{k}={v}' for k, v in metadata.items() if k not in ('args', 'model_config'))}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
