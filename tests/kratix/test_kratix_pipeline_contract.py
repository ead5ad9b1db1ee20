"""One contract, same table: the Kratix pipeline's ACK Table describes exactly the
table the Crossplane definition renders for the same parameters.

The request is the one aws-dynamodb-kratix renders (real CUE), fed to the
pipeline as Kratix would; the Upbound Table is the one aws-dynamodb-xp renders.
"""

from __future__ import annotations

import pytest
import yaml

import dynamodb_pipeline as pipeline
from dynamodb_model import from_xp
from dynamodb_samples import VALID
from kratix_pipeline_helpers import from_ack, kratix_tree, schema_errors


@pytest.mark.parametrize("name", sorted(VALID))
def test_pipeline_table_matches_the_crossplane_rendering(defs, tmp_path, name):
    rendered_request = defs.render("kratix", VALID[name])
    root = kratix_tree(tmp_path, rendered_request)
    pipeline.configure(root / "input", root / "output", root / "metadata")
    table = yaml.safe_load((root / "output" / "table.yaml").read_text())
    assert schema_errors(table) == []
    assert from_ack(table) == from_xp(defs.render("xp", VALID[name]))
    # Same object identity as the request: KubeVela's component name, its namespace.
    assert table["metadata"]["name"] == rendered_request["metadata"]["name"]
    assert table["metadata"]["namespace"] == rendered_request["metadata"]["namespace"]
