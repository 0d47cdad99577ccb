#!/usr/bin/env python3
"""Reference outputs for slipstream's parity tests, computed with the real Python packages.

Every case builds a model with the package that defines it (timm's VisionTransformer, open_clip's
TextTransformer and ModifiedResNet), perturbs every parameter and buffer so that no zero- or
one-initialised tensor hides a naming or wiring mistake, runs fixed inputs through it and saves:

  <case>.weights.safetensors   the state dict, with the package's own parameter names
  <case>.io.safetensors        inputs, outputs, and gradients ("grad.<parameter>") of a fixed
                               projection of the output, for the first and last blocks

The losses are SLIP's formulas (facebookresearch/SLIP, losses.py, MIT licence) written out below
with PyTorch, evaluated on fixed embeddings; their values, accuracies and input gradients are saved.
A small SLIP model (SLIP's models.py composition over timm and open_clip parts) is also saved in
SLIP's release-checkpoint format (.pt with a "module." prefix and an args namespace), and two small
open_clip CLIP models (ViT and modified ResNet) as plain state dicts, for the converter tests.

The C++ tests (tests/parity/*.cpp) load these files and compare in fp32 on the CPU.
Re-running is cheap: the outputs are kept while manifest.json matches this script and the
package versions.
"""
import argparse
import hashlib
import json
import math
import os
import sys
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F

import open_clip
import timm
from open_clip.modified_resnet import ModifiedResNet
from open_clip.transformer import QuickGELU, TextTransformer, Transformer
from safetensors.torch import save_file
from timm.models.vision_transformer import VisionTransformer

SOT, EOT = 49406, 49407


def seed(value):
    torch.manual_seed(value)


def perturb_(module, scale=0.02):
    """Adds noise to every saved floating tensor (the state dict: parameters and persistent buffers,
    not derived ones such as a causal mask); BN running variances stay positive."""
    with torch.no_grad():
        for name, tensor in module.state_dict(keep_vars=True).items():
            if not tensor.is_floating_point():
                continue
            if name.endswith("running_var"):
                tensor.uniform_(0.5, 1.5)
            elif name.endswith("running_mean"):
                tensor.normal_(0.0, 0.1)
            else:
                tensor.add_(torch.randn_like(tensor) * scale)


def save(out_dir, case, weights, io):
    save_file({k: v.detach().contiguous().clone() for k, v in weights.items()},
              os.path.join(out_dir, f"{case}.weights.safetensors"))
    save_file({k: v.detach().contiguous().clone() for k, v in io.items()},
              os.path.join(out_dir, f"{case}.io.safetensors"))


def output_gradients(module, output, prefixes, generator_seed):
    """Backpropagates sum(output * R) for a fixed R; returns grads of parameters under `prefixes`."""
    torch.manual_seed(generator_seed)
    projection = torch.randn_like(output) / math.sqrt(output.shape[-1])
    module.zero_grad(set_to_none=True)
    (output * projection).sum().backward()
    grads = {"grad_projection": projection}
    for name, param in module.named_parameters():
        if any(name.startswith(p) for p in prefixes) and param.grad is not None:
            grads[f"grad.{name}"] = param.grad
    return grads


def make_tokens(lengths, context=77, vocab=49408, seed_value=0):
    """[B, 77] int64: SOT, random BPE ids, EOT at position length-1 (or the last slot), zero padding."""
    g = torch.Generator().manual_seed(seed_value)
    tokens = torch.zeros(len(lengths), context, dtype=torch.long)
    for row, length in enumerate(lengths):
        length = min(length, context)
        tokens[row, 0] = SOT
        tokens[row, 1:length - 1] = torch.randint(1, vocab - 2, (length - 2,), generator=g)
        tokens[row, length - 1] = EOT
    return tokens


# ----------------------------------------------------------------------------------------------
# Vision towers (timm)

VIT_CASES = {
    # case: (embed_dim, depth, heads, image size, extra timm kwargs)
    "vit_s16": (384, 12, 12, 224, {}),           # SLIP's MoCo v3 ViT-S/16: 12 heads
    "vit_b16": (768, 12, 12, 224, {}),           # vit_base_patch16_224
    "vit_l16": (1024, 24, 16, 224, {}),          # vit_large_patch16_224
    # OpenAI-style options (pre-norm, QuickGELU) on a small shape
    "vit_small_prenorm_quickgelu": (64, 2, 4, 64, {"pre_norm": True, "act_layer": QuickGELU}),
}


def vit_case(out_dir, case, index):
    width, depth, heads, image_size, extra = VIT_CASES[case]
    seed(100 + index)
    model = VisionTransformer(img_size=image_size, patch_size=16, embed_dim=width, depth=depth, num_heads=heads,
                              num_classes=0, **extra)
    perturb_(model)
    model.eval()
    images = torch.randn(2, 3, image_size, image_size)
    output = model(images)
    last = f"blocks.{depth - 1}."
    grads = output_gradients(model, output, ["blocks.0.", last, "cls_token", "pos_embed", "norm."], 200 + index)
    save(out_dir, case, model.state_dict(), {"input": images, "output": output, **grads})


