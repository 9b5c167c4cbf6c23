"""The test DynamoDB-protocol server: moto's server, handling one request at a time.

moto's in-memory backend is not thread-safe: under concurrent load its threaded server loses
`UpdateItem ADD` updates on a hot item (2,000 concurrent increments ended at 1,988 here).
DynamoDB itself applies each update atomically, so the tests need a server that does too:
this wraps moto's WSGI app in a lock, keeping its threaded keep-alive connections.

Usage: dynamodb_server.py HOST PORT
"""

import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


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
