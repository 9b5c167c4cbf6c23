"""The test DynamoDB-protocol server: moto's server, handling one request at a time.

moto's in-memory backend is not thread-safe: under concurrent load its threaded server loses
`UpdateItem ADD` updates on a hot item (2,000 concurrent increments ended at 1,988 here).
DynamoDB itself applies each update atomically, so the tests need a server that does too:
this wraps moto's WSGI app in a lock, keeping its threaded keep-alive connections.

moto also sorts every item of a table on each Query and Scan (`Table.all_items`), comparing
its `DynamoType` wrappers, which build a `Decimal` per comparison: on a table keyed by
(partition, sort) with a few thousand items that takes most of a second under load. The
same order is produced here from each key's value, computed once per item.

Three more costs are removed. moto 5 writes every response by walking the botocore model of
its shape, which for a Query or Scan of a thousand items takes most of a second (0.5 s a page
in the people paging test, four shard pages at once): a result with `Items` is already in
DynamoDB's JSON form, so it is written with moto's own `dynamo_json_dump` instead. moto lists its own package directory on every request to route it
(`backends.list_of_moto_modules`, a quarter of the server's time in a profile of the people
paging test): the list is read once here. And requests take turns in arrival order: a plain
lock lets one busy test's requests overtake another's for seconds, past the client's 2 s
attempt timeout, which failed unrelated tests with 503 on a loaded CI machine.

Usage: dynamodb_server.py HOST PORT
"""

import sys
import threading

from moto import backends
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import dynamo_json_dump
from moto.dynamodb.responses import DynamoResult
from werkzeug.serving import run_simple


def all_items_sorted_by_key_values(table):
    """`Table.all_items`: every item, by partition key then sort key, in moto's order."""
    items = []
    for hash_set in table.items.values():
        if table.range_key_attr:
            items.extend(hash_set.values())
        else:
            items.append(hash_set)

    def key(item):
        if item.range_key:
            return (item.hash_key.cast_value, item.range_key.cast_value)
        return (item.hash_key.cast_value,)

    return sorted(items, key=key)


Table.all_items = all_items_sorted_by_key_values

model_serialized = DynamoResult.execute_result


def items_as_json(self, context):
    """A Query or Scan result as DynamoDB's JSON; anything else as moto writes it."""
    if isinstance(self.result, dict) and "Items" in self.result:
        return 200, {"Content-Type": "application/x-amz-json-1.0"}, dynamo_json_dump(self.result)
    return model_serialized(self, context)


DynamoResult.execute_result = items_as_json

MOTO_MODULES = tuple(backends.list_of_moto_modules())
backends.list_of_moto_modules = lambda: MOTO_MODULES


class InTurn:
    """A lock granted in the order it was asked for (a ticket queue)."""

    def __init__(self):
        self._changed = threading.Condition()
        self._next_ticket = 0
        self._serving = 0

    def __enter__(self):
        with self._changed:
            ticket = self._next_ticket
            self._next_ticket += 1
            self._changed.wait_for(lambda: self._serving == ticket)

    def __exit__(self, *exc):
        with self._changed:
            self._serving += 1
            self._changed.notify_all()


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = InTurn()

    def one_at_a_time(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
