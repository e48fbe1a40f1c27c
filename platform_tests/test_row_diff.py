"""exploration"""
from django.db import connections
from django.test import Client
from conftest import PASSWORD, PLATFORM_REGISTRATION_URL, learner_body


from django.apps import apps
from django.db import router
def counts():
    out = {}
    conn = connections["default"]
    tables = {m._meta.db_table for m in apps.get_models(include_auto_created=True) if not m._meta.proxy}
    others = {(m._meta.db_table, router.db_for_write(m)) for m in apps.get_models(include_auto_created=True) if router.db_for_write(m) != "default"}
    print("OTHERS", others)
    existing = set(conn.introspection.table_names())
    print("MISSING", tables - existing, "EXTRA", existing - tables)
    with conn.cursor() as cur:
        for table in sorted(tables & existing):
                cur.execute(f'SELECT COUNT(*) FROM "{table}"')
                out[table] = cur.fetchone()[0]
    return out


def grown(before, after):
    return {k: after[k] - before.get(k, 0) for k in after if after[k] > before.get(k, 0)}


def test_explore(alpha, alpha_admin):
    b = counts()
    r = alpha_admin.register(alpha, learner_body(password=PASSWORD))
    print(r.status_code, r.content)
    a = counts()
    print("PLUGIN PW", sorted(grown(b, a).items()))
    b = counts()
    r = alpha_admin.register(alpha, learner_body(username="nopw", email="nopw@example.com"))
    print(r.status_code, r.content)
    a = counts()
    print("PLUGIN NOPW", sorted(grown(b, a).items()))
    b = counts()
    r = Client().post(PLATFORM_REGISTRATION_URL, data={"username": "plat", "email": "plat@example.com", "name": "Plat Form",
        "password": PASSWORD, "terms_of_service": "true", "honor_code": "true"}, HTTP_HOST=alpha.domain)
    print(r.status_code, r.content)
    a = counts()
    print("PLATFORM", sorted(grown(b, a).items()))
    assert 0
