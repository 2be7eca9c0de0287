"""Time allocating 100,000 costs among 20 partners (target: at most 2 s on 2 cores).

python bench/bench_allocation.py [--costs 100000] [--partners 20] [--runs 3]

Two ways of calling: with the key prepared once (``allocate(total, prepare(weights))``),
as a service allocating a batch of costs under one key version does — the target applies
to this figure and the exit status reflects it — and with the weights mapping on every
call (validated again each time), printed for comparison. Each figure is the best of
``--runs`` runs, wall clock and CPU time; other processes on the machine inflate the wall
clock, so CPU time is printed too.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere without installing the project

from koopboard.domain.allocation import allocate, prepare  # noqa: E402
from koopboard.domain.money import from_cents  # noqa: E402

TARGET_SECONDS = 2.0


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--costs", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    rng = random.Random(2026)
    # Populations like real municipalities; keys are AGS-like strings.
    weights = {f"{10041000 + 7 * i:08d}": rng.randint(800, 60_000) for i in range(args.partners)}
    # Costs between -10.000,00 € (grants) and 250.000,00 €, exact cents.
    totals = [from_cents(rng.randint(-1_000_000, 25_000_000)) for _ in range(args.costs)]
    _check(totals[:2_000], weights)

    prepared = prepare(weights)
    print(f"{args.costs:,} Kosten auf {args.partners} Partner verteilt".replace(",", "."))
    batch = _measure("Schlüssel einmal vorbereitet", lambda t: allocate(t, prepared), totals, args)
    plain = _measure("Gewichte bei jedem Aufruf", lambda t: allocate(t, weights), totals, args)
    for label, seconds in (("vorbereitet", batch), ("je Aufruf", plain)):
        verdict = "erreicht" if seconds <= TARGET_SECONDS else "VERFEHLT"
        print(f"Ziel ≤ {TARGET_SECONDS:.0f} s ({label}): {verdict}")
    return 0 if batch <= TARGET_SECONDS else 1


def _measure(
    label: str,
    call: Callable[[Decimal], object],
    totals: list[Decimal],
    args: argparse.Namespace,
) -> float:
    """Best wall-clock and CPU seconds over the runs; prints them and returns the wall figure."""
    best_wall = best_cpu = float("inf")
    for _ in range(args.runs):
        wall, cpu = time.perf_counter(), time.process_time()
        for total in totals:
            call(total)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    per_cost = best_wall / len(totals) * 1e6
    print(f"{label:<30} {best_wall:6.2f} s  (CPU {best_cpu:5.2f} s, {per_cost:5.1f} µs je Kosten)")
    return best_wall


def _check(totals: list[Decimal], weights: dict[str, int]) -> None:
    """Refuse to time wrong results: every split sums exactly to its total, and the packed
    path of a prepared key gives exactly the shares of the plain integer path."""
    prepared = prepare(weights)
    for total in totals:
        shares = allocate(total, weights)
        if sum(shares.values()) != total:
            raise SystemExit(f"Summe stimmt nicht für {total}")
        if allocate(total, prepared) != shares:
            raise SystemExit(f"Vorbereiteter Schlüssel weicht ab für {total}")


if __name__ == "__main__":
    sys.exit(main())
