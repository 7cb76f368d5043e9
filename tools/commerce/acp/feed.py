"""ACP product feeds (``openapi.feed.yaml``): a merchant's catalogue as ``Product`` objects.

A feed is metadata (id, target country, last update) over its merchant's one catalogue:
every feed of a merchant lists the same products, and a ``PATCH …/products`` upsert changes
the catalogue the checkout sells from. An upsert replaces each product it names (variants it
leaves out stop being sold; sessions that hold them show them out of stock); products it
does not name stay as they are. Shopper and merchant keys read the feeds of their own
merchant only; only merchant keys create feeds and upsert products.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr
from sqlalchemy import select
from sqlalchemy.orm import Session

from tools.commerce.acp.catalog import availability, load_merchant
from tools.commerce.acp.checkout import iso
from tools.commerce.acp.models import Feed, Item, Product
from tools.commerce.acp.requests import parse
from tools.commerce.errors import AcpError
from tools.payments.requests import new_id


class _Open(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceIn(_Open):
    amount: StrictInt = Field(ge=0)
    currency: StrictStr = Field(pattern=r"^[A-Z]{3}$")


class AvailabilityIn(_Open):
    available: StrictBool | None = None
    status: StrictStr | None = None


class VariantIn(_Open):
    id: StrictStr = Field(min_length=1, max_length=128)
    title: StrictStr = Field(min_length=1, max_length=300)
    description: dict[str, StrictStr] | None = None
    url: StrictStr | None = None
    barcodes: list[dict[str, Any]] | None = None
    price: PriceIn | None = None
    list_price: PriceIn | None = None
    unit_price: dict[str, Any] | None = None
    availability: AvailabilityIn | None = None
    categories: list[dict[str, Any]] | None = None
    condition: list[StrictStr] | None = None
    variant_options: list[dict[str, StrictStr]] | None = None
    media: list[dict[str, Any]] | None = None
    seller: dict[str, Any] | None = None
    marketplace: dict[str, Any] | None = None


class ProductIn(_Open):
    id: StrictStr = Field(min_length=1, max_length=128)
    title: StrictStr | None = None
    description: dict[str, StrictStr] | None = None
    url: StrictStr | None = None
    media: list[dict[str, Any]] | None = None
    variants: list[VariantIn]


class UpsertIn(_Open):
    products: list[ProductIn] = Field(min_length=1)


class CreateFeedIn(_Open):
    target_country: StrictStr | None = Field(default=None, pattern=r"^[A-Z]{2}$")


def feed_not_found(feed_id: str) -> AcpError:
    return AcpError("Feed not found", code="feed_not_found", status=404, param="id")


def load_feed(session: Session, feed_id: str, merchant_id: str) -> Feed:
    """The feed ``feed_id`` of ``merchant_id`` (another merchant's feed is not found)."""
    feed = session.get(Feed, feed_id)
    if feed is None or feed.merchant_id != merchant_id:
        raise feed_not_found(feed_id)
    return feed


def metadata(feed: Feed) -> dict[str, Any]:
    """The wire ``FeedMetadata``."""
    out: dict[str, Any] = {"id": feed.id, "updated_at": iso(feed.updated_at)}
    if feed.target_country:
        out["target_country"] = feed.target_country
    return out


def variant_json(item: Item) -> dict[str, Any]:
    """An item as a feed ``Variant`` (price and availability from its columns)."""
    status = availability(item)
    out: dict[str, Any] = {"id": item.item_id, "title": item.title}
    out.update({k: v for k, v in item.body.items() if v not in (None, [], {})})
    out["price"] = {"amount": item.unit_amount, "currency": item.currency}
    out["availability"] = {"available": status != "out_of_stock", "status": status}
    return out


def products_json(session: Session, merchant_id: str) -> list[dict[str, Any]]:
    """Every product of the merchant with its live variants, in catalogue order."""
    products = session.scalars(
        select(Product).where(Product.merchant_id == merchant_id).order_by(Product.position)
    ).all()
    items = session.scalars(
        select(Item)
        .where(Item.merchant_id == merchant_id, Item.active.is_(True))
        .order_by(Item.position)
    ).all()
    by_product: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_product.setdefault(item.product_id, []).append(variant_json(item))
    out = []
    for prod in products:
        entry: dict[str, Any] = {"id": prod.product_id}
        entry.update({k: v for k, v in prod.body.items() if v not in (None, [], {})})
        entry["variants"] = by_product.get(prod.product_id, [])
        out.append(entry)
    return out


def create_feed(
    session: Session, merchant_id: str, payload: Mapping[str, Any] | None, *, at: datetime
) -> dict[str, Any]:
    """A new feed over the merchant's catalogue (``target_country`` defaults to its own)."""
    req = parse(CreateFeedIn, payload)
    merchant = load_merchant(session, merchant_id)
    feed = Feed(
        id=new_id("feed"),
        merchant_id=merchant_id,
        target_country=req.target_country or merchant.country,
        created_at=at,
        updated_at=at,
    )
    session.add(feed)
    session.flush()
    return metadata(feed)


def upsert_products(
    session: Session, feed: Feed, payload: Mapping[str, Any] | None, *, at: datetime
) -> dict[str, Any]:
    """Upsert products by ``Product.id`` into the feed's catalogue (``UpsertProductsResponse``)."""
    req = parse(UpsertIn, payload)
    merchant = load_merchant(session, feed.merchant_id)
    currency = merchant.settlement_currency.upper()
    mid = feed.merchant_id
    last = (
        session.scalar(
            select(Item.position)
            .where(Item.merchant_id == mid)
            .order_by(Item.position.desc())
            .limit(1)
        )
        or 0
    )
    for p, prod in enumerate(req.products):
        row = session.scalar(
            select(Product).where(Product.merchant_id == mid, Product.product_id == prod.id)
        )
        body = prod.model_dump(exclude_none=True, exclude={"id", "variants"})
        if row is None:
            row = Product(
                id=new_id("prd"),
                merchant_id=mid,
                product_id=prod.id,
                body=body,
                position=last + p + 1,
                updated_at=at,
            )
            session.add(row)
        else:
            row.body, row.updated_at = body, at
        seen: set[str] = set()
        for v, var in enumerate(prod.variants):
            param = f"$.products[{p}].variants[{v}]"
            if var.price is not None and var.price.currency != currency:
                raise AcpError(
                    f"this merchant sells in {currency}",
                    code="invalid_product_payload",
                    param=f"{param}.price.currency",
                )
            seen.add(var.id)
            item = session.scalar(
                select(Item).where(Item.merchant_id == mid, Item.item_id == var.id)
            )
            extra = var.model_dump(
                exclude_none=True, exclude={"id", "title", "price", "availability"}
            )
            if item is None:
                if var.price is None:
                    raise AcpError(
                        "a new variant needs a price",
                        code="invalid_product_payload",
                        param=f"{param}.price",
                    )
                digital = any(
                    "digital" in str(c.get("value", "")).lower() for c in var.categories or []
                )
                item = Item(
                    id=new_id("itm"),
                    merchant_id=mid,
                    item_id=var.id,
                    product_id=prod.id,
                    title=var.title,
                    unit_amount=var.price.amount,
                    currency=currency,
                    stock=None,
                    max_per_order=None,
                    fulfillment="digital" if digital else "shipping",
                    active=True,
                    body=extra,
                    position=last + p + v + 1,
                    updated_at=at,
                )
                session.add(item)
            else:
                item.product_id, item.title, item.body = prod.id, var.title, extra
                item.active, item.updated_at = True, at
                if var.price is not None:
                    item.unit_amount = var.price.amount
            if var.availability is not None and var.availability.available is not None:
                if not var.availability.available:
                    item.stock = 0
                elif item.stock is not None and item.stock <= 0:
                    item.stock = None  # back in stock, count unknown
        for old in session.scalars(
            select(Item).where(Item.merchant_id == mid, Item.product_id == prod.id)
        ):
            if old.item_id not in seen:
                old.active, old.updated_at = False, at
    for other in session.scalars(select(Feed).where(Feed.merchant_id == mid)):
        other.updated_at = at
    session.flush()
    return {"id": feed.id, "accepted": True}


__all__ = [
    "create_feed",
    "feed_not_found",
    "load_feed",
    "metadata",
    "products_json",
    "upsert_products",
    "variant_json",
]
