"""The filter-pattern engine on its own: answers that are obvious from the pattern."""

from __future__ import annotations

import pytest

from smtop.sim.filter_pattern import FilterPatternError, compile_filter_pattern, matches, split_fields

ACCESS = '10.2.14.37 - - [18/Nov/2026:11:05:59 +0000] "POST /invocations HTTP/1.1" 503 143 "-" "AHC/2.0" 812.4'
JSON_ERROR = '{"level":"ERROR","msg":"CUDA out of memory","status":500,"latency_ms":4210.5,"ok":false,"user":{"id":7,"tags":["a","b"]},"gone":null}'
JSON_INFO = '{"level":"INFO","msg":"request completed","status":200,"latency_ms":38.2,"ok":true,"user":{"id":8,"tags":[]}}'


@pytest.mark.parametrize(
    ("pattern", "message", "expected"),
    [
        # empty pattern: everything
        ("", "anything at all", True),
        ("   ", "", True),
        # terms: all must match, case-sensitive, whole words
        ("ERROR", "[ERROR] boom", True),
        ("ERROR", "error boom", False),
        ("ERROR", "ERRORS happen", False),
        ("ERROR", "CUDA_ERROR: x", True),
        ("ERROR boom", "[ERROR] boom", True),
        ("ERROR boom", "[ERROR] bang", False),
        ("/invocations 503", ACCESS, True),
        ("llm-chat-canary", "endpoint llm-chat-canary is slow", True),
        # quoted phrases
        ('"out of memory"', "CUDA out of memory. Tried", True),
        ('"out of memory"', "out of  memory", False),
        ('"ERROR:"', "ERROR: x", True),
        ('"say \\"hi\\""', 'they say "hi" loudly', True),
        # ?alternatives: any
        ("?ERROR ?WARN", "[WARN] disk", True),
        ("?ERROR ?WARN", "[ERROR] disk", True),
        ("?ERROR ?WARN", "[INFO] disk", False),
        ('?"timed out" ?OOM', "request timed out", True),
        # exclusions
        ("ERROR -timeout", "ERROR timeout", False),
        ("ERROR -timeout", "ERROR oom", True),
        ("-ping", "GET /ping 200", False),
        ("-ping -health", "POST /invocations 200", True),
        ('-"GET /ping"', "GET /ping 200", False),
        # regex
        ("%time.*out%", "request timed out", True),
        ("%^\\[ERROR%", "[ERROR] x", True),
        ("%^\\[ERROR%", "x [ERROR]", False),
        ("%[Ee]rror|[Ff]ail%", "Failed to load", True),
        ("%\\d{3} \\d+%", "503 143", True),
        # JSON: equality, wildcards, numbers, booleans, nulls, nesting, arrays
        ('{ $.level = "ERROR" }', JSON_ERROR, True),
        ('{ $.level = "ERROR" }', JSON_INFO, False),
        ("{ $.level = ERROR }", JSON_ERROR, True),
        ('{ $.level != "ERROR" }', JSON_INFO, True),
        ('{ $.level != "ERROR" }', JSON_ERROR, False),
        ('{ $.msg = "CUDA*" }', JSON_ERROR, True),
        ('{ $.msg = "*memory" }', JSON_ERROR, True),
        ('{ $.msg = "*of*" }', JSON_ERROR, True),
        ('{ $.msg = "CUDA" }', JSON_ERROR, False),
        ("{ $.latency_ms > 1000 }", JSON_ERROR, True),
        ("{ $.latency_ms > 1000 }", JSON_INFO, False),
        ("{ $.latency_ms < 100 }", JSON_INFO, True),
        ("{ $.status >= 500 }", JSON_ERROR, True),
        ("{ $.status <= 499 }", JSON_ERROR, False),
        ("{ $.status = 200 }", JSON_INFO, True),
        ("{ $.status != 200 }", JSON_ERROR, True),
        ("{ $.status = 5* }", JSON_ERROR, True),
        ("{ $.latency_ms > 1e3 }", JSON_ERROR, True),
        ("{ $.level > 1 }", JSON_ERROR, False),  # not a number: no match
        ("{ $.user.id = 7 }", JSON_ERROR, True),
        ('{ $.user.tags[1] = "b" }', JSON_ERROR, True),
        ('{ $.user.tags[0] = "b" }', JSON_ERROR, False),
        ("{ $.user.tags[0] NOT EXISTS }", JSON_INFO, True),
        ("{ $.ok IS FALSE }", JSON_ERROR, True),
        ("{ $.ok IS TRUE }", JSON_INFO, True),
        ("{ $.ok IS TRUE }", JSON_ERROR, False),
        ("{ $.gone IS NULL }", JSON_ERROR, True),
        ("{ $.gone IS NULL }", JSON_INFO, False),  # absent is not null
        ("{ $.gone NOT EXISTS }", JSON_INFO, True),
        ("{ $.gone NOT EXISTS }", JSON_ERROR, False),
        ("{ $.gone EXISTS }", JSON_ERROR, True),
        ("{ $.missing = * }", JSON_ERROR, False),
        ("{ $.msg = %memory$% }", JSON_ERROR, True),
        # JSON: && || and parentheses
        ('{ $.level = "ERROR" && $.status = 500 }', JSON_ERROR, True),
        ('{ $.level = "ERROR" && $.status = 200 }', JSON_ERROR, False),
        ('{ $.level = "WARN" || $.latency_ms > 4000 }', JSON_ERROR, True),
        ('{ ($.level = "WARN" || $.level = "ERROR") && $.status >= 500 }', JSON_ERROR, True),
        ('{ ($.level = "WARN" || $.level = "ERROR") && $.status >= 500 }', JSON_INFO, False),
        ('{ $.level = "INFO" || ($.status = 500 && $.ok IS FALSE) }', JSON_ERROR, True),
        # JSON patterns never match text that is not JSON
        ('{ $.level = "ERROR" }', "[ERROR] level=ERROR", False),
        ('{ $.level = "ERROR" }', '{"level": "ERROR"', False),
        # space-delimited
        ("[ip, ident, user, timestamp, request, status, bytes, referer, agent, latency]", ACCESS, True),
        ("[ip, ident, user, timestamp, request, status, bytes]", ACCESS, False),  # field count differs
        ("[ip, ..., latency > 500]", ACCESS, True),
        ("[ip, ..., latency > 1000]", ACCESS, False),
        ("[ip, ident, user, timestamp, request, status = 5*, ...]", ACCESS, True),
        ("[ip, ident, user, timestamp, request, status = 2*, ...]", ACCESS, False),
        ("[ip, ident, user, timestamp, request, status != 200, ...]", ACCESS, True),
        ("[ip = 10.2.*, ...]", ACCESS, True),
        ('[..., request = "POST /invocations*", status, bytes, referer, agent, latency]', ACCESS, True),
        ("[ip, ..., status = 4* || status = 5*, bytes, referer, agent, latency]", ACCESS, True),
        ("[ip, ..., status >= 500 && status < 600, bytes, referer, agent, latency]", ACCESS, True),
        ("[w1 = ERROR, w2]", "ERROR disk", True),
        ("[w1 = ERROR, w2]", "WARN disk", False),
        ("[w1 = ERROR, w2]", "ERROR disk full", False),
        ("[w1, ...]", "one", True),
    ],
)
def test_pattern_matches(pattern: str, message: str, expected: bool) -> None:
    assert matches(pattern, message) is expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ('{ $.level = "ERROR"', "If a filter pattern starts with '{' it must end with '}'"),
        ("[ip, user", "If a filter pattern starts with '[' it must end with ']'"),
        ("user@example.com", "Invalid character(s) in term 'user@example.com'"),
        ("?", "Invalid character(s) in term '?'"),
        ("ERROR!", "Invalid character(s) in term 'ERROR!'"),
        ('"unterminated', "Invalid filter pattern"),
        ("{ }", "Invalid filter pattern"),
        ("{ $.level }", "Invalid filter pattern"),
        ("{ level = 1 }", "Invalid filter pattern"),
        ("{ $.a > high }", "Invalid filter pattern"),
        ("{ $.a IS MAYBE }", "Invalid filter pattern"),
        ("{ ($.a = 1 }", "Invalid filter pattern"),
        ("{ $.a = 1 && }", "Invalid filter pattern"),
        ("%(grouped)%", "Invalid filter pattern"),
        ("%something!%", "Invalid filter pattern"),
        ("%a% %b% %c%", "Invalid filter pattern"),
        ("[]", "Invalid filter pattern"),
        ("[a = 1 && b = 2]", "Invalid filter pattern"),
    ],
)
def test_invalid_patterns_say_why(pattern: str, message: str) -> None:
    with pytest.raises(FilterPatternError) as error:
        compile_filter_pattern(pattern)
    assert str(error.value) == message


def test_space_delimited_fields_keep_quoted_and_bracketed_text_together() -> None:
    assert split_fields(ACCESS) == [
        "10.2.14.37", "-", "-", "18/Nov/2026:11:05:59 +0000", "POST /invocations HTTP/1.1",
        "503", "143", "-", "AHC/2.0", "812.4",
    ]


def test_multi_line_messages_match_anywhere() -> None:
    traceback = 'Traceback (most recent call last):\n  File "x.py", line 1\ntorch.OutOfMemoryError: CUDA out of memory'
    assert matches("OutOfMemoryError", traceback)
    assert matches('"CUDA out of memory"', traceback)
    assert matches("Traceback -KeyError", traceback)