# ----------------------------------------------------------------------------------------------
# Text tower (open_clip, OpenAI CLIP layout)

def text_case(out_dir):
    seed(300)
    model = TextTransformer(context_length=77, vocab_size=49408, width=512, heads=8, layers=12, output_dim=512,
                            act_layer=QuickGELU)
    perturb_(model)
    model.eval()
    tokens = make_tokens([9, 77, 30], seed_value=1)
    output = model(tokens)
    grads = output_gradients(model, output,
                             ["transformer.resblocks.0.", "transformer.resblocks.11.", "text_projection",
                              "ln_final.", "positional_embedding"], 301)
    save(out_dir, "text", model.state_dict(), {"input": tokens, "output": output, **grads})


# ----------------------------------------------------------------------------------------------
# CLIP's modified ResNet-50 (open_clip)

def rn50_case(out_dir):
    seed(400)
    model = ModifiedResNet(layers=[3, 4, 6, 3], output_dim=1024, heads=32, image_size=224, width=64)
    perturb_(model)
    model.eval()
    images = torch.randn(2, 3, 224, 224)
    output = model(images)
    grads = output_gradients(model, output, ["conv1.", "layer1.0.", "layer4.2.", "attnpool."], 401)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    with torch.no_grad():
        output_train = model(images)  # batch statistics
    save(out_dir, "rn50", weights, {"input": images, "output": output, "output_train": output_train, **grads})


# ----------------------------------------------------------------------------------------------
# SLIP's losses (facebookresearch/SLIP losses.py), single process: rank 0, no gather.

def clip_loss(image_embed, text_embed, logit_scale, rank=0):
    local_batch = image_embed.size(0)
    labels = local_batch * rank + torch.arange(local_batch)
    image_embed = F.normalize(image_embed, dim=-1, p=2)
    text_embed = F.normalize(text_embed, dim=-1, p=2)
    logits_per_image = logit_scale * image_embed @ text_embed.t()
    logits_per_text = logit_scale * text_embed @ image_embed.t()
    loss = (F.cross_entropy(logits_per_image, labels) + F.cross_entropy(logits_per_text, labels)) / 2
    with torch.no_grad():
        acc = 100 * torch.argmax(logits_per_image, dim=-1).eq(labels).sum() / local_batch
    return {"loss": loss, "clip_loss": loss, "clip_acc": acc}


def simclr_loss(q_a, q_b, tau=0.1, rank=0):
    q_a = F.normalize(q_a, dim=-1, p=2)
    q_b = F.normalize(q_b, dim=-1, p=2)
    local_batch = q_a.size(0)
    k_a, k_b = q_a, q_b
    labels = local_batch * rank + torch.arange(local_batch)
    masks = F.one_hot(labels, local_batch) * 1e9
    logits_aa = torch.matmul(q_a, k_a.transpose(0, 1)) / tau - masks
    logits_bb = torch.matmul(q_b, k_b.transpose(0, 1)) / tau - masks
    logits_ab = torch.matmul(q_a, k_b.transpose(0, 1)) / tau
    logits_ba = torch.matmul(q_b, k_a.transpose(0, 1)) / tau
    loss_a = F.cross_entropy(torch.cat([logits_ab, logits_aa], dim=1), labels)
    loss_b = F.cross_entropy(torch.cat([logits_ba, logits_bb], dim=1), labels)
    loss = (loss_a + loss_b) / 2
    with torch.no_grad():
        pred = torch.argmax(torch.cat([logits_ab, logits_aa], dim=1), dim=-1)
        acc = 100 * pred.eq(labels).sum() / local_batch
    return {"loss": loss, "ssl_loss": loss, "ssl_acc": acc}


def slip_loss(outputs, ssl_scale=1.0, tau=0.1):
    c = clip_loss(outputs["image_embed"], outputs["text_embed"], outputs["logit_scale"])
    s = simclr_loss(outputs["aug1_embed"], outputs["aug2_embed"], tau)
    return {"loss": c["clip_loss"] + ssl_scale * s["ssl_loss"], "clip_loss": c["clip_loss"],
            "clip_acc": c["clip_acc"], "ssl_loss": s["ssl_loss"], "ssl_acc": s["ssl_acc"]}


def siglip_loss(image_embed, text_embed, logit_scale, logit_bias):
    """open_clip's SigLipLoss itself (single process), on L2-normalised embeddings as open_clip's
    CLIP.forward hands them over; clip_acc is the argmax of each image's row of logits."""
    image, text = F.normalize(image_embed, dim=-1), F.normalize(text_embed, dim=-1)
    loss = open_clip.loss.SigLipLoss()(image, text, logit_scale, logit_bias)
    with torch.no_grad():
        logits = logit_scale * image @ text.T + logit_bias
        acc = 100 * (logits.argmax(-1) == torch.arange(len(image))).float().mean()
    return {"loss": loss, "siglip_loss": loss, "clip_acc": acc}


