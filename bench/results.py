#!/usr/bin/env python3
"""bench/results.py - the results file of bench/run.sh and what is made from it.

One JSON object per line in results.jsonl:
  {"bench":"machine", ...}                       what ran the benchmark
  {"bench":"recovery","keys":N,"rep":R,"mode":"reference"|"accelerated",
   "threads":T,"io":"uring"|"pread","report":<jrx recover --json>}
  {"bench":"skipped","keys":N,"mode":M,"why":"..."}
  {"bench":"peer","keys":N,"rep":R,"load":{...},"recover":{...}}   RocksDB

Subcommands (bench/run.sh calls them):
  machine DIR CMD             print the machine line (DIR: the scratch dir,
                              CMD: the bench/run.sh command line)
  refskip RESULTS N           print why the reference must not run at N keys
                              (its peak RSS scaled from smaller sizes would
                              not fit in 70% of MemAvailable), or nothing
  row REPORT LABEL [BASE]     one progress line for a jrx report (with
                              BASE seconds: and its speedup over BASE)
  peerrow REPORT LABEL        one progress line for a peer report
  render RESULTS MICRO MD DIR the tables of MD (BENCHMARKS.md) and the
                              plots (gnuplot, bench/plots/*.gp) in DIR
"""
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time

PHASES = ["superblock", "journal_read", "sort", "replay", "commit"]
HERE = os.path.dirname(os.path.abspath(__file__))


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def meminfo(field):
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def machine(scratch, command):
    lscpu = {}
    for line in sh("LC_ALL=C lscpu").splitlines():
        k, _, v = line.partition(":")
        lscpu[k.strip()] = v.strip()
    src = sh("findmnt -n -o SOURCE -T '%s'" % scratch)
    disk = ""
    f = sh("lsblk -n -d -P -o SIZE,ROTA,MODEL '%s' 2>/dev/null" % src)
    if f:
        kv = dict(re.findall(r'(\w+)="([^"]*)"', f))
        disk = ", ".join(x for x in (kv.get("MODEL", "").strip(), kv.get("SIZE", ""),
                                     "rotational" if kv.get("ROTA") == "1" else "non-rotational") if x)
    osrel = {}
    if os.path.exists("/etc/os-release"):
        for line in open("/etc/os-release"):
            k, _, v = line.strip().partition("=")
            osrel[k] = v.strip('"')
    return {
        "bench": "machine",
        "command": command,
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": lscpu.get("Model name", platform.processor()),
        "cores": os.cpu_count(),
        "numa_nodes": int(lscpu.get("NUMA node(s)", "1") or 1),
        "hypervisor": lscpu.get("Hypervisor vendor", ""),
        "memory_bytes": meminfo("MemTotal"),
        "kernel": platform.release(),
        "os": osrel.get("PRETTY_NAME", ""),
        "compiler": sh("cc --version | head -1"),
        "scratch": scratch,
        "filesystem": sh("findmnt -n -o FSTYPE -T '%s'" % scratch),
        "disk": src + (" (" + disk + ")" if disk else ""),
        "jrx_commit": sh("git rev-parse --short HEAD") +
                      (" (dirty)" if sh("git status --porcelain --untracked-files=no") else ""),
        "rocksdb": sh("dpkg-query -W -f='${Version}' librocksdb-dev"),
    }


def load(path):
    out = []
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    return out


