"""A checker for CloudWatch Embedded Metric Format documents, written from the EMF specification
(docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):

- root: an `_aws` object with `Timestamp` (epoch milliseconds, a non-negative integer) and `CloudWatchMetrics`, an
  array of metric directives;
- directive: `Namespace` (1-255 characters), `Dimensions` (an array of dimension sets, each an array of at most 30
  strings naming root members whose values are strings), `Metrics` (an array of `{"Name", "Unit"}`, at most 100, Unit
  one of CloudWatch's units, Name naming a root member);
- every referenced metric member is a number, an array of at most 100 numbers, or a distribution
  `{"Values", "Counts", "Max", "Min", "Count", "Sum"}` with as many counts as values (at most 100).
Returns the list of problems (empty when the document is valid).
"""

from __future__ import annotations

from numbers import Real
from typing import Any

UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
    "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
    "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}  # fmt: skip
MAX_METRICS, MAX_DIMENSIONS, MAX_VALUES = 100, 30, 100


def emf_problems(document: Any) -> list[str]:
    if not isinstance(document, dict) or not isinstance(document.get("_aws"), dict):
        return ["no _aws object at the root"]
    metadata = document["_aws"]
    problems = []
    timestamp = metadata.get("Timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool) or timestamp < 0:
        problems.append(f"_aws.Timestamp {timestamp!r} is not epoch milliseconds")
    directives = metadata.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "_aws.CloudWatchMetrics is not a non-empty array"]
    for directive in directives:
        problems += _directive_problems(directive, document)
    return problems


def _directive_problems(directive: Any, document: dict[str, Any]) -> list[str]:
    if not isinstance(directive, dict):
        return ["a metric directive is not an object"]
    problems = []
    namespace = directive.get("Namespace")
    if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255:
        problems.append(f"Namespace {namespace!r} is not a string of 1-255 characters")
    dimension_sets = directive.get("Dimensions")
    if not isinstance(dimension_sets, list):
        problems.append("Dimensions is not an array of dimension sets")
        dimension_sets = []
    for dimension_set in dimension_sets:
        if not isinstance(dimension_set, list) or len(dimension_set) > MAX_DIMENSIONS:
            problems.append(f"dimension set {dimension_set!r} is not an array of at most {MAX_DIMENSIONS} names")
            continue
        for name in dimension_set:
            if not isinstance(document.get(name), str):
                problems.append(f"dimension {name!r} has no string value at the root")
    metrics = directive.get("Metrics")
    if not isinstance(metrics, list) or len(metrics) > MAX_METRICS:
        return [*problems, f"Metrics is not an array of at most {MAX_METRICS} definitions"]
    for definition in metrics:
        if not isinstance(definition, dict) or not isinstance(definition.get("Name"), str):
            problems.append(f"metric definition {definition!r} has no Name")
            continue
        name = definition["Name"]
        if definition.get("Unit", "None") not in UNITS:
            problems.append(f"metric {name}: unit {definition.get('Unit')!r} is not a CloudWatch unit")
        problems += [f"metric {name}: {problem}" for problem in _value_problems(document.get(name))]
    return problems


def _value_problems(value: Any) -> list[str]:
    if _number(value):
        return []
    if isinstance(value, list):
        return [] if len(value) <= MAX_VALUES and all(map(_number, value)) else ["not an array of <= 100 numbers"]
    if isinstance(value, dict):
        values, counts = value.get("Values"), value.get("Counts")
        if not isinstance(values, list) or not isinstance(counts, list) or len(values) != len(counts):
            return ["a distribution needs Values and Counts arrays of the same length"]
        if not values or len(values) > MAX_VALUES or not all(map(_number, values + counts)):
            return ["a distribution needs 1-100 numeric values and counts"]
        stats = [value.get(key) for key in ("Max", "Min", "Count", "Sum")]
        return [] if all(map(_number, stats)) else ["a distribution needs numeric Max, Min, Count and Sum"]
    return [f"{value!r} is not a number, an array of numbers or a distribution"]


def _number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)
