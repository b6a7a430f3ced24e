#!/usr/bin/env python3
"""report.py RAW OUTDIR [README] - turn bench/run's raw.txt into latest.md +
PNGs, and the table into README's <!-- bench-table --> block.

raw.txt: "# key: value" lines (machine), then blocks
"@ METRIC VMM VARIANT REP", measure's key=value line, the guest's output.
Each row of the table is the median over the repeats (REP 0 is a warm-up
and ignored), its spread (min-max), khyve/QEMU and khyve/floor ratios.
"""
import os
import re
import statistics
import subprocess
import sys


def parse(path):
    meta, recs, cur = {}, [], None
    for line in open(path, encoding="utf-8", errors="replace"):
        # The floor passes every byte written to 0x3f8 through, the
        # guest's UART divisor-latch set-up included: drop control bytes.
        line = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", line.rstrip("\n"))
        if line.startswith("# ") and ":" in line and cur is None:
            k, v = line[2:].split(":", 1)
            meta.setdefault(k.strip(), v.strip())
        elif line.startswith("# ") and ":" in line:
            k, v = line[2:].split(":", 1)
            meta.setdefault(k.strip(), v.strip())
        elif line.startswith("@ "):
            m, vmm, var, rep = line[2:].split()
            cur = {"metric": m, "vmm": vmm, "var": var, "rep": int(rep),
                   "kv": None, "out": []}
            recs.append(cur)
        elif cur is not None and cur["kv"] is None:
            cur["kv"] = dict(kv.split("=", 1) for kv in line.split()
                             if "=" in kv)
        elif cur is not None:
            cur["out"].append(line)
    return meta, [r for r in recs if r["rep"] > 0 and r["kv"] is not None]


def ok(r):
    st = r["kv"].get("status")
    if r["metric"] == "density":
        return density_ok(r)
    return st == "33" or (r["metric"] == "memory" and
                          r["kv"].get("killed") == "1")


def values(recs, metric, vmm, var, fn):
    out = []
    for r in recs:
        if r["metric"] == metric and r["vmm"] == vmm and \
                (var is None or r["var"] == var) and ok(r):
            v = fn(r)
            if v is not None:
                out.append(v)
    return out


def kvf(key, scale=1.0):
    def f(r):
        v = float(r["kv"].get(key, "-1"))
        return None if v < 0 else v * scale
    return f


def guest_exit(kind):
    pat = re.compile(r"^bench exit %s median=(\d+)" % kind)

    def f(r):
        for l in r["out"]:
            m = pat.match(l)
            if m:
                return float(m.group(1))
        return None
    return f


def guest_blk(name, qd, tsc_hz, what):
    pat = re.compile(r"^bench blk %s qd=%d n=(\d+) bytes=(\d+) cycles=(\d+)"
                     % (re.escape(name), qd))

    def f(r):
        for l in r["out"]:
            m = pat.match(l)
            if m:
                n, b, c = (int(x) for x in m.groups())
                s = c / tsc_hz
                return n / s if what == "iops" else b / s / 1e6
        return None
    return f


def net_tx_arrived(r):
    """Frames of each size (60, 1514) the tap received from the VMM in
    one run: its rx_packets/rx_bytes deltas, solved for the two sizes."""
    for l in r["out"]:
        m = re.match(r"^host net tx rx_packets=(\d+) rx_bytes=(\d+)", l)
        if m:
            p, b = int(m.group(1)), int(m.group(2))
            big, rem = divmod(b - 60 * p, 1514 - 60)
            if rem or big < 0 or big > p:
                return None  # other frames too: cannot tell them apart
            return {"tx-64": p - big, "tx-1500": big}
    return None


def guest_net(name, tsc_hz, what):
    """Rate of one mode=net phase: frames the tap counted (guest→host) or
    the guest counted (host→guest) over the guest's TSC window."""
    pat = re.compile(r"^bench net %s n=(\d+) bytes=\d+ cycles=(\d+)"
                     % re.escape(name))
    flen = 60 if name.endswith("-64") else 1514

    def f(r):
        for l in r["out"]:
            m = pat.match(l)
            if m:
                n, c = int(m.group(1)), int(m.group(2))
                if name.startswith("tx"):
                    a = net_tx_arrived(r)
                    if a is None:
                        return None
                    n = a[name]
                s = c / tsc_hz
                return n / s / 1e3 if what == "kpps" else \
                    n * flen * 8 / s / 1e9
        return None
    return f


