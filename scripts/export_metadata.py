#!/usr/bin/env python3
"""Prints SLIP's pickled or numpy corpus metadata as JSON lines {"key": ..., "captions": [...]}.

`slip_tools index` runs this (the library embeds a copy) to convert metadata C++ cannot read:
  yfcc15m  yfcc15m.pkl: a pickled list of (photo index, title, description), already cleaned by
           SLIP's make_dataset.py; key = the photo index, captions = [title, description]
  cc3m     cc3m.npy: a numpy object array of {"image_id", "captions"}; key = image_id
  cc12m    cc12m.npy: a numpy object array of {"image_name", "image_id", "captions"}; key = image_name
usage: export_metadata.py CORPUS PATH
"""
import json
import pickle
import sys


def records(corpus, path):
    if corpus == "yfcc15m":
        with open(path, "rb") as f:
            for index, title, description in pickle.load(f):
                yield str(int(index)), [str(title), str(description)]
    elif corpus in ("cc3m", "cc12m"):
        try:
            import numpy as np
        except ImportError:
            sys.exit("export_metadata.py: reading %s needs numpy in this Python (pip install numpy, or pass --python)" % path)
        field = "image_id" if corpus == "cc3m" else "image_name"
        for entry in np.load(path, allow_pickle=True):
            captions = entry["captions"]
            if isinstance(captions, str):
                captions = [captions]
            yield str(entry[field]), [str(c) for c in captions]
    else:
        sys.exit("export_metadata.py: no Python export for corpus '%s' (yfcc15m, cc3m or cc12m)" % corpus)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    out = open(sys.stdout.fileno(), "w", encoding="utf-8", newline="\n", closefd=False)
    for key, captions in records(sys.argv[1], sys.argv[2]):
        out.write(json.dumps({"key": key, "captions": captions}, ensure_ascii=False) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
