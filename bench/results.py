#!/usr/bin/env python3
"""bench/results.py - the results file of bench/run.sh and what is made from it.

One JSON object per line in results.jsonl:
  {"bench":"machine", ...}                       what ran the benchmark
  {"bench":"recovery","keys":N,"rep":R,"mode":"reference"|"accelerated",
   "threads":T,"io":"uring"|"aio"|"pread","fresh":"copy","load_before":L,
   "load_after":L,"floor":FLOOR,"report":<jrx recover --json>}
  {"bench":"bigtree","keys":J,"base_keys":B,"distribution":"uniform"|"zipf",
   "synth":"ARGS","rep":R,"mode":...,"threads":T,"io":...,"fresh":"restore",
   "load_before":L,"load_after":L,"floor":FLOOR,"report":...}
                                                 big tree, small journal
  {"bench":"skipped","keys":N,"mode":M,"why":"..."}   (bigtree: plus
                                                 "scenario","base_keys",
                                                 "distribution")
  {"bench":"fsck","scenario":"recovery"|"bigtree","keys":N,...,
   "exit_code":RC,"errors":E,"warnings":W,"seconds":S}
                                                 jrx fsck -n after the last
                                                 recovery of an array
  {"bench":"fsck_parallel","base_keys":B,"keys":K,"threads":T,"rep":R,
   "load_before":L,"load_after":L,"uptime":"...","wall":S,"exit_code":RC,
   "floor":{"read_bytes","read_seconds"},"report":<jrx fsck -n --json>}
                                                 bench/fsck.sh: fsck -n by
                                                 threads; its floor is dd
                                                 iflag=direct over the node
                                                 bytes it read (the sum of
                                                 its passes' bytes_read),
                                                 right after it
  {"bench":"peer","keys":N,"rep":R,"load":{...},"recover":{...},
   "load_before":L,"load_after":L}               RocksDB
L is the 1-minute load average (/proc/loadavg) just before and just after
the run.  FLOOR, the I/O floor of one recovery, measured right after it in
the same scratch directory: {"read_bytes","write_bytes","estimated",
"node_size","read_seconds","write_seconds","seconds","cache_dropped"}: the
bytes it read (journal.bytes_read + btree.bytes_read) and wrote
(btree.bytes_written), "estimated" when the report has no btree byte
fields and they are nodes_read / nodes_written x node_size; the seconds of
`dd oflag=direct conv=fsync` writing that many bytes (whole MiB) to a new
file, or with "overwrite" true (the recovery ran in place, into allocated
blocks) over a file of that size written before (untimed; conv=notrunc),
and of `dd iflag=direct` reading that many back after the page cache is
dropped; "seconds" is their sum.  Lines written before these fields
existed lack them; the tables show "—" there (a line without "overwrite"
wrote a new file).

Subcommands (bench/run.sh calls them):
  machine DIR CMD             print the machine line (DIR: the scratch dir,
                              CMD: the bench/run.sh command line)
  refskip RESULTS N [BASE [DIST]]
                              print why the reference must not run at N keys
                              (its peak RSS scaled from smaller sizes would
                              not fit in 70% of MemAvailable), or nothing;
                              with BASE: a bigtree array of BASE base keys
                              (RSS scaled by base keys, from the bigtree
                              reference runs of DIST, else any bigtree
                              reference runs, else the recovery ones)
  row REPORT LABEL [BASE]     one progress line for a jrx report (with
                              BASE seconds: and its speedup over BASE)
  floor DIR REPORT NODE_SIZE [overwrite]
                              measure the I/O floor of REPORT's bytes with dd
                              in DIR (drops the page cache: root); print FLOOR;
                              overwrite: its writes overwrite a file written
                              first, for a recovery that ran in place
  floorrow FLOOR REPORT       one progress line: the floor and total/floor
  fsck FSCK_JSON RC           the fields of an fsck line from `jrx fsck -n
                              --json` output (a file) and its exit code
  fsckfloor DIR FSCK_JSON     dd iflag=direct over the bytes an fsck report
                              read (a file written with oflag=direct in DIR
                              first; both direct, so no cache to drop);
                              print {"read_bytes","read_seconds"}
  fsckrow LINE                one progress line for an fsck_parallel line
  fscktable RESULTS           the fsck_parallel table (markdown)
  peerrow REPORT LABEL        one progress line for a peer report
  render RESULTS MICRO MD DIR [--quick]
                              the tables of MD (BENCHMARKS.md) and the
                              plots (gnuplot, bench/plots/*.gp) in DIR;
                              --quick leaves out the history section
"""
import json
import os
import platform
import re
import shutil
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
                    r = json.loads(line)
                    # an older build's runs (bench/run.sh --baseline) are an
                    # A/B for the log, not this build's figures
                    if "baseline" not in r:
                        out.append(r)
    return out


