"""How the API's lists are paginated: as DRF paginates (``count``, ``next``, ``previous``, ``results``)."""

from rest_framework.pagination import PageNumberPagination

from tahoe_registration_api.rest_api.query import positive_param, text_param


class ListPagination(PageNumberPagination):
    """
    ``?page=`` (from 1, or ``last``) and ``?page_size=`` (50 by default, at most 500: more is 500).

    Either, when it is not a whole number of at least 1 (``page=0``, ``page=-1``, ``page=abc``,
    ``page_size=1e3``), is a 400 naming it, where DRF would answer a 404 or ignore it; a page past
    the last is a 404 ``not-found``.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    invalid_page_message = "There is no page {page_number}: {message}"

    def get_page_size(self, request):
        """Return the page size asked for (capped at ``max_page_size``), else the default; refuse a bad one."""
        size = positive_param(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_page_number(self, request, paginator):
        """Return the page number asked for (1 when absent, the last for ``last``); refuse a bad one."""
        text = text_param(request, self.page_query_param)
        if text is not None and text.lower() in self.last_page_strings:
            return paginator.num_pages
        number = positive_param(request, self.page_query_param)
        return 1 if number is None else number
