"""Smoke test of a running Tally API: one safe request per route, a report line per route.

Usage: smoke.py BASE_URL      (make smoke API_URL=https://....execute-api....amazonaws.com)

Safe against production: reads ask for one item; writes touch only throwaway keys of this run
(counter and user `smoke-<run>`), plus the one path `/api/smoke`, SDK version `smoke` and log
type `SMOKE`, which every run reuses, so repeated runs add no new names to the dashboard.
`POST /people` is sent an invalid body (400 names the field): a person, once created, stays
in the directory. `POST /test/1` answers 403 in AWS (IAM-only route) and 200 locally. `GET /ad`
may answer 502/504 when the ad server fails: Tally answered, so it passes, with a note.
Exit status 0 when every route answered as expected, 1 otherwise. Standard library only.
"""

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

RUN = f"smoke-{int(time.time())}"
ADS_QUERY = urllib.parse.urlencode(
    {"sdk_version": "smoke", "session_id": RUN, "platform": "smoke", "username": RUN,
     "country_code": "US"}
)
LOG_BODY = {"userId": RUN, "sessionId": RUN,
            "actions": [{"time": "2026-01-01T00:00:00Z", "type": "SMOKE", "properties": {}}]}


def json_has(*keys):
    return lambda body: all(key in json.loads(body) for key in keys)


def json_is(expected):
    return lambda body: json.loads(body) == expected


def series_sum(field, total):
    return lambda body: sum(bucket[field] for bucket in json.loads(body)["series"]) == total


def contains(text):
    return lambda body: text in body.decode("utf-8", "replace")


# (function, method, path, body, content type, accepted statuses, check of the body), in an
# order where each request may rely on the ones before (count after increment, query after log).
CHECKS = [
    ("visits-home", "GET", "/", None, None, {200}, contains("<form")),
    ("visits-form", "POST", "/form", f"id={RUN}&question=smoke", "application/x-www-form-urlencoded",
     {200}, contains(RUN)),
    ("visits-increment", "POST", f"/counters/{RUN}", None, None, {200},
     json_is({"id": RUN, "count": 2})),
    ("visits-count", "GET", f"/counters/{RUN}", None, None, {200}, json_is({"id": RUN, "count": 2})),
    ("visits-series", "GET", f"/counters/{RUN}/series", None, None, {200},
     series_sum("count", 2)),
    ("visits-database", "GET", "/database?limit=1", None, None, {200}, json_has()),
    ("ads-ad", "GET", f"/ad?{ADS_QUERY}", None, None, {200, 502, 504}, None),
    ("ads-impression", "GET", f"/impression?{ADS_QUERY}", None, None, {200},
     json_is({"success": True, "message": "Successfully fetched"})),
    ("ads-statistics", "GET", f"/statistics?username={RUN}", None, None, {200}, json_has()),
    ("logs-record", "POST", "/log", json.dumps(LOG_BODY), "application/json", {200},
     json_is({"success": True, "stored": 1})),
    ("logs-query", "GET", f"/log?userId={RUN}", None, None, {200}, contains("SMOKE")),
    ("people-ping", "GET", "/ping", None, None, {200}, lambda body: body.strip() == b"pong"),
    ("people-list", "GET", "/people?limit=1", None, None, {200}, None),
    ("people-create", "POST", "/people", json.dumps({"Last": RUN, "Age": 1000}), "application/json",
     {400}, contains("Age")),
    ("people-by-age", "GET", "/people/age?limit=1", None, None, {200}, None),
    ("people-get", "GET", "/people/{id}", None, None, {200, 404}, json_has()),
    ("people-ids-by-lastname", "GET", f"/ids/lastname/{RUN}", None, None, {200}, json_is([])),
    ("stats-count", "GET", "/api/smoke", None, None, {200}, json_has("path", "count")),
    ("stats-list", "GET", "/stats?limit=1", None, None, {200}, None),
    ("stats-series", "GET", "/stats/series?path=smoke", None, None, {200}, json_has("path", "series")),
    ("stats-test", "POST", "/test/1", None, None, {200, 403}, None),
    ("dashboard-page", "GET", "/dashboard", None, None, {200}, contains("<svg")),
    ("fallback", "GET", f"/{RUN}/no-such-route", None, None, {404}, json_has("message")),
]


def send(base, method, path, body, content_type):
    data = body.encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    if content_type:
        req.add_header("content-type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def first_person_id(base):
    """An id `GET /people/{id}` can find: the first person listed, else one that is absent."""
    status, body = send(base, "GET", "/people?limit=1", None, None)
    try:
        people = json.loads(body) if status == 200 else []
        return str(people[0]["ID"]) if people else "999999999"
    except (ValueError, LookupError, TypeError):
        return "999999999"


def check(base, function, method, path, body, content_type, statuses, body_ok):
    started = time.monotonic()
    try:
        status, answer = send(base, method, path, body, content_type)
    except OSError as err:
        return False, f"no answer: {err}", 0.0
    ms = (time.monotonic() - started) * 1000
    if status not in statuses:
        return False, f"status {status}, expected {sorted(statuses)}: {answer[:200]!r}", ms
    try:
        if status in (200, 400) and body_ok is not None and not body_ok(answer):
            return False, f"unexpected body: {answer[:200]!r}", ms
    except ValueError as err:
        return False, f"unreadable body ({err}): {answer[:200]!r}", ms
    note = " (the ad server failed; Tally answered)" if function == "ads-ad" and status >= 500 else ""
    return True, f"{status}{note}", ms


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    base = sys.argv[1].rstrip("/")
    person = first_person_id(base)
    # The counter is counted twice: once by the form, once by the increment.
    failed = 0
    for function, method, path, body, content_type, statuses, body_ok in CHECKS:
        path = path.replace("{id}", person)
        ok, detail, ms = check(base, function, method, path, body, content_type, statuses, body_ok)
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {function:<24} {method:<4} {path[:60]:<60} {ms:7.1f} ms  {detail}")
    print(f"smoke {base}: {len(CHECKS) - failed} of {len(CHECKS)} routes answered as expected")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
