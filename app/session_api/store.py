"""Data access: the only module that talks to DynamoDB.

Every boto3 call of the service goes through :class:`SessionStore`. It speaks
plain Python values (``str``, ``int``, ``Decimal``, ``dict``, ``list``) to the
rest of the code and turns DynamoDB's failure modes into the few exceptions
the HTTP layer knows how to answer.

Item layout (names from :mod:`session_api.table`)::

    sessionId  S  partition key, a random UUID
    userId     S  hash key of the user index
    createdAt  S  range key of the user index, ISO 8601 UTC with microseconds
    updatedAt  S  ISO 8601 UTC with microseconds
    expiresAt  N  TTL attribute, epoch seconds
    version    N  starts at 1, +1 on every update (optimistic concurrency)
    writeId    S  random id of the last update (tells a retried update its own write)
    data       M  the client's object
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import botocore.config
import botocore.exceptions
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from session_api.config import Config
from session_api.table import (
    HASH_KEY,
    TTL_ATTRIBUTE,
    USER_INDEX,
    USER_INDEX_HASH_KEY,
    USER_INDEX_RANGE_KEY,
)

log = logging.getLogger(__name__)

VERSION_ATTRIBUTE = "version"
# A random id each update writes, so a failed condition can tell this very write
# (applied by an earlier attempt whose answer was lost) from another process's
# write that happens to carry the same timestamp.
WRITE_ID_ATTRIBUTE = "writeId"
UPDATED_AT_ATTRIBUTE = "updatedAt"
DATA_ATTRIBUTE = "data"

# A page is assembled from at most this many DynamoDB round trips. Expired
# items that DynamoDB has not deleted yet are filtered out after they are read,
# so one round trip can come back short; the cap keeps a request bounded when a
# long run of expired items sits between live ones (the caller gets a short
# page and a nextToken instead).
MAX_ROUND_TRIPS_PER_PAGE = 10

_THROTTLING_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
    }
)
_TRANSIENT_CODES = frozenset({"InternalServerError", "ServiceUnavailable", "TransactionConflictException"})
_ACCESS_CODES = frozenset(
    {
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
        "MissingAuthenticationTokenException",
    }
)


class StoreError(Exception):
    """Base class of the errors the HTTP layer maps to responses."""


class SessionNotFound(StoreError):
    """No live session with that id (never existed, deleted, or expired)."""


class VersionConflict(StoreError):
    def __init__(self, expected: int, current: int) -> None:
        super().__init__(f"session is at version {current}, not {expected}")
        self.expected = expected
        self.current = current


class ItemTooLarge(StoreError):
    """DynamoDB refused the item because it would exceed its 400 KB item limit."""


class InvalidStartKey(StoreError):
    """DynamoDB refused a pagination key (a forged or stale nextToken)."""


class StoreUnavailable(StoreError):
    """DynamoDB cannot serve the request right now; the client may retry."""

    def __init__(self, reason: str, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


@dataclass
class Page:
    items: list[dict[str, Any]]
    next_key: dict[str, str] | None
    # Items DynamoDB read to build the page (before the expiry filter) and the
    # capacity it charged; the benchmark reports these to show a user lookup
    # reads only that user's items.
    scanned_count: int = 0
    consumed_capacity: float | None = None


@dataclass
class TableState:
    ready: bool
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def make_client(config: Config, *, probe: bool = False, session: boto3.session.Session | None = None):
    """A DynamoDB client with bounded timeouts and botocore's retry modes.

    ``standard`` retries throttling and transient errors with jittered
    exponential back-off; ``adaptive`` adds client-side rate limiting on top.
    The readiness probe gets its own client that tries once with short
    timeouts: a probe must answer within the orchestrator's probe timeout,
    and the next probe is the retry.
    """
    botocore_config = botocore.config.Config(
        region_name=config.region,
        # total_max_attempts counts the first try, like AWS_MAX_ATTEMPTS does
        # ("max_attempts" here would mean retries, one more than asked for).
        retries={"mode": config.retry_mode, "total_max_attempts": 1 if probe else config.max_attempts},
        connect_timeout=min(config.connect_timeout, 1.0) if probe else config.connect_timeout,
        read_timeout=min(config.read_timeout, 2.0) if probe else config.read_timeout,
        # Threads of one gunicorn worker share the client (clients are thread-safe).
        max_pool_connections=32,
    )
    return (session or boto3.session.Session()).client(
        "dynamodb", endpoint_url=config.endpoint_url, config=botocore_config
    )


def iso_timestamp(moment: datetime) -> str:
    """Fixed-width ISO 8601 UTC with microseconds: sorts as text in time order."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SessionStore:
    def __init__(
        self,
        client,
        table_name: str,
        ttl_seconds: int,
        clock: Callable[[], float] = time.time,
        probe_client=None,
    ) -> None:
        self.client = client
        self.probe_client = probe_client or client
        self.table_name = table_name
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._serializer = TypeSerializer()
        self._deserializer = TypeDeserializer()
        self._clock_lock = threading.Lock()
        self._last_timestamp = datetime.min.replace(tzinfo=timezone.utc)

    @classmethod
    def from_config(cls, config: Config) -> SessionStore:
        # One boto3 session for both clients: a session reads botocore's endpoint and
        # service files when its first client is made (about 0.1 s of CPU), a second
        # client of the same session costs a few milliseconds. Each client still has
        # its own configuration and event hooks.
        session = boto3.session.Session()
        return cls(
            make_client(config, session=session),
            config.table_name,
            config.ttl_seconds,
            probe_client=make_client(config, probe=True, session=session),
        )

    # -- time ---------------------------------------------------------------

    def _now(self) -> tuple[datetime, int]:
        """Current time, strictly increasing within this process.

        Two sessions of one user created in the same microsecond would share a
        ``createdAt``; nudging the clock by a microsecond keeps "newest first"
        a total order for everything one process writes. The GSI also breaks
        ties by ``sessionId`` in its pagination key, so pages stay stable
        even across processes.
        """
        with self._clock_lock:
            moment = datetime.fromtimestamp(self._clock(), timezone.utc)
            if moment <= self._last_timestamp:
                moment = self._last_timestamp + timedelta(microseconds=1)
            self._last_timestamp = moment
        return moment, int(moment.timestamp())

    def _epoch_now(self) -> int:
        return int(self._clock())

    # -- (de)serialisation -------------------------------------------------

    def _to_item(self, values: dict[str, Any]) -> dict[str, Any]:
        return {name: self._serializer.serialize(value) for name, value in values.items()}

    def _from_item(self, item: dict[str, Any]) -> dict[str, Any]:
        plain = {name: self._deserializer.deserialize(value) for name, value in item.items()}
        return {
            "sessionId": plain[HASH_KEY],
            "userId": plain[USER_INDEX_HASH_KEY],
            "data": plain.get(DATA_ATTRIBUTE, {}),
            "createdAt": plain[USER_INDEX_RANGE_KEY],
            "updatedAt": plain.get(UPDATED_AT_ATTRIBUTE, plain[USER_INDEX_RANGE_KEY]),
            "expiresAt": int(plain[TTL_ATTRIBUTE]),
            "version": int(plain.get(VERSION_ATTRIBUTE, 1)),
        }

    def _is_live(self, item: dict[str, Any], now: int) -> bool:
        expires = item.get(TTL_ATTRIBUTE, {}).get("N")
        return expires is not None and int(float(expires)) > now

    # -- error translation -------------------------------------------------

    @contextmanager
    def _dynamodb(self, operation: str) -> Iterator[None]:
        """Translate DynamoDB failures into StoreUnavailable.

        botocore has already retried by the time an error arrives here, so
        what is left is worth a 503 with Retry-After rather than a 500.
        Conditional-check failures pass through for the caller to interpret.
        """
        try:
            yield
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            message = error.response.get("Error", {}).get("Message", "")
            if code in _THROTTLING_CODES:
                log.warning("dynamodb throttled", extra={"operation": operation, "code": code})
                raise StoreUnavailable("throttled", "DynamoDB is throttling requests; retry shortly", 2) from error
            if code == "ResourceNotFoundException":
                raise StoreUnavailable(
                    "table_missing", f"DynamoDB table {self.table_name!r} does not exist", 5
                ) from error
            if code in _TRANSIENT_CODES:
                raise StoreUnavailable("dynamodb_error", f"DynamoDB returned {code}; retry shortly", 1) from error
            if code in _ACCESS_CODES:
                log.error("dynamodb refused credentials", extra={"operation": operation, "code": code})
                raise StoreUnavailable(
                    "access_denied", f"DynamoDB refused this service's credentials ({code})", 30
                ) from error
            if code == "ValidationException" and "size" in message.lower() and "exceeded" in message.lower():
                raise ItemTooLarge(message) from error
            raise
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as error:
            log.warning("dynamodb unreachable", extra={"operation": operation, "error": str(error)})
            raise StoreUnavailable(
                "endpoint_unreachable", "DynamoDB endpoint is unreachable; retry shortly", 2
            ) from error
        except botocore.exceptions.NoCredentialsError as error:
            log.error("no AWS credentials", extra={"operation": operation})
            raise StoreUnavailable("credentials_missing", "no AWS credentials are configured", 30) from error

    # -- operations ---------------------------------------------------------

    def create(self, user_id: str, data: dict[str, Any]) -> dict[str, Any]:
        moment, epoch = self._now()
        stamp = iso_timestamp(moment)
        values = {
            HASH_KEY: str(uuid.uuid4()),
            USER_INDEX_HASH_KEY: user_id,
            USER_INDEX_RANGE_KEY: stamp,
            UPDATED_AT_ATTRIBUTE: stamp,
            TTL_ATTRIBUTE: epoch + self.ttl_seconds,
            VERSION_ATTRIBUTE: 1,
            DATA_ATTRIBUTE: data,
        }
        item = self._to_item(values)
        try:
            with self._dynamodb("PutItem"):
                # A random UUID never collides in practice; the condition makes
                # sure that if it ever did, no existing session is overwritten.
                self.client.put_item(
                    TableName=self.table_name,
                    Item=item,
                    ConditionExpression="attribute_not_exists(#pk)",
                    ExpressionAttributeNames={"#pk": HASH_KEY},
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except botocore.exceptions.ClientError as error:
            if not self._own_write_landed(error, item):
                raise
        return self._from_item(item)

    @staticmethod
    def _own_write_landed(error: botocore.exceptions.ClientError, ours: dict[str, Any]) -> bool:
        """Whether a failed condition check met this very write, applied by an earlier attempt.

        botocore retries a write whose answer was lost (a 500 or a timeout
        after DynamoDB applied it); the retry then fails its own condition.
        The item DynamoDB returns carries this write's user and timestamp,
        which no other write of this process has (see ``_now``).
        """
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            return False
        found = error.response.get("Item") or {}
        return all(found.get(name) == ours[name] for name in (USER_INDEX_HASH_KEY, USER_INDEX_RANGE_KEY))

    def get(self, session_id: str) -> dict[str, Any]:
        with self._dynamodb("GetItem"):
            response = self.client.get_item(
                TableName=self.table_name,
                Key={HASH_KEY: {"S": session_id}},
                # Read-your-writes: a client that just created or updated a
                # session sees that write.
                ConsistentRead=True,
            )
        item = response.get("Item")
        if item is None or not self._is_live(item, self._epoch_now()):
            raise SessionNotFound(session_id)
        return self._from_item(item)

    def update(
        self, session_id: str, patch: dict[str, Any], expected_version: int | None = None
    ) -> dict[str, Any]:
        """Merge ``patch`` into the session's data in one conditional UpdateItem.

        Each top-level key of ``patch`` is written as its own path
        (``data.<key>``), so concurrent updates touching different keys both
        land; a key whose value is ``None`` is removed. The expiry is pushed
        out to now + TTL, and ``version`` is incremented atomically.
        """
        moment, epoch = self._now()
        write_id = uuid.uuid4().hex
        names = {
            "#pk": HASH_KEY,
            "#exp": TTL_ATTRIBUTE,
            "#upd": UPDATED_AT_ATTRIBUTE,
            "#ver": VERSION_ATTRIBUTE,
            "#wid": WRITE_ID_ATTRIBUTE,
        }
        values: dict[str, Any] = {
            ":upd": iso_timestamp(moment),
            ":exp": epoch + self.ttl_seconds,
            ":now": epoch,
            ":one": 1,
            ":wid": write_id,
        }
        sets = ["#upd = :upd", "#exp = :exp", "#wid = :wid"]
        removes = []
        if patch:
            # DynamoDB rejects names that no expression uses, so only when needed.
            names["#data"] = DATA_ATTRIBUTE
        for index, (key, value) in enumerate(patch.items()):
            names[f"#k{index}"] = key
            if value is None:
                removes.append(f"#data.#k{index}")
            else:
                values[f":v{index}"] = value
                sets.append(f"#data.#k{index} = :v{index}")
        expression = "SET " + ", ".join(sets) + " ADD #ver :one"
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        condition = "attribute_exists(#pk) AND #exp > :now"
        if expected_version is not None:
            condition += " AND #ver = :expected"
            values[":expected"] = expected_version
        try:
            with self._dynamodb("UpdateItem"):
                response = self.client.update_item(
                    TableName=self.table_name,
                    Key={HASH_KEY: {"S": session_id}},
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=self._to_item(values),
                    ReturnValues="ALL_NEW",
                    # The failed item tells 404 from 409 without a second read.
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old = error.response.get("Item")
            if old is None or not self._is_live(old, epoch):
                raise SessionNotFound(session_id) from None
            if expected_version is not None and old.get(WRITE_ID_ATTRIBUTE) == {"S": write_id}:
                # An earlier attempt of this update landed and its answer was lost.
                # (Not the timestamp: two processes can write the same microsecond.)
                return self._from_item(old)
            current = int(self._deserializer.deserialize(old.get(VERSION_ATTRIBUTE, {"N": "1"})))
            raise VersionConflict(expected_version or 0, current) from None
        return self._from_item(response["Attributes"])

    def delete(self, session_id: str) -> None:
        try:
            with self._dynamodb("DeleteItem"):
                self.client.delete_item(
                    TableName=self.table_name,
                    Key={HASH_KEY: {"S": session_id}},
                    # An expired session that DynamoDB has not removed yet is
                    # already gone as far as clients are concerned.
                    ConditionExpression="attribute_exists(#pk) AND #exp > :now",
                    ExpressionAttributeNames={"#pk": HASH_KEY, "#exp": TTL_ATTRIBUTE},
                    ExpressionAttributeValues={":now": {"N": str(self._epoch_now())}},
                )
        except botocore.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise SessionNotFound(session_id) from None
            raise

    def list_all(self, limit: int, start_key: dict[str, str] | None = None) -> Page:
        """A page of all live sessions, in DynamoDB's (hash) order."""
        return self._collect(
            "Scan",
            self.client.scan,
            {"TableName": self.table_name},
            limit,
            start_key,
        )

    def list_by_user(self, user_id: str, limit: int, start_key: dict[str, str] | None = None) -> Page:
        """A page of one user's live sessions, newest first, from the user index."""
        return self._collect(
            "Query",
            self.client.query,
            {
                "TableName": self.table_name,
                "IndexName": USER_INDEX,
                "KeyConditionExpression": "#uid = :uid",
                "ScanIndexForward": False,
            },
            limit,
            start_key,
            extra_names={"#uid": USER_INDEX_HASH_KEY},
            extra_values={":uid": {"S": user_id}},
        )

    def _collect(
        self,
        operation: str,
        call: Callable[..., dict[str, Any]],
        base: dict[str, Any],
        limit: int,
        start_key: dict[str, str] | None,
        extra_names: dict[str, str] | None = None,
        extra_values: dict[str, Any] | None = None,
    ) -> Page:
        """Fill a page of up to ``limit`` live items.

        Each round trip asks for at most the number of items still missing,
        so DynamoDB's LastEvaluatedKey is always exactly where the next page
        starts: nothing is skipped and nothing is returned twice.
        """
        now = self._epoch_now()
        request = dict(base)
        request["FilterExpression"] = "#exp > :now"
        request["ExpressionAttributeNames"] = {"#exp": TTL_ATTRIBUTE, **(extra_names or {})}
        request["ExpressionAttributeValues"] = {":now": {"N": str(now)}, **(extra_values or {})}
        request["ReturnConsumedCapacity"] = "TOTAL"
        key = {name: {"S": value} for name, value in start_key.items()} if start_key else None
        items: list[dict[str, Any]] = []
        scanned = 0
        capacity: float | None = None
        for _ in range(MAX_ROUND_TRIPS_PER_PAGE):
            request["Limit"] = limit - len(items)
            if key:
                request["ExclusiveStartKey"] = key
            try:
                with self._dynamodb(operation):
                    response = call(**request)
            except botocore.exceptions.ClientError as error:
                if start_key and error.response.get("Error", {}).get("Code") == "ValidationException":
                    raise InvalidStartKey(error.response["Error"].get("Message", "")) from None
                raise
            scanned += response.get("ScannedCount", 0)
            consumed = response.get("ConsumedCapacity", {}).get("CapacityUnits")
            if consumed is not None:
                capacity = (capacity or 0.0) + consumed
            items.extend(item for item in response.get("Items", []) if self._is_live(item, now))
            key = response.get("LastEvaluatedKey")
            if not key or len(items) >= limit:
                break
        next_key = {name: value["S"] for name, value in key.items()} if key else None
        return Page(
            items=[self._from_item(item) for item in items],
            next_key=next_key,
            scanned_count=scanned,
            consumed_capacity=capacity,
        )

    def table_state(self) -> TableState:
        """Whether the table and its user index exist and are ACTIVE."""
        try:
            with self._dynamodb("DescribeTable"):
                table = self.probe_client.describe_table(TableName=self.table_name)["Table"]
        except StoreUnavailable as error:
            return TableState(False, error.reason, error.message)
        except botocore.exceptions.ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            return TableState(False, "dynamodb_error", f"DescribeTable failed: {code}")
        status = table.get("TableStatus")
        if status != "ACTIVE":
            return TableState(
                False, "table_not_active", f"table {self.table_name!r} is {status}", {"tableStatus": status}
            )
        indexes = {index["IndexName"]: index for index in table.get("GlobalSecondaryIndexes", [])}
        index = indexes.get(USER_INDEX)
        if index is None:
            return TableState(False, "index_missing", f"table {self.table_name!r} has no index {USER_INDEX!r}")
        index_status = index.get("IndexStatus", "ACTIVE")
        if index_status != "ACTIVE":
            return TableState(
                False,
                "index_not_active",
                f"index {USER_INDEX!r} is {index_status}",
                {"indexStatus": index_status},
            )
        return TableState(True, "ready", f"table {self.table_name!r} is ACTIVE", {"tableStatus": status})