def net_rows(recs, tsc_hz):
    rows = []
    for name, label, what in (
            ("tx-64", "guest→host, 64 B frames", "kpps"),
            ("tx-1500", "guest→host, 1500 B packets (1514 B frames)", "Gbit/s"),
            ("rx-64", "host→guest, 64 B frames", "kpps"),
            ("rx-1500", "host→guest, 1500 B packets (1514 B frames)", "Gbit/s")):
        f = guest_net(name, tsc_hz, what)
        rows.append(Row("net-" + what, "virtio-net UDP %s, tap" % label,
                        "k frames/s" if what == "kpps" else what, False, [],
                        values(recs, "net", "khyve", None, f),
                        values(recs, "net", "qemu", None, f)))
    return rows


class Row:
    def __init__(self, group, name, unit, lower_better, floor, khyve, qemu,
                 qemu_note="", note=""):
        self.group, self.name, self.unit = group, name, unit
        self.lower = lower_better
        self.floor, self.khyve, self.qemu = floor, khyve, qemu
        self.qemu_note, self.note = qemu_note, note

    @staticmethod
    def med(v):
        return statistics.median(v) if v else None

    def cell(self, v, note=""):
        if not v:
            return "-"
        m = self.med(v)
        fmt = fmtnum
        s = "%s (%s–%s)" % (fmt(m), fmt(min(v)), fmt(max(v)))
        return s + (" " + note if note else "")

    def ratio(self, a, b):
        if not a or not b or self.med(b) == 0:
            return None
        return self.med(a) / self.med(b)

    def verdict(self):
        r = self.ratio(self.khyve, self.qemu)
        if r is None:
            return "", False
        worse = r > 1 if self.lower else r < 1
        overlap = (min(self.khyve) <= max(self.qemu) and
                   min(self.qemu) <= max(self.khyve))
        if worse:
            return "**✗** khyve worse" + (" (ranges overlap)" if overlap
                                           else ""), True
        return "✓" + (" (ranges overlap)" if overlap else ""), False


def fmtnum(x):
    if x is None:
        return "-"
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    return "%.2f" % x


def density_ok(r):
    """A density run counts only if every copy came up."""
    kv = r["kv"]
    return kv.get("k") is not None and kv.get("k") == kv.get("ready") and \
        kv.get("died") == "0"


def density_rate(r):
    """Guests per second: K over first fork -> last ready line."""
    k, t = float(r["kv"]["k"]), float(r["kv"].get("last_ready_us", "-1"))
    return k / (t / 1e6) if t > 0 else None


def density_vmm_pss(r):
    """MiB of Pss outside the guest-memory mapping (the VMM itself)."""
    p, g = (float(r["kv"].get(k, "-1")) for k in ("pss_kb", "guest_pss_kb"))
    return (p - g) / 1024 if p >= 0 and g >= 0 else None


def density_rows(recs):
    """Density: bench/density's K idle 1-vCPU/64 MiB guests per run."""
    def row(group, name, unit, lower, fn, note=""):
        return Row(group, name, unit, lower,
                   values(recs, "density", "floor", None, fn),
                   values(recs, "density", "khyve", None, fn),
                   values(recs, "density", "qemu", None, fn),
                   "[microvm]" if values(recs, "density", "qemu", None, fn)
                   else "", note)
    return [
        row("density", "density: idle 1-vCPU/64 MiB guests started per second "
            "(K back to back, first exec → last ready line)", "guests/s",
            False, density_rate),
        row("density-mem", "density: host memory per idle guest (Pss, guest RAM "
            "included)", "MiB", True, kvf("pss_kb", 1 / 1024)),
        row("density-mem", "density: host memory per idle guest beyond "
            "guest RAM (Pss minus the guest mapping's)", "MiB", True,
            density_vmm_pss),
    ]