def refskip(results, n, base=None, dist=None):
    res = load(results)
    if base is None:
        runs = [r for r in res if r.get("bench") == "recovery"
                and r["mode"] == "reference"]
        scale = [r["keys"] for r in runs]
        need_keys = n
    else:
        # the reference keeps every node it touches: with a journal much
        # smaller than the base that is about every leaf, so its RSS
        # grows with the base; scale per base key (the recovery runs'
        # base is as big as their journal)
        big = [r for r in res if r.get("bench") == "bigtree" and r["mode"] == "reference"]
        runs = [r for r in big if r.get("distribution") == dist] or big
        if runs:
            scale = [r["base_keys"] for r in runs]
        else:
            runs = [r for r in res if r.get("bench") == "recovery"
                    and r["mode"] == "reference"]
            scale = [r["keys"] for r in runs]
        need_keys = max(n, base)
    if not runs:
        return ""
    per_key = max(r["report"]["peak_rss_bytes"] / max(k, 1) for r, k in zip(runs, scale))
    need = per_key * need_keys
    avail = meminfo("MemAvailable")
    if need > 0.7 * avail:
        return ("reference peak RSS scaled from %s %skeys: %.1f GiB, more than "
                "70%% of MemAvailable (%.1f GiB)" %
                (human(max(scale)), "" if base is None else "base ", need / 2**30, avail / 2**30))
    return ""


def io_bytes(rep, node_size):
    """(read, written, estimated): the bytes a recovery read and wrote."""
    bt = rep["btree"]
    jr = rep["journal"]["bytes_read"]
    if "bytes_read" in bt and "bytes_written" in bt:
        return jr + bt["bytes_read"], bt["bytes_written"], False
    return jr + bt["nodes_read"] * node_size, bt["nodes_written"] * node_size, True


def drop_page_cache():
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        print("bench/results.py floor: cannot drop the page cache (not root?): "
              "the floor's read may be cached", file=sys.stderr)
        return False


def timed_dd(*args):
    t = time.monotonic()
    subprocess.run(["dd", "bs=1M", "status=none"] + list(args), check=True)
    return time.monotonic() - t


