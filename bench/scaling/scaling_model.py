#!/usr/bin/env python3
"""Data-parallel scaling model for slipstream's pre-training step, 8 to 512 GPUs.

A paper model, not a measurement. It combines
  * compute terms: a slip_bench result (phases_ms forward / backward / optimizer at the measured
    batch), or a step time derived from counted FLOPs at an assumed MFU (--assume-mfu), or a step
    time given outright (--step-ms-override);
  * communication terms: the collectives slipstream issues per step (read from the sources, see
    docs/scaling.md), timed with an alpha-beta model of NCCL on 8-GPU NVLink nodes with one NIC per
    GPU, for 400 Gb/s InfiniBand and 100 Gb/s Ethernet;
  * overlap: an event simulation of GradientSynchronizer (src/dist/gradient_sync.cpp): buckets of
    --bucket-mb built in reverse registration order, each all-reduce launched when its last
    gradient is accumulated, one NCCL stream, blocking collectives inside backward.
It prints markdown tables and, with --json FILE, writes every number.

Only the standard library is used. Run it with any Python 3.8+:
  python bench/scaling/scaling_model.py bench/results/step_cpu.json
  python bench/scaling/scaling_model.py bench/results/step_cpu.json --only CLIP_VITB16
      --batch 256 --assume-mfu 0.4 --peak-tflops 989.4     (one command line)
"""

import argparse
import json
import math
import sys

# ---------------------------------------------------------------------------------------------
# Built-in model table. Shapes copied from configs/models/*.json (SIGLIP_VITB16 is CLIP_VITB16
# with "contrastive_loss": "siglip", which adds the scalar logit_bias). Parameter counts were
# computed once by this script's layer walk (below) and written in; the walk re-derives them at
# start-up and refuses to run if they differ. Cross-checks of the written counts:
#   * open_clip 3.3.0: create_model('ViT-B-16') has 149,620,737 parameters; slipstream's CLIP_VITB16
#     differs by timm's patch-embedding bias (+768) and OpenAI's ln_pre (-1536): 149,619,969.
#     open_clip's ViT-B-16 visual (86,192,640) less proj (393,216) and ln_pre (1,536) plus the bias
#     (768) is 85,798,656, slip_tools' 85.80M vision tower.
#   * `slip_tools models` (docs/models.md): CLIP_VITB16 149.62M, CLIP_VITL16 367.25M,
#     SLIP_VITB16 170.62M, CLIP_RN50 102.27M (open_clip's RN50 has embed_dim 1024 and a
#     1024x1024 text projection; slipstream's CLIP_RN50 projects both towers into 512).
# ---------------------------------------------------------------------------------------------
TEXT_B = dict(context_length=77, heads=8, layers=12, vocab_size=49408, width=512)
VIT_B16 = dict(type="vit", width=768, depth=12, heads=12, patch_size=16, image_size=224, mlp_ratio=4.0)
VIT_L16 = dict(type="vit", width=1024, depth=24, heads=16, patch_size=16, image_size=224, mlp_ratio=4.0)
RN50 = dict(type="modified_resnet", width=64, layers=[3, 4, 6, 3], heads=32, image_size=224, output_dim=1024)

MODELS = {
    "CLIP_VITB16": dict(family="clip", loss="clip", embed_dim=512, vision=VIT_B16, text=TEXT_B,
                        parameters=149_619_969),
    "CLIP_VITL16": dict(family="clip", loss="clip", embed_dim=512, vision=VIT_L16, text=TEXT_B,
                        parameters=367_254_017),
    "SLIP_VITB16": dict(family="slip", loss="clip", embed_dim=512, vision=VIT_B16, text=TEXT_B,
                        ssl=dict(mlp_dim=4096, emb_dim=256), parameters=170_616_321),
    "CLIP_RN50": dict(family="clip", loss="clip", embed_dim=512, vision=RN50, text=TEXT_B,
                      parameters=102_269_281),
    "SIGLIP_VITB16": dict(family="clip", loss="siglip", embed_dim=512, vision=VIT_B16, text=TEXT_B,
                          parameters=149_619_970),
}

# ---------------------------------------------------------------------------------------------
# Hardware assumptions (all stated in docs/scaling.md).
# ---------------------------------------------------------------------------------------------
NETWORKS = {
    # per-GPU NIC line rate, achievable fraction of it for NCCL's bus bandwidth, per-hop latency
    "ib400": dict(label="400 Gb/s InfiniBand per GPU", gbit=400.0, fraction=0.80, alpha_us=5.0),
    "eth100": dict(label="100 Gb/s Ethernet per GPU", gbit=100.0, fraction=0.65, alpha_us=20.0),
}
NVLINK = dict(gbyte=450.0, fraction=0.80, alpha_us=1.0)  # H100 SXM NVLink 4, per direction
HBM = dict(tbyte=3.35, fraction=0.70)                    # H100 SXM HBM3, for the memory-bound terms
GRAD_BYTES = 4       # gradients are fp32: parameters stay fp32 under autocast, buckets take their dtype
FEATURE_BYTES = 4    # l2_normalize's output is fp32 under CUDA autocast (norm runs in fp32)
ADAMW_BYTES_PER_PARAM = 36  # fused AdamW: read p, g, m, v, write p, m, v (28) + grad norm (4) + zero_grad (4)
CAT_BYTES_PER_PARAM = 8     # GradientSynchronizer::launch: at::cat of the bucket's gradients (read + write)
FINISH_BYTES_PER_PARAM = 16  # finish(): div_ (read + write) and copy_ back into .grad (read + write)
WORLD_SIZES = [8, 16, 32, 64, 128, 256, 512]