def build_rows(recs, tsc_hz):
    rows = []
    # Start-up: QEMU's better machine type (by median) for each row.
    for key, name, scale in (("first_wall", "exec → guest's first port write, wall", 1e-3),
                             ("first_cpu", "exec → guest's first port write, CPU", 1e-3),
                             ("end_wall", "exec → tiny guest exited (isa-debug-exit), wall", 1e-3),
                             ("end_cpu", "exec → tiny guest exited (isa-debug-exit), CPU", 1e-3)):
        f = kvf(key, scale)
        best, bnote = None, ""
        for mt in ("microvm", "q35"):
            v = values(recs, "startup", "qemu", mt, f)
            if v and (best is None or Row.med(v) < Row.med(best)):
                best, bnote = v, "[%s]" % mt
        rows.append(Row("startup", name, "ms", True,
                        values(recs, "startup", "floor", None, f),
                        values(recs, "startup", "khyve", None, f),
                        best, bnote))
    f = kvf("vmm_rss_kb", 1 / 1024)
    rows.append(Row("memory", "VMM Rss without guest RAM, idle, 128 MiB guest, "
                    "virtio-blk + virtio-net (floor: no devices)", "MiB", True,
                    values(recs, "memory", "floor", None, f),
                    values(recs, "memory", "khyve", None, f),
                    values(recs, "memory", "qemu", None, f)))
    for kind, name in (("pio", "port I/O exit (UART scratch read)"),
                       ("mmio", "MMIO exit (virtio common cfg read; floor: unbacked GPA)"),
                       ("kick", "virtio-blk kick, MMIO doorbell → ioeventfd")):
        f = guest_exit(kind)
        rows.append(Row("exits", name, "TSC cycles", True,
                        values(recs, "exits", "floor", None, f),
                        values(recs, "exits", "khyve", None, f),
                        values(recs, "exits", "qemu", None, f)))
    for var, vname in (("cache", "page cache"), ("direct", "O_DIRECT")):
        for name, qd, what in (("randread-4k", 1, "iops"), ("randread-4k", 32, "iops"),
                               ("seqread-128k", 1, "mbs"), ("seqread-128k", 32, "mbs"),
                               ("seqwrite-128k", 1, "mbs"), ("seqwrite-128k", 32, "mbs")):
            f = guest_blk(name, qd, tsc_hz, what)
            rows.append(Row("blk-" + var, "virtio-blk %s QD%d, %s" % (name, qd, vname),
                            "IOPS" if what == "iops" else "MB/s", False, [],
                            values(recs, "blk", "khyve", var, f),
                            values(recs, "blk", "qemu", var, f)))
    rows += net_rows(recs, tsc_hz)
    rows += density_rows(recs)
    return rows


def table(rows):
    out = ["| metric | unit | floor | khyve | QEMU | khyve/QEMU | khyve/floor | |",
           "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        v, _ = r.verdict()
        rq, rf = r.ratio(r.khyve, r.qemu), r.ratio(r.khyve, r.floor)
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r.name, r.unit, r.cell(r.floor), r.cell(r.khyve),
            r.cell(r.qemu, r.qemu_note),
            "%.2f" % rq if rq else "-", "%.2f" % rf if rf else "-", v))
    return "\n".join(out)


def chart(rows, group, title, ylabel, path):
    rs = [r for r in rows if r.group == group and (r.khyve or r.qemu)]
    if not rs:
        return None
    dat = path + ".dat"
    series = ["floor", "khyve", "QEMU"] if any(r.floor for r in rs) else ["khyve", "QEMU"]
    with open(dat, "w") as f:
        for i, r in enumerate(rs):
            cols = []
            for s in series:
                v = {"floor": r.floor, "khyve": r.khyve, "QEMU": r.qemu}[s]
                cols += ["%g %g %g" % (Row.med(v), min(v), max(v))] if v else ["0 0 0"]
            label = r.name.split(",")[0] if group.startswith("blk") else r.name
            label = re.sub(r"virtio-blk |virtio-net UDP |exec → |density: ", "", label)
            label = label[:48]
            f.write('"%s" %s\n' % (label.replace('"', "'"), " ".join(cols)))
    plots = []
    for i, s in enumerate(series):
        c = 2 + 3 * i
        plots.append("'%s' using %d:%d:%d%s title '%s'" % (
            dat, c, c + 1, c + 2, ":xtic(1)" if i == 0 else "", s))
    script = """
set terminal pngcairo size 1100,560 noenhanced font ',10'
set bmargin 7
set output '%s'
set title '%s (median, bars: min-max)'
set ylabel '%s'
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set xtics rotate by -20 scale 0
set key top left
set yrange [0:*]
set grid ytics
plot %s
""" % (path, title, ylabel, ", ".join(plots))
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.unlink(dat)
    return os.path.basename(path)


