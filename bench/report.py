#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/report.py - turn the JSON of `ipcnet-bench all --json-file F` into the
markdown tables of docs/benchmarks.md (figures, ratios to the floor and to
each peer, targets).

    build/bin/ipcnet-bench all --cpus 0,1 --json-file run.json
    python3 bench/report.py run.json > tables.md
    python3 bench/report.py --compare old.json new.json   # IPCNet, old vs new
"""
import json
import sys


def fig(r, key):
    v = r.get(key)
    return v["value"] if isinstance(v, dict) else None


def num(v, unit=""):
    if v is None:
        return "-"
    if v >= 1e6:
        return f"{v / 1e6:.2f} M{unit}"
    if v >= 1e4:
        return f"{v / 1e3:.1f} k{unit}"
    if v >= 100:
        return f"{v:.0f}{unit}"
    return f"{v:.1f}{unit}"


def size(n):
    n = int(n)
    if n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if (n + 1024) % (1 << 20) == 0:
        return f"{(n + 1024) >> 20} MiB-1 KiB"
    if n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "-"
    return f"{a / b:.{digits}f}x"


def status(r):
    return f"{r['status']}: {r['note']}" if r["status"] != "ok" else ""


def rows(d, bench, transport=None):
    return [r for r in d["results"] if r["bench"] == bench and
            (transport is None or r["transport"] == transport)]


def one(d, bench, transport, default=False, **kw):
    for r in rows(d, bench, transport):
        if default and transport == "ipcnet" and not r["default"]:
            continue
        if all(fig(r, k) == v for k, v in kw.items()):
            return r
    return None


def header(d):
    m = d["machine"]
    pinned = ",".join(str(c) for c in m["pinned_cpus"]) or "no"
    print(f"- machine: {m['cpu']}, {m['cores']} cores online, {m['kernel']}")
    la = ", ".join(f"{x:.2f}" for x in m["loadavg_at_start"])
    print(f"- load average at start: {la}; pinned: {pinned}")
    print(f"- IPCNet {d['ipcnet_version']}, {d['date']}; command: `{d['command']}`")
    if d.get("quick"):
        print("- **quick mode: the timings mean nothing**")
    print()


def rtt(d):
    rs = rows(d, "rtt")
    if not rs:
        return
    sizes = sorted({fig(r, "size") for r in rs})
    for sz in sizes:
        floor = one(d, "rtt", "uds", size=sz)
        ip = one(d, "rtt", "ipcnet", default=True, size=sz)
        print(f"#### rtt, {size(sz)}\n")
        print("| transport | variant | p50 us | p99 us | max us | round trips/s "
              "| p50 / floor | IPCNet p50 / this |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in rs:
            if fig(r, "size") != sz:
                continue
            name = r["transport"] + (" (default)" if r["default"] else "")
            if r["status"] != "ok":
                print(f"| {name} | {r['variant']} | {status(r)} |||||")
                continue
            p50 = fig(r, "p50")
            print(f"| {name} | {r['variant']} | {num(p50)} | {num(fig(r, 'p99'))} | "
                  f"{num(fig(r, 'max'))} | {num(fig(r, 'rate'))} | "
                  f"{ratio(p50, fig(floor, 'p50') if floor else None)} | "
                  f"{ratio(fig(ip, 'p50') if ip else None, p50)} |")
        print()
        print("IPCNet (default): the better of its two blocking provider modes; "
              "*low latency*: both nodes opened with `spin_us`.\n")
        for r in rs:
            if fig(r, "size") == sz and r["status"] == "ok" and r["note"]:
                print(f"- {r['transport']} {r['variant']}: {r['note']}")
        print()


def thr(d):
    rs = rows(d, "thr")
    if not rs:
        return
    ip = one(d, "thr", "ipcnet", default=True)
    print("#### thr, 64 B one-way\n")
    print("| transport | variant | arrived | sent/s | received/s | IPCNet received/s / this |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rs:
        name = r["transport"] + (" (default)" if r["default"] else "")
        if r["status"] != "ok":
            print(f"| {name} | {r['variant']} | {status(r)} ||||")
            continue
        rx = fig(r, "receive_rate")
        print(f"| {name} | {r['variant']} | {fig(r, 'arrived'):.0f} of {fig(r, 'sent'):.0f} "
              f"| {num(fig(r, 'send_rate'))} | {num(rx)} | "
              f"{ratio(fig(ip, 'receive_rate') if ip else None, rx)} |")
    for r in rs:
        if r["transport"] == "ipcnet" and r["note"]:
            print(f"\n- ipcnet {r['variant']}: {r['note']}")
    print()


def bulk_label(r):
    """IPCNet's bulk variants side by side: publish (a copy into the slot),
    loan, loan without the checksum."""
    v = r.get("variant", "")
    if r["transport"] != "ipcnet" or "loan" not in v:
        return r["transport"]
    return "ipcnet loan, no checksum" if "no checksum" in v else "ipcnet loan"


def bulk_one(d, label, **kw):
    for r in rows(d, "bulk"):
        if bulk_label(r) == label and all(fig(r, k) == v for k, v in kw.items()):
            return r
    return None


def bulk(d):
    rs = rows(d, "bulk")
    if not rs:
        return
    peers = []
    for r in rs:
        if bulk_label(r) not in peers:
            peers.append(bulk_label(r))
    keys = []
    for r in rs:
        k = (fig(r, "size"), fig(r, "subscribers"))
        if k not in keys:
            keys.append(k)
    print("#### bulk: p50 latency (us) and samples/s\n")
    print("| size | subs | " + " | ".join(f"{p} p50 | {p} samples/s" for p in peers) + " |")
    print("|---|---:|" + "---:|---:|" * len(peers))
    for sz, subs in keys:
        cells = []
        for p in peers:
            r = bulk_one(d, p, size=sz, subscribers=subs)
            if not r:
                cells += ["-", "-"]
            elif r["status"] != "ok":
                cells += [r["status"], ""]
            else:
                cells += [num(fig(r, "p50")), num(fig(r, "rate"))]
        print(f"| {size(sz)} | {subs:.0f} | " + " | ".join(cells) + " |")
    print()
    others = [p for p in peers if not p.startswith("ipcnet")]
    print("#### bulk: IPCNet / peer (samples/s: higher is better for IPCNet; "
          "p50 latency: lower is better)\n")
    print("| size | subs | " + " | ".join(f"samples/s vs {p} | p50 vs {p}" for p in others)
          + " |")
    print("|---|---:|" + "---:|---:|" * len(others))
    for sz, subs in keys:
        ip = bulk_one(d, "ipcnet", size=sz, subscribers=subs)
        cells = []
        for p in others:
            r = bulk_one(d, p, size=sz, subscribers=subs)
            if not ip or ip["status"] != "ok" or not r or r["status"] != "ok":
                cells += ["-", "-"]
            else:
                cells += [ratio(fig(ip, "rate"), fig(r, "rate")),
                          ratio(fig(ip, "p50"), fig(r, "p50"))]
        print(f"| {size(sz)} | {subs:.0f} | " + " | ".join(cells) + " |")
    print()
    print("IPCNet: *ipcnet* is `ipcn_publish()` from the application's buffer (one copy, into a "
          "shared-memory slot); *loan* writes the sample straight into the slot "
          "(`ipcn_loan_new`); *no checksum* skips the publish-time XXH3 pass.\n")
    notes = {r["note"] for r in rs if r["status"] != "ok"}
    for n in sorted(notes):
        print(f"- {n}")
    print()


def py(d):
    rs = rows(d, "py")
    if not rs:
        return
    print("#### py: the Python binding (two /usr/bin/python3 processes)\n")
    print("| what | p50 us | p99 us | rate/s | publish p50 us |")
    print("|---|---:|---:|---:|---:|")
    for r in rs:
        if r["status"] != "ok":
            print(f"| {r['variant']} | {status(r)} ||||")
            continue
        print(f"| {r['variant']} | {num(fig(r, 'p50'))} | {num(fig(r, 'p99'))} | "
              f"{num(fig(r, 'rate'))} | {num(fig(r, 'publish_p50'))} |")
    print()


def net(d):
    """Issue 18: two hosts (two network namespaces joined by a veth pair)."""
    for bench, title in (("net-rtt", "64 B request/reply round trip"),
                         ("net-bulk", "8 MiB samples, 1 publisher, 1 subscriber")):
        rs = rows(d, bench)
        if not rs:
            continue
        floor = one(d, bench, "tcp")
        ip = one(d, bench, "ipcnet")
        key = "p50" if bench == "net-rtt" else "rate"
        print(f"#### {bench}: {title}, over a veth pair between two network namespaces\n")
        print("| transport | variant | p50 us | p99 us | max us | "
              + ("round trips/s" if bench == "net-rtt" else "samples/s | MB/s")
              + " | / raw TCP | IPCNet / this |")
        print("|---|---|---:|---:|---:|---:|" + ("" if bench == "net-rtt" else "---:|")
              + "---:|---:|")
        for r in rs:
            if r["status"] != "ok":
                print(f"| {r['transport']} | {r['variant']} | {status(r)} |||||"
                      + ("" if bench == "net-rtt" else "|"))
                continue
            v = fig(r, key)
            rate = num(fig(r, "rate"))
            if bench == "net-bulk":
                bw = fig(r, "bandwidth")
                rate += f" | {bw * 1e3:.0f}" if bw is not None else " | -"
            fv = fig(floor, key) if floor and floor["status"] == "ok" else None
            iv = fig(ip, key) if ip and ip["status"] == "ok" else None
            print(f"| {r['transport']} | {r['variant']} | {num(fig(r, 'p50'))} | "
                  f"{num(fig(r, 'p99'))} | {num(fig(r, 'max'))} | {rate} | "
                  f"{ratio(v, fv)} | {ratio(iv, v)} |")
        print()
        for r in rs:
            if r["status"] == "ok" and r["note"]:
                print(f"- {r['transport']} {r['variant']}: {r['note']}")
        print()


def idle(d):
    for r in rows(d, "idle"):
        print("#### idle\n")
        if r["status"] != "ok":
            print(f"- {status(r)}\n")
        else:
            print(f"- {r['variant']}: {fig(r, 'cpu'):.3f} % of one core, "
                  f"{fig(r, 'wakeups'):.1f} wake-ups/s ({r['note']})\n")


def scale(d):
    rs = rows(d, "scale")
    if not rs:
        return
    print("#### scale: N node processes on one host, all linked (each IPCNet node "
          "announces one resource)\n")
    print("| transport | nodes | idle CPU % of one core | wake-ups/s | RSS KiB/node | "
          "PSS KiB/node | private KiB/node | fds/node | new node synced | killed node "
          "dropped p50 / max | |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rs:
        if r["status"] != "ok":
            print(f"| {r['transport']} | {r['variant']} | {status(r)} ||||||||")
            continue
        sync = fig(r, "sync")
        sync = f"{sync:.1f} ms" if sync is not None else "-"
        drop = "-"
        if fig(r, "p50") is not None:
            drop = f"{fig(r, 'p50') / 1e3:.2f} / {fig(r, 'max') / 1e3:.2f} ms"
        mem = [fig(r, k) for k in ("rss", "pss", "private", "fds")]
        mem = ["-" if v is None else f"{v:.0f}" for v in mem]
        print(f"| {r['transport']} | {fig(r, 'nodes'):.0f} | {fig(r, 'cpu'):.3f} | "
              f"{fig(r, 'wakeups'):.1f} | {' | '.join(mem)} | {sync} | {drop} | "
              f"{r['note']} |")
    print()


def takeover(d):
    rs = rows(d, "takeover")
    if not rs:
        return
    print("#### takeover: an owned stream at 1 kHz, strong and weak hot standby; the "
          "subscriber's gap when the strong fails\n")
    print("| how | rounds | p50 | p99 | max | take-back p50 |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rs:
        if r["status"] != "ok":
            print(f"| {r['variant']} | {status(r)} |||||")
            continue
        ms = [fig(r, k) / 1e3 for k in ("p50", "p99", "max", "takeback_p50")]
        print(f"| {r['variant']} | {fig(r, 'rounds'):.0f} | {ms[0]:.2f} ms | {ms[1]:.2f} ms | "
              f"{ms[2]:.2f} ms | {ms[3]:.2f} ms |")
    print()
    for r in rs:
        if r["status"] == "ok":
            print(f"- {r['variant']}: {r['note']}")
    print()


def ns(v):
    if v is None:
        return "-"
    if v >= 1e5:
        return f"{v / 1e3:.0f} us"
    if v >= 1e4:
        return f"{v / 1e3:.1f} us"
    if v >= 1e3:
        return f"{v / 1e3:.2f} us"
    return f"{v:.0f} ns"


def cbor(d):
    rs = rows(d, "cbor")
    if not rs:
        return
    print("#### cbor: 100-field map, 1 MiB float32 tensor [512, 512] (per operation; "
          "MB/s of the 1 MiB payload)\n")
    print("| case | implementation | bytes | encode | decode | encode MB/s | decode MB/s "
          "| encode / libcbor | decode / libcbor |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rs:
        if r["status"] != "ok":
            print(f"| {r['variant']} | {r['transport']} | {status(r)} ||||||")
            continue
        lc = None
        for x in rs:
            if x["transport"] == "libcbor" and x["variant"] == r["variant"] and \
               x["status"] == "ok":
                lc = x
        e, dd = fig(r, "encode"), fig(r, "decode")
        re = rd = "-"
        if lc is not None and r["transport"] != "libcbor":
            re, rd = ratio(e, fig(lc, "encode")), ratio(dd, fig(lc, "decode"))
        em, dm = fig(r, "encode_bandwidth"), fig(r, "decode_bandwidth")
        print(f"| {r['variant']} | {r['transport']} | {fig(r, 'size'):.0f} | {ns(e)} | "
              f"{ns(dd)} | {'-' if em is None else f'{em:.0f}'} | "
              f"{'-' if dm is None else f'{dm:.0f}'} | {re} | {rd} |")
    print()
    for r in rs:
        if r["note"] and r["status"] == "ok":
            print(f"- {r['variant']}, {r['transport']}: {r['note']}")
    print()


def targets(d):
    print("#### targets\n")
    print("| target | measured | goal | |")
    print("|---|---:|---|---|")
    for q in d["ratios"]:
        v = q["value"]
        if v is None:
            val = "-"
        elif q["unit"] == "%":
            val = f"{v:.3f} %"
        elif q["unit"] == "us":
            val = f"{v:.2f} us"
        else:
            val = f"{v:.2f}x"
        met = q.get("met")
        verdict = "" if met is None else ("met" if met else "**missed**")
        why = f" ({q['why']})" if q.get("why") else ""
        print(f"| {q['what']} | {val} | {q['target']} | {verdict}{why} |")
    print()


def compare(a, b):
    print("| figure | old | new | new / old |")
    print("|---|---:|---:|---:|")
    for rb in b["results"]:
        if rb["transport"] != "ipcnet" or rb["status"] != "ok":
            continue
        for ra in a["results"]:
            if (ra["bench"], ra["transport"], ra["variant"]) != \
               (rb["bench"], rb["transport"], rb["variant"]):
                continue
            if fig(ra, "size") != fig(rb, "size") or \
               fig(ra, "subscribers") != fig(rb, "subscribers"):
                continue
            if ra["status"] != "ok":
                continue
            for k in ("p50", "rate", "receive_rate", "cpu", "encode", "decode",
                      "pss", "fds", "sync"):
                x, y = fig(ra, k), fig(rb, k)
                if x is None or y is None:
                    continue
                label = f"{rb['bench']} {rb['variant']}"
                if fig(rb, "size") is not None and rb["bench"] not in ("idle", "scale"):
                    label += f" {size(fig(rb, 'size'))}"
                if fig(rb, "subscribers"):
                    label += f" x{fig(rb, 'subscribers'):.0f}"
                unit = rb[k]["unit"]
                print(f"| {label} {k} ({unit}) | {num(x)} | {num(y)} | {ratio(y, x)} |")


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--compare":
        compare(json.load(open(args[1])), json.load(open(args[2])))
        return 0
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    d = json.load(open(args[0]))
    header(d)
    rtt(d)
    thr(d)
    bulk(d)
    idle(d)
    scale(d)
    takeover(d)
    net(d)
    cbor(d)
    py(d)
    targets(d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
