#!/usr/bin/env python3
"""Builds small corpora in every format slipstream reads, with the real Python tools (pickle, numpy,
tarfile, zipfile, PIL, torchvision), and expected.json holding what a reader must return.

usage: make_corpora.py OUT
"""
import gzip
import io
import json
import os
import pickle
import re
import shutil
import sys
import tarfile
import zipfile
from urllib.parse import unquote

import numpy as np
from PIL import Image


def jpeg(seed, size=(40, 30)):
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def png(seed, size=(24, 20)):
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def checksum(pixels):
    """Position-sensitive checksum of a uint8 [H, W, 3] array (the C++ test computes the same)."""
    flat = pixels.astype(np.int64).reshape(-1)
    weights = np.arange(flat.size, dtype=np.int64) % 251 + 1
    return int((flat * weights).sum())


# SLIP's make_dataset.py cleaning, verbatim.
cleanhtml = re.compile('<a.*?>|</a>|<b>|</b>|<i>|</i>')
cleanurl = re.compile('http\\S+|www\\S+')


def slip_clean(text):
    text = unquote(text).replace('+', ' ')
    text = re.sub(cleanhtml, '', text)
    return re.sub(cleanurl, '', text)


def main(out):
    out = os.path.abspath(out)
    shutil.rmtree(out, ignore_errors=True)  # zips are appended to: start from nothing
    expected = {}

    # ---------------------------------------------------------------- yfcc15m
    root = os.path.join(out, "yfcc15m")
    photos = [12345678, 12345999, 12001001, 7, 12345001]
    stored = {12345678: zipfile.ZIP_STORED, 12345999: zipfile.ZIP_DEFLATED, 12001001: zipfile.ZIP_STORED,
              7: zipfile.ZIP_DEFLATED}  # 12345001 is left out of its zip: a missing sample
    for photo in photos:
        if photo not in stored:
            continue
        index = format(photo, "0>8d")
        path = os.path.join(root, "images", index[:2], index[2:5]) + ".zip"
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with zipfile.ZipFile(path, "a") as z:
            z.writestr(index[5:] + ".jpg", jpeg(photo), compress_type=stored[photo])
    samples = [(p, "title %d" % p, "description of %d" % p) for p in photos]
    with open(os.path.join(out, "yfcc15m.pkl"), "wb") as f:
        pickle.dump(samples, f)
    expected["yfcc15m"] = [{"key": str(p), "captions": [t, d], "readable": p in stored} for p, t, d in samples]
    expected["yfcc15m_locations"] = {str(p): [os.path.join("images", format(p, "0>8d")[:2], format(p, "0>8d")[2:5]) + ".zip",
                                              format(p, "0>8d")[5:] + ".jpg"] for p in photos}

    # YFCC100M's raw metadata and SLIP's cleaning of it.
    raw = [
        (101, "Hello+World%21", "A+%3Ca+href%3D%22x%22%3Elink%3C%2Fa%3E+and+%3Cb%3Ebold%3C%2Fb%3E"),
        (102, "visit+http%3A%2F%2Fexample.com%2Fa+now", "www.flickr.com+photo+%E2%9C%93+caf%C3%A9"),
        (103, "bad+%FF%FE+bytes+%C3", "%3Ci%3Eitalic%3C%2Fi%3E+%2B+plus"),
        (104, "not+in+subset", "skipped"),
        (105, "", "%3Cabbr%3Eabbr%3C%2Fabbr%3E+tab%09http%3A%2F%2Fx.y%0Anext+line"),
    ]
    with open(os.path.join(out, "yfcc100m_dataset.txt"), "w") as f:
        for photo, title, description in raw:
            row = [str(photo)] + ["field%d" % i for i in range(1, 8)] + [title, description] + ["x"] * 15
            f.write("\t".join(row) + "\n")
    with open(os.path.join(out, "yfcc100m_subset_data.tsv"), "w") as f:
        for photo, _, _ in raw:
            if photo != 104:
                f.write("%d\tsome\tother\tcolumns\n" % photo)
    expected["yfcc100m"] = [{"key": str(p), "captions": [slip_clean(t), slip_clean(d)]} for p, t, d in raw if p != 104]

    # ---------------------------------------------------------------- cc3m / cc12m (numpy object arrays)
    for corpus in ("cc3m", "cc12m"):
        entries = []
        for i in range(4):
            name = "images/%s_%d.jpg" % (corpus, i)
            write(os.path.join(out, corpus, name), jpeg(100 + i))
            captions = ["%s caption %d" % (corpus, i), "another caption %d" % i] if i % 2 else ["only caption %d é" % i]
            entry = {"image_id": name, "captions": captions} if corpus == "cc3m" else \
                {"image_name": name, "image_id": i, "captions": captions}
            entries.append(entry)
        np.save(os.path.join(out, corpus + ".npy"), np.array(entries, dtype=object), allow_pickle=True)
        expected[corpus] = [{"key": e["image_id"] if corpus == "cc3m" else e["image_name"], "captions": e["captions"]}
                            for e in entries]

    # ---------------------------------------------------------------- coco
    annotations = []
    ids = [139, 285, 632]
    for n, image_id in enumerate(ids):
        write(os.path.join(out, "coco", "train2017", "%012d.jpg" % image_id), jpeg(image_id))
    for n, (image_id, caption) in enumerate([(285, "a bear"), (139, "a room"), (285, "a brown bear"), (632, "a bed"),
                                             (139, "a living room")]):
        annotations.append({"image_id": image_id, "id": n, "caption": caption})
    with open(os.path.join(out, "captions_train2017.json"), "w") as f:
        json.dump({"info": {}, "images": [], "annotations": annotations}, f)
    grouped = {}
    for a in annotations:
        grouped.setdefault(a["image_id"], []).append(a["caption"])
    expected["coco"] = [{"key": "train2017/%012d.jpg" % k, "captions": v} for k, v in grouped.items()]

    # ---------------------------------------------------------------- redcaps
    redcaps = [{"image_id": "abc%d" % i, "subreddit": "pics" if i % 2 else "earthporn", "caption": "redcaps %d ✓" % i,
                "url": "x"} for i in range(3)]
    for a in redcaps:
        write(os.path.join(out, "redcaps", a["subreddit"], a["image_id"] + ".jpg"), jpeg(200 + len(a["image_id"])))
    with open(os.path.join(out, "redcaps_annotations.json"), "w") as f:
        json.dump(redcaps, f)
    expected["redcaps"] = [{"key": "%s/%s.jpg" % (a["subreddit"], a["image_id"]), "captions": [a["caption"]]} for a in redcaps]

    # ---------------------------------------------------------------- csv / tsv (open_clip)
    import csv
    rows = [("csv/a.jpg", 'a caption, with a comma'), ("csv/b.png", 'a "quoted" caption'),
            ("csv/c.jpg", "multi\nline caption"), ("csv/missing.jpg", "its image does not exist")]
    write(os.path.join(out, "csv", "a.jpg"), jpeg(300))
    write(os.path.join(out, "csv", "b.png"), png(301))
    write(os.path.join(out, "csv", "c.jpg"), b"this is not an image")
    with open(os.path.join(out, "train.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["title", "filepath", "extra"])
        for path, caption in rows:
            writer.writerow([caption, path, "1"])
    with open(os.path.join(out, "train.tsv"), "w", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(["filepath", "title"])
        for path, caption in rows:
            writer.writerow([path, caption])
    expected["csv"] = [{"key": p, "captions": [c]} for p, c in rows]

    # ---------------------------------------------------------------- webdataset shards
    os.makedirs(os.path.join(out, "shards"), exist_ok=True)
    wds = []
    for shard in range(3):
        path = os.path.join(out, "shards", "%05d.tar" % shard)
        with tarfile.open(path, "w", format=tarfile.PAX_FORMAT if shard == 1 else tarfile.GNU_FORMAT) as tar:
            def add(name, data):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            for i in range(4):
                key = "%05d%04d" % (shard, i)
                if shard == 1 and i == 3:
                    key = "sub/dir/" + "long" * 30 + key  # a name past ustar's 100 bytes
                if i == 2:
                    add(key + ".png", png(shard * 10 + i))
                    add(key + ".json", json.dumps({"caption": "json caption %s" % key, "width": 1}).encode())
                    wds.append({"shard": shard, "key": key, "caption": "json caption %s" % key})
                elif shard == 2 and i == 3:
                    add(key + ".jpg", jpeg(shard * 10 + i))  # no caption: incomplete, left out
                else:
                    add(key + ".jpg", jpeg(shard * 10 + i))
                    add(key + ".txt", ("caption %s\n" % key).encode())
                    add(key + ".json", b'{"caption": "ignored"}')
                    wds.append({"shard": shard, "key": key, "caption": "caption %s" % key})
    expected["webdataset"] = {"samples": wds, "shard_sizes": [4, 4, 3], "incomplete": 1}
    # A damaged copy: the last shard cut inside its second member.
    with open(os.path.join(out, "shards", "00002.tar"), "rb") as f:
        data = f.read()
    cut = tarfile.open(os.path.join(out, "shards", "00002.tar"))
    members = cut.getmembers()
    write(os.path.join(out, "damaged", "00000.tar"), data[:members[1].offset_data + 10])
    expected["webdataset_damaged"] = {"complete_members": 1}

    # Keys with dots, members in any order within a key, an extra field ("KEY.seg.png"), a key
    # without a caption (left out).
    dotted = []
    os.makedirs(os.path.join(out, "dotted"), exist_ok=True)
    with tarfile.open(os.path.join(out, "dotted", "00000.tar"), "w") as tar:
        def add_dotted(name, data):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add_dotted("img.2024.001.txt", b"the caption comes first\n")
        add_dotted("img.2024.001.jpg", jpeg(301))
        dotted.append({"key": "img.2024.001", "caption": "the caption comes first"})
        add_dotted("img.2024.002.jpg", jpeg(302))
        add_dotted("img.2024.002.seg.png", png(303))
        add_dotted("img.2024.002.json", json.dumps({"caption": "from the json", "url": "http://x/2.jpg"}).encode())
        dotted.append({"key": "img.2024.002", "caption": "from the json"})
        add_dotted("photo.v2.jpg", jpeg(304))  # no caption
        add_dotted("a.b.c.json", json.dumps({"text": "text field"}).encode())
        add_dotted("a.b.c.jpeg", jpeg(305))
        dotted.append({"key": "a.b.c", "caption": "text field"})
    expected["webdataset_dotted"] = {"samples": dotted, "incomplete": 1}

    # ---------------------------------------------------------------- filelist (SLIP)
    files = []
    for i in range(5):
        path = os.path.join(out, "filelist", "img%d.jpg" % i)
        write(path, jpeg(400 + i))
        files.append(path)
    np.save(os.path.join(out, "filelist", "train_images.npy"), np.array(files))
    np.save(os.path.join(out, "filelist", "train_labels.npy"), np.array([3, 1, 4, 1, 5], dtype=np.int64))
    counts = ["count_3", "count_10", "count_9", "count_3", "count_4"]
    np.save(os.path.join(out, "filelist", "val_images.npy"), np.array(["img%d.jpg" % i for i in range(5)]))
    np.save(os.path.join(out, "filelist", "val_labels.npy"), np.array(counts))
    clevr = ['count_10', 'count_3', 'count_4', 'count_5', 'count_6', 'count_7', 'count_8', 'count_9']
    expected["filelist"] = {"train_labels": [3, 1, 4, 1, 5], "val_labels": [sorted(set(counts)).index(c) for c in counts],
                            "slip_clevr_labels": [clevr.index(c) for c in counts]}

    # ---------------------------------------------------------------- imagefolder (torchvision's order)
    folder = os.path.join(out, "imagefolder")
    for cls, names in {"dog": ["b.jpg", "a.JPG", "notes.txt", "sub/c.png"], "cat": ["z.png", "y.jpeg"],
                       "ant": ["x.webp"]}.items():
        for n, name in enumerate(names):
            path = os.path.join(folder, cls, name)
            if name.endswith(".txt"):
                write(path, b"not an image")
            elif name.endswith(".webp"):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                Image.new("RGB", (8, 8), (1, 2, 3)).save(path, format="WEBP")
            else:
                write(path, jpeg(500 + n) if "jp" in name.lower() else png(500 + n))
    from torchvision.datasets import ImageFolder
    dataset = ImageFolder(folder)
    expected["imagefolder"] = {"classes": dataset.classes,
                               "samples": [[os.path.relpath(p, folder), t] for p, t in dataset.samples]}

    # ---------------------------------------------------------------- CIFAR-10/100 binary, MNIST idx, STL-10 binary
    rng = np.random.default_rng(7)
    cifar_dir = os.path.join(out, "cifar10", "cifar-10-batches-bin")
    os.makedirs(cifar_dir, exist_ok=True)
    cifar_train = []
    for b in range(1, 6):
        labels = rng.integers(0, 10, size=2, dtype=np.uint8)
        images = rng.integers(0, 256, size=(2, 3, 32, 32), dtype=np.uint8)
        with open(os.path.join(cifar_dir, "data_batch_%d.bin" % b), "wb") as f:
            for label, image in zip(labels, images):
                f.write(bytes([label]) + image.tobytes())
                cifar_train.append({"label": int(label), "checksum": checksum(image.transpose(1, 2, 0))})
    labels = rng.integers(0, 10, size=3, dtype=np.uint8)
    images = rng.integers(0, 256, size=(3, 3, 32, 32), dtype=np.uint8)
    with open(os.path.join(cifar_dir, "test_batch.bin"), "wb") as f:
        for label, image in zip(labels, images):
            f.write(bytes([label]) + image.tobytes())
    with open(os.path.join(cifar_dir, "batches.meta.txt"), "w") as f:
        f.write("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n")
    expected["cifar10"] = {"train": cifar_train,
                           "test": [{"label": int(l), "checksum": checksum(i.transpose(1, 2, 0))} for l, i in zip(labels, images)]}
    cifar100_dir = os.path.join(out, "cifar100", "cifar-100-binary")
    os.makedirs(cifar100_dir, exist_ok=True)
    coarse = rng.integers(0, 20, size=3, dtype=np.uint8)
    fine = rng.integers(0, 100, size=3, dtype=np.uint8)
    images = rng.integers(0, 256, size=(3, 3, 32, 32), dtype=np.uint8)
    with open(os.path.join(cifar100_dir, "test.bin"), "wb") as f:
        for c, l, image in zip(coarse, fine, images):
            f.write(bytes([c, l]) + image.tobytes())
    expected["cifar100_test"] = [{"label": int(l), "checksum": checksum(i.transpose(1, 2, 0))} for l, i in zip(fine, images)]

    mnist_raw = os.path.join(out, "mnist", "MNIST", "raw")
    os.makedirs(mnist_raw, exist_ok=True)
    digits = rng.integers(0, 256, size=(4, 28, 28), dtype=np.uint8)
    digit_labels = rng.integers(0, 10, size=4, dtype=np.uint8)
    images_idx = bytes([0, 0, 8, 3]) + (4).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2 + digits.tobytes()
    labels_idx = bytes([0, 0, 8, 1]) + (4).to_bytes(4, "big") + digit_labels.tobytes()
    with open(os.path.join(mnist_raw, "t10k-images-idx3-ubyte"), "wb") as f:
        f.write(images_idx)
    with gzip.open(os.path.join(mnist_raw, "t10k-labels-idx1-ubyte.gz"), "wb") as f:
        f.write(labels_idx)
    expected["mnist_test"] = [{"label": int(l), "checksum": checksum(np.repeat(d[:, :, None], 3, axis=2))}
                              for d, l in zip(digits, digit_labels)]

    stl_dir = os.path.join(out, "stl10", "stl10_binary")
    os.makedirs(stl_dir, exist_ok=True)
    stl_images = rng.integers(0, 256, size=(2, 3, 96, 96), dtype=np.uint8)
    stl_labels = np.array([1, 10], dtype=np.uint8)
    stl_images.tofile(os.path.join(stl_dir, "test_X.bin"))
    stl_labels.tofile(os.path.join(stl_dir, "test_y.bin"))
    # torchvision's STL10.__loadfile: reshape (-1, 3, 96, 96), transpose (0, 1, 3, 2); labels - 1
    as_torchvision = np.transpose(np.reshape(np.fromfile(os.path.join(stl_dir, "test_X.bin"), dtype=np.uint8),
                                             (-1, 3, 96, 96)), (0, 1, 3, 2))
    expected["stl10_test"] = [{"label": int(l) - 1, "checksum": checksum(i.transpose(1, 2, 0))}
                              for l, i in zip(stl_labels, as_torchvision)]

    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main(sys.argv[1])