# DeCLIP (Sense-GVT/DeCLIP, declip.py; Apache-2.0): its SimSiam heads and its objective, written
# out below with PyTorch as declip.py and its loss configuration compute them.
class DeclipProjector(nn.Module):
    def __init__(self, in_dim, hidden_dim=1024, out_dim=1024):
        super().__init__()
        self.linear1, self.bn1 = nn.Linear(in_dim, hidden_dim), nn.BatchNorm1d(hidden_dim)
        self.linear2, self.bn2 = nn.Linear(hidden_dim, hidden_dim), nn.BatchNorm1d(hidden_dim)
        self.linear3, self.bn3 = nn.Linear(hidden_dim, out_dim), nn.BatchNorm1d(hidden_dim)

    def forward(self, x):
        x = F.relu(self.bn1(self.linear1(x)))
        x = F.relu(self.bn2(self.linear2(x)))
        return self.bn3(self.linear3(x))


class DeclipPredictor(nn.Module):
    def __init__(self, in_dim=1024, hidden_dim=512, out_dim=1024):
        super().__init__()
        self.linear1, self.bn1 = nn.Linear(in_dim, hidden_dim), nn.BatchNorm1d(hidden_dim)
        self.layer2 = nn.Linear(hidden_dim, out_dim)

    def forward(self, x):
        return self.layer2(F.relu(self.bn1(self.linear1(x))))


def nearest_neighbour(queries, bank):
    """lightly's NNMemoryBankModule lookup: the bank row of highest cosine similarity."""
    return bank[(queries @ bank.T).argmax(dim=1)]


def declip_loss(t, bank, weights=(0.4, 0.2, 0.2, 0.2)):
    scale = t["log_scale"].exp()
    i1, i2 = F.normalize(t["image_embed"], dim=-1), F.normalize(t["image_embed_2"], dim=-1)
    x1, x2 = F.normalize(t["text_embed"], dim=-1), F.normalize(t["text_aug_embed"], dim=-1)
    labels = torch.arange(len(i1))
    clip = 0
    for image in (i1, i2):
        for text in (x1, x2):
            clip = clip + (F.cross_entropy(scale * image @ text.T, labels) + F.cross_entropy(scale * text @ image.T, labels)) / 2
    clip = clip / 4
    nn_loss = 0
    for image in (i1, i2):
        for text in (x1, x2):
            nn_loss = nn_loss + F.cross_entropy(scale * image @ nearest_neighbour(text.detach(), bank).T, labels)
    nn_loss = nn_loss / 4
    p1, p2, z1, z2 = t["simsiam_p1"], t["simsiam_p2"], t["simsiam_z1"], t["simsiam_z2"]
    simsiam = -0.5 * (F.cosine_similarity(p1, z2.detach(), dim=-1).mean() + F.cosine_similarity(p2, z1.detach(), dim=-1).mean())
    mlm = F.cross_entropy(t["mlm_logits"], t["mlm_labels"])
    loss = weights[0] * clip + weights[1] * nn_loss + weights[2] * simsiam + weights[3] * mlm
    with torch.no_grad():
        clip_acc = 100 * ((scale * i1 @ x1.T).argmax(-1) == labels).float().mean()
        mlm_acc = 100 * (t["mlm_logits"].argmax(-1) == t["mlm_labels"]).float().mean()
    return {"loss": loss, "clip_loss": clip, "clip_acc": clip_acc, "nn_loss": nn_loss, "simsiam_loss": simsiam,
            "mlm_loss": mlm, "mlm_acc": mlm_acc}


def declip_case(out_dir):
    seed(700)
    batch, embed, ssl, vocab, masked = 8, 32, 1024, 50, 11
    image = torch.randn(batch, embed)
    io = {"image_embed": image, "image_embed_2": image + 0.8 * torch.randn(batch, embed),
          "text_embed": image + 1.5 * torch.randn(batch, embed), "text_aug_embed": image + 1.5 * torch.randn(batch, embed),
          "simsiam_p1": torch.randn(batch, ssl), "simsiam_p2": torch.randn(batch, ssl),
          "simsiam_z1": torch.randn(batch, ssl), "simsiam_z2": torch.randn(batch, ssl),
          "mlm_logits": torch.randn(masked, vocab), "log_scale": torch.tensor(3.5)}
    io["mlm_labels"] = torch.randint(0, vocab, (masked,))
    # The queue as earlier steps left it: 20 normalised text embeddings, some near this batch's.
    io["nn_queue"] = F.normalize(torch.cat([torch.randn(12, embed), image[:8] + torch.randn(8, embed)]), dim=-1)
    leaves = {k: v.clone().requires_grad_(True) for k, v in io.items()
              if k not in ("mlm_labels", "nn_queue")}
    result = declip_loss({**leaves, "mlm_labels": io["mlm_labels"]}, io["nn_queue"])
    result["loss"].backward()
    for key, value in result.items():
        io[f"declip.{key}"] = value.detach().float()
    for key, leaf in leaves.items():
        if leaf.grad is not None:  # SimSiam's targets z1, z2 are behind a stop-gradient
            io[f"declip.grad.{key}"] = leaf.grad
    # The SimSiam heads, in training mode (batch statistics), with a gradient through both.
    projector, predictor = DeclipProjector(embed), DeclipPredictor()
    perturb_(projector)
    perturb_(predictor)
    x = torch.randn(batch, embed, requires_grad=True)
    z = projector(x)
    p = predictor(z)
    (z.square().mean() + p.sin().sum()).backward()
    io.update({"heads.x": x.detach(), "heads.z": z.detach(), "heads.p": p.detach(), "heads.grad.x": x.grad})
    weights = {f"projector.{k}": v for k, v in projector.state_dict().items()}
    weights.update({f"predictor.{k}": v for k, v in predictor.state_dict().items()})
    save_file({k: v.contiguous() for k, v in weights.items()}, os.path.join(out_dir, "declip_heads.weights.safetensors"))
    save_file({k: v.detach().contiguous().clone() for k, v in io.items()}, os.path.join(out_dir, "declip.io.safetensors"))