def main():
    raw, outdir = sys.argv[1], sys.argv[2]
    meta, recs = parse(raw)
    tsc_hz = float(meta.get("tsc_hz", "0") or 0) or 1e9
    rows = build_rows(recs, tsc_hz)
    charts = [
        chart(rows, "startup", "Start-up", "ms", os.path.join(outdir, "startup.png")),
        chart(rows, "memory", "VMM memory (Rss without guest RAM)", "MiB",
              os.path.join(outdir, "memory.png")),
        chart(rows, "exits", "Exit round trip, guest-measured", "TSC cycles",
              os.path.join(outdir, "exits.png")),
        chart(rows, "blk-cache", "virtio-blk, page-cache file", "IOPS (4k) / MB/s (128k)",
              os.path.join(outdir, "blk-cache.png")),
        chart(rows, "blk-direct", "virtio-blk, O_DIRECT", "IOPS (4k) / MB/s (128k)",
              os.path.join(outdir, "blk-direct.png")),
        chart(rows, "net-kpps", "virtio-net over a tap, 64 B frames", "k frames/s",
              os.path.join(outdir, "net-pps.png")),
        chart(rows, "net-Gbit/s", "virtio-net over a tap, 1500 B packets", "Gbit/s",
              os.path.join(outdir, "net-gbit.png")),
        chart(rows, "density", "Density: idle 1-vCPU/64 MiB guests started",
              "guests/s", os.path.join(outdir, "density.png")),
        chart(rows, "density-mem", "Density: host memory per idle guest",
              "MiB", os.path.join(outdir, "density-mem.png")),
    ]
    losses = [r for r in rows if r.verdict()[1]]
    written = ["Written by `bench/run%s` on %s, khyve %s, in %s s." % (
        " --quick" if "n4k 256" in meta.get("repeats", "") else "",
        meta.get("date", "?"), meta.get("khyve", "?"), meta.get("elapsed_s", "?")),
        ""]
    restarts = int(meta.get("vm_restarts", "0") or 0)
    if restarts:
        written += ["The nested test VM died %d time%s during the run; a new "
                    "one ran the repeats not yet done (bench/run)." % (
                        restarts, "" if restarts == 1 else "s"), ""]
    if "incomplete" in meta:
        written += ["**Incomplete run:** %s; rows without data show '-'." %
                    meta["incomplete"], ""]
    md = ["# khyve benchmark: latest run", ""] + written + [
          "## Machine", "",
          "- Host: %s (%s CPUs)" % (meta.get("host", "?"), meta.get("host_cpus", "?")),
          "- KVM: %s" % meta.get("kvm", "?"),
          "- Where the VMMs ran: kernel and CPU %s (%s); TSC %.3f GHz" % (
              meta.get("inner", "?"), meta.get("virt", "?"), tsc_hz / 1e9),
          "- QEMU: %s (`-accel kvm -cpu host,-arch-capabilities`; start-up "
          "on microvm and q35, the better one shown; devices on q35, modern "
          "virtio-pci only)" % meta.get("qemu", "?"),
          "- O_DIRECT disk: %s (khyve `nocache`, QEMU `cache=none`); page-cache "
          "disk: a 64 MiB file in the VM's /tmp (tmpfs; QEMU `cache=writeback`)"
          % meta.get("direct_disk", "?"),
          "- Repeats (fast/slow metrics), request counts: %s" % meta.get("repeats", "?"),
          "",
          "Guest code under nested KVM on this machine runs emulated, so "
          "absolute times are far from hardware; compare the ratios.  Each "
          "cell: median (min–max) over the repeats.  Lower is better except "
          "IOPS, MB/s and guests/s.  **✗**: khyve worse than QEMU by the median.",
          "",
          "## Results", "", table(rows), ""]
    if losses:
        md += ["Rows where khyve loses: " +
               "; ".join("%s (%.2f×)" % (r.name, r.ratio(r.khyve, r.qemu))
                         for r in losses) +
               ".  Reasons: see README.md, Performance.", ""]
    md += ["## Charts", ""] + ["![%s](%s)" % (c, c) for c in charts if c] + [""]
    with open(os.path.join(outdir, "latest.md"), "w") as f:
        f.write("\n".join(md))
    if len(sys.argv) > 3:
        readme_block(sys.argv[3], written + [
            "- KVM: %s" % meta.get("kvm", "?"),
            "- Where the VMMs ran: kernel and CPU %s (%s); TSC %.3f GHz" % (
                meta.get("inner", "?"), meta.get("virt", "?"), tsc_hz / 1e9),
            "- Repeats (fast/slow metrics), request counts: %s" %
            meta.get("repeats", "?"), "", table(rows), ""] + (
            ["Rows where khyve loses (**✗**): " +
             "; ".join("%s (%.2f×)" % (r.name, r.ratio(r.khyve, r.qemu))
                       for r in losses) + ".", ""] if losses else []))
    print(table(rows))


def readme_block(path, lines):
    """Put lines between README's <!-- bench-table --> markers."""
    begin, end = "<!-- bench-table -->\n", "<!-- /bench-table -->"
    text = open(path, encoding="utf-8").read()
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        print("report.py: no bench-table markers in %s" % path, file=sys.stderr)
        return
    body = ["Latest table (`bench/results/latest.md`; charts next to it):", ""]
    text = text[:i + len(begin)] + "\n".join(body + lines) + "\n" + text[j:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
