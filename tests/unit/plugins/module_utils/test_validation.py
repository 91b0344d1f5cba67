"""The validation layer: every option, suboption and free-form value; messages name option and value."""

from __future__ import annotations

import pytest

from ansible_collections.shipyard.deploy.plugins.module_utils.errors import ConfigurationError
from ansible_collections.shipyard.deploy.plugins.module_utils.validation import (
    Identifier,
    NotEmpty,
    Number,
    check_options,
)

SPEC = dict(
    name=dict(type="str"),
    password=dict(type="str", no_log=True),
    timeout=dict(type="float"),
    jobs=dict(type="int"),
    paths=dict(type="list", elements="str"),
    data=dict(type="dict"),
    database=dict(type="str"),
    targets=dict(type="list", elements="dict", options=dict(port=dict(type="int"), host=dict(type="str"))),
    rules=dict(type="dict", options=dict(rate=dict(type="float"))),
)
RULES = {"timeout": Number(above=0), "jobs": Number(1, 64), "targets[].port": Number(1, 65535),
         "rules.rate": Number(0, 1), "name": NotEmpty("a name")}


def check(**params):
    check_options(params, SPEC, RULES)


@pytest.mark.parametrize("params, option, words", [
    ({"timeout": float("nan")}, "timeout", "finite"),
    ({"timeout": float("inf")}, "timeout", "finite"),
    ({"timeout": 0.0}, "timeout", "more than 0"),
    ({"jobs": 0}, "jobs", "at least 1"),
    ({"jobs": 65}, "jobs", "at most 64"),
    ({"name": "a\x00b"}, "name", "NUL"),
    ({"name": "caf\udce9"}, "name", "UTF-8"),
    ({"name": "  "}, "name", "empty"),
    ({"paths": ["/ok", "/x\x00"]}, "paths[1]", "NUL"),
    ({"data": {"a": {"b": float("nan")}}}, "data.a.b", "finite"),
    ({"data": {"k\x00": 1}}, "data key", "NUL"),
    ({"database": "d" * 64}, "database", "64 bytes"),
    ({"database": "é" * 32}, "database", "64 bytes"),
    ({"database": ""}, "database", "empty"),
    ({"targets": [{"port": 80}, {"port": 0}]}, "targets[1].port", "at least 1"),
    ({"targets": [{"host": "h\x00"}]}, "targets[0].host", "NUL"),
    ({"rules": {"rate": 1.5}}, "rules.rate", "at most 1"),
])
def test_bad_values_are_refused_naming_option_and_value(params, option, words):
    with pytest.raises(ConfigurationError) as caught:
        check(**params)
    assert caught.value.message.startswith("option %s" % option)
    assert words in caught.value.message
    assert caught.value.details["option"] == option


def test_deep_free_form_value_is_refused():
    deep = {}
    node = deep
    for _count in range(100):
        node["x"] = {}
        node = node["x"]
    with pytest.raises(ConfigurationError, match="nested more than"):
        check(data=deep)


def test_secret_values_never_appear():
    with pytest.raises(ConfigurationError) as caught:
        check(password="s3cret\x00")
    assert "s3cret" not in caught.value.message and "hidden" in caught.value.message


def test_good_values_pass():
    check(name="app", timeout=0.5, jobs=4, paths=["/a"], data={"a": [1, 2.5, "x"]}, database="d" * 63,
          targets=[{"port": 5432, "host": "db"}], rules={"rate": 0.01})


def test_identifier_counts_bytes_not_characters():
    Identifier().check("target", "é" * 31)  # 62 bytes
    with pytest.raises(ConfigurationError):
        Identifier().check("target", "é" * 31 + "ab")
