"""With the database unreachable the endpoint answers 503 in JSON, and recovers without a restart."""

import socket
import threading

import pytest
from django.db import connection

from devlms.gunicorn import free_port
from tests.conftest import Caller, Site, make_user
from tests.live_lms import LiveLms, database_url

pytestmark = [pytest.mark.mariadb]


class TcpProxy:
    """A TCP proxy to the database that can be cut (connections refused, open ones dropped) and restored."""

    def __init__(self, target_host, target_port):
        self.target = (target_host, int(target_port))
        self.port = free_port()
        self.sockets = []
        self.listener = None
        self.lock = threading.Lock()

    def up(self):
        """Accept connections and forward them to the database."""
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def down(self):
        """Refuse new connections and drop every open one."""
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread up
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets.clear()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self.lock:
                self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.close()
                except OSError:
                    pass


def test_database_outage_is_a_json_503_and_the_service_recovers(transactional_db):  # pylint: disable=unused-argument
    alpha = Site("alpha.localhost", "alpha")
    token = Caller(make_user("alpha_admin", alpha, is_admin=True)).token
    settings_dict = connection.settings_dict
    proxy = TcpProxy(settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 3306)
    proxy.up()
    server = LiveLms(workers=2, db_url=database_url(settings_dict, host="127.0.0.1", port=proxy.port))
    try:
        def register(i):
            return server.post(alpha.domain, token, {"username": f"l{i}", "email": f"l{i}@example.com", "name": "L"})

        assert register(1)[0] == 200
        proxy.down()
        for i in range(2, 6):
            status, body, raw = register(i)
            assert status == 503, raw[:300]
            assert body["error_code"] == "service-unavailable"
        proxy.up()
        assert register(6)[0] == 200
        assert register(2)[0] == 200  # nothing of the refused attempts was left behind
    finally:
        server.stop()
        proxy.down()
