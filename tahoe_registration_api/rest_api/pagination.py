"""How the API's lists are paginated: as DRF paginates (``count``, ``next``, ``previous``, ``results``)."""

from rest_framework.pagination import PageNumberPagination


class ListPagination(PageNumberPagination):
    """``?page=`` (from 1) and ``?page_size=`` (50 by default, at most 500); a page past the last is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
