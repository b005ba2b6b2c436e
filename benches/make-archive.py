#!/usr/bin/env python3
"""Writes a docker-archive (pre-25 layout, what `docker save` of Docker 20.10
produces) of one 3-layer image of about 1.5 GB: busybox, 1 GiB of random
bytes, 512 MiB of zeros. Deterministic except for the random layer.

usage: make-archive.py OUT.tar WORKDIR
"""
import hashlib, io, json, os, shutil, sys, tarfile

out, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)

def layer_from(files):
    """files: list of (name, path or bytes). Returns path of the layer tar."""
    path = os.path.join(work, f"layer{len(os.listdir(work))}.tar")
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        for name, src in files:
            if isinstance(src, bytes):
                ti = tarfile.TarInfo(name); ti.size = len(src); ti.mtime = 0
                t.addfile(ti, io.BytesIO(src))
            else:
                ti = t.gettarinfo(src, arcname=name); ti.mtime = 0; ti.uid = ti.gid = 0
                ti.uname = ti.gname = ""
                with open(src, "rb") as f:
                    t.addfile(ti, f)
    return path

def fill(path, size, random):
    with open(path, "wb") as f:
        chunk = 1 << 24
        for _ in range(size // chunk):
            f.write(os.urandom(chunk) if random else bytes(chunk))

big, zeros = os.path.join(work, "big.bin"), os.path.join(work, "zeros.bin")
fill(big, 1 << 30, True)
fill(zeros, 512 << 20, False)
layers = [
    layer_from([("bin/busybox", "/usr/bin/busybox")]),
    layer_from([("big.bin", big)]),
    layer_from([("zeros.bin", zeros)]),
]
os.remove(big); os.remove(zeros)

def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while b := f.read(1 << 20):
            h.update(b)
    return h.hexdigest()

diff_ids = [sha256_file(p) for p in layers]
config = json.dumps({
    "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
    "config": {"Cmd": ["/bin/busybox", "sh"]},
    "history": [{"created": "2024-01-01T00:00:00Z", "created_by": f"layer {i}"} for i in range(3)],
    "rootfs": {"type": "layers", "diff_ids": [f"sha256:{d}" for d in diff_ids]},
}, separators=(",", ":")).encode()
config_hex = hashlib.sha256(config).hexdigest()
manifest = json.dumps([{"Config": f"{config_hex}.json", "RepoTags": ["bench/big:1"],
                        "Layers": [f"{d}/layer.tar" for d in diff_ids]}]).encode()
with tarfile.open(out, "w") as t:
    for d, p in zip(diff_ids, layers):
        t.add(p, arcname=f"{d}/layer.tar")
    for name, data in [(f"{config_hex}.json", config), ("manifest.json", manifest)]:
        ti = tarfile.TarInfo(name); ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
for p in layers:
    os.remove(p)
print(f"sha256:{config_hex}")
