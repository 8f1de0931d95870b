"""Tables (Markdown, to paste into docs/benchmarks.md) and the `--json` objects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fanout_lib.harness import WindowResult

__all__ = [
    "SaturationStep",
    "calm_json",
    "calm_tables",
    "saturation_json",
    "saturation_table",
    "storm_json",
    "storm_table",
]

Outcome = WindowResult | str  # a result, or why the gateway could not be measured


@dataclass(frozen=True, slots=True)
class SaturationStep:
    """One rate step of `--saturate` and whether it held."""

    result: WindowResult
    ok: bool
    reason: str


def _f(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _ratio(value: float | None, base: float | None) -> str:
    if value is None or base is None or base == 0:
        return "–"
    return f"{value / base:.2f}×"


def _pct(seconds: float, r: WindowResult) -> str:
    return f"{100 * seconds / r.duration:.0f}"


def calm_tables(results: Mapping[str, Outcome]) -> str:
    """The main table, then the diagnostics table."""
    base = results.get("restream")
    base_cpu = base.cpu_s_per_million if isinstance(base, WindowResult) else None
    base_p99 = base.p99_ms if isinstance(base, WindowResult) else None
    lines = [
        "| gateway | deliveries/s | server CPU s / 1M deliveries | deliveries / CPU-s "
        "| p50 ms | p99 ms | max ms | peak RSS MB | lost | CPU/delivery ÷ restream "
        "| p99 ÷ restream |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        if isinstance(r, str):
            lines.append(f"| {name} | not measured: {r} |" + " |" * 9)
            continue
        cpu = r.cpu_s_per_million
        per_cpu = r.deliveries / r.cpu_s if r.cpu_s > 0 else None
        lines.append(
            f"| {name} | {r.deliveries_per_s:,.0f} | {_f(cpu)} | {_f(per_cpu, 0)} "
            f"| {_f(r.p50_ms)} | {_f(r.p99_ms)} | {_f(r.max_ms)} | {r.hwm / 2**20:,.1f} "
            f"| {r.lost:,} | {_ratio(cpu, base_cpu)} | {_ratio(r.p99_ms, base_p99)} |"
        )
    lines += [
        "",
        "| gateway | upstream msgs/s sent | server CPU % | server waiting for a core % "
        "| clients CPU % | feeder CPU % | received / expected | extra | disconnected "
        "| waited after window s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        if isinstance(r, str):
            continue
        lines.append(
            f"| {name} | {r.achieved_rate:,.0f} | {_pct(r.cpu_s, r)} | {_pct(r.cpu_wait_s, r)} "
            f"| {_pct(r.client_cpu_s, r)} | {_pct(r.feeder_cpu_s, r)} "
            f"| {r.received:,} / {r.expected:,} | {r.extra:,} | {r.disconnected:,} "
            f"| {r.drain_s:.1f} |"
        )
    return "\n".join(lines)


def calm_json(workload: Mapping[str, Any], results: Mapping[str, Outcome]) -> dict[str, Any]:
    """`{"workload": …, "gateways": {name: G}}`; G as the issue asks (or `{"error": …}`)."""
    gateways: dict[str, Any] = {}
    for name, r in results.items():
        gateways[name] = {"error": r} if isinstance(r, str) else r.figures()
    return {"workload": dict(workload), "gateways": gateways}


def saturation_table(runs: Mapping[str, Sequence[SaturationStep] | str]) -> str:
    """Every step of every gateway, then the verdict per gateway."""
    lines = [
        "| gateway | upstream msgs/s (sent) | deliveries/s | server CPU % | clients CPU % "
        "| p99 ms | max ms | lost | holds? |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    verdicts = [
        "",
        "| gateway | max sustainable upstream msgs/s | deliveries/s there | stopped by |",
        "|---|---:|---:|---|",
    ]
    for name, steps in runs.items():
        if isinstance(steps, str):
            verdicts.append(f"| {name} | – | – | not measured: {steps} |")
            continue
        best: SaturationStep | None = None
        for step in steps:
            r = step.result
            lines.append(
                f"| {name} | {r.rate:,.0f} ({r.achieved_rate:,.0f}) | {r.deliveries_per_s:,.0f} "
                f"| {100 * r.cpu_s / r.duration:.0f} | {100 * r.client_cpu_s / r.duration:.0f} "
                f"| {_f(r.p99_ms)} | {_f(r.max_ms)} | {r.lost:,} | "
                f"{'yes' if step.ok else 'no: ' + step.reason} |"
            )
            if step.ok:
                best = step
        last = steps[-1] if steps else None
        stopped = "–" if last is None or last.ok else last.reason
        if best is None:
            verdicts.append(f"| {name} | below {steps[0].result.rate:,.0f} | – | {stopped} |")
        else:
            verdicts.append(
                f"| {name} | {best.result.rate:,.0f} | {best.result.deliveries_per_s:,.0f} "
                f"| {stopped if last is not None and not last.ok else 'step limit'} |"
            )
    return "\n".join(lines + verdicts)


def saturation_json(
    workload: Mapping[str, Any], runs: Mapping[str, Sequence[SaturationStep] | str]
) -> dict[str, Any]:
    gateways: dict[str, Any] = {}
    for name, steps in runs.items():
        if isinstance(steps, str):
            gateways[name] = {"error": steps}
            continue
        held = [s for s in steps if s.ok]
        gateways[name] = {
            "max_sustainable_rate": held[-1].result.rate if held else None,
            "max_sustainable_deliveries_per_s": round(held[-1].result.deliveries_per_s)
            if held
            else None,
            "stopped_by": next((s.reason for s in steps if not s.ok), "step limit"),
            "steps": [
                {**s.result.figures(), **s.result.details(), "ok": s.ok, "reason": s.reason}
                for s in steps
            ],
        }
    return {"workload": dict(workload), "mode": "saturate", "gateways": gateways}


def _dropped(r: WindowResult) -> str:
    codes = ", ".join(f"{n}× {code}" for code, n in sorted(r.slow_close_codes.items()))
    return f"{r.slow_dropped:,} ({codes})" if codes else f"{r.slow_dropped:,}"


def _growth(calm: WindowResult, storm: WindowResult) -> float:
    return (storm.rss_peak - storm.rss_start) / 2**20


def storm_table(
    runs: Mapping[str, tuple[WindowResult, WindowResult] | str], budget_mb: float | None
) -> str:
    lines = [
        "| gateway | fast p99 calm ms | fast p99 storm ms | storm ÷ calm | fast lost "
        "| RSS at storm start MB | RSS peak in storm MB | growth MB | slow clients dropped |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, pair in runs.items():
        if isinstance(pair, str):
            lines.append(f"| {name} | not measured: {pair} |" + " |" * 7)
            continue
        calm, storm = pair
        lines.append(
            f"| {name} | {_f(calm.p99_ms)} | {_f(storm.p99_ms)} "
            f"| {_ratio(storm.p99_ms, calm.p99_ms)} "
            f"| {storm.lost:,} | {storm.rss_start / 2**20:,.1f} | {storm.rss_peak / 2**20:,.1f} "
            f"| {_growth(calm, storm):,.1f} | {_dropped(storm)} |"
        )
    if budget_mb is not None:
        lines.append("")
        lines.append(
            f"restream's memory budget: {budget_mb:g} MiB (target: growth ≤ "
            f"{budget_mb * 1.1:g} MiB, budget + 10 %)."
        )
    return "\n".join(lines)


def storm_json(
    workload: Mapping[str, Any],
    runs: Mapping[str, tuple[WindowResult, WindowResult] | str],
    budget_mb: float | None,
) -> dict[str, Any]:
    gateways: dict[str, Any] = {}
    for name, pair in runs.items():
        if isinstance(pair, str):
            gateways[name] = {"error": pair}
            continue
        calm, storm = pair
        gateways[name] = {
            "calm": {**calm.figures(), **calm.details()},
            "storm": {**storm.figures(), **storm.details()},
            "rss_growth_mb": round(_growth(calm, storm), 1),
            "fast_p99_ratio": round(storm.p99_ms / calm.p99_ms, 2)
            if storm.p99_ms and calm.p99_ms
            else None,
        }
    return {
        "workload": dict(workload),
        "mode": "storm",
        "memory_budget_mb": budget_mb,
        "gateways": gateways,
    }
