"""URLs of the development LMS: what ``lms/urls.py`` does for plugins, and nothing else."""

from edx_django_utils.plugins import get_plugin_url_patterns

urlpatterns = []
urlpatterns.extend(get_plugin_url_patterns("lms.djangoapp"))
