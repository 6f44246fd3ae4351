"""What-if staffing: one office's simulated day with other window counts; the smallest that meets the SLA.

    uv run python bench/what_if.py                                # 1,000 visits, windows 6..30
    uv run python bench/what_if.py --visits 400 --windows 5 --compare 6
    uv run python bench/what_if.py --visits 1000 --sweep 8 24 --target-share 0.95

Same seed -> the same arrivals, services, appointments, transfers and no-shows; only the windows
change. A pure discrete-event simulation over ticketing's own call order (`ticketing.domain`), so
it takes milliseconds and is exact for the rules, not an approximation of them. "Meets the SLA"
means at least `--target-share` of served legs waited <= 15 min (5 min for appointments) — the
MFC standard, counted as the feedback service counts it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from testbed.simday import DayResult, OfficePlan, default_office, schedule, simulate


def run_day(plan: OfficePlan, visits: int, seed: int, windows: int) -> DayResult:
    """The seed fixes the arrivals; the window count only changes who waits how long."""
    staffed = plan.with_windows(windows)
    return simulate(staffed, schedule(staffed, visits, seed))


def sweep(plan: OfficePlan, visits: int, seed: int, counts: range) -> list[dict[str, Any]]:
    rows = []
    for windows in counts:
        day = run_day(plan, visits, seed, windows)
        rows.append({**day.figures(), "by_zone": day.plan.windows})
        rows[-1]["windows"] = windows
    return rows


def smallest_meeting(rows: list[dict[str, Any]], target_share: float) -> dict[str, Any] | None:
    return next((r for r in rows if (r["within_sla_share"] or 0) >= target_share), None)


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:5.1f}"


def print_table(rows: list[dict[str, Any]], target_share: float) -> None:
    print(f"{'windows':>7} {'by zone':<16} {'mean wait':>9} {'p90 wait':>8} {'max wait':>8} {'SLA share':>9}")
    for r in rows:
        zones = " ".join(f"{z}:{n}" for z, n in r["by_zone"].items())
        mark = "  <- meets" if (r["within_sla_share"] or 0) >= target_share else ""
        print(
            f"{r['windows']:>7} {zones:<16} {_minutes(r['wait_mean_seconds']):>9} "
            f"{_minutes(r['wait_p90_seconds']):>8} {_minutes(r['wait_max_seconds']):>8} "
            f"{(r['within_sla_share'] or 0) * 100:8.1f}%{mark}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--office", default="kzn-kirov-moskov")
    parser.add_argument("--visits", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--windows", type=int, help="today's staffing (default: sized for the peak hour)")
    parser.add_argument("--compare", type=int, help="the window count to compare against today's")
    parser.add_argument("--sweep", type=int, nargs=2, metavar=("FROM", "TO"), help="window counts to try")
    parser.add_argument("--target-share", type=float, default=0.95)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)

    plan = default_office(args.office, args.visits, args.windows)
    today = sum(plan.windows.values())
    base = run_day(plan, args.visits, args.seed, today)
    print(f"{args.office}: {args.visits} visits (seed {args.seed}), today {today} windows")
    out: dict[str, Any] = {
        "office": args.office,
        "visits": args.visits,
        "seed": args.seed,
        "today": base.figures(),
    }
    if args.compare is not None:
        other = run_day(plan, args.visits, args.seed, args.compare)
        a, b = base.figures(), other.figures()
        print(f"{today} -> {args.compare} windows:")
        for key, label in (("wait_mean_seconds", "mean wait"), ("wait_p90_seconds", "p90 wait")):
            print(f"  {label:9} {_minutes(a[key])} -> {_minutes(b[key])} min")
        print(f"  SLA share {(a['within_sla_share'] or 0):.1%} -> {(b['within_sla_share'] or 0):.1%}")
        out["compare"] = b
    low, high = args.sweep or (max(1, today // 2), today + today // 2)
    rows = sweep(plan, args.visits, args.seed, range(low, high + 1))
    print_table(rows, args.target_share)
    best = smallest_meeting(rows, args.target_share)
    if best is None:
        print(f"no window count in {low}..{high} gets {args.target_share:.0%} of waits within the SLA")
    else:
        print(
            f"smallest number of windows with >= {args.target_share:.0%} of waits within the SLA: "
            f"{best['windows']} ({' '.join(f'{z}:{n}' for z, n in best['by_zone'].items())})"
        )
    out.update({"sweep": rows, "smallest_meeting_sla": best and best["windows"]})
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
