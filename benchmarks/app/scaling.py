"""A user lookup costs the same with 100 and with 10,000 sessions in the table.

    python benchmarks/app/scaling.py

Starts moto + the API on loopback, then for table sizes 100 and 10,000
(one probe user with 10 sessions, the rest spread over other users):

* HTTP latency of ``GET /sessions/user/<probe>?limit=10`` (fixed count);
* items DynamoDB read per lookup: ``ScannedCount`` (and ``ConsumedCapacity``
  where the emulator reports it) of the Query the API runs, taken from the
  store -- the same code path the route calls;
* for contrast, the same lookup done as a filtered table Scan (what a
  user lookup without the index costs): its ScannedCount grows with the table.

Reading the numbers: on DynamoDB a Query is billed and timed by the items it
reads, which stay at 10 however large the table is. moto evaluates a GSI
Query by walking every item of the table in Python (``Table.query`` in
moto/dynamodb/models/table.py iterates ``self.all_items()``), so *emulator*
latency grows with the table even though the request reads 10 items; the
items-read figures are the ones that carry over to AWS.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import requests

from harness import REGION, servers, summary
from session_api.store import SessionStore, iso_timestamp
from session_api.table import HASH_KEY, TTL_ATTRIBUTE, USER_INDEX_HASH_KEY, USER_INDEX_RANGE_KEY

PROBE_USER = "probe-user"
PROBE_SESSIONS = 10


def _client(endpoint: str):
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def fill(client, table: str, count: int, start: int) -> None:
    """Write ``count`` filler sessions (other users) with BatchWriteItem."""
    now = datetime.now(timezone.utc)
    expires = str(int(now.timestamp()) + 86400)
    requests_ = []
    for index in range(start, start + count):
        requests_.append(
            {
                "PutRequest": {
                    "Item": {
                        HASH_KEY: {"S": str(uuid.uuid4())},
                        USER_INDEX_HASH_KEY: {"S": f"filler-{index % 500}"},
                        USER_INDEX_RANGE_KEY: {"S": iso_timestamp(now + timedelta(microseconds=index))},
                        "updatedAt": {"S": iso_timestamp(now)},
                        TTL_ATTRIBUTE: {"N": expires},
                        "version": {"N": "1"},
                        "data": {"M": {"n": {"N": str(index)}}},
                    }
                }
            }
        )
    for offset in range(0, len(requests_), 25):
        batch = {table: requests_[offset : offset + 25]}
        for _ in range(10):  # bounded retries of unprocessed items
            batch = client.batch_write_item(RequestItems=batch).get("UnprocessedItems") or {}
            if not batch:
                break


def measure(base_url: str, store: SessionStore, client, table: str, lookups: int) -> dict:
    latencies = []
    with requests.Session() as http:
        http.get(f"{base_url}/sessions/user/{PROBE_USER}", params={"limit": PROBE_SESSIONS})  # warm-up
        for _ in range(lookups):
            started = time.perf_counter()
            response = http.get(f"{base_url}/sessions/user/{PROBE_USER}", params={"limit": PROBE_SESSIONS})
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200 and len(response.json()["items"]) == PROBE_SESSIONS
    page = store.list_by_user(PROBE_USER, PROBE_SESSIONS)
    scanned, pages, capacity = 0, 0, 0.0
    scan_kwargs = {
        "TableName": table,
        "FilterExpression": "#u = :u",
        "ExpressionAttributeNames": {"#u": USER_INDEX_HASH_KEY},
        "ExpressionAttributeValues": {":u": {"S": PROBE_USER}},
        "ReturnConsumedCapacity": "TOTAL",
    }
    scan_started = time.perf_counter()
    for _ in range(1000):  # bounded: 1 MB pages
        result = client.scan(**scan_kwargs)
        scanned += result["ScannedCount"]
        capacity += result.get("ConsumedCapacity", {}).get("CapacityUnits", 0.0)
        pages += 1
        if "LastEvaluatedKey" not in result:
            break
        scan_kwargs["ExclusiveStartKey"] = result["LastEvaluatedKey"]
    scan_ms = (time.perf_counter() - scan_started) * 1000
    return {
        "latencies": latencies,
        "query_scanned": page.scanned_count,
        "query_capacity": page.consumed_capacity,
        "scan_scanned": scanned,
        "scan_capacity": capacity,
        "scan_ms": scan_ms,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lookups", type=int, default=300, help="HTTP lookups per table size")
    parser.add_argument("--sizes", default="100,10000", help="table sizes, comma-separated")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    if sizes[0] <= PROBE_SESSIONS or not 1 <= args.lookups <= 100_000:
        raise SystemExit(f"sizes must exceed {PROBE_SESSIONS}; lookups must be 1..100000")

    with servers() as (base_url, endpoint, table):
        client = _client(endpoint)
        store = SessionStore(client, table, 86400)
        for _ in range(PROBE_SESSIONS):
            requests.post(f"{base_url}/sessions", json={"userId": PROBE_USER, "data": {}}).raise_for_status()
        written = PROBE_SESSIONS
        print(f"lookup: GET /sessions/user/{PROBE_USER}?limit={PROBE_SESSIONS} ({args.lookups} sequential requests)")
        for size in sizes:
            fill(client, table, size - written, written)
            written = size
            count = client.describe_table(TableName=table)["Table"].get("ItemCount")
            result = measure(base_url, store, client, table, args.lookups)
            print(
                f"table={size:6d} items (DescribeTable ItemCount={count})\n"
                f"  API lookup (GSI Query): {summary(result['latencies'])}\n"
                f"      items read per lookup (ScannedCount)={result['query_scanned']}"
                f"  ConsumedCapacity={result['query_capacity']}\n"
                f"  same lookup as a filtered Scan: items read={result['scan_scanned']}"
                f"  ConsumedCapacity={result['scan_capacity']}  one lookup took {result['scan_ms']:.1f} ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
