"""The benchmark's data sizes and its Markdown report (no database, no server: milliseconds)."""

from __future__ import annotations

from pathlib import Path

from bench import generate, report


def test_scales_keep_the_national_proportions():
    assert generate.counts("national") == {"workers": 1_600_000, "admission_requests": 1_000_000,
                                           "audit_events": 10_000_000}
    province = generate.counts("province")
    assert province["admission_requests"] == round(1_000_000 * 120 / 2_800)
    assert province["workers"] == round(1_600_000 * 6_000 / 120_000)
    assert sum(share for _, share, _ in generate.STATES) == 100


def _wrk(rps: float, p50: float, p99: float) -> dict[str, object]:
    return {"rps": rps, "p50_ms": p50, "p90_ms": p99 / 2, "p95_ms": p99 / 1.5, "p99_ms": p99, "non_2xx": 0,
            "connections": 64}


def test_report_puts_each_figure_next_to_its_baseline_and_target(tmp_path: Path):
    measured = {"bare": _wrk(4000, 10, 40), "bare_again": _wrk(6000, 8, 30), "check": _wrk(2000, 12, 60),
                "list": _wrk(150, 300, 900), "insert": _wrk(1000, 10, 50), "insert_again": _wrk(1000, 10, 50),
                "submit": _wrk(400, 30, 90), "baseline_mix": _wrk(3000, 12, 100), "mixed": _wrk(700, 70, 400),
                "rss_mb_after_start": [80.0, 81.0], "rss_mb": [500.0, 520.5],
                "load_average_before": [1.0, 1.0, 1.0], "load_average_after": [2.0, 1.5, 1.0]}
    results = {
        "started_at": "2026-12-01T21:00:00+00:00", "command": "python -m bench", "quick": False,
        "machine": {"cpu": "Test CPU", "cores": 2, "memory_gib": 8.0, "load_average_at_start": [0.5, 0.4, 0.3]},
        "versions": {"python": "3.11", "postgres": "18"},
        "settings": {"server_workers": 2, "connections": 64, "write_connections": 16, "seconds": 15,
                     "wrk_threads": 2},
        "scales": {"national": {"data": {"found": {"counties": 2802, "database_bytes": 10**9},
                                         "admission_states": {"approved": 5}, "phases": {"registry": 200.0},
                                         "generate_s": 200.0, "generated_at": "x", "reused": False},
                                "requested": {"counties": 2800, "communities": 120_000}, **measured}},
    }
    report.write(results, tmp_path)
    text = (tmp_path / "results.md").read_text(encoding="utf-8")
    assert "| national | checks, req/s | 2,000 req/s | 5,000 req/s (GET /healthz) | 0.40 | ≥ 0.5 of bare (issue 3) " \
           "| **not met** |" in text
    assert "| national | admission submissions, req/s | 400 req/s | 1,000 req/s (plain INSERT) | 0.40 |" in text
    assert "| national | resident memory per worker (largest) | 520 MB |" in text
    assert "Test CPU, 2 cores, 8.0 GiB" in text
    assert (tmp_path / "results.json").exists()
