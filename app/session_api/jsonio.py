"""JSON output that keeps DynamoDB numbers exact.

DynamoDB hands numbers back as ``Decimal``. Flask's default encoder would turn
them into strings, and converting to ``float`` would drop digits of values a
client stored exactly. This encoder writes each ``Decimal`` as a JSON number
with the digits DynamoDB kept.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask.json.provider import DefaultJSONProvider


def decimal_text(value: Decimal) -> str:
    if value == value.to_integral_value():
        # 100 and 1E+2 are the same number; clients expect the former.
        return str(int(value))
    return str(value)


def dumps(value: Any) -> str:
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(str(key)) + ":" + dumps(item) for key, item in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(item) for item in value) + "]"
    return json.dumps(value)


class ApiJSONProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return dumps(obj)
