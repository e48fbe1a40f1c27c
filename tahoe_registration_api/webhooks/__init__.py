"""
Webhooks: a site's integrator hears, signed and retried, what happened to the site's learners.

``events`` names the event types and writes an event into the outbox in the transaction of the
change it reports; ``endpoints`` keeps each site's endpoints (their URLs, events and secrets);
``delivery`` is the outbox's part that fans an event out to the endpoints and posts it
(``signing``: Standard Webhooks' signatures; ``addresses``: which URLs may be posted to).
"""
