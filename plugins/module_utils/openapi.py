# -*- coding: utf-8 -*-
# Copyright: difymesh.platform contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check an object's spec against the OpenAPI v3 schema the cluster serves for its kind.

Fields in Istio's own spelling (traffic policies, raw HTTP routes, port-level settings) pass
through the inventory contract unchecked below their first level. Without this check a typo
deep inside one of them is only found by the API server, while earlier objects of the same
run are already written. This check runs before any write and reports every mistake at once.

It covers what the API server rejects for every object alike: fields the schema does not
declare, wrong JSON types, values outside an enum, and missing required fields. It leaves
oneOf/anyOf rules, patterns, bounds and CEL rules to the server, and never refuses what the
server would accept: null, untyped and preserve-unknown-fields nodes pass.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.difymesh.platform.plugins.module_utils.schema import ValidationError, did_you_mean

PRESERVE_UNKNOWN = "x-kubernetes-preserve-unknown-fields"
INT_OR_STRING = "x-kubernetes-int-or-string"
# Schema types checked directly: the Python type a value must have, and how to ask for it.
SCHEMA_TYPES = {"object": (dict, "an object"), "array": (list, "a list"), "string": (str, "a string"),
                "boolean": (bool, "a boolean (true/false)")}
# What a value is, in JSON's words; bool before int, as a bool is an int in Python.
JSON_TYPE_NAMES = {dict: "an object", list: "a list", bool: "a boolean", str: "a string",
                   int: "an integer", float: "a number"}


def spec_schemas(document, api_version):
    """kind -> `spec` schema for every kind of api_version in an OpenAPI v3 group-version document."""
    group, _sep, version = api_version.rpartition("/")
    schemas = {}
    for component in (document or {}).get("components", {}).get("schemas", {}).values():
        spec = component.get("properties", {}).get("spec")
        for gvk in component.get("x-kubernetes-group-version-kind") or []:
            if spec is not None and (gvk.get("group"), gvk.get("version")) == (group, version):
                schemas[gvk.get("kind")] = spec
    return schemas


def check(value, schema, where):
    """Every mismatch between value and schema, as ValidationErrors located under `where`."""
    if value is None or not schema or "$ref" in schema:
        return []
    problem = _type_problem(value, schema)
    if problem:
        return [ValidationError(where, problem, "write %s here, as Istio's API defines it" % _wanted(schema))]
    if "enum" in schema and value not in schema["enum"]:
        return [_enum_error(where, value, schema["enum"])]
    if isinstance(value, dict):
        return _check_object(value, schema, where)
    if isinstance(value, list):
        return [error for index, item in enumerate(value)
                for error in check(item, schema.get("items"), "%s[%d]" % (where, index))]
    return []


def _type_problem(value, schema):
    wanted = schema.get("type")
    if schema.get(INT_OR_STRING):
        matches = isinstance(value, (int, str)) and not isinstance(value, bool)
    elif wanted == "integer":
        matches = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    elif wanted == "number":
        matches = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif wanted in SCHEMA_TYPES:
        matches = isinstance(value, SCHEMA_TYPES[wanted][0])
    else:
        matches = True
    if matches:
        return None
    return "is %s, not %s" % (_type_name(value), _wanted(schema))


def _type_name(value):
    for python_type, name in JSON_TYPE_NAMES.items():
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _wanted(schema):
    if schema.get(INT_OR_STRING):
        return "an integer or a string"
    wanted = schema.get("type")
    if wanted in SCHEMA_TYPES:
        return SCHEMA_TYPES[wanted][1]
    return {"integer": "an integer", "number": "a number"}.get(wanted, "a value")


def _enum_error(where, value, allowed):
    choices = [str(choice) for choice in allowed]
    return ValidationError(where, "'%s' is not one of the values Istio accepts" % value,
                           "%suse one of: %s" % (did_you_mean(str(value), choices), ", ".join(choices)))


def _check_object(value, schema, where):
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    errors = [ValidationError("%s.%s" % (where, name), "is required by Istio's API and missing", "set it")
              for name in schema.get("required") or [] if name not in value]
    for key, item in value.items():
        path = "%s.%s" % (where, key)
        if properties is not None and key in properties:
            errors.extend(check(item, properties[key], path))
        elif isinstance(extra, dict):
            errors.extend(check(item, extra, path))
        elif properties is not None and not extra and not schema.get(PRESERVE_UNKNOWN):
            errors.append(_unknown_field(path, key, sorted(properties)))
    return errors


def _unknown_field(path, key, declared):
    return ValidationError(path, "is not a field of Istio's API here",
                           "%sfields here: %s" % (did_you_mean(key, declared), ", ".join(declared)))
