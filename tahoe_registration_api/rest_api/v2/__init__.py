"""The v2 API: Appsembler's v2 URL, for the clients written against it."""
