# Writes tests/data/package/: ten 8x8 grey PNG images and samples.jsonl for the
# tiny TorchScript fixture (tiny.pt: image [1,8,8], 6 tokens of a 20-id
# vocabulary, 3 classes), the data of the installed-package test
# (tests/package_test.sh). Pure Python (zlib, struct), deterministic. The
# labels are tiny.pt's own clean predictions (so that all ten samples are
# attacked), read from the results.jsonl of a first `muroan attack` run:
#   python3 tests/data/make_package_samples.py
#   muroan attack --manifest tests/data/package/manifest.json --samples 10 --out /tmp/pk
#   python3 tests/data/make_package_samples.py /tmp/pk/results.jsonl
import json, os, random, struct, sys, zlib

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "package")
os.makedirs(out, exist_ok=True)
rng = random.Random(7)

def png(path, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(r) for r in rows)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

predicted = {}
if len(sys.argv) > 1:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        predicted[r["id"]] = r["clean_prediction"]

with open(os.path.join(out, "samples.jsonl"), "w") as f:
    for i in range(10):
        name = f"img-{i}.png"
        png(os.path.join(out, name), [[rng.randrange(256) for _ in range(8)] for _ in range(8)])
        tokens = [rng.randrange(1, 20) for _ in range(rng.randrange(3, 7))]
        f.write(json.dumps({"id": f"s{i}", "image": name, "tokens": tokens, "label": predicted.get(f"s{i}", rng.randrange(3))}) + "\n")
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump({"model": "../tiny.pt",
               "inputs": [{"name": "image", "kind": "image", "shape": [1, 8, 8]},
                          {"name": "tokens", "kind": "tokens", "max_len": 6, "pad_id": 0}],
               "classes": ["a", "b", "c"], "fusion_method": "fusion"}, f, indent=2)
    f.write("\n")
