"""The per-module moto mock gives every test what a fresh ``mock_aws()`` would."""

from __future__ import annotations

import boto3
from moto.core.models import botocore_stubber, responses_mock


def test_the_next_test_of_a_module_gets_an_empty_fully_mocked_aws(table, module_mock):
    registered = len(responses_mock.registered())
    assert registered > 0, "a fresh mock answers requests-library calls to AWS URLs"
    client = boto3.client("dynamodb", region_name="us-east-1")
    assert client.list_tables()["TableNames"] == [table]

    module_mock.on()  # what the module's next test that asks for mocked_aws gets

    assert client.list_tables()["TableNames"] == []
    # Still answered by moto as in a fresh mock, not passed through to the network.
    assert len(responses_mock.registered()) == registered
    assert botocore_stubber.enabled


def test_a_test_that_asks_for_the_mock_leaves_it_running(table, module_mock):
    assert module_mock.mock is not None and botocore_stubber.enabled
    # ...and nothing here stops it: the next test must find it stopped all the same.


def test_the_next_test_that_does_not_ask_for_it_runs_without_it(module_mock):
    """Runs after the test above (file order, in the same process unless pytest-xdist
    hands the two to different workers, where the mock was never started)."""
    assert module_mock.mock is None
    assert not botocore_stubber.enabled
