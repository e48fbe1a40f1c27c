"""``make bench``: registrations over HTTP (gunicorn, MariaDB) against the ORM and hasher floors."""
