"""A real HTTP server on 127.0.0.1 for remote-data tests, with paths that misbehave."""

import contextlib
import socket
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 8.0  # how late /slow/ answers (it does answer: every request is bounded)


class Handler(SimpleHTTPRequestHandler):
    """Serves a folder; /slow/ answers late, /drop/ hangs up, /truncated/ cuts its JSON."""

    def do_GET(self):
        if self.path.startswith("/slow/"):
            time.sleep(SLOW_SECONDS)
            self.path = self.path[len("/slow"):]
        elif self.path.startswith("/drop/"):
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        elif self.path.startswith("/truncated/"):
            self.path = self.path[len("/truncated"):]
            if self.path.endswith((".json", ".zattrs", ".zgroup")):
                body = b'{"zarr_format": 3, "node_type": "gr'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    """Quiet when a client has gone (a reader that gave up on /slow/): no traceback printed."""

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(folder):
    httpd = Server(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
