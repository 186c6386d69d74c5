"""A real HTTP receiver on 127.0.0.1 for webhook tests: records requests, answers scripted statuses."""
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, statuses=(200,), before_answer=None):
        self.statuses = list(statuses)  # answered in order; the last one repeats
        self.before_answer = before_answer  # called with (headers, body) once a request is read, before it is answered
        self.requests = []  # (headers dict, body bytes, answered status)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                receiver.requests.append((dict(self.headers), body, status))
                if receiver.before_answer is not None:
                    receiver.before_answer(dict(self.headers), body)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def accepted(self):
        """What an idempotent receiver keeps: 2xx requests, once per X-Lago-Unique-Key."""
        kept = {}
        for headers, body, status in self.requests:
            if 200 <= status < 300:
                kept.setdefault(headers["X-Lago-Unique-Key"], body)
        return kept
