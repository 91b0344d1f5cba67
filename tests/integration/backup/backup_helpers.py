"""Helpers of the backup tests (a module of its own: ``conftest`` is ambiguous across test folders)."""

from __future__ import annotations


def fill_small(server, name):
    """Two schemas, three tables, known row counts, one empty table."""
    with server.connect(name) as conn:
        conn.execute("CREATE SCHEMA sales")
        conn.execute("CREATE TABLE public.customers (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO public.customers SELECT i, 'customer ' || i FROM generate_series(1, 250) i")
        conn.execute("CREATE TABLE sales.orders (id bigserial PRIMARY KEY, customer int REFERENCES customers, "
                     "total numeric(10,2))")
        conn.execute("INSERT INTO sales.orders (customer, total) SELECT 1 + i % 250, i * 1.5 "
                     "FROM generate_series(1, 1234) i")
        conn.execute('CREATE TABLE public."Empty Table" (x int)')
    return {"public.customers": 250, "sales.orders": 1234, "public.Empty Table": 0}
