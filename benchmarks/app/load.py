"""Bounded load generator for the session API (loopback only).

    python benchmarks/app/load.py                       # starts moto + gunicorn itself
    python benchmarks/app/load.py --base-url http://127.0.0.1:8080   # an API already running

Sends a fixed number of requests (default 2000) from a fixed number of
threads, stopping early at a time cap (default 60 s). The mix per request:
create 25 %, get 35 %, update (merge) 25 %, list-by-user 15 %. Prints
requests/s, p50/p95/p99 latency overall and per operation, and errors.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
from collections import defaultdict
from urllib.parse import quote

import requests

from harness import require_loopback, servers, summary

MIX = (("create", 25), ("get", 35), ("update", 25), ("list_user", 15))


def run(base_url: str, total: int, concurrency: int, time_cap: float, seed: int) -> int:
    counter = iter(range(total))
    counter_lock = threading.Lock()
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    results_lock = threading.Lock()
    deadline = time.monotonic() + time_cap
    operations = [name for name, weight in MIX for _ in range(weight)]

    def worker(index: int) -> None:
        rng = random.Random(seed + index)
        # Non-ASCII and with a "/": the user ids the API takes, percent-encoded in the path.
        user = f"load/użytkownik-{index}"
        user_path = "/sessions/user/" + quote(user, safe="")
        mine: list[str] = []
        with requests.Session() as http:
            while time.monotonic() < deadline:
                with counter_lock:
                    if next(counter, None) is None:
                        return
                op = rng.choice(operations) if mine else "create"
                started = time.perf_counter()
                try:
                    if op == "create":
                        response = http.post(f"{base_url}/sessions", json={"userId": user, "data": {"cart": [1, 2], "n": 0}})
                        if response.status_code == 201:
                            mine.append(response.json()["sessionId"])
                    elif op == "get":
                        response = http.get(f"{base_url}/sessions/{rng.choice(mine)}")
                    elif op == "update":
                        response = http.put(
                            f"{base_url}/sessions/{rng.choice(mine)}", json={"data": {"n": rng.randint(0, 1000)}}
                        )
                    else:
                        response = http.get(base_url + user_path, params={"limit": 10})
                    ok = response.status_code < 400
                except requests.RequestException:
                    ok = False
                elapsed = (time.perf_counter() - started) * 1000
                with results_lock:
                    latencies[op].append(elapsed)
                    if not ok:
                        errors[op] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(time_cap + 30)
    wall = time.perf_counter() - started

    everything = [value for values in latencies.values() for value in values]
    print(f"requests: {len(everything)} in {wall:.2f} s  ->  {len(everything) / wall:.1f} requests/s "
          f"({concurrency} client threads)")
    print(f"all          {summary(everything)}  errors={sum(errors.values())}")
    for name, _ in MIX:
        print(f"{name:<12} {summary(latencies[name])}  errors={errors[name]}")
    # Not "if errors": printing errors[name] above inserts a zero for every operation.
    return 1 if sum(errors.values()) else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="an already running API on loopback (default: start one)")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--time-cap", type=float, default=60.0, help="seconds; stops early if reached")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers when starting the API")
    args = parser.parse_args()
    if args.requests < 1 or args.concurrency < 1 or args.time_cap <= 0:
        raise SystemExit("--requests, --concurrency and --time-cap must be positive")
    if args.base_url:
        return run(require_loopback(args.base_url), args.requests, args.concurrency, args.time_cap, args.seed)
    with servers(workers=args.workers) as (base_url, _endpoint, _table):
        return run(base_url, args.requests, args.concurrency, args.time_cap, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
