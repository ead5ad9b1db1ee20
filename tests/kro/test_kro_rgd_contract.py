"""One contract, two renderings: for the same parameters the ACK Table the RGD
renders describes the same DynamoDB table as the Crossplane Table of aws-dynamodb-xp
(keys, attribute types, indexes, TTL, billing and capacity, stream, protection,
encryption, tags)."""

from __future__ import annotations

import pytest

from dynamodb_model import from_contract, from_xp, with_defaults
from kro_ack_model import from_ack
from kro_samples import SAMPLES
from kro_simpleschema import apply_defaults, instance_spec_schema


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_ack_table_describes_the_crossplane_table(defs, kro_cel, rgd, name):
    parameters = SAMPLES[name]
    instance = defs.render("kro", parameters)
    instance["spec"] = apply_defaults(instance["spec"], instance_spec_schema(rgd))
    (resource,) = rgd["spec"]["resources"]
    ack = from_ack(kro_cel.resolve(resource["template"], {"schema": instance}))
    crossplane = from_xp(defs.render("xp", parameters))
    assert ack == crossplane, f"{name}: kro/ACK and Crossplane differ"
    # And both are what the contract says (an oracle written out in Python).
    assert ack == from_contract(with_defaults(parameters))