def patch_dropout_case(out_dir):
    """open_clip's PatchDropout (FLIP) in training mode: which tokens survive a fixed seed's draw."""
    from open_clip.transformer import PatchDropout
    seed(600)
    tokens = torch.randn(3, 1 + 16, 8)
    io = {"tokens": tokens}
    for prob in (0.5, 0.75):
        dropout = PatchDropout(prob).train()
        torch.manual_seed(601)
        io[f"kept_{int(prob * 100)}"] = dropout(tokens)
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(out_dir, "patch_dropout.io.safetensors"))


def loss_case(out_dir):
    seed(500)
    batch, embed, ssl = 8, 512, 256
    # Correlated pairs so that accuracies are neither 0 nor 100.
    image = torch.randn(batch, embed)
    text = image + 1.5 * torch.randn(batch, embed)
    aug1 = torch.randn(batch, ssl)
    aug2 = aug1 + 1.2 * torch.randn(batch, ssl)
    log_scale = torch.tensor(math.log(1 / 0.07))
    # SigLIP's bias away from its -10 init, so that positives and negatives both carry gradient.
    logit_bias = torch.tensor(-4.0)
    io = {"image_embed": image, "text_embed": text, "aug1_embed": aug1, "aug2_embed": aug2, "log_scale": log_scale,
          "logit_bias": logit_bias}
    for name, fn in [("clip", lambda t: clip_loss(t["image_embed"], t["text_embed"], t["log_scale"].exp())),
                     ("simclr", lambda t: simclr_loss(t["aug1_embed"], t["aug2_embed"])),
                     ("slip", lambda t: slip_loss({**t, "logit_scale": t["log_scale"].exp()})),
                     ("siglip", lambda t: siglip_loss(t["image_embed"], t["text_embed"], t["log_scale"].exp(),
                                                      t["logit_bias"]))]:
        leaves = {k: v.clone().requires_grad_(True) for k, v in io.items()}
        result = fn(leaves)
        result["loss"].backward()
        for key, value in result.items():
            io[f"{name}.{key}"] = value.detach().float()
        for key, leaf in leaves.items():
            if leaf.grad is not None:
                io[f"{name}.grad.{key}"] = leaf.grad
    save_file({k: v.detach().contiguous().clone() for k, v in io.items()}, os.path.join(out_dir, "losses.io.safetensors"))


# ----------------------------------------------------------------------------------------------
# A small SLIP model as SLIP's models.py composes it (CLIP text tower attributes at the top level,
# `visual` = timm ViT, `image_mlp` = the SimCLR MLP), trained one step's forward/backward.

class SlipReference(nn.Module):
    def __init__(self, vision_model, vision_width, embed_dim, context_length, vocab_size, width, heads, layers,
                 ssl_mlp_dim, ssl_emb_dim):
        super().__init__()
        self.context_length = context_length
        self.visual = vision_model
        self.transformer = Transformer(width=width, layers=layers, heads=heads, act_layer=QuickGELU)
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, width))
        self.ln_final = nn.LayerNorm(width)
        self.image_projection = nn.Parameter(torch.empty(vision_width, embed_dim))
        self.text_projection = nn.Parameter(torch.empty(width, embed_dim))
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))
        self.image_mlp = nn.Sequential(OrderedDict([
            ("layer1", nn.Linear(vision_width, ssl_mlp_dim)), ("bn1", nn.BatchNorm1d(ssl_mlp_dim)),
            ("relu1", nn.ReLU(inplace=True)), ("layer2", nn.Linear(ssl_mlp_dim, ssl_mlp_dim)),
            ("bn2", nn.BatchNorm1d(ssl_mlp_dim)), ("relu2", nn.ReLU(inplace=True)),
            ("layer3", nn.Linear(ssl_mlp_dim, ssl_emb_dim))]))
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        nn.init.normal_(self.positional_embedding, std=0.01)
        nn.init.normal_(self.image_projection, std=vision_width ** -0.5)
        nn.init.normal_(self.text_projection, std=width ** -0.5)
        mask = torch.empty(context_length, context_length).fill_(float("-inf")).triu_(1)
        self.register_buffer("attn_mask", mask, persistent=False)

    def encode_text(self, text):
        x = self.token_embedding(text) + self.positional_embedding
        x = self.transformer(x, attn_mask=self.attn_mask)
        x = self.ln_final(x)
        return x[torch.arange(x.shape[0]), text.argmax(dim=-1)] @ self.text_projection

    def forward(self, image, text, aug1, aug2):
        aug1_embed = self.image_mlp(self.visual(aug1))
        aug2_embed = self.image_mlp(self.visual(aug2))
        return {"image_embed": self.visual(image) @ self.image_projection, "text_embed": self.encode_text(text),
                "logit_scale": self.logit_scale.exp(), "aug1_embed": aug1_embed, "aug2_embed": aug2_embed}


