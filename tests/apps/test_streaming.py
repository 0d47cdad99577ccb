#!/usr/bin/env python3
"""Streamed WebDataset shards end to end, on loopback only:
  1. shards written by the `webdataset` package's ShardWriter, served four ways (a local path,
     pipe:cat, pipe:curl and http:// from a Python http.server this test starts on 127.0.0.1), give
     the same samples in the same order (slip_tools stream);
  2. slip_tools index counts them into a sizes.json that slip_pretrain finds beside the shards, over
     HTTP, and trains on them end to end; shards laid out as img2dataset writes them (.jpg .txt
     .json, failed downloads absent, NNNNN_stats.json beside) train with the epoch from the stats;
  3. a 404, a truncated shard, a file that is no tar, a command that exits 1 and one that hangs are
     each skipped within --shard-timeout and counted in log.txt, and the run finishes; with
     --shard-errors fail the run stops naming the shard;
  4. a run stopped mid-shard by SIGTERM and started again ends with the weights of an
     uninterrupted run, byte for byte.

  test_streaming.py BIN_DIR BPE WORK_DIR
"""
import functools
import http.server
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import webdataset as wds
from PIL import Image
from safetensors import safe_open

BIN, BPE, WORK = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
SHARDS, PER_SHARD = 5, 12
failures = []


def check(what, ok, detail=""):
    print(f"[streaming] {'ok  ' if ok else 'FAIL'} {what} {detail}", flush=True)
    if not ok:
        failures.append(what)


def run(*args, expect_ok=True, timeout=300):
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)
    if expect_ok and result.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(map(str, args))} exited {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def jpeg(i):
    image = Image.new("RGB", (40, 36), ((i * 37) % 256, (i * 91) % 256, (i * 13) % 256))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def write_shard_writer_corpus(folder):
    """ShardWriter's own layout: shard-000000.tar ..., maxcount samples each."""
    os.makedirs(folder)
    with wds.ShardWriter(os.path.join(folder, "shard-%06d.tar"), maxcount=PER_SHARD, verbose=0) as sink:
        for i in range(SHARDS * PER_SHARD):
            sink.write({"__key__": f"sample{i:04d}", "jpg": jpeg(i), "txt": f"a square of colour number {i}"})


def write_img2dataset_corpus(folder):
    """As img2dataset 1.47's WebDatasetSampleWriter writes a shard: webdataset's TarWriter with
    jpg, txt and json (its metadata, indent 4) per success, failed downloads absent, and its logger's
    NNNNN_stats.json beside."""
    os.makedirs(folder)
    for shard in range(2):
        successes, failed = 0, 0
        with wds.TarWriter(os.path.join(folder, f"{shard:05d}.tar")) as tar:
            for i in range(10):
                key = f"{shard:05d}{i:04d}"
                url = f"http://images.example/{key}.jpg"
                if i % 4 == 3:  # failed to download: no sample in the tar
                    failed += 1
                    continue
                caption = f"downloaded picture {key}"
                meta = {"url": url, "caption": caption, "key": key, "status": "success", "error_message": None,
                        "width": 40, "height": 36, "original_width": 40, "original_height": 36,
                        "exif": "{}", "sha256": "0" * 64}
                tar.write({"__key__": key, "jpg": jpeg(100 * shard + i), "txt": caption, "json": json.dumps(meta, indent=4)})
                successes += 1
        stats = {"count": 10, "successes": successes, "failed_to_download": failed, "failed_to_resize": 0,
                 "duration": 1.5, "bytes_downloaded": 12345, "start_time": 1700000000.0, "end_time": 1700000001.5,
                 "status_dict": {"success": successes, "Not Found": failed}}
        json.dump(stats, open(os.path.join(folder, f"{shard:05d}_stats.json"), "w"), indent=4)


class Handler(http.server.SimpleHTTPRequestHandler):
    """http.server's file handler, plus /flaky/NAME and /flaky-ranges/NAME: the first request for a
    file breaks off halfway through it; the second is answered whole (/flaky/, a server without
    ranges) or from the Range asked (/flaky-ranges/)."""
    broken = set()

    def log_message(self, *args):
        pass

    def do_GET(self):
        for prefix in ("/flaky/", "/flaky-ranges/"):
            if self.path.startswith(prefix):
                return self.flaky(os.path.join(self.directory, "shards", self.path[len(prefix):]), prefix == "/flaky-ranges/")
        return super().do_GET()

    def flaky(self, path, ranges):
        data = open(path, "rb").read()
        start = 0
        if ranges and self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][len("bytes="):].split("-")[0])
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if self.path not in Handler.broken:
            Handler.broken.add(self.path)
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(data[start:])


