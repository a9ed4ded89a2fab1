"""Deterministic retail data: customers, products, orders, order lines and payments.

Pure Python with one seeded `random.Random`, so the same parameters always give the same rows (tests compute
their expectations from it; benchmarks scale it up). Money is in integer cents so every sum is exact.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

CATEGORIES = ("books", "electronics", "garden", "grocery", "toys")
COUNTRIES = ("DE", "FR", "NL", "VN", "US")
# Weighted so most orders count as revenue; returned and cancelled ones exercise the filters.
STATUSES = ("placed", "shipped", "completed", "returned", "cancelled")
STATUS_WEIGHTS = (10, 20, 55, 8, 7)
FIRST_DAY = date(2024, 1, 1)
DAYS = 120
# Orders at or above this total are paid partly with a voucher of VOUCHER_CENTS.
SPLIT_PAYMENT_FROM_CENTS = 20_000
VOUCHER_CENTS = 1_000

TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "full_name", "email", "country", "signup_date"),
    "products": ("product_id", "product_name", "category", "unit_price_cents"),
    "orders": ("order_id", "customer_id", "order_date", "status"),
    "order_items": ("order_id", "line_number", "product_id", "quantity", "unit_price_cents"),
    "payments": ("payment_id", "order_id", "method", "amount_cents"),
}


@dataclass(frozen=True)
class GeneratorParams:
    customers: int = 500
    products: int = 50
    orders: int = 5_000
    seed: int = 42

    def __post_init__(self) -> None:
        for name in ("customers", "products", "orders"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")


@dataclass
class RetailData:
    """Rows per table, each row a tuple in TABLE_COLUMNS order."""

    tables: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)

    def row_counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in self.tables.items()}


def generate(params: GeneratorParams) -> RetailData:
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
    prices = []
    products: list[tuple[object, ...]] = []
    for i in range(1, params.products + 1):
        category, price = rng.choice(CATEGORIES), rng.randrange(199, 25_000)
        products.append((i, f"Product {i}", category, price))
        prices.append(price)
    orders: list[tuple[object, ...]] = []
    items: list[tuple[object, ...]] = []
    payments: list[tuple[object, ...]] = []
    for order_id in range(1, params.orders + 1):
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        orders.append(
            (
                order_id,
                rng.randrange(1, params.customers + 1),
                FIRST_DAY + timedelta(days=rng.randrange(DAYS)),
                status,
            )
        )
        total = 0
        for line in range(1, rng.randrange(1, 5) + 1):
            product = rng.randrange(params.products)
            quantity = rng.randrange(1, 6)
            price = prices[product]
            items.append((order_id, line, product + 1, quantity, price))
            total += quantity * price
        if status == "cancelled":
            continue
        method = rng.choice(("card", "bank_transfer"))
        if total >= SPLIT_PAYMENT_FROM_CENTS:
            payments.append((len(payments) + 1, order_id, "voucher", VOUCHER_CENTS))
            payments.append((len(payments) + 1, order_id, method, total - VOUCHER_CENTS))
        else:
            payments.append((len(payments) + 1, order_id, method, total))
    return RetailData(
        tables={
            "customers": customers,
            "products": products,
            "orders": orders,
            "order_items": items,
            "payments": payments,
        }
    )