SLIP_SMALL_CONFIG = {
    "name": "SLIP_PARITY_SMALL", "family": "slip", "embed_dim": 32,
    "vision": {"type": "vit", "image_size": 32, "patch_size": 16, "width": 48, "depth": 2, "heads": 4},
    "text": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 4, "layers": 2},
    "ssl": {"mlp_dim": 96, "emb_dim": 24},
}


def slip_small_case(out_dir):
    c = SLIP_SMALL_CONFIG
    seed(600)
    vision = VisionTransformer(img_size=c["vision"]["image_size"], patch_size=16, embed_dim=c["vision"]["width"],
                               depth=c["vision"]["depth"], num_heads=c["vision"]["heads"], num_classes=0)
    model = SlipReference(vision, c["vision"]["width"], c["embed_dim"], 77, 49408, c["text"]["width"],
                          c["text"]["heads"], c["text"]["layers"], c["ssl"]["mlp_dim"], c["ssl"]["emb_dim"])
    perturb_(model)
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    batch = 6
    inputs = {"image": torch.randn(batch, 3, 32, 32), "aug1": torch.randn(batch, 3, 32, 32),
              "aug2": torch.randn(batch, 3, 32, 32), "text": make_tokens([5, 12, 77, 20, 8, 40], seed_value=2)}
    outputs = model(**inputs)
    losses = slip_loss(outputs)
    model.zero_grad(set_to_none=True)
    losses["loss"].backward()
    io = dict(inputs)
    io.update({f"out.{k}": v for k, v in outputs.items()})
    io.update({f"loss.{k}": v.float() for k, v in losses.items()})
    io.update({f"grad.{n}": p.grad for n, p in model.named_parameters() if p.grad is not None})
    io.update({f"after.{n}": b for n, b in model.named_buffers() if "running" in n})  # BN stats after the step
    save(out_dir, "slip_small", weights, io)
    with open(os.path.join(out_dir, "slip_small.json"), "w") as f:
        json.dump(c, f, indent=2)
    # The same weights as a SLIP release checkpoint (what scripts/convert_checkpoint.py reads).
    args = argparse.Namespace(model="SLIP_PARITY_SMALL", ssl_mlp_dim=c["ssl"]["mlp_dim"],
                              ssl_emb_dim=c["ssl"]["emb_dim"], ssl_scale=1.0, ssl_temp=0.1)
    torch.save({"epoch": 1, "state_dict": OrderedDict(("module." + k, v) for k, v in weights.items()),
                "best_acc1": 0.0, "args": args}, os.path.join(out_dir, "slip_small_release.pt"))


# ----------------------------------------------------------------------------------------------
# open_clip CLIP models (OpenAI layout), saved as plain state dicts for the converter's open_clip path.

OPEN_CLIP_CASES = {
    # case: (vision config, image size)
    "open_clip_vit": (dict(layers=2, width=64, head_width=64, patch_size=16, image_size=32), 32),
    "open_clip_rn": (dict(layers=(1, 1, 1, 1), width=16, image_size=64), 64),
}


def open_clip_case(out_dir, case, index):
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg
    vision, image_size = OPEN_CLIP_CASES[case]
    seed(700 + index)
    text = dict(context_length=77, vocab_size=49408, width=64, heads=1, layers=2)
    model = CLIP(embed_dim=32, vision_cfg=CLIPVisionCfg(**vision), text_cfg=CLIPTextCfg(**text), quick_gelu=True)
    # the open_clip model config that built it, as open_clip's model_configs/*.json write one
    with open(os.path.join(out_dir, f"{case}.open_clip.json"), "w") as f:
        json.dump({"embed_dim": 32, "quick_gelu": True, "vision_cfg": vision, "text_cfg": text}, f, indent=2)
    perturb_(model)
    model.eval()
    images = torch.randn(2, 3, image_size, image_size)
    tokens = make_tokens([6, 77], seed_value=3 + index)
    with torch.no_grad():
        io = {"image": images, "text": tokens, "image_embed": model.encode_image(images),
              "text_embed": model.encode_text(tokens)}
    torch.save(model.state_dict(), os.path.join(out_dir, f"{case}.pt"))
    save_file({k: v.contiguous() for k, v in io.items()}, os.path.join(out_dir, f"{case}.io.safetensors"))


