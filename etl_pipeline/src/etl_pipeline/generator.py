"""Deterministic retail data: reference data (customers, products) and one day of orders at a time.

Pure Python with seeded `random.Random`s, so the same parameters always give the same rows (tests compute
their expectations from it; benchmarks scale it up). A day's orders depend only on the day, the seed, the
number of orders and the reference data they point at: loading a day again, or any set of days in any order,
gives the same rows. Money is in integer cents so every sum is exact.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

CATEGORIES = ("books", "electronics", "garden", "grocery", "toys")
COUNTRIES = ("DE", "FR", "NL", "VN", "US")
# Weighted so most orders count as revenue; returned and cancelled ones exercise the filters.
STATUSES = ("placed", "shipped", "completed", "returned", "cancelled")
STATUS_WEIGHTS = (10, 20, 55, 8, 7)
# The first day of the demo's daily partitions; customers signed up in the year before it.
FIRST_DAY = date(2024, 1, 1)
# A day's order ids are day_number * ORDER_ID_STRIDE + 1 ... + orders, its payment ids day_number *
# 2 * ORDER_ID_STRIDE + 1 ... (at most two payments an order): unique across days without a sequence.
ORDER_ID_STRIDE = 100_000
MAX_ORDERS_PER_DAY = ORDER_ID_STRIDE - 1
# Orders at or above this total are paid partly with a voucher of VOUCHER_CENTS.
SPLIT_PAYMENT_FROM_CENTS = 20_000
VOUCHER_CENTS = 1_000

REFERENCE_TABLES = ("customers", "products")
DAY_TABLES = ("orders", "order_items", "payments")
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "full_name", "email", "country", "signup_date"),
    "products": ("product_id", "product_name", "category", "unit_price_cents"),
    "orders": ("order_id", "customer_id", "order_date", "status"),
    "order_items": ("order_id", "line_number", "product_id", "quantity", "unit_price_cents"),
    "payments": ("payment_id", "order_id", "method", "amount_cents"),
}


@dataclass(frozen=True)
class GeneratorParams:
    """customers and products size the reference data; orders is the number of orders of each day."""

    customers: int = 500
    products: int = 50
    orders: int = 40
    seed: int = 42

    def __post_init__(self) -> None:
        for name in ("customers", "products", "orders"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.orders > MAX_ORDERS_PER_DAY:
            raise ValueError(f"orders must be at most {MAX_ORDERS_PER_DAY:,} a day, got {self.orders:,}")


@dataclass
class RetailData:
    """Rows per table, each row a tuple in TABLE_COLUMNS order."""

    tables: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)

    def row_counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}


@dataclass(frozen=True)
class Reference:
    """What a day's orders point at: the customer ids and each product's unit price."""

    customer_ids: Sequence[int]
    prices: Mapping[int, int]  # product_id -> unit_price_cents

    @classmethod
    def of(cls, data: RetailData) -> Reference:
        return cls(
            customer_ids=[int(str(c[0])) for c in data.tables["customers"]],
            prices={int(str(p[0])): int(str(p[3])) for p in data.tables["products"]},
        )


def day_number(day: date) -> int:
    """1 for FIRST_DAY; ValueError for a day before it."""
    number = (day - FIRST_DAY).days + 1
    if number < 1:
        raise ValueError(f"{day.isoformat()} is before the first day, {FIRST_DAY.isoformat()}")
    return number


def generate_reference(params: GeneratorParams) -> RetailData:
    rng = random.Random(params.seed)
    customers: list[tuple[object, ...]] = [
        (
            i,
            f"Customer {i}",
            f"customer{i}@example.com",
            rng.choice(COUNTRIES),
            FIRST_DAY - timedelta(days=rng.randrange(365)),
        )
        for i in range(1, params.customers + 1)
    ]
    products: list[tuple[object, ...]] = [
        (i, f"Product {i}", rng.choice(CATEGORIES), rng.randrange(199, 25_000))
        for i in range(1, params.products + 1)
    ]
    return RetailData(tables={"customers": customers, "products": products})


def generate_day(day: date, *, orders: int, seed: int, reference: Reference) -> RetailData:
    """The orders of one day, their lines and payments."""
    if not reference.customer_ids or not reference.prices:
        raise ValueError("the reference data has no customers or no products")
    number = day_number(day)
    rng = random.Random(f"{seed}/{day.isoformat()}")  # a str seed hashes the same in every process
    product_ids = sorted(reference.prices)
    rows: dict[str, list[tuple[object, ...]]] = {table: [] for table in DAY_TABLES}
    next_payment = number * 2 * ORDER_ID_STRIDE
    for n in range(1, orders + 1):
        order_id = number * ORDER_ID_STRIDE + n
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        rows["orders"].append((order_id, rng.choice(reference.customer_ids), day, status))
        total = 0
        for line in range(1, rng.randrange(1, 5) + 1):
            product = rng.choice(product_ids)
            quantity = rng.randrange(1, 6)
            price = reference.prices[product]
            rows["order_items"].append((order_id, line, product, quantity, price))
            total += quantity * price
        if status == "cancelled":
            continue
        method = rng.choice(("card", "bank_transfer"))
        amounts = [("voucher", VOUCHER_CENTS), (method, total - VOUCHER_CENTS)]
        for pay_method, amount in amounts if total >= SPLIT_PAYMENT_FROM_CENTS else [(method, total)]:
            next_payment += 1
            rows["payments"].append((next_payment, order_id, pay_method, amount))
    return RetailData(tables=rows)


def generate(params: GeneratorParams, days: Iterable[date]) -> RetailData:
    """The reference data and the given days' orders: what loading those days leaves in the raw tables."""
    data = generate_reference(params)
    reference = Reference.of(data)
    for table in DAY_TABLES:
        data.tables[table] = []
    for day in sorted(set(days)):
        for table, rows in generate_day(
            day, orders=params.orders, seed=params.seed, reference=reference
        ).tables.items():
            data.tables[table].extend(rows)
    return data


def days_between(first: date, last: date) -> list[date]:
    """Every day from first to last, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