def floor(scratch, rep, node_size, overwrite=False):
    """dd O_DIRECT over the bytes one recovery read and wrote, in scratch.
    overwrite: the recovery wrote into allocated blocks (in place, as on a
    block device), so the timed writes overwrite a file written before
    (untimed); else they go to a new file, allocating as the recovery's
    writes into the holes of a sparse copy did."""
    rb, wb, est = io_bytes(rep, node_size)
    mib = 1 << 20
    rc, wc = -(-rb // mib), -(-wb // mib)
    f = os.path.join(scratch, "floor.dat")
    if os.path.exists(f):
        os.unlink(f)
    if overwrite and wc:  # the file to overwrite, untimed
        timed_dd("if=/dev/zero", "of=" + f, "count=%d" % wc, "oflag=direct", "conv=fsync")
        drop_page_cache()
    # the writes first; the same file, made as long as the reads need, is
    # then read back cold
    ws = timed_dd("if=/dev/zero", "of=" + f, "count=%d" % wc, "oflag=direct",
                  "conv=notrunc,fsync" if overwrite else "conv=fsync") if wc else 0.0
    if rc > wc:
        subprocess.run(["dd", "bs=1M", "status=none", "if=/dev/zero", "of=" + f,
                        "seek=%d" % wc, "count=%d" % (rc - wc), "oflag=direct",
                        "conv=notrunc,fsync"], check=True)
    dropped = drop_page_cache()
    rs = timed_dd("if=" + f, "of=/dev/null", "count=%d" % rc, "iflag=direct") if rc else 0.0
    if os.path.exists(f):
        os.unlink(f)
    out = {"read_bytes": rb, "write_bytes": wb, "estimated": est, "node_size": node_size,
           "overwrite": overwrite,
           "read_seconds": round(rs, 6), "write_seconds": round(ws, 6),
           "seconds": round(rs + ws, 6), "cache_dropped": dropped}
    sc = scattered_floor(scratch, rep, wb, ws)
    if sc:
        out["scattered"] = sc
        out["scattered_seconds"] = round(rs + sc["seconds"], 6)
    return out


def scattered_floor(scratch, rep, wb, ws):
    """The writes as the replay makes them: its appended bsets are scattered
    4 KiB blocks (one per appended node), not one stream.  fio writes as many
    4 KiB blocks at random offsets of a file already written (a block device
    has no holes), O_DIRECT, io_uring, 2 jobs of depth 32 (the replay's
    workers and queues; fio's runtime of the writes, not its start-up),
    then fsync; the rest of the bytes are charged at the dd write rate.
    None without fio or appends."""
    n = rep.get("btree", {}).get("appended", 0)
    if not n or not shutil.which("fio") or not wb:
        return None
    blk = 4096
    size = max(256 << 20, -(-(n * blk * 4) // (1 << 20)) << 20)
    f = os.path.join(scratch, "scatter.dat")
    subprocess.run(["dd", "bs=4M", "status=none", "if=/dev/zero", "of=" + f,
                    "count=%d" % (size >> 22), "oflag=direct", "conv=fsync"], check=True)
    jobs = 2
    # fio's own runtime of the writes (its start-up is not I/O)
    r = subprocess.run(["fio", "--name=scatter", "--filename=" + f, "--size=%d" % size,
                        "--rw=randwrite", "--bs=%d" % blk, "--direct=1",
                        "--ioengine=io_uring", "--iodepth=32", "--numjobs=%d" % jobs,
                        "--number_ios=%d" % -(-n // jobs), "--fallocate=none",
                        "--end_fsync=1", "--group_reporting", "--output-format=json"],
                       check=True, capture_output=True, text=True)
    os.unlink(f)
    w = json.loads(r.stdout[r.stdout.index("{"):])["jobs"][0]["write"]
    fs = w["io_kbytes"] / w["bw"] if w["bw"] else float(w["runtime"]) / 1000.0
    rest = max(0, wb - n * blk)
    rest_s = ws * rest / wb
    return {"appended_blocks": n, "block_bytes": blk, "fio_seconds": round(fs, 6),
            "rest_bytes": rest, "rest_seconds": round(rest_s, 6),
            "seconds": round(fs + rest_s, 6)}


def floorrow(fl, rep):
    t = rep["total_seconds"]
    return ("%-22s read %s%.3f GB in %.3f s, write %s%.3f GB in %.3f s: floor %.3f s,"
            " total %.3f s = %s floor" % (
                "    I/O floor (dd)", "≈" if fl["estimated"] else "", fl["read_bytes"] / 1e9,
                fl["read_seconds"], "≈" if fl["estimated"] else "", fl["write_bytes"] / 1e9,
                fl["write_seconds"], fl["seconds"], t,
                "%.2fx" % (t / fl["seconds"]) if fl["seconds"] > 0 else "—")
            + ("\n%-22s %d appended 4 KiB blocks at random offsets in %.3f s (fio), the"
               " rest at dd's rate %.3f s: floor %.3f s, total = %.2fx floor" % (
                   "    scattered floor", fl["scattered"]["appended_blocks"],
                   fl["scattered"]["fio_seconds"], fl["scattered"]["rest_seconds"],
                   fl["scattered_seconds"], t / fl["scattered_seconds"])
               if fl.get("scattered_seconds") else ""))


def fsck_bytes(rep):
    return sum(p.get("bytes_read", 0) for p in rep.get("passes", []))


def fsck_floor(scratch, path):
    """dd O_DIRECT over the node bytes one fsck read, in scratch."""
    with open(path) as f:
        rb = fsck_bytes(json.load(f))
    mib = 1 << 20
    rc = -(-rb // mib)
    fl = os.path.join(scratch, "floor.dat")
    if os.path.exists(fl):
        os.unlink(fl)
    rs = 0.0
    if rc:
        subprocess.run(["dd", "bs=1M", "status=none", "if=/dev/zero", "of=" + fl,
                        "count=%d" % rc, "oflag=direct", "conv=fsync"], check=True)
        rs = timed_dd("if=" + fl, "of=/dev/null", "count=%d" % rc, "iflag=direct")
        os.unlink(fl)
    return {"read_bytes": rb, "read_seconds": round(rs, 6)}


def fsck_pass_seconds(rep, name):
    return next((p["seconds"] for p in rep.get("passes", []) if p["pass"] == name), 0.0)


def fsckrow(ln):
    rep, fl = ln["report"], ln["floor"]
    return ("%-22s %.3f s (passes 3 %.3f, 4 %.3f, 6 %.3f), exit %d; dd floor %.3f GB in"
            " %.3f s: %s floor; load %.2f/%.2f" % (
                "    fsck -n T=%d" % ln["threads"], ln["wall"],
                fsck_pass_seconds(rep, "nodes"), fsck_pass_seconds(rep, "buckets"),
                fsck_pass_seconds(rep, "namespace"), ln["exit_code"],
                fl["read_bytes"] / 1e9, fl["read_seconds"],
                "%.2fx" % (ln["wall"] / fl["read_seconds"]) if fl["read_seconds"] else "—",
                ln["load_before"], ln["load_after"]))


def fsck_table(res):
    rows = [r for r in res if r.get("bench") == "fsck_parallel"]
    if not rows:
        return ""
    out = ["| base keys | nodes | node GB read | threads | fsck -n s (min–max) | "
           "pass 3 / 4 / 6 s | dd floor s | x floor | speedup vs 1 thread | load |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    keys = sorted({(r["base_keys"], r["threads"]) for r in rows})
    for b, t in keys:
        g = [r for r in rows if r["base_keys"] == b and r["threads"] == t]
        one = [r["wall"] for r in rows if r["base_keys"] == b and r["threads"] == 1]
        w = statistics.median(r["wall"] for r in g)
        fl = statistics.median(r["floor"]["read_seconds"] for r in g)
        xf = statistics.median(r["wall"] / r["floor"]["read_seconds"] for r in g
                               if r["floor"]["read_seconds"])
        rep = g[0]["report"]
        nodes = sum(bt.get("nodes", 0) for bt in rep.get("btrees", []))
        loads = [r[k] for r in g for k in ("load_before", "load_after")]
        out.append("| %s | %d | %.2f | %d | %.2f (%.2f–%.2f) | %.2f / %.2f / %.2f | %.2f | "
                   "%.1fx | %s | %.2f–%.2f |" % (
                       human(b), nodes, fsck_bytes(rep) / 1e9, t, w,
                       min(r["wall"] for r in g), max(r["wall"] for r in g),
                       statistics.median(fsck_pass_seconds(r["report"], "nodes") for r in g),
                       statistics.median(fsck_pass_seconds(r["report"], "buckets") for r in g),
                       statistics.median(fsck_pass_seconds(r["report"], "namespace") for r in g),
                       fl, xf, "%.2fx" % (statistics.median(one) / w) if one else "—",
                       min(loads), max(loads)))
    return "\n".join(out) + "\n"


def fsck_fields(path, rc):
    out = {"exit_code": rc}
    try:
        with open(path) as f:
            j = json.load(f)
        out.update({"state": j.get("state"), "errors": j.get("errors"),
                    "warnings": j.get("warnings"), "bad_nodes": j.get("bad_nodes"),
                    "seconds": round(sum(p.get("seconds", 0) for p in j.get("passes", [])), 6)})
    except (OSError, ValueError):
        pass
    return json.dumps(out)[1:-1]


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
        # the I/O floor and the load, where the lines have them
        fl = [r for r in runs if r.get("floor")]
        self.floor = med([r["floor"]["seconds"] for r in fl])
        self.xfloor = med([r["report"]["total_seconds"] / r["floor"]["seconds"]
                           for r in fl if r["floor"]["seconds"] > 0])
        sc = [r for r in fl if r["floor"].get("scattered_seconds")]
        self.xscatter = med([r["report"]["total_seconds"] / r["floor"]["scattered_seconds"]
                             for r in sc]) if sc else float("nan")
        self.estimated = any(r["floor"].get("estimated") for r in fl)
        self.io_read = fl[0]["floor"]["read_bytes"] if fl else None
        self.io_written = fl[0]["floor"]["write_bytes"] if fl else None
        self.loads = [r[k] for r in runs for k in ("load_before", "load_after") if k in r]

    def xfloor_cell(self):
        if self.xfloor != self.xfloor:
            return "—"
        s = "%s%.2fx" % ("≈" if self.estimated else "", self.xfloor)
        if self.xscatter == self.xscatter:
            s += " (%.2fx scattered)" % self.xscatter
        return s

    def load_cell(self):
        if not self.loads:
            return "—"
        return "%.2f–%.2f" % (min(self.loads), max(self.loads))


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


def btree_cells(g):
    """What the replay did to the btree (the same in every repetition):
    bsets appended / nodes moved / nodes cut, leaves read, node MB read /
    written; "—" for reports from before these fields existed."""
    b = g.runs[0].get("report", {}).get("btree", {})
    if "appended" not in b:
        return ["—", "—", "—"]
    return ["%d / %d / %d" % (b["appended"], b.get("moved", 0), b.get("splits", 0)),
            "%d" % b.get("leaves_read", 0),
            "%.0f / %.0f" % (b.get("bytes_read", 0) / 1e6, b.get("bytes_written", 0) / 1e6)]


BTREE_COLS = "| appended / moved / cut | leaves read | node MB read / written "


def recovery_tables(G, skipped, sizes, fscks=()):
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
              "| total (min–max) | x floor | M keys/s | peak RSS | vs reference "
              + BTREE_COLS + "|\n")
        s += "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for g in gs:
            r0 = g.runs[0]
            sp = "%.1fx" % (ref.total / g.total) if ref else "—"
            s += ("| %s | %d | %s | %.2f | %s | %s | %s | %s | **%s** (%s–%s) | %s | %.2f | %.0f MiB | %s | %s |\n" % (
                r0["mode"], r0["threads"], io_label(g), g.bytes / 1e9,
                fmt(g.phase["journal_read"]), fmt(g.phase["sort"]), fmt(g.phase["replay"]),
                fmt(g.phase["commit"]), fmt(g.total), fmt(g.lo), fmt(g.hi), g.xfloor_cell(),
                g.keys_read / g.total / 1e6, g.rss / 2**20, sp, " | ".join(btree_cells(g))))
        s += cpu_table(gs)
        loads = [x for g in gs for x in g.loads]
        if loads:
            s += ("\nLoad average (1 min) before and after the runs: %.2f–%.2f.\n"
                  % (min(loads), max(loads)))
            s += busy_sentence(loads)
        for fk in fscks:
            if fk.get("scenario") == "recovery" and fk["keys"] == n:
                s += "\n" + fsck_sentence(fk, "the last recovery's copy") + "\n"
        said = set()  # one sentence per mode: --append runs record it again
        for sk in skipped:
            if (sk.get("scenario", "recovery") == "recovery" and sk["keys"] == n
                    and sk["mode"] not in said):
                said.add(sk["mode"])
                s += "\nThe %s recovery was not run: %s.\n" % (sk["mode"], sk["why"])
    return s


def fsck_sentence(fk, what):
    if fk["exit_code"] == 0:
        return "`jrx fsck -n` on %s: clean (exit code 0%s)." % (
            what, ", %.1f s" % fk["seconds"] if "seconds" in fk else "")
    return ("**`jrx fsck -n` on %s: exit code %d** (%s errors, %s warnings)." % (
        what, fk["exit_code"], fk.get("errors", "?"), fk.get("warnings", "?")))


def bigtree_groups(results):
    by = {}
    for r in results:
        if r.get("bench") != "bigtree":
            continue
        # before "restore" was recorded, every restore punched holes
        dist = r["distribution"]
        if r.get("fresh") == "restore":
            dist += "/" + r.get("restore", "holes")
        k = (r["keys"], r["base_keys"], dist, r["mode"], r["threads"], r["io"])
        by.setdefault(k, []).append(r)
    return {k: Group(v) for k, v in by.items()}


def bt_order(k):
    # journal, base, distribution (uniform first), reference first, threads, io
    return (k[0], k[1], not k[2].startswith("uniform"), k[2], k[3] != "reference", k[4], k[5])


def bt_series(k, g):
    return "%s/%s" % (k[2], "reference" if k[3] == "reference" else
                      "T=%d/%s" % (k[4], g.backend))


def bigtree_table(B, skipped, fscks):
    s = ""
    for j in sorted({k[0] for k in B}):
        ks = sorted((k for k in B if k[0] == j), key=bt_order)
        s += "\n### %s journal keys over bases of %s keys\n\n" % (
            human(j), ", ".join(human(b) for b in sorted({k[1] for k in ks})))
        s += ("| base keys | distribution | recovery | threads | io | total (min–max) "
              "| replay | read GB | written GB | floor | x floor | load | reps "
              + BTREE_COLS + "|\n"
              "|---:|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
        est = False
        for k in ks:
            g = B[k]
            est = est or g.estimated
            ap = "≈" if g.estimated else ""
            s += ("| %s | %s | %s | %d | %s | **%s** (%s–%s) | %s | %s | %s | %s | %s | %s | %d | %s |\n" % (
                human(k[1]), k[2], k[3], k[4], io_label(g), fmt(g.total), fmt(g.lo), fmt(g.hi),
                fmt(g.phase["replay"]),
                ap + "%.3f" % (g.io_read / 1e9) if g.io_read is not None else "—",
                ap + "%.3f" % (g.io_written / 1e9) if g.io_written is not None else "—",
                fmt(g.floor), g.xfloor_cell(), g.load_cell(), len(g.reps),
                " | ".join(btree_cells(g))))
        s += busy_sentence([x for k in ks for x in B[k].loads])
        notes = []
        for sk in skipped:
            if sk.get("scenario") == "bigtree" and sk["keys"] == j:
                notes.append("The %s recovery over %s base keys (%s) was not run: %s." % (
                    sk["mode"], human(sk["base_keys"]), sk["distribution"], sk["why"]))
        fk_j = [fk for fk in fscks if fk.get("scenario") == "bigtree" and fk["keys"] == j]
        if fk_j and all(fk["exit_code"] == 0 for fk in fk_j):
            notes.append("`jrx fsck -n` after the last recovery of each array: clean (exit "
                         "code 0) on %s." % ("the one array" if len(fk_j) == 1 else
                                              "all %d arrays" % len(fk_j)))
        for fk in fk_j:
            if fk["exit_code"] != 0:
                notes.append(fsck_sentence(fk, "the %s base keys, %s array after its last "
                                           "recovery" % (human(fk["base_keys"]),
                                                         fk["distribution"])))
        if est:
            notes.append("≈: the reports have no btree byte counts; the node bytes are "
                         "nodes read / written x the btree node size.")
        if notes:
            s += "\n" + "\n\n".join(notes) + "\n"
    return s


def bigtree_data(B, j, path):
    ks = sorted((k for k in B if k[0] == j), key=bt_order)
    with open(path, "w") as f:
        f.write("# series base_keys total_median total_min total_max\n")
        for k in sorted(ks, key=lambda k: (bt_series(k, B[k]), k[1])):
            g = B[k]
            f.write("%s %d %.6f %.6f %.6f\n" % (bt_series(k, g), k[1], g.total, g.lo, g.hi))
    bases = sorted({k[1] for k in ks})
    return bases


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
                # the spread: the slowest one-thread run against the
                # fastest run at t, and the other way round
                lines.append("%s-%s %d %.6f %.6f %.6f %.6f\n" % (
                    tag(n), io, t, one.total / g.total if one else 0, g.total,
                    one.lo / g.hi if one else 0, one.hi / g.lo if one else 0))
    with open(path, "w") as f:
        f.write("# series threads speedup_vs_1 total_seconds speedup_min speedup_max\n")
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


def cpu_table(gs):
    """Where each configuration's median run spent its time (the report's
    phase_cpu): CPU in user and kernel mode, by phase; empty when the runs
    predate phase_cpu."""
    gs = [g for g in gs if "phase_cpu" in median_run(g)]
    if not gs:
        return ""
    s = ("\nWhere the time went, in the median run of each row (the report's "
         "`phase_cpu`: CPU seconds of every jrx thread, io_uring's workers "
         "included, in user / kernel mode; \"cores busy\" is their sum over the "
         "wall time; \"faults\" are minor page faults, the first touch "
         "of fresh memory).\n\n")
    s += ("| recovery | threads | io | total | CPU user / sys | cores busy | journal_read "
          "| sort | replay | commit | faults |\n")
    s += "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
    for g in gs:
        r0, m = g.runs[0], median_run(g)
        pc = m["phase_cpu"]
        u = sum(pc[p]["user"] for p in PHASES)
        k = sum(pc[p]["sys"] for p in PHASES)

        def cell(p):
            return "%s: %.2f / %.2f" % (fmt(m["phases"][p], 2), pc[p]["user"], pc[p]["sys"])
        s += "| %s | %d | %s | %s | %.2f / %.2f | %.2f | %s | %s | %s | %s | %s |\n" % (
            r0["mode"], r0["threads"], io_label(g), fmt(m["total_seconds"]), u, k,
            (u + k) / m["total_seconds"] if m["total_seconds"] > 0 else 0,
            cell("journal_read"), cell("sort"), cell("replay"), cell("commit"),
            human(sum(pc[p]["minflt"] for p in PHASES)))
    s += ("\nEach phase cell is wall seconds: user / kernel CPU seconds. A phase whose "
          "CPU is well under its wall time times its threads waited (on the disk, "
          "its flush, or a lock).\n")
    return s


def median_run(g):
    """The repetition whose total is the median (the lower one of an even
    count): its phases add up to its own total, which medians taken phase
    by phase need not."""
    reps = sorted(g.reps, key=lambda r: r["total_seconds"])
    return reps[(len(reps) - 1) // 2]


def phase_data(G, n, path):
    gs = sorted((g for k, g in G.items() if k[0] == n),
                key=lambda g: (g.runs[0]["mode"] != "reference",
                               g.runs[0]["threads"], g.runs[0]["io"]))
    with open(path, "w") as f:
        f.write("label " + " ".join(PHASES) + " total total_min total_max\n")
        for g in gs:
            r0 = g.runs[0]
            m = median_run(g)
            label = "reference" if r0["mode"] == "reference" else \
                "T=%d %s" % (r0["threads"], r0["io"])
            f.write('"%s" %s %.6f %.6f %.6f\n' % (
                label, " ".join("%.6f" % m["phases"][p] for p in PHASES),
                m["total_seconds"], g.lo, g.hi))
    return len(gs)


def gnuplot(script, *args):
    subprocess.run(["gnuplot", "-c", os.path.join(HERE, "plots", script)] + list(args),
                   check=True)


BUSY_LOAD = 1.5     # 1-minute load average on this 2-core machine


def busy_sentence(loads):
    """A warning when the machine was busy during the runs."""
    if loads and max(loads) >= BUSY_LOAD:
        return ("\n**Busy machine:** the load average reached %.2f during these"
                " runs (2 cores); the figures may be slower than the code.\n"
                % max(loads))
    return ""


CSV_FIELDS = ["bench", "scenario", "keys", "base_keys", "distribution", "rep",
              "mode", "threads", "io", "total_seconds", "superblock",
              "journal_read", "sort", "replay", "commit", "journal_bytes_read",
              "node_bytes_read", "node_bytes_written", "bsets_appended",
              "nodes_written", "peak_rss_bytes", "floor_seconds",
              "load_before", "load_after"]


def write_csv(res, path):
    """One row per recovery run beside the JSONL: what a spreadsheet needs."""
    import csv
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(CSV_FIELDS)
        for r in res:
            rep = r.get("report")
            if not isinstance(rep, dict) or "phases" not in rep:
                continue
            ph = rep.get("phases", {})
            bt = rep.get("btree", {})
            fl = r.get("floor") if isinstance(r.get("floor"), dict) else {}
            w.writerow([r.get("bench"), r.get("scenario", "recovery"),
                        r.get("keys"), r.get("base_keys", ""),
                        r.get("distribution", ""), r.get("rep"),
                        rep.get("mode"), rep.get("threads"),
                        rep.get("io_backend"), rep.get("total_seconds"),
                        ph.get("superblock"), ph.get("journal_read"),
                        ph.get("sort"), ph.get("replay"), ph.get("commit"),
                        rep.get("journal", {}).get("bytes_read"),
                        bt.get("bytes_read"), bt.get("bytes_written"),
                        bt.get("appended"), bt.get("nodes_written"),
                        rep.get("peak_rss_bytes"), fl.get("seconds", ""),
                        r.get("load_before", ""), r.get("load_after", "")])


def render(results_path, micro_path, md_path, out_dir, quick=False):
    res = load(results_path)
    write_csv(res, os.path.splitext(results_path)[0] + ".csv")
    m = next((r for r in res if r.get("bench") == "machine"), None)
    G = groups(res)
    B = bigtree_groups(res)
    skipped = [r for r in res if r.get("bench") == "skipped"]
    fscks = [r for r in res if r.get("bench") == "fsck"]
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
    # big tree: one plot per journal size, bigtree.png the largest's
    journals = sorted({k[0] for k in B})
    for j in journals:
        name = "bigtree" if j == journals[-1] else "bigtree-%s" % tag(j)
        dat = os.path.join(out_dir, name + ".dat")
        bases = bigtree_data(B, j, dat)
        tics = ", ".join('"%s" %d' % (human(b), b) for b in bases)
        gnuplot("bigtree.gp", dat, os.path.join(out_dir, name + ".png"),
                "Recovery of a %s-key journal by base size" % human(j), tics,
                str(bases[0] / 1.6), str(bases[-1] * 1.6))
        plots += "![big tree, %s journal keys](%s/%s.png)\n\n" % (human(j), rel, name)

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
    fresh = {r.get("fresh", "copy") for r in res if r.get("bench") == "recovery"}
    where = ("on the crashed array itself, recovered in place with its crashed state "
             "restored before every run as the big tree's are (its section says how), so "
             "that the recovery writes into allocated blocks, as on a block device, "
             "not into the holes of a sparse image" if fresh == {"restore"} else
             "on a fresh sparse copy of the crashed array" if fresh == {"copy"} else
             "some on a fresh sparse copy of the crashed array, some on the array "
             "itself recovered in place (the big tree's section says how)")
    doc.append("Each run of the end-to-end tables is `jrx recover --json` (the reference "
               "with `--reference`) " + where + " (`jrx synth --keys N`, default "
               "mix: extents 70, inodes 10, dirents 15, xattrs 5; overwrite ratio 0.3; "
               "uniform; as many base keys as journal keys), after `echo 3 > "
               "/proc/sys/vm/drop_caches`. Times are seconds, medians over the "
               "repetitions; the min–max range shows how noisy the machine was. "
               "\"M keys/s\" is journal keys read over the whole recovery. Speedups "
               "are ratios of medians taken in the same run." +
               (" The big-tree scenario recovers its arrays in place instead (its "
                "section says how)." if fresh == {"copy"} else "") + "\n\n")
    doc.append("\"x floor\" is each recovery's total time over its I/O floor, measured "
               "right after it in the same run on the same filesystem: the bytes it read "
               "(journal plus btree nodes) read back with `dd iflag=direct bs=1M` from a "
               "file written beforehand, the page cache dropped, plus the bytes it wrote "
               "(btree nodes) written with `dd oflag=direct conv=fsync bs=1M` " + (
                   "over a file of that size written before (untimed, `conv=notrunc`) "
                   "where the recovery wrote into allocated blocks (in place: the floor's "
                   "\"overwrite\" in the results), else to a new file"
                   if any((r.get("floor") or {}).get("overwrite") for r in res) else
                   "to a new file") + "; "
               "the median of the repetitions' ratios. It is the time sequential "
               "1 MiB direct I/O needs for the same bytes, one after the other; a "
               "recovery that overlaps its reads and writes can be under 1x, one that "
               "reads nodes scattered over the disk is above it. \"≈\" marks byte counts "
               "estimated from node counts (reports without btree byte fields); \"—\" "
               "a run recorded before the floor was measured. The "
               "load average (1 min, /proc/loadavg) is recorded before and after "
               "every run.\n\n")
    doc.append("## Machine\n\n" + machine_table(m) + "\n")
    if m and m["hypervisor"]:
        doc.append("A virtual machine: its disk and memory are shared with other guests, "
                   "which the min–max ranges show; \"The development VM\" under Earlier "
                   "measurements describes what that costs (free page reporting).\n\n")
    if m and m["numa_nodes"] <= 1:
        doc.append("One NUMA node: the replay's NUMA placement (one worker group per "
                   "node, memory bound to it) is tested on hwloc's synthetic topologies "
                   "only, and no figure here says anything about multi-node hardware.\n\n")
    doc.append("## End-to-end recovery\n" + (recovery_tables(G, skipped, sizes, fscks) if G else
                                               "\nNot run (`--sizes \"\"`).\n") + "\n")
    if B:
        doc.append("## Big tree, small journal\n\nA fixed journal (`jrx synth --keys J "
                   "--base-keys B`, the default mix and leaf fill, 75%) over bases much "
                   "bigger than it, with uniform and with `--distribution zipf` "
                   "positions: the replay touches a small share of a big tree. A "
                   "copy of such an array per run does not fit on the disk, so each "
                   "array is recovered in place and its crashed state restored before "
                   "every run: each device's reserved area (the bytes before "
                   "`first_bucket * bucket_size`, both superblock copies) is saved once "
                   "after synth and written back with `dd conv=notrunc` (then sync), and "
                   "the blocks the last recovery wrote stay allocated, as every block "
                   "of a block device is, with one unrecorded recovery first so that "
                   "every recorded one writes into allocated blocks (distribution "
                   "\"…/blocks\"); rows marked \"…/holes\" (`bench/run.sh --holes`, and "
                   "every row recorded before the distinction) punched those ranges back "
                   "into holes before each run, so each run allocated as the first did. "
                   "Recovery writes nothing the crashed state reads (docs/FORMAT.md §8 "
                   "point 7: bsets appended past a node's written part, nodes in free "
                   "buckets, then the superblocks), so this is the crashed array again; the script checks "
                   "that `jrx show-super` reports it unclean with the crashed "
                   "superblock seq, and runs `jrx fsck -n` after the last recovery of "
                   "each array. \"read GB\" and \"written GB\" are the bytes the "
                   "floor is measured over (one repetition's; they are the same in "
                   "every repetition); \"floor\" is its seconds (median); \"x floor\" adds, where fio is installed and the recovery appended bsets, the total over a scattered floor: fio writing as many 4 KiB blocks at random offsets of a written file (O_DIRECT, io_uring, 2 jobs of depth 32, then fsync), the rest of the written bytes at dd's rate, plus dd's read (the replay's appends are scattered blocks, which one sequential dd stream does not model). fio's random-write rate on this VM varies about 2x from run to run and can come out slower than the recovery's own appends (x below 1): it is no lower bound, only evidence that one sequential dd stream is not one for scattered writes either; \"load\" the "
                   "lowest and highest load average seen before and after the runs.\n"
                   + bigtree_table(B, skipped, fscks) + "\n")
    doc.append("## Thread scaling\n\nAccelerated recovery, total seconds by worker "
               "threads (every stage uses that many).\n\n" +
               (stable if threads_of(G) else "Not run.\n") + "\n")
    ft = fsck_table(res)
    if ft:
        doc.append("## fsck -n by threads\n\n`bash bench/fsck.sh`: `jrx fsck -n --threads "
                   "T` of a clean array (`jrx synth --keys K --base-keys B`, recovered), "
                   "wall seconds, medians; its floor is `dd iflag=direct bs=1M` reading "
                   "back the node bytes that fsck read (each node once), right after "
                   "each run.\n\n" + ft + "\n")
    doc.append("## Plots\n\n" + plots)
    doc.append("## RocksDB peer\n\n" + (peer_table(G, peers, sizes) if peers else
                                        "Not run (`--no-peer`).\n") + "\n" + peer_notes + "\n")
    doc.append("## Micro-benchmarks (sort stage)\n\n`build/bench/micro/jrx-microbench`%s.\n\n" % (
        ", JSON in `%s`" % os.path.relpath(micro_path) if micro_path and
        os.path.exists(micro_path) else "") + micro_table(micro_path) + "\n")
    if not quick:   # a quick run's page is its own figures only
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
        print(refskip(argv[2], int(argv[3]), int(argv[4]) if len(argv) > 4 else None,
                      argv[5] if len(argv) > 5 else None))
    elif cmd == "row":
        print(row(json.loads(argv[2]), argv[3],
                  float(argv[4]) if len(argv) > 4 and argv[4] else None))
    elif cmd == "floor":
        print(json.dumps(floor(argv[2], json.loads(argv[3]), int(argv[4]),
                               len(argv) > 5 and argv[5] == "overwrite")))
    elif cmd == "floorrow":
        print(floorrow(json.loads(argv[2]), json.loads(argv[3])))
    elif cmd == "fsck":
        print(fsck_fields(argv[2], int(argv[3])))
    elif cmd == "fsckfloor":
        print(json.dumps(fsck_floor(argv[2], argv[3])))
    elif cmd == "fsckrow":
        print(fsckrow(json.loads(argv[2])))
    elif cmd == "fscktable":
        print(fsck_table(load(argv[2])), end="")
    elif cmd == "peerrow":
        print(peerrow(json.loads(argv[2]), argv[3]))
    elif cmd == "render":
        render(argv[2], argv[3], argv[4], argv[5], "--quick" in argv[6:])
    else:
        sys.exit("bench/results.py: unknown subcommand %s\n%s" % (cmd, __doc__))


if __name__ == "__main__":
    main(sys.argv)
