"""WSGI entry point of the development LMS (gunicorn ``devlms.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devlms.settings")
application = get_wsgi_application()
