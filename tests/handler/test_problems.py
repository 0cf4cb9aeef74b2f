"""Problems from many rows become one 400: details in row order, 1-based rows, a code a client can switch on."""

from handler.errors import MAX_DETAILS
from handler.problems import Problem, empty_request, reject


def test_details_are_in_row_order_with_1_based_rows():
    error = reject(
        [
            Problem("out_of_range", 4, "age", "must be between 18 and 100"),
            Problem("missing_field", 0, "age", "is required"),
            Problem("unknown_field", None, "agee", "is not a request field"),
        ]
    )
    assert error.status == 400
    assert [(d.row, d.field) for d in error.details] == [(None, "agee"), (1, "age"), (5, "age")]


def test_code_is_the_most_basic_kind_of_problem():
    problems = [Problem("out_of_range", 0, "age", "x"), Problem("missing_field", 1, "age", "y")]
    assert reject(problems).code == "missing_field"
    assert reject([Problem("invalid_value", 2, "age", "x"), *problems]).code == "missing_field"
    assert reject([Problem("unknown_field", 3, "agee", "x"), *problems]).code == "unknown_field"
    assert reject([Problem("out_of_range", 0, "age", "x")]).code == "out_of_range"


def test_message_names_the_first_problem_and_counts_the_rest():
    error = reject([Problem("out_of_range", 2, "age", "must be between 18 and 100")])
    assert error.message == "applicant 3, field 'age': must be between 18 and 100"
    error = reject([Problem("invalid_value", 0, "age", "must be a number")] * 3)
    assert error.message == "applicant 1, field 'age': must be a number (and 2 more problem(s), see details)"
    assert reject([Problem("invalid_csv", None, None, "header column 2 has no name")]).message == (
        "header column 2 has no name"
    )


def test_many_rows_are_reported_and_the_body_caps_details():
    error = reject([Problem("missing_field", row, "age", "is required") for row in range(MAX_DETAILS + 7)])
    assert len(error.details) == MAX_DETAILS + 7
    body = error.body()["error"]
    assert len(body["details"]) == MAX_DETAILS
    assert body["more_details"] == 7


def test_empty_request():
    error = empty_request("the body is empty")
    assert (error.status, error.code, error.message) == (400, "empty_request", "the body is empty")