def serve(folder):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def stream(root, count):
    out = run(os.path.join(BIN, "slip_tools"), "stream", "--root", root, "--count", count, "--shuffle-buffer", 16,
              "--shard-readers", 2, "--seed", 3).stdout
    return [(line.split("\t")[0].rsplit(":", 1)[1], line.split("\t")[1]) for line in out.splitlines()]


def pretrain(root, out, *extra, expect_ok=True, timeout=300):
    model = os.path.join(WORK, "tiny.json")
    return run(os.path.join(BIN, "slip_pretrain"), "--dataset", "webdataset", "--root", root, "--model", model,
               "--bpe", BPE, "--batch-size", 6, "--workers", 2, "--device", "cpu", "--print-freq", 1,
               "--shuffle-buffer", 16, "--shard-readers", 2, "--output-dir", out, *extra,
               expect_ok=expect_ok, timeout=timeout)


def log_lines(run_dir):
    return [json.loads(line) for line in open(os.path.join(run_dir, "log.txt"))]


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    json.dump({"name": "STREAM_TINY", "family": "clip", "embed_dim": 16,
               "vision": {"type": "modified_resnet", "image_size": 32, "width": 8, "heads": 2,
                          "resnet_layers": [1, 1, 1, 1], "output_dim": 16},
               "text": {"context_length": 16, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}},
              open(os.path.join(WORK, "tiny.json"), "w"))
    shards = os.path.join(WORK, "shards")
    write_shard_writer_corpus(shards)
    write_img2dataset_corpus(os.path.join(WORK, "img2dataset"))
    damaged = os.path.join(WORK, "damaged")
    os.makedirs(damaged)
    data = open(os.path.join(shards, "shard-000001.tar"), "rb").read()
    open(os.path.join(damaged, "truncated.tar"), "wb").write(data[:700])  # inside its first image
    open(os.path.join(damaged, "not_a_tar.tar"), "wb").write(b"<html><body>Access Denied</body></html>\n" * 30)
    server, base = serve(WORK)
    try:
        pattern = "shard-{000000..000004}.tar"
        local = os.path.join(shards, pattern)

        # 1. Four sources, one order.
        total = SHARDS * PER_SHARD
        reference = stream(local, total + 7)  # into the second pass
        check("the local shards give every sample once a pass", len(set(reference[:total])) == total,
              f"({len(set(reference[:total]))} distinct of {total})")
        for name, root in (("pipe:cat", "pipe:cat " + local), ("pipe:curl", f"pipe:curl -s -f -L {base}/shards/{pattern}"),
                           ("http://", f"{base}/shards/{pattern}")):
            got = stream(root, total + 7)
            same = sum(a == b for a, b in zip(got, reference))
            check(f"{name} gives the local order", got == reference, f"({same}/{len(reference)} equal)")

        # A transfer broken halfway is taken up again: from the byte reached (Range), or, from a server
        # without ranges, read again and skipped ahead.
        for flaky in ("flaky", "flaky-ranges"):
            got = stream(f"{base}/{flaky}/{pattern}", total + 7)
            check(f"transfers broken halfway and retried ({flaky}) give the local order", got == reference,
                  f"({sum(a == b for a, b in zip(got, reference))}/{len(reference)} equal)")

        # 2. sizes.json by slip_tools index, found beside the shards over HTTP; img2dataset's stats.
        indexed = run(os.path.join(BIN, "slip_tools"), "index", "--dataset", "webdataset", "--root", local,
                      "--output", os.path.join(shards, "sizes.json")).stdout
        sizes = json.load(open(os.path.join(shards, "sizes.json")))
        check("slip_tools index counts ShardWriter's shards", sizes == {f"shard-{i:06d}.tar": PER_SHARD for i in range(SHARDS)},
              indexed.strip())
        out = pretrain(f"{base}/shards/{pattern}", os.path.join(WORK, "http_run"), "--epochs", 2).stdout
        lines = log_lines(os.path.join(WORK, "http_run"))
        check("ShardWriter's shards train end to end over HTTP, the epoch from sizes.json",
              len(lines) == 2 and f"{total} samples per epoch (sample counts of {SHARDS} of {SHARDS} shards, {SHARDS} from sizes.json)" in out
              and f"Epoch: [1][{total // 6}/{total // 6}]" in out, f"(loss {lines[-1]['train_loss']:.3f})")
        out = pretrain(os.path.join(WORK, "img2dataset", "{00000..00001}.tar"), os.path.join(WORK, "img2dataset_run"),
                       "--epochs", 1, "--streaming", "on").stdout
        check("img2dataset's layout trains, the epoch from its _stats.json",
              "16 samples per epoch (sample counts of 2 of 2 shards, 2 from img2dataset's _stats.json)" in out
              and "Epoch: [0][2/2]" in out and len(log_lines(os.path.join(WORK, "img2dataset_run"))) == 1)

        # 3. Faults skipped within the timeout and counted; or fatal with --shard-errors fail.
        faulty = "::".join([local, f"{base}/shards/missing.tar", os.path.join(damaged, "truncated.tar"),
                            os.path.join(damaged, "not_a_tar.tar"), "pipe:exit 1", "pipe:sleep 600"])
        started = time.time()
        result = pretrain(faulty, os.path.join(WORK, "faults"), "--epochs", 1, "--train-num-samples", total,
                          "--shard-timeout", 2, "--max-failed-shards", 0.6)
        seconds = time.time() - started
        last = log_lines(os.path.join(WORK, "faults"))[-1]
        skipped = [line for line in result.stderr.splitlines() if line.startswith("[data] skipped shard ")]
        named = all(any(part in line for line in skipped) for part in
                    ("missing.tar: HTTP 404", "truncated.tar: truncated", "not_a_tar.tar: not a tar archive",
                     "pipe:exit 1: the command exited with status 1", "pipe:sleep 600: no data for 2 s"))
        check("five faulty shards skipped, each named once with its reason, the run finished",
              len(skipped) == 5 and named, "\n  " + "\n  ".join(skipped))
        check("log.txt counts them", last.get("failed_shards") == 5, f"(failed_shards {last.get('failed_shards')})")
        check("the hang cost about the timeout, not more", seconds < 60, f"({seconds:.0f} s in all)")
        result = pretrain(os.path.join(shards, "shard-000000.tar") + "::pipe:exit 1", os.path.join(WORK, "strict"),
                          "--epochs", 1, "--train-num-samples", 12, "--shard-errors", "fail", expect_ok=False)
        last_line = (result.stderr.strip().splitlines() or [""])[-1]
        check("--shard-errors fail stops the run naming the shard",
              result.returncode != 0 and "pipe:exit 1: the command exited with status 1 (--shard-errors fail)" in last_line,
              f"(exit {result.returncode}: {last_line})")

        # 4. SIGTERM mid-shard, then resume: the weights of an uninterrupted run.
        common = ("--epochs", 2, "--seed", 7, "--streaming", "on")  # local shards: random access unless asked
        pretrain(local, os.path.join(WORK, "whole"), *common)
        stopped = os.path.join(WORK, "stopped")
        command = [os.path.join(BIN, "slip_pretrain"), "--dataset", "webdataset", "--root", local, "--model",
                   os.path.join(WORK, "tiny.json"), "--bpe", BPE, "--batch-size", 6, "--workers", 2, "--device", "cpu",
                   "--print-freq", 1, "--shuffle-buffer", 16, "--shard-readers", 2, "--output-dir", stopped, *common]
        process = subprocess.Popen([str(a) for a in command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            if line.startswith("Epoch: [0][4/"):
                process.send_signal(signal.SIGTERM)
        process.wait(timeout=120)
        checkpoint = os.path.realpath(os.path.join(stopped, "checkpoint_last"))
        with safe_open(os.path.join(checkpoint, "training_state.safetensors"), "pt") as state:
            positions = json.loads(state.metadata()["data_positions"])
        stream_state = json.loads(positions["ranks"][0])
        mid_shard = any(slot[0] >= 0 and 0 < slot[1] < PER_SHARD for slot in stream_state["slots"])
        check("SIGTERM saved mid-epoch with the stream position, mid-shard",
              process.returncode == 0 and "_step_0000000" not in checkpoint and mid_shard,
              f"({os.path.basename(checkpoint)}, slots {stream_state['slots']}, {len(stream_state['buffer'])} buffered)")
        resumed = pretrain(local, stopped, *common).stdout
        same = open(os.path.join(WORK, "whole", "checkpoint_last", "model.safetensors"), "rb").read() == \
            open(os.path.join(stopped, "checkpoint_last", "model.safetensors"), "rb").read()
        check("the resumed run ends with the uninterrupted run's weights, byte for byte",
              same and "=> resumed from" in resumed)
    finally:
        server.shutdown()
    if failures:
        raise SystemExit(f"FAIL: {failures}")
    print("[streaming] all checks passed", flush=True)


if __name__ == "__main__":
    main()
