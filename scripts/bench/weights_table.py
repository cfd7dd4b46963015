#!/usr/bin/env python3
"""Tabulates one `benchmark pallet --json-file` run: every benchmarked extrinsic at its worst case (every
component at its highest value), next to `pallet_balances::transfer_keep_alive` from the same run.

    weights_table.py RESULTS.json

Time is the median extrinsic execution time over the repeats at the worst-case components (wasm,
compiled); reads and writes are the storage accesses counted by the benchmark (repeat accesses excluded).
"""
import json
import statistics
import sys


def worst_case(entry):
    rows = entry["time_results"]
    top = max(tuple(v for _, v in r["components"]) for r in rows) if rows and rows[0]["components"] else ()
    at_top = [r for r in rows if tuple(v for _, v in r["components"]) == top]
    db = [r for r in entry["db_results"] if tuple(v for _, v in r["components"]) == top] or at_top
    return (
        statistics.median(r["extrinsic_time"] for r in at_top),
        db[0]["reads"],
        db[0]["writes"],
        ", ".join(f"{name}={value}" for (name, value) in at_top[0]["components"]) or "–",
    )


def main(path):
    results = json.load(open(path))
    text = lambda v: v if isinstance(v, str) else bytes(v).decode()
    name = lambda e: (text(e["pallet"]), text(e["benchmark"]))
    table = {name(e): worst_case(e) for e in results}
    reference = table[("pallet_balances", "transfer_keep_alive")][0]
    print("| extrinsic | worst case | time (µs) | reads | writes | × transfer_keep_alive |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (pallet, bench), (time, reads, writes, components) in sorted(table.items()):
        print(f"| `{pallet}::{bench}` | {components} | {time / 1000:.1f} | {reads} | {writes} | "
              f"**{time / reference:.2f}×** |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
