"""The results of `make bench` as JSON, a Markdown table and PNG charts (bench/results/)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

SCALES = ["county", "province", "national"]
GIB_MB = 1024.0


def _mean(*values: float) -> float:
    return sum(values) / len(values)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,} {unit}".strip()
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def row(figure: str, measured: Any, baseline: Any, ratio: float | None, target: str, met: bool | None,
        scale: str = "", unit: str = "", baseline_name: str = "") -> dict[str, Any]:
    return {"scale": scale, "figure": figure, "measured": measured, "unit": unit, "baseline": baseline,
            "baseline_name": baseline_name, "ratio": None if ratio is None else round(ratio, 3), "target": target,
            "met": met}


def scale_rows(scale: str, m: dict[str, Any]) -> list[dict[str, Any]]:
    if "check" not in m:
        return []
    bare = _mean(m["bare"]["rps"], m["bare_again"]["rps"])
    bare_p99 = _mean(m["bare"]["p99_ms"], m["bare_again"]["p99_ms"])
    insert = _mean(m["insert"]["rps"], m["insert_again"]["rps"])
    check, lst, submit, mix = m["check"], m["list"], m["submit"], m["mixed"]
    rss = max(m["rss_mb"]) if m.get("rss_mb") else None
    out = [
        row("checks, req/s", check["rps"], bare, check["rps"] / bare, "≥ 0.5 of bare (issue 3)",
            check["rps"] / bare >= 0.5, scale, "req/s", "GET /healthz"),
        row("checks, p99 at 64 connections", check["p99_ms"], bare_p99, check["p99_ms"] / bare_p99,
            "< 15 ms (issue 3)", check["p99_ms"] < 15, scale, "ms", "GET /healthz p99"),
        row("public list reads, req/s", lst["rps"], bare, lst["rps"] / bare, "none stated", None, scale, "req/s",
            "GET /healthz"),
        row("public list reads, p99 at 64 connections", lst["p99_ms"], bare_p99, lst["p99_ms"] / bare_p99,
            "none stated (past-date p95 < 20 ms: see registry bench)", None,
            scale, "ms", "GET /healthz p99"),
        row("admission submissions, req/s", submit["rps"], insert, submit["rps"] / insert,
            "≥ 1/3 of plain INSERT (issue 4)", submit["rps"] / insert >= 1 / 3, scale, "req/s", "plain INSERT"),
        row("mixed 80/10/10, req/s", mix["rps"], m["baseline_mix"]["rps"], mix["rps"] / m["baseline_mix"]["rps"],
            "none stated", None, scale, "req/s", "same shares of the baselines"),
        row("mixed 80/10/10, p99", mix["p99_ms"], m["baseline_mix"]["p99_ms"],
            mix["p99_ms"] / m["baseline_mix"]["p99_ms"], "none stated", None, scale, "ms", "baseline mix p99"),
        row("resident memory per worker (largest)", rss, max(m["rss_mb_after_start"] or [0]) or None,
            rss / max(m["rss_mb_after_start"]) if rss and m.get("rss_mb_after_start") else None,
            "< 1 GiB at national scale (issue 8)" if scale == "national" else "(1 GiB applies at national)",
            (rss < GIB_MB) if scale == "national" and rss else None, scale, "MB", "the same worker just started"),
    ]
    out += framework_rows(scale, m, bare)
    errors = sum(m[k]["non_2xx"] for k in ("bare", "check", "list", "insert", "submit", "baseline_mix", "mixed"))
    out.append(row("responses other than 2xx in all runs", errors, None, None, "0", errors == 0, scale))
    return out


def framework_rows(scale: str, m: dict[str, Any], bare: float) -> list[dict[str, Any]]:
    """Each figure as a share of the framework itself (bench/baseline_app.py, same server, same run): issue 15."""
    if "framework_get" not in m:
        return []
    gets = [m["framework_get"]["rps"]] + ([m["framework_get_again"]["rps"]] if "framework_get_again" in m else [])
    fw_get, fw_post = _mean(*gets), m["framework_post"]["rps"]
    fw_post_p99 = m["framework_post"]["p99_ms"]
    check, lst = m["check"], m["list"]
    at_scale = scale in ("province", "national")
    out = [
        row("GET /healthz, req/s", bare, fw_get, bare / fw_get, "≥ 0.75 of the minimal GET (issue 15)",
            bare / fw_get >= 0.75, scale, "req/s", "minimal Litestar GET"),
        row("checks, req/s", check["rps"], fw_post, check["rps"] / fw_post,
            "≥ 0.70 of the minimal POST (issue 15)", (check["rps"] / fw_post >= 0.70) if at_scale else None, scale,
            "req/s", "minimal Litestar POST, same body"),
        row("checks, p99", check["p99_ms"], fw_post_p99, check["p99_ms"] / fw_post_p99,
            "≤ 1.5 × the minimal POST's p99 (issue 15)", (check["p99_ms"] / fw_post_p99 <= 1.5) if at_scale else None,
            scale, "ms", "minimal POST p99"),
        row("a community's list, req/s", lst["rps"], fw_get, lst["rps"] / fw_get,
            "≥ 0.25 of the minimal GET at national (issue 15)",
            (lst["rps"] / fw_get >= 0.25) if scale == "national" else None, scale, "req/s", "minimal Litestar GET"),
    ]
    if "revalidate" in m:
        rv = m["revalidate"]["rps"]
        out.append(row("a list's 304 revalidation, req/s", rv, fw_get, rv / fw_get,
                       "≥ 0.6 of the minimal GET (issue 15)", rv / fw_get >= 0.6, scale, "req/s",
                       "minimal Litestar GET"))
    if "batch" in m:
        decisions = m["batch"]["rps"] * m["batch"].get("batch_size", 100)
        out.append(row("batch check, decisions/s", decisions, check["rps"], decisions / check["rps"],
                       "≥ 5 × single checks (issue 15)", decisions / check["rps"] >= 5, scale, "decisions/s",
                       "single checks, req/s"))
    mix, base_mix = m["mixed"]["rps"], m["baseline_mix"]["rps"]
    out.append(row("mixed 80/10/10 against the same mix of baselines", mix, base_mix, mix / base_mix,
                   "≥ 0.6 (issue 15)", mix / base_mix >= 0.6, scale, "req/s", "baseline mix"))
    return out


def _num(pattern: str, text: str) -> float | None:
    m = re.search(pattern, text, re.M)
    return float(m.group(1).replace(",", "")) if m else None


def other_rows(others: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if a := others.get("authz"):
        rate = _num(r"rate=([\d,]+)/s", a["output"])
        out.append(row("authz: decisions/s in process, 100,000 assignments", rate, None, None,
                       "≥ 10,000/s (issue 2)", rate is not None and rate >= 10_000, "", "/s"))
    if r := others.get("registry"):
        try:
            s = json.loads(r["output"][r["output"].index("{"):])
        except ValueError:
            s = None
        if s:
            scale = s["scale"]
            out.append(row("registry bench: checks, req/s", s["checks"]["rps"], s["bare_healthz"]["rps"],
                           s["checks_vs_bare"], "≥ 0.5 of bare (issue 3)", s["checks_vs_bare"] >= 0.5, scale,
                           "req/s", "GET /healthz"))
            out.append(row("registry bench: checks p99", s["checks"]["p99_ms"], s["bare_healthz"]["p99_ms"],
                           s["checks"]["p99_ms"] / s["bare_healthz"]["p99_ms"], "< 15 ms (issue 3)",
                           s["checks"]["p99_ms"] < 15, scale, "ms", "GET /healthz p99"))
            read, bare_read = s["as_of_read"], s["as_of_read_without_http"]
            out.append(row("registry bench: a community's list at a past date, p95 over HTTP", read["p95_ms"],
                           bare_read["p95_ms"], read["p95_ms"] / bare_read["p95_ms"],
                           "< 20 ms at national (issue 3)", read["p95_ms"] < 20 if scale == "national" else None,
                           scale, "ms", "the same read without HTTP"))
    if s := others.get("admission_submit"):
        text = s["output"]
        plain = [float(x) for x in re.findall(r"plain INSERT.*?\s([\d.]+) req/s", text)]
        sub = _num(r"submission\s+([\d.]+) req/s", text)
        ratio = _num(r"= ([\d.]+) \(target", text)
        out.append(row("admission bench (demo data): submissions, req/s", sub, _mean(*plain) if plain else None,
                       ratio, "≥ 1/3 of plain INSERT (issue 4)", ratio is not None and ratio >= 1 / 3, "demo",
                       "req/s", "plain INSERT"))
    if po := others.get("policy"):
        try:
            p = json.loads(po["output"][po["output"].index("{"):])
        except ValueError:
            p = None
        if p:
            r, t, label = p["rates"], p["screening"], f"{p['cases']} cases"
            for name, value, target, ok in (
                    ("policy: prohibited caught (refused or flagged)", r["caught"], "≥ 97 % (issue 13)",
                     r["caught"] >= 0.97),
                    ("policy: prohibited refused outright", r["refused"], "≥ 85 % (issue 13)", r["refused"] >= 0.85),
                    ("policy: legitimate refused", r["legitimate_refused"], "0 (issue 13)",
                     r["legitimate_refused"] == 0),
                    ("policy: legitimate flagged", r["legitimate_flagged"], "≤ 8 % (issue 13)",
                     r["legitimate_flagged"] <= 0.08)):
                out.append(row(name, round(100 * value, 1), None, None, target, ok, label, "%"))
            out.append(row(f"policy: screening one submission in process, p95 ({t['county_list_items']} items)",
                           t["p95_ms"], None, None, "≤ 2 ms (issue 13)", t["p95_ms"] <= 2.0, "in process", "ms"))
    if au := others.get("audit_log"):
        text, scale = au["output"], au.get("scale", "")
        events = _num(r"^([\d,]+) events in the log", text)
        label = f"{scale} ({events:,.0f} events)" if events else scale
        pages = [(m.group(1), float(m.group(3))) for m in re.finditer(r"^\| (.+?) \| ([\d.]+) \| ([\d.]+) \|$",
                                                                       text, re.M) if "proof" not in m.group(1)]
        proofs = [float(m.group(1)) for m in re.finditer(r"^\| \w+ proof \| [\d.]+ \| ([\d.]+) \|$", text, re.M)]
        if pages:
            worst = max(pages, key=lambda p: p[1])
            out.append(row(f"audit: filtered page of 50, worst p95 ({worst[0]})", worst[1], None, None,
                           "< 10 ms (issue 6)", worst[1] < 10, label, "ms"))
        if proofs:
            out.append(row("audit: inclusion/consistency proof, worst p95", max(proofs), None, None,
                           "< 50 ms (issue 6)", max(proofs) < 50, label, "ms"))
        export = _num(r"= ([\d,]+) events/s", text)
        if export is not None:
            out.append(row("audit: export, events/s", export, None, None, "≥ 50,000/s (issue 6)", export >= 50_000,
                           label, "/s"))
        appended = _num(r"= ([\d,]+)/s inserted", text)
        sequenced = _num(r"sequenced [\d,]+ in [\d.]+ s = ([\d,]+)/s", text)
        if appended is not None:
            out.append(row("audit: appending with proofs maintained, events/s sequenced", sequenced, appended,
                           sequenced / appended if sequenced and appended else None, "≥ 5,000/s (issue 6)",
                           sequenced is not None and sequenced >= 5_000, label, "/s", "events/s inserted"))
    return out


def _met(value: bool | None) -> str:
    return "—" if value is None else "**met**" if value else "**not met**"


def markdown(results: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    m, v, st = results["machine"], results["versions"], results["settings"]
    lines = [
        "# Benchmark results (`make bench`)", "",
        f"Run started {results['started_at']}, `{results['command']}`"
        + (f", {results['total_seconds'] / 60:.0f} min in all" if results.get("total_seconds") else "") + ".", "",
        f"- Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; load average (1, 5, 15 min) "
        f"{_loads(m['load_average_at_start'])} at the start"
        + (f", {_loads(m['load_average_at_end'])} at the end" if m.get("load_average_at_end") else "")
        + ". The cores are shared with other engineers' test runs: figures are noisy.",
        "- Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        f"- Server: granian, {st['server_workers']} workers, PostgreSQL on the same machine; wrk "
        f"{st['wrk_threads']} threads over loopback, {st['seconds']} s per figure, {st['connections']} connections "
        f"(submissions and INSERT: {st['write_connections']}). A baseline measured twice (before and after) "
        "counts as the mean of both runs.", "",
        "## Each figure, its baseline from the same run, and the target", "",
        "| scale | figure | measured | baseline | ratio | target | |", "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        base = f"{_fmt(r['baseline'], r['unit'])} ({r['baseline_name']})" if r["baseline"] is not None else "—"
        lines.append(f"| {r['scale']} | {r['figure']} | {_fmt(r['measured'], r['unit'])} | {base} | "
                     f"{_fmt(r['ratio'])} | {r['target']} | {_met(r['met'])} |")
    lines += ["", "## wrk runs per scale", "",
              "| scale | load | connections | req/s | p50 ms | p90 ms | p95 ms | p99 ms | non-2xx | load avg |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    names = {"bare": "GET /healthz (bare)", "check": "POST /api/v1/checks", "list": "GET a community's list",
             "bare_again": "GET /healthz (again)", "insert": "POST plain INSERT", "submit": "POST admission request",
             "insert_again": "POST plain INSERT (again)", "baseline_mix": "baseline mix (80/10/10 of baselines)",
             "mixed": "mixed: 80% checks, 10% submissions, 10% list reads",
             "framework_get": "minimal Litestar GET /healthz (bench/baseline_app.py)",
             "framework_post": "minimal Litestar POST, the check's body into a Struct",
             "framework_get_again": "minimal Litestar GET (again)",
             "revalidate": "GET a community's list, If-None-Match (304)",
             "batch": "POST /api/v1/checks/batch (100 checks a call)"}
    for scale, s in results["scales"].items():
        for key, name in names.items():
            if key in s:
                w = s[key]
                lines.append(f"| {scale} | {name} | {w['connections']} | {w['rps']:,.0f} | {_fmt(w['p50_ms'])} | "
                             f"{_fmt(w['p90_ms'])} | {_fmt(w['p95_ms'])} | {_fmt(w['p99_ms'])} | {w['non_2xx']} | |")
        lines.append(f"| {scale} | load average before / after | | | | | | | | "
                     f"{_loads(s.get('load_average_before'))} / {_loads(s.get('load_average_after'))} |")
    lines += ["", "## Resident memory per server worker", "", "| scale | just started, MB | after the load, MB |",
              "|---|---|---|"]
    for scale, s in results["scales"].items():
        lines.append(f"| {scale} | {', '.join(map(str, s.get('rss_mb_after_start') or []))} | "
                     f"{', '.join(map(str, s.get('rss_mb') or []))} |")
    lines += ["", "## Data per scale and how long generating it took (COPY)", ""]
    for scale, s in results["scales"].items():
        d = s["data"]
        when = "reused from a generation at " + d["generated_at"] if d.get("reused") else "generated in this run"
        lines.append(f"**{scale}** ({when}): {d['generate_s']:,.0f} s in all; "
                     + "; ".join(f"{k} {sec:,.0f} s" for k, sec in d["phases"].items()) + ".")
        lines.append("In the database (the demo data included): " + ", ".join(
            f"{k.replace('_', ' ')} {val:,}" for k, val in d["found"].items() if k != "database_bytes")
            + f"; database {_size(d['found']['database_bytes'])}. Admission requests by state: "
            + ", ".join(f"{k} {n:,}" for k, n in d["admission_states"].items()) + ".")
        lines.append("")
    if others := results.get("others"):
        lines += ["## The other areas' benchmarks, as they print", ""]
        for o in others.values():
            lines += [f"`{o['command']}` (exit {o['exit_code']}, {o['seconds']} s)", "", "```",
                      *_tail(o["output"]), "```", ""]
    return "\n".join(lines) + "\n"


def _tail(text: str, n: int = 45) -> list[str]:
    lines = [line for line in text.splitlines() if not line.startswith("  loaded ") and "sequenced " not in line[:12]]
    return lines[-n:]


def _size(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _loads(values: list[float] | None) -> str:
    return ", ".join(f"{x:.2f}" for x in values) if values else "—"


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def draw_charts(results: dict[str, Any], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scales = [s for s in SCALES if "check" in results["scales"].get(s, {})]
    if not scales:
        return []
    data = [results["scales"][s] for s in scales]
    labels = [f"{s}\n{_count(d['requested']['counties'], 'county', 'counties')}\n"
              f"{_count(d['requested']['communities'], 'community', 'communities')}"
              for s, d in zip(scales, data, strict=True)]
    x = list(range(len(scales)))
    made = []
    subtitle = (f"granian {results['settings']['server_workers']} workers, wrk {results['settings']['connections']} "
                f"connections, {results['machine']['cores']} shared cores; 1-min load average after each scale "
                + " / ".join(f"{d['load_average_after'][0]:.1f}" for d in data if d.get("load_average_after")))

    fig, ax = plt.subplots(figsize=(8.5, 6), dpi=110, layout="constrained")
    series = [("minimal Litestar GET (framework baseline)", "framework_get", "black", ":"),
              ("bare GET /healthz (baseline, mean of its 2 runs)", "bare", "tab:gray", "--"),
              ("POST /api/v1/checks", "check", "tab:blue", "-"),
              ("GET a community's list", "list", "tab:orange", "-"),
              ("mixed 80/10/10", "mixed", "tab:green", "-")]
    for name, key, color, style in series:
        if any(key not in d for d in data):
            continue
        values = [_mean(d["bare"]["rps"], d["bare_again"]["rps"]) if key == "bare" else d[key]["rps"] for d in data]
        ax.plot(x, values, marker="o", color=color, linestyle=style, label=name)
        for xi, val in zip(x, values, strict=True):
            ax.annotate(f"{val:,.0f}", (xi, val), textcoords="offset points", xytext=(0, 7), fontsize=8, color=color,
                        ha="center")
    ax.set_xticks(x, labels)
    ax.set_xlim(-0.3, len(x) - 0.6)
    ax.set_ylabel("requests per second (more is better)")
    ax.set_ylim(bottom=0)
    ax.set_title("Throughput against data size\n" + subtitle, fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    made.append(out_dir / "throughput.png")
    fig.savefig(made[-1])
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(11, 6.5), dpi=110, layout="constrained")
    for ax, (title, key, color) in zip(axes, [("POST /api/v1/checks", "check", "tab:blue"),
                                              ("GET a community's list (public)", "list", "tab:orange")],
                                       strict=True):
        for q, style in (("p50_ms", "-"), ("p99_ms", "--")):
            values = [d[key][q] for d in data]
            ax.plot(x, values, marker="o", color=color, linestyle=style, label=f"{q[:3]}")
            for xi, val in zip(x, values, strict=True):
                ax.annotate(_fmt(val), (xi, val), textcoords="offset points", xytext=(0, 7), fontsize=8,
                            color=color, ha="center")
        for q, style in (("p50_ms", "-"), ("p99_ms", "--")):
            ax.plot(x, [_mean(d["bare"][q], d["bare_again"][q]) for d in data], marker=".", color="tab:gray",
                    linestyle=style, label=f"bare /healthz {q[:3]} (baseline, mean of 2 runs)")
        if key == "check":
            ax.axhline(15, color="tab:red", linewidth=1, linestyle=":", label="target: p99 < 15 ms (issue 3)")
        ax.set_yscale("log")
        ax.set_xticks(x, labels)
        ax.set_xlim(-0.3, len(x) - 0.7)
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
        ax.set_ylabel("milliseconds, log scale (less is better)")
    fig.suptitle("Latency against data size at 64 connections, p50 and p99\n" + subtitle, fontsize=10)
    made.append(out_dir / "latency.png")
    fig.savefig(made[-1])
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    width = 0.35
    start = [max(d.get("rss_mb_after_start") or [0]) for d in data]
    after = [max(d.get("rss_mb") or [0]) for d in data]
    ax.bar([i - width / 2 for i in x], start, width, label="just started", color="tab:gray")
    ax.bar([i + width / 2 for i in x], after, width, label="after the load (every list asked for held)",
           color="tab:purple")
    for i, (before, val) in enumerate(zip(start, after, strict=True)):
        ax.annotate(f"{val:,.0f} MB", (i + width / 2, val), textcoords="offset points", xytext=(0, 3),
                    ha="center", fontsize=8)
        ax.annotate(f"{before:,.0f} MB", (i - width / 2, before), textcoords="offset points", xytext=(0, 3),
                    ha="center", fontsize=8, color="dimgray")
    ax.axhline(GIB_MB, color="tab:red", linewidth=0.8, linestyle=":")
    ax.annotate("issue 8 target at national: < 1 GiB per worker", (len(x) - 0.6, GIB_MB),
                textcoords="offset points", xytext=(0, 4), fontsize=8, color="tab:red", ha="right")
    ax.set_xticks(x, labels)
    ax.set_ylabel("resident memory per worker, MB (largest worker)")
    ax.set_ylim(0, max([*after, GIB_MB]) * 1.15)
    ax.set_title("Memory per server worker against data size", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    made.append(out_dir / "memory.png")
    fig.savefig(made[-1])
    plt.close(fig)
    return made


def write(results: dict[str, Any], out_dir: Path, *, charts: bool = False) -> None:
    rows = [r for scale, m in results["scales"].items() for r in scale_rows(scale, m)]
    rows += other_rows(results.get("others") or {})
    results["figures"] = rows
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                                          encoding="utf-8")
    (out_dir / "results.md").write_text(markdown(results, rows), encoding="utf-8")
    if charts:
        results["charts"] = [p.name for p in draw_charts(results, out_dir)]
        (out_dir / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