def refskip(results, n):
    runs = [r for r in load(results) if r.get("bench") == "recovery"
            and r["mode"] == "reference"]
    if not runs:
        return ""
    per_key = max(r["report"]["peak_rss_bytes"] / max(r["keys"], 1) for r in runs)
    need = per_key * n
    avail = meminfo("MemAvailable")
    if need > 0.7 * avail:
        return ("reference peak RSS scaled from %d M keys: %.1f GiB, more than "
                "70%% of MemAvailable (%.1f GiB)" %
                (max(r["keys"] for r in runs) // 10**6, need / 2**30, avail / 2**30))
    return ""


def row(rep, label, base=None):
    p = rep["phases"]
    t = rep["total_seconds"]
    return ("%-22s read %7.3f sort %7.3f replay %7.3f commit %6.3f total %7.3f s"
            "  %6.2f M keys/s  rss %6.0f MiB%s" % (
                label, p["journal_read"], p["sort"], p["replay"], p["commit"],
                t, rep["keys"]["read"] / t / 1e6, rep["peak_rss_bytes"] / 2**20,
                "  %.2fx" % (base / t) if base else ""))


def peerrow(rep, label):
    return ("%-22s open %7.3f close %6.3f s  %6.2f M keys/s  rss %6.0f MiB" % (
        label, rep["open_seconds"], rep["close_seconds"],
        rep["keys_per_second"] / 1e6, rep["peak_rss_bytes"] / 2**20))


# ---- render -------------------------------------------------------------

def human(n):
    if n >= 10**6 and n % 10**6 == 0:
        return "%d M" % (n // 10**6)
    if n >= 10**6:
        return "%.1f M" % (n / 10**6)
    return "{:,}".format(n).replace(",", " ")


def tag(n):
    return human(n).replace(" ", "")


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, d=3):
    return "—" if x != x else ("%.*f" % (d, x))


class Group:
    """The repetitions of one configuration (size, mode, threads, io)."""

    def __init__(self, runs):
        self.runs = runs
        reps = [r["report"] for r in runs]
        self.reps = reps
        self.total = med([r["total_seconds"] for r in reps])
        self.lo = min(r["total_seconds"] for r in reps)
        self.hi = max(r["total_seconds"] for r in reps)
        self.phase = {p: med([r["phases"][p] for r in reps]) for p in PHASES}
        self.rss = max(r["peak_rss_bytes"] for r in reps)
        self.keys_read = reps[0]["keys"]["read"]
        self.keys_kept = reps[0]["keys"]["after_dedup"]
        self.bytes = reps[0]["journal"]["bytes_read"]
        self.written = reps[0]["btree"]["nodes_written"]
        # what ran: auto or a refused io_uring may fall back to pread
        self.backend = reps[0]["io_backend"]


def groups(results):
    by = {}
    for r in results:
        if r.get("bench") != "recovery":
            continue
        k = (r["keys"], r["mode"], r["threads"], r["io"])
        by.setdefault(k, []).append(r)
    return {k: Group(v) for k, v in by.items()}


def machine_table(m):
    if not m:
        return "No machine line in the results.\n"
    rows = [
        ("CPU", "%s, %d cores online%s" % (m["cpu"], m["cores"],
                                           ", " + m["hypervisor"] + " guest" if m["hypervisor"] else "")),
        ("NUMA nodes", str(m["numa_nodes"])),
        ("Memory", "%.1f GiB" % (m["memory_bytes"] / 2**30)),
        ("OS, kernel", "%s, Linux %s" % (m["os"], m["kernel"])),
        ("Compiler", m["compiler"]),
        ("Devices", "sparse files on %s, %s (scratch %s)" % (m["filesystem"], " ".join(m["disk"].split()), m["scratch"])),
        ("jrx", "commit %s, RelWithDebInfo (-O2 -g)" % m["jrx_commit"]),
        ("RocksDB", "librocksdb-dev %s (Debian)" % (m["rocksdb"] or "not installed")),
        ("Run", m["date"]),
    ]
    s = "| | |\n|---|---|\n"
    for k, v in rows:
        s += "| %s | %s |\n" % (k, v)
    return s


def io_label(g):
    r0 = g.runs[0]
    if r0["mode"] == "reference":
        return "pread (sequential)"
    asked = {"uring": "io_uring"}.get(r0["io"], r0["io"])
    if asked != g.backend:
        return "%s (asked %s: fell back)" % (g.backend, r0["io"])
    return g.backend


def recovery_tables(G, skipped, sizes):
    s = ""
    for n in sizes:
        gs = sorted((g for k, g in G.items() if k[0] == n),
                    key=lambda g: (g.runs[0]["mode"] != "reference",
                                   g.runs[0]["threads"], g.runs[0]["io"]))
        if not gs:
            continue
        ref = G.get((n, "reference", 1, "pread"))
        g0 = gs[-1]
        s += "\n### %s journal keys\n\n" % human(n)
        s += ("%s keys read (%s after dedup), %s nodes written; medians of "
              "%d repetition(s), each on a fresh copy with the page cache dropped. "
              "\"read GB\" is the journal bytes read: the reference reads every "
              "journal bucket, the accelerated recovery the live range.\n\n"
              % (human(g0.keys_read), human(g0.keys_kept), human(g0.written), len(g0.reps)))
        s += ("| recovery | threads | io | read GB | journal_read | sort | replay | commit "
              "| total (min–max) | M keys/s | peak RSS | vs reference |\n")
        s += "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for g in gs:
            r0 = g.runs[0]
            sp = "%.1fx" % (ref.total / g.total) if ref else "—"
            s += ("| %s | %d | %s | %.2f | %s | %s | %s | %s | **%s** (%s–%s) | %.2f | %.0f MiB | %s |\n" % (
                r0["mode"], r0["threads"], io_label(g), g.bytes / 1e9,
                fmt(g.phase["journal_read"]), fmt(g.phase["sort"]), fmt(g.phase["replay"]),
                fmt(g.phase["commit"]), fmt(g.total), fmt(g.lo), fmt(g.hi),
                g.keys_read / g.total / 1e6, g.rss / 2**20, sp))
        for sk in skipped:
            if sk["keys"] == n:
                s += "\nThe %s recovery was not run: %s.\n" % (sk["mode"], sk["why"])
    return s


def scaling_table(G, sizes, path):
    s = ("| keys | io | " + " | ".join(["total T=%d" % t for t in threads_of(G)])
         + " | speedup T=max/T=1 | replay T=max/T=1 |\n")
    s += "|---|---|" + "---:|" * (len(threads_of(G)) + 2) + "\n"
    lines = []
    for n in sizes:
        for io in sorted({k[3] for k in G if k[0] == n and k[1] == "accelerated"}):
            ts = [t for t in threads_of(G) if (n, "accelerated", t, io) in G]
            if not ts:
                continue
            one = G.get((n, "accelerated", 1, io))
            top = G[(n, "accelerated", ts[-1], io)]
            cells = [fmt(G[(n, "accelerated", t, io)].total) + " s"
                     if (n, "accelerated", t, io) in G else "—" for t in threads_of(G)]
            s += "| %s | %s | %s | %s | %s |\n" % (
                human(n), io, " | ".join(cells),
                "%.2fx" % (one.total / top.total) if one else "—",
                "%.2fx" % (one.phase["replay"] / top.phase["replay"]) if one and top.phase["replay"] else "—")
            for t in ts:
                g = G[(n, "accelerated", t, io)]
                lines.append("%s-%s %d %.6f %.6f\n" % (tag(n), io, t,
                             one.total / g.total if one else 0, g.total))
    with open(path, "w") as f:
        f.write("# series threads speedup_vs_1 total_seconds\n")
        f.writelines(lines)
    return s


def threads_of(G):
    return sorted({k[2] for k in G if k[1] == "accelerated"})


def peer_table(G, peers, sizes):
    s = ("| keys | recovery | what is timed | seconds (min–max) | M keys/s | peak RSS "
         "| speedup over RocksDB |\n|---|---|---|---:|---:|---:|---:|\n")
    for n in sizes:
        ps = [p for p in peers if p["keys"] == n]
        if not ps:
            continue
        rt = med([p["recover"]["open_seconds"] for p in ps])
        recs = ps[0]["recover"]["records"]
        acc = [g for k, g in G.items() if k[0] == n and k[1] == "accelerated"]
        best = min(acc, key=lambda g: g.total) if acc else None
        ref = G.get((n, "reference", 1, "pread"))
        for label, g in (("jrx reference", ref), ("jrx accelerated", best)):
            if not g:
                continue
            r0 = g.runs[0]
            s += "| %s | %s%s | whole recovery incl. commit | %s (%s–%s) | %.2f | %.0f MiB | %.2fx |\n" % (
                human(n), label, "" if label.endswith("reference") else
                " (T=%d, %s)" % (r0["threads"], r0["io"]),
                fmt(g.total), fmt(g.lo), fmt(g.hi), g.keys_read / g.total / 1e6,
                g.rss / 2**20, rt / g.total)
        opens = [p["recover"]["open_seconds"] for p in ps]
        ld = ps[0]["load"]
        # A WAL shorter than the stream's key and value bytes means RocksDB
        # flushed during the load (the peer caps its memtable): the reopen
        # replays only the WAL's tail, so keys/s is estimated from the share.
        stream = ld["key_bytes"] + ld["value_bytes"]
        share = min(1.0, ld["wal_bytes"] / stream) if stream else 1.0
        what = "`rocksdb_open`: SSTs opened, WAL replayed, flushed to L0"
        kps = "%.2f" % (recs / rt / 1e6)
        if share < 0.95:
            what += (" (WAL: the last ~%.0f%% of the stream; the rest was flushed "
                     "during the load, memtable capped at %.0f GiB)" % (
                         100 * share, ld["write_buffer_size"] / 2**30))
            kps = "≈%.2f" % (recs * share / rt / 1e6)
        s += "| %s | RocksDB %s | %s | %s (%s–%s) | %s | %.0f MiB | 1.00x |\n" % (
            human(n), ps[0]["recover"].get("rocksdb_version", ""), what, fmt(rt),
            fmt(min(opens)), fmt(max(opens)), kps,
            max(p["recover"]["peak_rss_bytes"] for p in ps) / 2**20)
        s += ("| %s | (RocksDB load, not recovery) | %s records in %s batches, WAL %.2f GB "
              "| %s | | | |\n" % (human(n), human(ld["records"]), human(ld["batches"]),
                                 ld["wal_bytes"] / 1e9, fmt(med([p["load"]["load_seconds"] for p in ps]))))
    return s


def micro_table(path):
    if not path or not os.path.exists(path):
        return "Not run (`--no-micro`).\n"
    with open(path) as f:
        data = json.load(f)
    s = ("| benchmark | median real time | M items/s | repetitions |\n"
         "|---|---:|---:|---:|\n")
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name", "median") != "median":
            continue
        name = b["run_name"] if "run_name" in b else b["name"]
        t = b["real_time"]
        unit = b.get("time_unit", "ns")
        ips = b.get("items_per_second")
        s += "| `%s` | %.2f %s | %s | %s |\n" % (
            name, t, unit, "%.1f" % (ips / 1e6) if ips else "—",
            b.get("repetitions", 1))
    ctx = data.get("context", {})
    s += ("\nRun %s; Debian's libbenchmark reports itself built as \"%s\" (it "
          "times the jrx code, built RelWithDebInfo).\n" % (
              ctx.get("date", ""), ctx.get("library_build_type", "")))
    return s


def phase_data(G, n, path):
    gs = sorted((g for k, g in G.items() if k[0] == n),
                key=lambda g: (g.runs[0]["mode"] != "reference",
                               g.runs[0]["threads"], g.runs[0]["io"]))
    with open(path, "w") as f:
        f.write("label " + " ".join(PHASES[1:]) + "\n")
        for g in gs:
            r0 = g.runs[0]
            label = "reference" if r0["mode"] == "reference" else \
                "T=%d %s" % (r0["threads"], r0["io"])
            f.write('"%s" %s\n' % (label, " ".join("%.6f" % g.phase[p] for p in PHASES[1:])))
    return len(gs)


def gnuplot(script, *args):
    subprocess.run(["gnuplot", "-c", os.path.join(HERE, "plots", script)] + list(args),
                   check=True)


def render(results_path, micro_path, md_path, out_dir):
    res = load(results_path)
    m = next((r for r in res if r.get("bench") == "machine"), None)
    G = groups(res)
    skipped = [r for r in res if r.get("bench") == "skipped"]
    peers = [r for r in res if r.get("bench") == "peer"]
    sizes = sorted({k[0] for k in G})
    rel = os.path.relpath(out_dir, os.path.dirname(os.path.abspath(md_path)) or ".")
    relres = os.path.relpath(results_path)     # from the repository root

    plots = ""
    for n in sizes:
        dat = os.path.join(out_dir, "phases-%s.dat" % tag(n))
        if phase_data(G, n, dat):
            png = os.path.join(out_dir, "phases-%s.png" % tag(n))
            gnuplot("phases.gp", dat, png, "Recovery time per phase, %s journal keys" % human(n))
            plots += "![time per phase, %s keys](%s/phases-%s.png)\n\n" % (human(n), rel, tag(n))
    scal = os.path.join(out_dir, "scaling.dat")
    stable = scaling_table(G, sizes, scal)
    if threads_of(G):
        gnuplot("scaling.gp", scal, os.path.join(out_dir, "scaling.png"),
                str(max(threads_of(G))))
        plots += "![thread scaling](%s/scaling.png)\n\n" % rel

    with open(os.path.join(HERE, "doc", "peer.md")) as f:
        peer_notes = f.read()
    hist_path = os.path.join(os.path.dirname(os.path.abspath(md_path)), "bench", "history.md")
    if not os.path.exists(hist_path):
        hist_path = os.path.join(HERE, "..", "docs", "bench", "history.md")
    with open(hist_path) as f:
        history = f.read()

    doc = []
    doc.append("# jrx benchmarks\n\n")
    doc.append("<!-- Generated by `bash bench/run.sh` (bench/results.py render) from %s; "
               "edit bench/results.py, bench/doc/peer.md or docs/bench/history.md instead. -->\n\n"
               % relres)
    cmds = [r.get("command") or "bash bench/run.sh" for r in res if r.get("bench") == "machine"]
    doc.append("Every table in the first part is made from one results file, `%s`, "
               "written by %s:\n\n%s\n" % (
                   relres, "one command" if len(cmds) == 1 else
                   "these commands, the later ones with `--append`",
                   "".join("    %s\n" % c for c in cmds)))
    doc.append("Each run is `jrx recover --json` (the reference with `--reference`) on a "
               "fresh sparse copy of the same crashed array (`jrx synth --keys N`, default "
               "mix: extents 70, inodes 10, dirents 15, xattrs 5; overwrite ratio 0.3; "
               "uniform; as many base keys as journal keys), after `echo 3 > "
               "/proc/sys/vm/drop_caches`. Times are seconds, medians over the "
               "repetitions; the min–max range shows how noisy the machine was. "
               "\"M keys/s\" is journal keys read over the whole recovery. Speedups "
               "are ratios of medians taken in the same run.\n\n")
    doc.append("## Machine\n\n" + machine_table(m) + "\n")
    if m and m["hypervisor"]:
        doc.append("A virtual machine: its disk and memory are shared with other guests, "
                   "which the min–max ranges show; \"The development VM\" under Earlier "
                   "measurements describes what that costs (free page reporting).\n\n")
    if m and m["numa_nodes"] <= 1:
        doc.append("One NUMA node: the replay's NUMA placement (one worker group per "
                   "node, memory bound to it) is tested on hwloc's synthetic topologies "
                   "only, and no figure here says anything about multi-node hardware.\n\n")
    doc.append("## End-to-end recovery\n" + recovery_tables(G, skipped, sizes) + "\n")
    doc.append("## Thread scaling\n\nAccelerated recovery, total seconds by worker "
               "threads (every stage uses that many).\n\n" + stable + "\n")
    doc.append("## Plots\n\n" + plots)
    doc.append("## RocksDB peer\n\n" + (peer_table(G, peers, sizes) if peers else
                                        "Not run (`--no-peer`).\n") + "\n" + peer_notes + "\n")
    doc.append("## Micro-benchmarks (sort stage)\n\n`build/bench/micro/jrx-microbench`%s.\n\n" % (
        ", JSON in `%s`" % os.path.relpath(micro_path) if micro_path and
        os.path.exists(micro_path) else "") + micro_table(micro_path) + "\n")
    doc.append("# Earlier measurements\n\n"
               "Hand-run figures from the issues that built each stage, kept as "
               "they were measured (docs/bench/history.md).\n\n" + history)
    with open(md_path, "w") as f:
        f.write("".join(doc))


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "machine":
        print(json.dumps(machine(argv[2], argv[3] if len(argv) > 3 else "")))
    elif cmd == "refskip":
        print(refskip(argv[2], int(argv[3])))
    elif cmd == "row":
        print(row(json.loads(argv[2]), argv[3],
                  float(argv[4]) if len(argv) > 4 and argv[4] else None))
    elif cmd == "peerrow":
        print(peerrow(json.loads(argv[2]), argv[3]))
    elif cmd == "render":
        render(argv[2], argv[3], argv[4], argv[5])
    else:
        sys.exit("bench/results.py: unknown subcommand %s\n%s" % (cmd, __doc__))


if __name__ == "__main__":
    main(sys.argv)