# ----------------------------------------------------------------------------------------------
# CLIP's tokenizer (open_clip's SimpleTokenizer) and the cleaning steps it applies, on the corpus
# in tests/fixtures/tokenizer_corpus.jsonl.

def tokenizer_case(out_dir, source, bpe_path):
    import html as html_module
    import ftfy
    from open_clip.tokenizer import SimpleTokenizer
    tokenizer = SimpleTokenizer(bpe_path=bpe_path)
    with open(os.path.join(source, "tests", "fixtures", "tokenizer_corpus.jsonl"), encoding="utf-8") as f:
        texts = [json.loads(line) for line in f if line.strip()]
    keep_eot = tokenizer(texts, context_length=77)
    rows = []
    for text, row in zip(texts, keep_eot):
        ids = tokenizer.encode(text)
        slip = ([tokenizer.sot_token_id] + ids + [tokenizer.eot_token_id])[:77]  # SLIP: no EOT re-added
        rows.append({"text": text, "fix_text": ftfy.fix_text(text), "html_unescape": html_module.unescape(text),
                     "clean": tokenizer.clean_fn(text), "ids": ids, "slip": slip,
                     "keep_eot": [int(v) for v in row[:len(slip)]]})
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({"bpe": os.path.abspath(bpe_path), "rows": rows}, f, ensure_ascii=False, indent=1)


def sentencepiece_case(out_dir, source):
    """A SentencePiece model trained by the Python package; the C++ side must encode identically."""
    import sentencepiece as spm
    colours = ["red", "green", "blue", "yellow", "purple", "orange", "black", "white"]
    things = ["cat", "dog", "triangle", "square", "circle", "car", "tree", "house", "bird", "boat"]
    places = ["on the beach", "in a field", "at night", "under the sea", "in the city", "on a table"]
    captions = [f"a {c} {t} {p}" for c in colours for t in things for p in places]
    with open(os.path.join(source, "tests", "fixtures", "tokenizer_corpus.jsonl"), encoding="utf-8") as f:
        corpus = [json.loads(line) for line in f if line.strip()]
    train_file = os.path.join(out_dir, "sentencepiece_train.txt")
    with open(train_file, "w", encoding="utf-8") as f:
        f.write("\n".join(captions + [c.replace("\n", " ") for c in corpus]) + "\n")
    prefix = os.path.join(out_dir, "sentencepiece_reference")
    spm.SentencePieceTrainer.train(input=train_file, model_prefix=prefix, vocab_size=300, model_type="unigram",
                                   character_coverage=1.0, num_threads=1, minloglevel=2)
    processor = spm.SentencePieceProcessor(model_file=prefix + ".model")
    rows = [{"text": text, "ids": processor.encode(text)} for text in captions[::7] + corpus]
    with open(os.path.join(out_dir, "sentencepiece.json"), "w", encoding="utf-8") as f:
        json.dump({"model": prefix + ".model", "pieces": processor.get_piece_size(), "rows": rows}, f,
                  ensure_ascii=False, indent=1)


# ----------------------------------------------------------------------------------------------
# Images: real photographs (scikit-learn's china.jpg and flower.jpg) decoded by PIL, and
# torchvision's geometric transforms on those PIL images, as SLIP's data pipeline runs them.

IMAGE_CROPS = [  # (top, left, height, width): inside, touching edges, tiny (upscaled), whole image
    (37, 51, 300, 260), (0, 0, 427, 427), (127, 340, 300, 300), (200, 300, 40, 90), (0, 0, 427, 640)]


RECIPE_VIEWS = [  # parameters of SimCLR views; crops whose resize Pillow does in slipstream's pass order
    {"crop": [127, 340, 300, 300], "jitter": True, "order": [3, 0, 2, 1], "brightness": 1.3, "contrast": 0.7,
     "saturation": 1.2, "hue": -0.05, "grayscale": False, "blur": 1.3, "flip": True},
    {"crop": [200, 300, 40, 90], "jitter": False, "order": [0, 1, 2, 3], "brightness": 1.0, "contrast": 1.0,
     "saturation": 1.0, "hue": 0.0, "grayscale": True, "blur": None, "flip": False},
    {"crop": [0, 0, 427, 427], "jitter": True, "order": [1, 2, 3, 0], "brightness": 0.65, "contrast": 1.35,
     "saturation": 0.6, "hue": 0.09, "grayscale": True, "blur": 0.4, "flip": True},
]


