"""The test DynamoDB-protocol server: moto's server, handling one request at a time.

moto's in-memory backend is not thread-safe: under concurrent load its threaded server loses
`UpdateItem ADD` updates on a hot item (2,000 concurrent increments ended at 1,988 here).
DynamoDB itself applies each update atomically, so the tests need a server that does too:
this wraps moto's WSGI app in a lock, keeping its threaded keep-alive connections.

moto also sorts every item of a table on each Query and Scan (`Table.all_items`), comparing
its `DynamoType` wrappers, which build a `Decimal` per comparison: on a table keyed by
(partition, sort) with a few thousand items that takes most of a second under load. The
same order is produced here from each key's value, computed once per item.

Usage: dynamodb_server.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.dynamodb.models.table import Table
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


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    app = DomainDispatcherApplication(create_backend_app)
    lock = threading.Lock()

    def one_at_a_time(environ, start_response):
        with lock:
            return list(app(environ, start_response))

    run_simple(host, port, one_at_a_time, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