def matmul(m, k, n):
    return 2.0 * m * k * n


def conv(cin, cout, k, side):
    return 2.0 * cin * cout * k * k * side * side


class Unit:
    """A layer (or group) of the model: forward / backward FLOPs per sample and its parameters."""

    def __init__(self, label, forward, backward, params):
        self.label, self.forward, self.backward, self.params = label, forward, backward, params


def linear(prefix, fan_in, fan_out, bias=True):
    return [(prefix + ".weight", fan_in * fan_out)] + ([(prefix + ".bias", fan_out)] if bias else [])


def norm(prefix, width):
    return [(prefix + ".weight", width), (prefix + ".bias", width)]


# --- towers: units in forward order, FLOPs as models/flop_count.cpp counts them -----------------

def vit_units(v, prefix="visual"):
    """timm VisionTransformer. Returns (own params registered first, units in forward order)."""
    w, p, size = v["width"], v["patch_size"], v["image_size"]
    grid = size // p
    tokens = grid * grid + 1
    hidden = int(w * v["mlp_ratio"])
    own = [(prefix + ".cls_token", w), (prefix + ".pos_embed", tokens * w)]
    patch = conv(3, w, p, grid)
    units = [Unit("patch_embed", patch, patch, linear(prefix + ".patch_embed.proj", 3 * p * p, w))]
    block = matmul(tokens, w, 3 * w) + 2 * matmul(tokens, w, tokens) + matmul(tokens, w, w) + 2 * matmul(tokens, w, hidden)
    for i in range(v["depth"]):
        b = "%s.blocks.%d" % (prefix, i)
        params = (norm(b + ".norm1", w) + linear(b + ".attn.qkv", w, 3 * w) + linear(b + ".attn.proj", w, w) +
                  norm(b + ".norm2", w) + linear(b + ".mlp.fc1", w, hidden) + linear(b + ".mlp.fc2", hidden, w))
        units.append(Unit("block %d" % i, block, 2 * block, params))
    units.append(Unit("norm", 0.0, 0.0, norm(prefix + ".norm", w)))
    return own, units