def image_case(out_dir):
    import sklearn.datasets
    import torchvision.transforms as T
    import torchvision.transforms.functional as TF
    from PIL import Image, ImageFilter
    import numpy as np
    folder = os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")
    tensors, files = {}, {}
    as_tensor = lambda image: torch.from_numpy(np.asarray(image, dtype=np.uint8).copy())
    for name in ["china", "flower"]:
        path = os.path.join(folder, name + ".jpg")
        files[name] = path
        image = Image.open(path).convert("RGB")
        tensors[f"{name}.decoded"] = as_tensor(image)
        for index, (top, left, height, width) in enumerate(IMAGE_CROPS):
            crop = TF.resized_crop(image, top, left, height, width, [224, 224],
                                   interpolation=T.InterpolationMode.BILINEAR)
            tensors[f"{name}.resized_crop{index}"] = as_tensor(crop)
            tensors[f"{name}.resized_crop{index}.flipped"] = as_tensor(TF.hflip(crop))
        tensors[f"{name}.eval224"] = as_tensor(T.Compose([T.Resize(224), T.CenterCrop(224)])(image))
        tensors[f"{name}.eval256"] = as_tensor(T.Compose([T.Resize(256), T.CenterCrop(224)])(image))
        tensors[f"{name}.resize_97x131"] = as_tensor(image.resize((131, 97), Image.BILINEAR))
        normalize = T.Compose([T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
        tensors[f"{name}.eval224.normalized"] = normalize(T.Compose([T.Resize(224), T.CenterCrop(224)])(image))
        # SimCLR views with fixed parameters, in torchvision's order (ColorJitter's ops in the
        # sampled order; SLIP's GaussianBlur is PIL's ImageFilter.GaussianBlur).
        for index, view in enumerate(RECIPE_VIEWS):
            out = TF.resized_crop(image, *view["crop"], [224, 224], interpolation=T.InterpolationMode.BILINEAR)
            if view["jitter"]:
                ops = [lambda im: TF.adjust_brightness(im, view["brightness"]),
                       lambda im: TF.adjust_contrast(im, view["contrast"]),
                       lambda im: TF.adjust_saturation(im, view["saturation"]),
                       lambda im: TF.adjust_hue(im, view["hue"])]
                for op in view["order"]:
                    out = ops[op](out)
            if view["grayscale"]:
                out = TF.rgb_to_grayscale(out, num_output_channels=3)
            if view["blur"]:
                out = out.filter(ImageFilter.GaussianBlur(radius=view["blur"]))
            if view["flip"]:
                out = TF.hflip(out)
            tensors[f"{name}.view{index}"] = normalize(out)
        # A model's own preprocessing: open_clip's eval transform (OpenAI's mean/std, bicubic) in
        # both resize modes, and open_clip's train view (--aug-cfg: bicubic crop, jitter, grayscale).
        from open_clip.constants import OPENAI_DATASET_MEAN, OPENAI_DATASET_STD
        from open_clip.transform import image_transform
        for mode in ["shortest", "squash"]:
            transform = image_transform(224, is_train=False, mean=OPENAI_DATASET_MEAN, std=OPENAI_DATASET_STD,
                                        resize_mode=mode, interpolation="bicubic")
            tensors[f"{name}.open_clip_eval_{mode}"] = transform(image)
            tensors[f"{name}.open_clip_eval_{mode}.pixels"] = as_tensor(T.Compose(transform.transforms[:-2])(image))
        openai_normalize = T.Compose([T.ToTensor(), T.Normalize(OPENAI_DATASET_MEAN, OPENAI_DATASET_STD)])
        for index, view in enumerate(RECIPE_VIEWS):
            out = TF.resized_crop(image, *view["crop"], [224, 224], interpolation=T.InterpolationMode.BICUBIC)
            if view["jitter"]:
                for op in view["order"]:
                    out = [lambda im: TF.adjust_brightness(im, view["brightness"]),
                           lambda im: TF.adjust_contrast(im, view["contrast"]),
                           lambda im: TF.adjust_saturation(im, view["saturation"]),
                           lambda im: TF.adjust_hue(im, view["hue"])][op](out)
            if view["grayscale"]:
                out = TF.rgb_to_grayscale(out, num_output_channels=3)
            tensors[f"{name}.open_clip_view{index}"] = openai_normalize(out)
    # Encodings the web is full of, decoded by PIL: progressive and grey JPEGs, PNG (RGB and grey).
    encoded = {}
    source_image = Image.open(files["china"]).convert("RGB").resize((97, 131), Image.BICUBIC)
    for name, (mode, extension, options) in {"progressive": ("RGB", "jpg", {"quality": 90, "progressive": True}),
                                             "grey": ("L", "jpg", {"quality": 92}),
                                             "png_rgb": ("RGB", "png", {}), "png_grey": ("L", "png", {})}.items():
        path = os.path.join(out_dir, f"encoded_{name}.{extension}")
        source_image.convert(mode).save(path, **options)
        encoded[name] = path
        tensors[f"encoded_{name}.decoded"] = as_tensor(Image.open(path).convert("RGB"))
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out_dir, "images.safetensors"))
    with open(os.path.join(out_dir, "images.json"), "w") as f:
        json.dump({"files": files, "encoded": encoded, "crops": IMAGE_CROPS, "views": RECIPE_VIEWS}, f, indent=1)


# ----------------------------------------------------------------------------------------------

# ----------------------------------------------------------------------------------------------
# FLOPs of a training step's towers as torch.utils.flop_counter.FlopCounterMode counts them
# (attention through the math backend, so its two products are counted as matrix products).

