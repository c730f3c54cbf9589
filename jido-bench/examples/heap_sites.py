#!/usr/bin/env python3
"""Live bytes per session of each allocation site in a dhat profile that
ended while N sessions ran: `heap_sites.py dhat-heap.json N [frames]`.

Groups sites by their first frames inside this workspace or tokio (the
allocator's and std's own frames skipped), largest first."""
import json
import sys

path, n = sys.argv[1], int(sys.argv[2])
depth = int(sys.argv[3]) if len(sys.argv) > 3 else 3
profile = json.load(open(path))
frames = profile["ftbl"]
skip = ("alloc::", "dhat::", "core::", "std::", "<alloc::", "<dhat::", "__rust", "[root]", "<core::")
sites = {}
for pp in profile["pps"]:
    live = pp.get("eb", 0)
    if not live:
        continue
    names = []
    for index in pp["fs"]:
        frame = frames[index]
        # "0x...: function (file:line)"
        text = frame.split(": ", 1)[-1]
        if text.startswith(skip):
            continue
        names.append(text.split(" (")[0][:110])
        if len(names) == depth:
            break
    key = " <- ".join(names) or "?"
    bytes_, blocks = sites.get(key, (0, 0))
    sites[key] = (bytes_ + live, blocks + pp.get("ebk", 0))
total = sum(b for b, _ in sites.values())
print(f"live at the end: {total / n:.0f} B per session")
for key, (bytes_, blocks) in sorted(sites.items(), key=lambda kv: -kv[1][0])[:40]:
    if bytes_ / n < 4:
        break
    print(f"{bytes_ / n:7.0f} B {blocks / n:5.2f} blk  {key}")
