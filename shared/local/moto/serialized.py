# moto_server with DynamoDB requests serialized.
#
# moto's server is threaded and its DynamoDB backend takes no lock, so two
# concurrent conditional writes (or TransactWriteItems) on the same item
# can both pass their conditions. Real DynamoDB never allows that, and the
# service's guarantees (no double decision, no double grant) rest on it.
# Serializing DynamoDB requests restores DynamoDB's semantics; DynamoDB
# handlers never call out, so the lock cannot deadlock with the Step
# Functions interpreter, whose Lambda calls go to the edge.
import sys
import threading

from moto.moto_server import werkzeug_app

_lock = threading.Lock()
_dispatch = werkzeug_app.DomainDispatcherApplication.__call__


def _serialized(self, environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with _lock:
            # Drain the body inside the lock: the write happens while it
            # is produced.
            return list(_dispatch(self, environ, start_response))
    return _dispatch(self, environ, start_response)


werkzeug_app.DomainDispatcherApplication.__call__ = _serialized

from moto.server import main  # noqa: E402  (after the patch, on purpose)

sys.argv[0] = "moto_server"
sys.exit(main())