def resnet_units(v, prefix="visual"):
    """CLIP's modified ResNet, with open_clip's attention-pool count (every token a query)."""
    w, size = v["width"], v["image_size"]
    side = size / 2
    first = conv(3, w // 2, 3, side)
    units = [
        Unit("stem conv1", first, first, [(prefix + ".conv1.weight", 3 * (w // 2) * 9)] + norm(prefix + ".bn1", w // 2)),
        Unit("stem conv2", conv(w // 2, w // 2, 3, side), 2 * conv(w // 2, w // 2, 3, side),
             [(prefix + ".conv2.weight", (w // 2) * (w // 2) * 9)] + norm(prefix + ".bn2", w // 2)),
        Unit("stem conv3", conv(w // 2, w, 3, side), 2 * conv(w // 2, w, 3, side),
             [(prefix + ".conv3.weight", (w // 2) * w * 9)] + norm(prefix + ".bn3", w)),
    ]
    side /= 2
    cin = w
    for stage in range(4):
        planes = w * (1 << stage)
        for block in range(v["layers"][stage]):
            stride = 2 if (stage > 0 and block == 0) else 1
            out_side = side / stride
            f = conv(cin, planes, 1, side) + conv(planes, planes, 3, side) + conv(planes, 4 * planes, 1, out_side)
            b = "%s.layer%d.%d" % (prefix, stage + 1, block)
            params = ([(b + ".conv1.weight", cin * planes)] + norm(b + ".bn1", planes) +
                      [(b + ".conv2.weight", planes * planes * 9)] + norm(b + ".bn2", planes) +
                      [(b + ".conv3.weight", planes * 4 * planes)] + norm(b + ".bn3", 4 * planes))
            if stride > 1 or cin != 4 * planes:
                f += conv(cin, 4 * planes, 1, out_side)
                params += [(b + ".downsample.0.weight", cin * 4 * planes)] + norm(b + ".downsample.1", 4 * planes)
            units.append(Unit("layer%d.%d" % (stage + 1, block), f, 2 * f, params))
            cin = 4 * planes
            side = out_side
    tokens, embed = side * side + 1, 32 * w
    f = 3 * matmul(tokens, embed, embed) + 2 * matmul(tokens, embed, tokens) + matmul(tokens, embed, v["output_dim"])
    a = prefix + ".attnpool"
    params = ([(a + ".positional_embedding", int(tokens) * embed)] + linear(a + ".k_proj", embed, embed) +
              linear(a + ".q_proj", embed, embed) + linear(a + ".v_proj", embed, embed) +
              linear(a + ".c_proj", embed, v["output_dim"]))
    units.append(Unit("attnpool", f, 2 * f, params))
    return [], units


def vision_units(v):
    return vit_units(v) if v["type"] == "vit" else resnet_units(v)


def vision_output_width(v):
    return v["width"] if v["type"] == "vit" else v["output_dim"]


def text_units(t):
    """OpenAI CLIP's text transformer: embedding (lookups, no FLOPs), blocks, ln_final."""
    w, n = t["width"], t["context_length"]
    block = matmul(n, w, 3 * w) + 2 * matmul(n, w, n) + matmul(n, w, w) + 2 * matmul(n, w, 4 * w)
    units = [Unit("token_embedding", 0.0, 0.0, [("token_embedding.weight", t["vocab_size"] * w)])]
    for i in range(t["layers"]):
        b = "transformer.resblocks.%d" % i
        params = ([(b + ".attn.in_proj_weight", 3 * w * w), (b + ".attn.in_proj_bias", 3 * w)] +
                  linear(b + ".attn.out_proj", w, w) + norm(b + ".ln_1", w) +
                  linear(b + ".mlp.c_fc", w, 4 * w) + linear(b + ".mlp.c_proj", 4 * w, w) + norm(b + ".ln_2", w))
        units.append(Unit("text block %d" % i, block, 2 * block, params))
    units.append(Unit("ln_final", 0.0, 0.0, norm("ln_final", w)))
    return units


def simclr_head_units(in_dim, mlp, emb):
    """SLIP's image_mlp: Linear-BN-ReLU-Linear-BN-ReLU-Linear, in forward order."""
    return [
        Unit("image_mlp.layer1", matmul(1, in_dim, mlp), 2 * matmul(1, in_dim, mlp), linear("image_mlp.layer1", in_dim, mlp)),
        Unit("image_mlp.bn1", 0.0, 0.0, norm("image_mlp.bn1", mlp)),
        Unit("image_mlp.layer2", matmul(1, mlp, mlp), 2 * matmul(1, mlp, mlp), linear("image_mlp.layer2", mlp, mlp)),
        Unit("image_mlp.bn2", 0.0, 0.0, norm("image_mlp.bn2", mlp)),
        Unit("image_mlp.layer3", matmul(1, mlp, emb), 2 * matmul(1, mlp, emb), linear("image_mlp.layer3", mlp, emb)),
    ]


# --- the whole model: registration order, per-step FLOPs, collectives, backward schedule ---------

class StepModel:
    """What one training step of a model does, at per-GPU batch `batch` (world size given later)."""

    def __init__(self, name, batch, gather_with_grad=True, gather_backward="all-reduce"):
        spec = MODELS[name]
        self.name, self.batch, self.spec = name, batch, spec
        self.gather_with_grad = gather_with_grad
        self.gather_kind = "ar" if gather_backward == "all-reduce" else "rs"
        v, t, e = spec["vision"], spec["text"], spec["embed_dim"]
        vw, tw = vision_output_width(v), t["width"]
        self.slip = spec["family"] == "slip"
        self.siglip = spec["loss"] == "siglip"
        self.embed_dim = e
        self.ssl_dim = spec["ssl"]["emb_dim"] if self.slip else 0
        self.ssl_mlp = spec["ssl"]["mlp_dim"] if self.slip else 0
        vis_own, self.vis = vision_units(v)
        self.txt = text_units(t)
        self.text_projection = Unit("text_projection", matmul(1, tw, e), 2 * matmul(1, tw, e), [("text_projection", tw * e)])
        self.image_projection = Unit("image_projection", matmul(1, vw, e), 2 * matmul(1, vw, e), [("image_projection", vw * e)])
        self.head = simclr_head_units(vw, self.ssl_mlp, self.ssl_dim) if self.slip else []
        # Registration order (libtorch's parameters(): a module's own parameters, then its
        # submodules, depth first): ClipModelImpl's own, then visual, token_embedding,
        # transformer, ln_final, then SLIP's image_mlp.
        root = [("positional_embedding", t["context_length"] * tw), ("text_projection", tw * e),
                ("image_projection", vw * e), ("logit_scale", 1)]
        if self.siglip:
            root.append(("logit_bias", 1))
        order = list(root) + vis_own
        for u in self.vis:
            order += u.params
        for u in self.txt:
            order += u.params
        for u in self.head:
            order += u.params
        self.registration = order
        self.parameters = sum(n for _, n in order)
        if self.parameters != spec["parameters"]:
            raise SystemExit("%s: the layer walk counts %d parameters, the table says %d"
                             % (name, self.parameters, spec["parameters"]))
        self.vis_own = vis_own

    def loss_flops(self, world):
        """Forward and backward FLOPs of the losses' logits over the gathered batch, as
        models/flop_count.cpp counts them, except SigLIP: its loop scores the B images against
        each rank's B texts, one product, where flop_count.cpp counts CLIP's two."""
        b, g = self.batch, self.batch * world
        f = matmul(b, self.embed_dim, g) if self.siglip else 2 * matmul(b, self.embed_dim, g)
        if self.slip:
            f += 4 * matmul(b, self.ssl_dim, g)           # SimCLR's aa, bb, ab, ba
        return f, 2 * f

    def tower_flops(self):
        """Forward and backward FLOPs of everything but the loss, per step."""
        views = 3 if self.slip else 1  # SLIP: the CLIP view and two SimCLR views (same 224 px side)
        fwd = views * sum(u.forward for u in self.vis) + sum(u.forward for u in self.txt)
        bwd = views * sum(u.backward for u in self.vis) + sum(u.backward for u in self.txt)
        fwd += self.text_projection.forward + self.image_projection.forward
        bwd += self.text_projection.backward + self.image_projection.backward
        if self.slip:
            fwd += 2 * sum(u.forward for u in self.head)
            bwd += 2 * sum(u.backward for u in self.head)
        return self.batch * fwd, self.batch * bwd

    def step_flops(self, world):
        tf, tb = self.tower_flops()
        lf, lb = self.loss_flops(world)
        return tf + lf, tb + lb

    # Collectives on the critical path, as (kind, bytes per rank, label). "ag": all-gather whose
    # input is `bytes` per rank; "ar": all-reduce of `bytes`.
    def forward_collectives(self):
        b, e, s = self.batch, self.embed_dim, FEATURE_BYTES
        out = []
        if self.slip:  # sync_batch_norm: per SimCLR view, per BN layer, an all-reduce of the sum and of the squares
            for view in ("aug1", "aug2"):
                for bn in ("bn1", "bn2"):
                    out += [("ar", self.ssl_mlp * 4, "%s %s mean" % (view, bn)), ("ar", self.ssl_mlp * 4, "%s %s var" % (view, bn))]
        if self.siglip:
            out.append(("ag", b * e * s, "text features"))
        else:
            out += [("ag", b * e * s, "image features"), ("ag", b * e * s, "text features")]
        if self.slip:
            out += [("ag", b * self.ssl_dim * s, "SimCLR q_a"), ("ag", b * self.ssl_dim * s, "SimCLR q_b")]
        return out

    def gather_backward(self, world):
        """all_gather_with_grad's backward: an all-reduce of the whole [world x B, d] gradient
        (src/dist/collectives.cpp); "rs" models the reduce-scatter it could be instead."""
        b, e, s, k = self.batch, self.embed_dim, FEATURE_BYTES, self.gather_kind
        out = []
        if self.slip:  # SimCLR's gathers were made last: their backward runs first
            out += [(k, world * b * self.ssl_dim * s, "SimCLR q_b grad"), (k, world * b * self.ssl_dim * s, "SimCLR q_a grad")]
        if self.siglip:
            out.append((k, world * b * e * s, "text features grad"))
        elif self.gather_with_grad:
            out += [(k, world * b * e * s, "text features grad"), (k, world * b * e * s, "image features grad")]
        return out

    def backward_schedule(self, world):
        """Backward in execution order: ("compute", flops, [ready parameter names]) and
        ("blocking", kind, bytes, label). The autograd engine runs the ready node created last
        first, so the loss, then the text tower, then the image tower (SLIP: the CLIP view, then
        the SimCLR views aug2 and aug1); a parameter's gradient is ready after its last use."""
        b = self.batch
        sched = []
        _, loss_bwd = self.loss_flops(world)
        sched.append(("compute", loss_bwd, ["logit_scale"] + (["logit_bias"] if self.siglip else [])))
        for kind, nbytes, label in self.gather_backward(world):
            sched.append(("blocking", kind, nbytes, label))
        names = lambda u: [n for n, _ in u.params]
        sched.append(("compute", b * self.text_projection.backward, names(self.text_projection)))
        for u in reversed(self.txt):
            ready = names(u)
            if u.label == "token_embedding":
                ready = ready + ["positional_embedding"]
            sched.append(("compute", b * u.backward, ready))

        def tower(ready_here):
            for u in reversed(self.vis):
                sched.append(("compute", b * u.backward, names(u) if ready_here else []))
            if ready_here:
                sched.append(("compute", 0.0, [n for n, _ in self.vis_own]))

        def head(ready_here, view):
            for u in reversed(self.head):
                if u.label.startswith("image_mlp.bn"):
                    bn = u.label.split(".")[1]
                    for stat in ("var", "mean"):
                        sched.append(("blocking", "ar", self.ssl_mlp * 4, "%s %s %s grad" % (view, bn, stat)))
                sched.append(("compute", b * u.backward, names(u) if ready_here else []))

        sched.append(("compute", b * self.image_projection.backward, names(self.image_projection)))
        if not self.slip:
            tower(True)
        else:
            tower(False)          # the CLIP view: the tower's gradients still wait for the SimCLR views
            head(False, "aug2")
            tower(False)
            head(True, "aug1")
            tower(True)
        return sched

    def buckets(self, bucket_bytes):
        """GradientSynchronizer's buckets: reverse registration order, a new bucket when the next
        gradient would pass bucket_bytes (a larger gradient gets a bucket of its own)."""
        out, size = [], 0
        for name, n in reversed(self.registration):
            nbytes = n * GRAD_BYTES
            if not out or size + nbytes > bucket_bytes:
                out.append(dict(params=[], bytes=0))
                size = 0
            out[-1]["params"].append(name)
            out[-1]["bytes"] += nbytes
            size += nbytes
        return out


# ---------------------------------------------------------------------------------------------
# Collective costs: alpha-beta, NCCL on nodes of G GPUs (NVLink inside, one NIC per GPU).
# ---------------------------------------------------------------------------------------------

class Fabric:
    def __init__(self, network, gpus_per_node):
        self.net = NETWORKS[network]
        self.key = network
        self.g = gpus_per_node
        self.nic = self.net["gbit"] / 8 * 1e9 * self.net["fraction"]   # bytes/s per NIC, achieved
        self.nvl = NVLINK["gbyte"] * 1e9 * NVLINK["fraction"]            # bytes/s per GPU over NVLink
        self.a_net = self.net["alpha_us"] * 1e-6
        self.a_nvl = NVLINK["alpha_us"] * 1e-6

    def nodes(self, n):
        return max(1, -(-n // self.g))

    def bus_bandwidth(self, n):
        """One node: NVLink. Several: NCCL's rings cross each node boundary once per channel, one
        channel per NIC, so a rank's bytes are spread over the node's G NICs; NVLink caps it."""
        if n <= self.g:
            return self.nvl
        return min(self.nvl, self.g * self.nic)

    def ring_path_latency(self, n):
        m = self.nodes(n)
        return (m - 1) * self.a_net + (n - m) * self.a_nvl

    def all_reduce(self, nbytes, n):
        if n <= 1:
            return 0.0
        m = self.nodes(n)
        ring = 2 * self.ring_path_latency(n)
        tree = 2 * (math.ceil(math.log2(m)) * self.a_net + (min(n, self.g) - 1) * self.a_nvl)
        return min(ring, tree) + 2 * (n - 1) / n * nbytes / self.bus_bandwidth(n)

    def all_gather(self, nbytes_per_rank, n):
        if n <= 1:
            return 0.0
        return self.ring_path_latency(n) + (n - 1) * nbytes_per_rank / self.bus_bandwidth(n)

    def reduce_scatter(self, nbytes, n):
        if n <= 1:
            return 0.0
        return self.ring_path_latency(n) + (n - 1) / n * nbytes / self.bus_bandwidth(n)

    def collective(self, kind, nbytes, n):
        if kind == "ar":
            return self.all_reduce(nbytes, n)
        if kind == "rs":
            return self.reduce_scatter(nbytes, n)
        return self.all_gather(nbytes, n)

    @staticmethod
    def bus_bytes(kind, nbytes, n):
        """Bytes a rank sends in a ring: all-reduce 2(N-1)/N x size, reduce-scatter (N-1)/N x size,
        all-gather (N-1) x its part."""
        if n <= 1:
            return 0.0
        if kind == "ar":
            return 2 * (n - 1) / n * nbytes
        if kind == "rs":
            return (n - 1) / n * nbytes
        return (n - 1) * nbytes


# ---------------------------------------------------------------------------------------------
# Compute terms.
# ---------------------------------------------------------------------------------------------

def hbm_seconds(nbytes):
    return nbytes / (HBM["tbyte"] * 1e12 * HBM["fraction"])


class Compute:
    """Forward / backward / optimizer seconds at world size 1 and the FLOP rates that scale the
    loss's world-size-dependent logits."""

    def __init__(self, model, source, fwd_s, bwd_s, opt_s, note):
        self.model, self.source, self.note = model, source, note
        f, b = model.step_flops(1)
        self.fwd1, self.bwd1, self.opt = fwd_s, bwd_s, opt_s
        self.rate_f, self.rate_b = f / fwd_s, b / bwd_s

    def at(self, world):
        f, b = self.model.step_flops(world)
        return f / self.rate_f, b / self.rate_b, self.opt


# ---------------------------------------------------------------------------------------------
# One step at world size N: forward collectives, backward with buckets, finish(), optimizer.
# ---------------------------------------------------------------------------------------------

def simulate(model, compute, fabric, world, bucket_bytes):
    fwd, bwd, opt = compute.at(world)
    f_flops, b_flops = model.step_flops(world)
    # Forward: the collectives block (the loss needs every rank's features; BN needs the sums).
    fwd_comm, fwd_bus = 0.0, 0.0
    for kind, nbytes, _ in model.forward_collectives():
        fwd_comm += fabric.collective(kind, nbytes, world)
        fwd_bus += fabric.bus_bytes(kind, nbytes, world)
    # Backward: a compute clock and one NCCL stream (c10d's NCCL backend runs a communicator's
    # collectives in order on one stream).
    buckets = model.buckets(bucket_bytes)
    bucket_of = {}
    for i, bk in enumerate(buckets):
        bk["waiting"] = len(bk["params"])
        for p in bk["params"]:
            bucket_of[p] = i
    clock, nccl_free = 0.0, 0.0
    blocking, blocking_bus, stall = 0.0, 0.0, 0.0
    grad_comm, cat_time = 0.0, 0.0
    ends = [None] * len(buckets)
    seconds_per_flop = bwd / b_flops
    for item in model.backward_schedule(world):
        if item[0] == "compute":
            clock += item[1] * seconds_per_flop
            for p in item[2]:
                i = bucket_of[p]
                buckets[i]["waiting"] -= 1
                if buckets[i]["waiting"] == 0:  # launch(): at::cat on the compute stream, then the all-reduce
                    c = hbm_seconds(buckets[i]["bytes"] / GRAD_BYTES * CAT_BYTES_PER_PARAM) if world > 1 else 0.0
                    clock += c
                    cat_time += c
                    t = fabric.all_reduce(buckets[i]["bytes"], world)
                    start = max(clock, nccl_free)
                    nccl_free = ends[i] = start + t
                    grad_comm += t
        else:
            _, kind, nbytes, _ = item
            t = fabric.collective(kind, nbytes, world)
            start = max(clock, nccl_free)  # queued behind any bucket already in flight
            stall += start - clock         # gradient communication the compute stream waits for
            blocking += t                  # then the collective itself
            blocking_bus += fabric.bus_bytes(kind, nbytes, world)
            clock = nccl_free = start + t
    assert all(e is not None for e in ends), "a bucket never launched"
    backward_end = clock
    # finish(): wait for each bucket in index order, div_ and copy_ into .grad on the compute stream.
    finish_time, finish_wait = 0.0, 0.0
    for i, bk in enumerate(buckets):
        finish_wait += max(0.0, ends[i] - clock)  # copies of earlier buckets hide later ones' tails
        clock = max(clock, ends[i])
        if world > 1:
            c = hbm_seconds(bk["bytes"] / GRAD_BYTES * FINISH_BYTES_PER_PARAM)
            clock += c
            finish_time += c
    tail = max(0.0, max(ends) - backward_end) if world > 1 else 0.0
    exposed_grad = stall + finish_wait  # the time the compute stream waits on gradient all-reduces
    step = fwd + fwd_comm + clock + opt
    compute_s = fwd + bwd + opt
    grad_bytes = model.parameters * GRAD_BYTES
    return dict(
        world=world, nodes=fabric.nodes(world),
        grad_bytes=grad_bytes,
        grad_bus_bytes=Fabric.bus_bytes("ar", grad_bytes, world),
        grad_nic_bytes=(Fabric.bus_bytes("ar", grad_bytes, world) / fabric.g if world > fabric.g else 0.0),
        feature_bus_bytes=fwd_bus + blocking_bus,
        bucket_count=len(buckets), last_bucket_bytes=buckets[-1]["bytes"],
        largest_bucket_bytes=max(bk["bytes"] for bk in buckets),
        bus_bandwidth_gbs=fabric.bus_bandwidth(world) / 1e9 if world > 1 else 0.0,
        forward_ms=fwd * 1e3, backward_ms=bwd * 1e3, optimizer_ms=opt * 1e3,
        forward_comm_ms=fwd_comm * 1e3, backward_blocking_ms=blocking * 1e3,
        grad_allreduce_ms=grad_comm * 1e3, grad_exposed_ms=exposed_grad * 1e3,
        grad_stall_in_backward_ms=stall * 1e3, grad_wait_in_finish_ms=finish_wait * 1e3,
        grad_tail_after_backward_ms=tail * 1e3,
        bucket_copy_ms=(cat_time + finish_time) * 1e3,
        compute_ms=compute_s * 1e3, step_ms=step * 1e3,
        efficiency=compute_s / step,
        flops_per_step=f_flops + b_flops,
    )


# ---------------------------------------------------------------------------------------------
# Inputs: slip_bench JSON (bare, in bench/step/run.sh's {"results": [{"slipstream": ...}]}, or a list).
# ---------------------------------------------------------------------------------------------

def bench_records(node):
    if isinstance(node, dict):
        if {"model", "batch", "phases_ms", "flops_per_step"} <= node.keys():
            if node.get("trainer", "slipstream") == "slipstream":
                yield node
            return
        for value in node.values():
            yield from bench_records(value)
    elif isinstance(node, list):
        for value in node:
            yield from bench_records(value)


def parse_overrides(items):
    out = {}
    for item in items or []:
        name, _, ms = item.partition("=")
        if not ms:
            raise SystemExit("--step-ms-override wants MODEL=MS, got '%s'" % item)
        out[name] = float(ms)
    return out


def assumed_optimizer_s(model):
    return hbm_seconds(model.parameters * ADAMW_BYTES_PER_PARAM)


def compute_from_flops(model, mfu, peak_tflops):
    f, b = model.step_flops(1)
    rate = mfu * peak_tflops * 1e12
    opt = assumed_optimizer_s(model)
    note = ("assumed: counted FLOPs (%.2f TFLOP/step) at MFU %.2f of %.1f TFLOP/s, optimizer %.2f ms from HBM traffic"
            % ((f + b) / 1e12, mfu, peak_tflops, opt * 1e3))
    return Compute(model, "assumed-mfu", f / rate, b / rate, opt, note)


def compute_from_override(model, ms, phases=None):
    total = ms / 1e3
    if phases:
        parts = [phases["forward"], phases["backward"], phases["optimizer"]]
        s = sum(parts)
        fwd, bwd, opt = (total * p / s for p in parts)
        how = "split as the measured phases"
    else:
        opt = assumed_optimizer_s(model)
        f, b = model.step_flops(1)
        fwd, bwd = (total - opt) * f / (f + b), (total - opt) * b / (f + b)
        how = "optimizer from HBM traffic, the rest split by counted FLOPs"
    return Compute(model, "override", fwd, bwd, opt, "assumed: step %.1f ms given (--step-ms-override), %s" % (ms, how))


def build_rows(args):
    rows, notes = [], []
    overrides = parse_overrides(args.step_ms_override)
    for path in args.results:
        with open(path) as f:
            data = json.load(f)
        for rec in bench_records(data):
            name = rec["model"]
            if args.only and name not in args.only:
                continue
            if name not in MODELS:
                notes.append("%s (%s): not in the built-in model table, skipped" % (name, path))
                continue
            measured_batch = int(rec["batch"])
            ph = rec["phases_ms"]
            if name in overrides or args.assume_mfu:
                batch = args.batch or measured_batch
                model = StepModel(name, batch, not args.no_gather_grad, args.gather_backward)
                if name in overrides:
                    same = batch == measured_batch
                    comp = compute_from_override(model, overrides[name], ph if same else None)
                else:
                    comp = compute_from_flops(model, args.assume_mfu, args.peak_tflops)
                comp.note += "; bytes at batch %d/GPU (the file measured batch %d, %s, %s)" % (
                    batch, measured_batch, rec.get("precision"), rec.get("device"))
                rows.append(comp)
                continue
            model = StepModel(name, measured_batch, not args.no_gather_grad, args.gather_backward)
            counted = sum(model.step_flops(1))
            if abs(counted - rec["flops_per_step"]) > 1e-6 * rec["flops_per_step"]:
                notes.append("%s: the file's flops_per_step %.6g differs from the layer walk's %.6g"
                             % (name, rec["flops_per_step"], counted))
            comp = Compute(model, "measured", ph["forward"] / 1e3, ph["backward"] / 1e3, ph["optimizer"] / 1e3,
                           "measured: %s, %s, %s, batch %d (%s)" % (path, rec.get("device"), rec.get("precision"),
                                                                  measured_batch, "slip_bench phases_ms"))
            rows.append(comp)
    for name in args.model or []:
        if name not in MODELS:
            raise SystemExit("unknown model %s (built in: %s)" % (name, ", ".join(MODELS)))
        if not args.batch:
            raise SystemExit("--model needs --batch")
        model = StepModel(name, args.batch, not args.no_gather_grad, args.gather_backward)
        if name in overrides:
            rows.append(compute_from_override(model, overrides[name]))
        elif args.assume_mfu:
            rows.append(compute_from_flops(model, args.assume_mfu, args.peak_tflops))
        else:
            raise SystemExit("--model %s: no measurement given; add --assume-mfu or --step-ms-override" % name)
    return rows, notes


# ---------------------------------------------------------------------------------------------
# Output.
# ---------------------------------------------------------------------------------------------

def mb(x):
    return x / 1e6


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", nargs="*", help="slip_bench JSON files (bare, or bench/step/run.sh's)")
    ap.add_argument("--model", nargs="+", help="built-in models to model without a file (needs --batch and "
                    "--assume-mfu or --step-ms-override)")
    ap.add_argument("--only", nargs="+", help="keep only these models from the files")
    ap.add_argument("--batch", type=int, default=0, help="per-GPU batch for assumed step times (default: the file's)")
    ap.add_argument("--assume-mfu", type=float, default=0.0, help="derive the step time from counted FLOPs at this MFU")
    ap.add_argument("--peak-tflops", type=float, default=989.4, help="peak for --assume-mfu (H100 dense bf16: 989.4)")
    ap.add_argument("--step-ms-override", action="append", metavar="MODEL=MS",
                    help="forward + backward + optimizer ms of a model's step at the row's batch")
    ap.add_argument("--world-sizes", default=",".join(map(str, WORLD_SIZES)))
    ap.add_argument("--networks", default="ib400,eth100", help="comma list of: " + ", ".join(NETWORKS))
    ap.add_argument("--gpus-per-node", type=int, default=8, help="GPUs per node, one NIC each (1: a flat ring over NICs)")
    ap.add_argument("--bucket-mb", type=int, default=25, help="GradientSynchronizer bucket size (MiB), as --bucket-mb")
    ap.add_argument("--no-gather-grad", action="store_true", help="CLIP loss gathers without gradient (--gather-with-grad false)")
    ap.add_argument("--gather-backward", choices=["all-reduce", "reduce-scatter"], default="all-reduce",
                    help="all_gather_with_grad's backward: all-reduce (what the code does) or a reduce-scatter (hypothetical)")
    ap.add_argument("--summary-only", action="store_true", help="print only the efficiency summary")
    ap.add_argument("--json", help="write every number to this file")
    args = ap.parse_args(argv)
    if args.only:
        args.only = set(args.only)
    worlds = [int(w) for w in args.world_sizes.split(",")]
    networks = args.networks.split(",")
    for n in networks:
        if n not in NETWORKS:
            raise SystemExit("unknown network %s (known: %s)" % (n, ", ".join(NETWORKS)))
    rows, notes = build_rows(args)
    if not rows:
        raise SystemExit("nothing to model" + ("".join("\n  " + n for n in notes)))
    bucket_bytes = args.bucket_mb << 20

    print("# Data-parallel scaling model (paper estimate; see docs/scaling.md)\n")
    print("Assumptions: %d GPUs per node, NVLink %.0f GB/s x %.2f, alpha %.0f us per NVLink hop; "
          "gradients %d-byte (fp32), features %d-byte (fp32); bucket %d MiB; CLIP gather %s gradient, "
          "gather backward as %s; memory-bound terms at %.2f TB/s x %.2f."
          % (args.gpus_per_node, NVLINK["gbyte"], NVLINK["fraction"], NVLINK["alpha_us"], GRAD_BYTES,
             FEATURE_BYTES, args.bucket_mb, "without" if args.no_gather_grad else "with", args.gather_backward,
             HBM["tbyte"], HBM["fraction"]))
    for key in networks:
        n = NETWORKS[key]
        print("- %s: %s, %.0f%% of line rate achieved, alpha %.0f us per network hop"
              % (key, n["label"], 100 * n["fraction"], n["alpha_us"]))
    for note in notes:
        print("- note: " + note)
    print()

    out = dict(assumptions=dict(gpus_per_node=args.gpus_per_node, nvlink=NVLINK, hbm=HBM, networks={k: NETWORKS[k] for k in networks},
                                grad_bytes=GRAD_BYTES, feature_bytes=FEATURE_BYTES, bucket_mb=args.bucket_mb,
                                gather_with_grad=not args.no_gather_grad,
                                gather_backward=args.gather_backward), rows=[])
    summary = []
    for comp in rows:
        m = comp.model
        fabrics = {k: Fabric(k, args.gpus_per_node) for k in networks}
        results = {k: [simulate(m, comp, fabrics[k], w, bucket_bytes) for w in worlds] for k in networks}
        first = results[networks[0]][0]
        header = ("## %s, batch %d/GPU: %s\n\n%.2fM parameters, %.1f MB of fp32 gradients in %d buckets "
                  "(largest %.1f MB, last %.1f MB); compute at 1 GPU: forward %.1f ms, backward %.1f ms, "
                  "optimizer %.1f ms.\n\n%s\n"
                  % (m.name, m.batch, comp.source, m.parameters / 1e6, mb(first["grad_bytes"]), first["bucket_count"],
                     mb(first["largest_bucket_bytes"]), mb(first["last_bucket_bytes"]),
                     comp.fwd1 * 1e3, comp.bwd1 * 1e3, comp.opt * 1e3, comp.note))
        if not args.summary_only:
            print(header)
            print("| network | GPUs | nodes | grad bus MB/GPU | feature bus MB/GPU | grad all-reduce ms | grad exposed ms "
                  "| feature + BN ms | bucket copies ms | compute ms | step ms | efficiency |")
            print("|---|---|---|---|---|---|---|---|---|---|---|---|")
            for k in networks:
                for r in results[k]:
                    print("| %s | %d | %d | %.0f | %.1f | %.2f | %.2f | %.2f | %.2f | %.1f | %.1f | %.1f%% |"
                          % (k, r["world"], r["nodes"], mb(r["grad_bus_bytes"]), mb(r["feature_bus_bytes"]),
                             r["grad_allreduce_ms"], r["grad_exposed_ms"], r["forward_comm_ms"] + r["backward_blocking_ms"],
                             r["bucket_copy_ms"], r["compute_ms"], r["step_ms"], 100 * r["efficiency"]))
            print()
        summary.append((m.name, m.batch, comp.source, results))
        out["rows"].append(dict(model=m.name, batch=m.batch, source=comp.source, note=comp.note, parameters=m.parameters,
                                forward_ms_1gpu=comp.fwd1 * 1e3, backward_ms_1gpu=comp.bwd1 * 1e3,
                                optimizer_ms=comp.opt * 1e3, results=results))

    print("## Efficiency summary (compute / step)\n")
    print("| model | batch/GPU | compute | network | " + " | ".join(str(w) for w in worlds) + " |")
    print("|---|---|---|---|" + "---|" * len(worlds))
    for name, batch, source, results in summary:
        for k in networks:
            print("| %s | %d | %s | %s | " % (name, batch, source, k) +
                  " | ".join("%.1f%%" % (100 * r["efficiency"]) for r in results[k]) + " |")
    print()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)
        print("wrote " + args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