def flop_case(out_dir):
    import open_clip
    import timm
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    def counted(fn):
        with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as mode:
            fn()
        return mode.get_total_flops()

    def forward_backward(module, inputs):
        forward = counted(lambda: module(inputs))
        both = counted(lambda: module(inputs).float().sum().backward())
        return {"forward": forward, "backward": both - forward}

    class TextTower(nn.Module):  # open_clip's text tower up to ln_final (the projection is a head)
        def __init__(self, clip):
            super().__init__()
            self.clip = clip

        def forward(self, tokens):
            c = self.clip
            return c.ln_final(c.transformer(c.token_embedding(tokens) + c.positional_embedding, attn_mask=c.attn_mask))

    seed(900)
    images = torch.randn(1, 3, 224, 224)
    out = {"batch": 1}
    for name in ["vit_small_patch16_224", "vit_base_patch16_224", "vit_large_patch16_224"]:
        out[name] = forward_backward(timm.create_model(name, num_classes=0), images)
    # open_clip's ModifiedResNet up to its attention pool (which projects to output_dim)
    out["open_clip_RN50_visual"] = forward_backward(open_clip.create_model("RN50").visual, images)
    out["open_clip_text_512x12"] = forward_backward(TextTower(open_clip.create_model("RN50")),
                                                    torch.randint(1, 49407, (1, 77)))
    with open(os.path.join(out_dir, "flops.json"), "w") as f:
        json.dump(out, f, indent=2)


def parameter_counts(out_dir):
    counts = {}
    model = open_clip.create_model("ViT-B-16", pretrained=None)
    counts["open_clip_ViT-B-16"] = sum(p.numel() for p in model.parameters())
    counts["open_clip_ViT-B-16_visual"] = sum(p.numel() for p in model.visual.parameters())
    vit_b = VisionTransformer(patch_size=16, embed_dim=768, depth=12, num_heads=12, num_classes=0)
    counts["timm_vit_base_patch16_224_no_head"] = sum(p.numel() for p in vit_b.parameters())
    with open(os.path.join(out_dir, "parameter_counts.json"), "w") as f:
        json.dump(counts, f, indent=2)


def fingerprint(source):
    digest = hashlib.sha256()
    for path in [__file__, os.path.join(source, "tests", "fixtures", "tokenizer_corpus.jsonl")]:
        with open(path, "rb") as f:
            digest.update(f.read())
    return {"inputs": digest.hexdigest(), "torch": torch.__version__, "timm": timm.__version__,
            "open_clip": open_clip.__version__}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--source", required=True, help="repository root (for tests/fixtures)")
    parser.add_argument("--bpe", required=True, help="CLIP's bpe_simple_vocab_16e6.txt.gz")
    parser.add_argument("--force", action="store_true", help="regenerate even if manifest.json matches")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "manifest.json")
    expected = fingerprint(args.source)
    if not args.force and os.path.exists(manifest_path):
        with open(manifest_path) as f:
            if json.load(f) == expected:
                print(f"parity references up to date in {args.out} ({json.dumps(expected)})")
                return 0
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    print(f"generating parity references with torch {torch.__version__}, timm {timm.__version__}, "
          f"open_clip {open_clip.__version__} into {args.out}", flush=True)
    for index, case in enumerate(VIT_CASES):
        vit_case(args.out, case, index)
        print(f"  {case}: timm VisionTransformer", flush=True)
    text_case(args.out)
    print("  text: open_clip TextTransformer (QuickGELU)", flush=True)
    rn50_case(args.out)
    print("  rn50: open_clip ModifiedResNet", flush=True)
    loss_case(args.out)
    print("  losses: SLIP's CLIPLoss, SIMCLRLoss, SLIPLoss; open_clip's SigLipLoss", flush=True)
    declip_case(args.out)
    print("  declip: DeCLIP's four supervisions and its SimSiam heads", flush=True)
    patch_dropout_case(args.out)
    print("  patch_dropout: open_clip's PatchDropout (FLIP)", flush=True)
    slip_small_case(args.out)
    print("  slip_small: SLIP model composition, train-mode step", flush=True)
    for index, case in enumerate(OPEN_CLIP_CASES):
        open_clip_case(args.out, case, index)
        print(f"  {case}: open_clip CLIP (QuickGELU), state dict for the converter", flush=True)
    tokenizer_case(args.out, args.source, args.bpe)
    print("  tokenizer: open_clip SimpleTokenizer, ftfy.fix_text, html.unescape", flush=True)
    flop_case(args.out)
    print("  flops: FlopCounterMode on timm's ViT-S/B/L-16, open_clip's RN50 and text tower", flush=True)
    sentencepiece_case(args.out, args.source)
    print("  sentencepiece: a model trained and applied by the sentencepiece package", flush=True)
    image_case(args.out)
    print("  images: PIL decoding and torchvision's crops, resizes and flips of real photographs", flush=True)
    parameter_counts(args.out)
    print("  parameter_counts: open_clip ViT-B-16, timm ViT-B/16", flush=True)
    with open(manifest_path, "w") as f:
        json.dump(expected, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
