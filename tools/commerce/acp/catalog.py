"""The demo merchants' product catalogues, and reading a merchant's catalogue.

Each catalogue fits its merchant's business (chosen by MCC: electronics 5732, beauty 5977,
travel 4722, outdoor gear 5941, game codes 5816), priced in the merchant's settlement
currency in integer minor units (exponents from :mod:`cockpit.money`: KRW has none), with
stock counts (some low, one out of stock) and a fulfilment kind: ``shipping`` for physical
goods, ``digital`` for vouchers and codes. :func:`seed_catalogue` is idempotent: it adds the
feed and the items a merchant lacks and never touches what exists (prices or stock changed
since by a feed upsert stay as they are).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from cockpit.errors import NotFound
from cockpit.money import exponent, to_minor
from tools.commerce.acp.models import Feed, Item, Product
from tools.payments.models import Merchant
from tools.payments.requests import new_id

SHOP_DOMAIN = "shops.cockpit.example"
"""Storefront links are ``https://<merchant>.shops.cockpit.example/…`` (a reserved TLD)."""


@dataclass(frozen=True, slots=True)
class _Variant:
    item_id: str
    title: str
    price: str
    """Major units of the template's currency."""
    stock: int | None
    options: tuple[tuple[str, str], ...] = ()
    max_per_order: int | None = None


@dataclass(frozen=True, slots=True)
class _Product:
    product_id: str
    title: str
    description: str
    category: str
    fulfillment: str
    variants: tuple[_Variant, ...]


@dataclass(frozen=True, slots=True)
class _Template:
    currency: str
    products: tuple[_Product, ...]


def _p(pid: str, title: str, desc: str, cat: str, kind: str, *variants: _Variant) -> _Product:
    return _Product(pid, title, desc, cat, kind, tuple(variants))


_V = _Variant
_SHIP, _DIGITAL = "shipping", "digital"

ELECTRONICS = _Template(
    "SGD",
    (
        _p(
            "prod_aria_earbuds",
            "Aria Pro wireless earbuds",
            "Noise-cancelling earbuds, 30 h battery.",
            "Electronics > Audio",
            _SHIP,
            _V(
                "aria_earbuds_black",
                "Aria Pro earbuds - Black",
                "249.00",
                40,
                (("Color", "Black"),),
            ),
            _V(
                "aria_earbuds_white", "Aria Pro earbuds - White", "249.00", 3, (("Color", "White"),)
            ),
        ),
        _p(
            "prod_volt_charger",
            "Volt 65 W GaN charger",
            "Three-port USB-C charger for laptop and phone.",
            "Electronics > Power",
            _SHIP,
            _V("volt_charger_65w", "Volt 65 W GaN charger", "59.90", 120),
        ),
        _p(
            "prod_lumen_monitor",
            'Lumen 27" 4K monitor',
            "27-inch IPS 4K monitor with USB-C hub.",
            "Electronics > Displays",
            _SHIP,
            _V("lumen_monitor_27", 'Lumen 27" 4K monitor', "529.00", 8),
        ),
        _p(
            "prod_kestrel_keyboard",
            "Kestrel mechanical keyboard",
            "Hot-swappable 75% keyboard.",
            "Electronics > Peripherals",
            _SHIP,
            _V(
                "kestrel_kb_brown",
                "Kestrel keyboard - Brown switches",
                "169.00",
                25,
                (("Switch", "Brown"),),
            ),
            _V(
                "kestrel_kb_red",
                "Kestrel keyboard - Red switches",
                "169.00",
                0,
                (("Switch", "Red"),),
            ),
        ),
        _p(
            "prod_orbit_powerbank",
            "Orbit 20,000 mAh power bank",
            "Slim power bank, 30 W PD.",
            "Electronics > Power",
            _SHIP,
            _V("orbit_powerbank_20k", "Orbit 20,000 mAh power bank", "79.00", 60, max_per_order=3),
        ),
        _p(
            "prod_care_warranty",
            "Lion Care+ 2-year extended warranty",
            "Digital warranty certificate.",
            "Services > Warranty",
            _DIGITAL,
            _V("care_warranty_2y", "Lion Care+ 2 years", "39.00", None),
        ),
    ),
)

BEAUTY = _Template(
    "KRW",
    (
        _p(
            "prod_dew_serum",
            "Dew Glow vitamin C serum",
            "Brightening serum, 30 ml.",
            "Beauty > Skincare",
            _SHIP,
            _V("dew_serum_30ml", "Dew Glow serum 30 ml", "32000", 80),
        ),
        _p(
            "prod_cica_cream",
            "Cica Calm barrier cream",
            "Soothing centella cream, 50 ml.",
            "Beauty > Skincare",
            _SHIP,
            _V("cica_cream_50ml", "Cica Calm cream 50 ml", "28000", 2),
        ),
        _p(
            "prod_sun_fluid",
            "Sunny Day SPF50+ fluid",
            "Light sunscreen, PA++++, 50 ml.",
            "Beauty > Sun care",
            _SHIP,
            _V("sun_fluid_50ml", "Sunny Day SPF50+ 50 ml", "19000", 150),
        ),
        _p(
            "prod_silk_tint",
            "Silk velvet lip tint",
            "Long-wear lip tint.",
            "Beauty > Makeup",
            _SHIP,
            _V("silk_tint_coral", "Silk lip tint - Coral", "15000", 45, (("Shade", "Coral"),)),
            _V("silk_tint_rose", "Silk lip tint - Rose", "15000", 0, (("Shade", "Rose"),)),
        ),
        _p(
            "prod_mask_set",
            "Hanbang sheet mask set (10)",
            "Ten ginseng sheet masks.",
            "Beauty > Masks",
            _SHIP,
            _V("mask_set_10", "Sheet mask set of 10", "22000", 60, max_per_order=5),
        ),
        _p(
            "prod_gift_card",
            "Seoul Beauty e-gift card",
            "Digital gift card delivered by email.",
            "Gift cards",
            _DIGITAL,
            _V("gift_card_50000", "e-gift card 50,000 KRW", "50000", None),
        ),
    ),
)

TRAVEL = _Template(
    "THB",
    (
        _p(
            "prod_river_cruise",
            "Chao Phraya dinner cruise",
            "Evening cruise with buffet, e-voucher.",
            "Travel > Tours",
            _DIGITAL,
            _V("river_cruise_adult", "Dinner cruise - adult", "1450.00", 30),
        ),
        _p(
            "prod_ayutthaya_tour",
            "Ayutthaya day trip",
            "Guided temple tour with lunch, e-voucher.",
            "Travel > Tours",
            _DIGITAL,
            _V("ayutthaya_day_trip", "Ayutthaya day trip", "2200.00", 3),
        ),
        _p(
            "prod_market_tour",
            "Floating market morning tour",
            "Damnoen Saduak, hotel pick-up.",
            "Travel > Tours",
            _DIGITAL,
            _V("floating_market_tour", "Floating market tour", "1650.00", 0),
        ),
        _p(
            "prod_cooking_class",
            "Thai cooking class",
            "Half-day class with market visit.",
            "Travel > Experiences",
            _DIGITAL,
            _V("cooking_class_half_day", "Cooking class", "1900.00", 20),
        ),
        _p(
            "prod_airport_transfer",
            "Airport transfer BKK to city",
            "Private sedan, e-voucher.",
            "Travel > Transfers",
            _DIGITAL,
            _V("airport_transfer_bkk", "BKK airport transfer", "1200.00", None),
        ),
        _p(
            "prod_island_ferry",
            "Koh Samet ferry and transfer",
            "Return ferry with van, e-voucher.",
            "Travel > Transfers",
            _DIGITAL,
            _V("samet_ferry_return", "Koh Samet return ferry", "950.00", 50, max_per_order=6),
        ),
    ),
)

OUTDOOR = _Template(
    "EUR",
    (
        _p(
            "prod_alpen_tent",
            "Alpen 2-person tent",
            "Three-season tent, 2.1 kg.",
            "Outdoor > Tents",
            _SHIP,
            _V("alpen_tent_2p", "Alpen tent 2P", "289.00", 12),
        ),
        _p(
            "prod_fjord_jacket",
            "Fjord rain jacket",
            "Waterproof 3-layer shell.",
            "Outdoor > Clothing",
            _SHIP,
            _V("fjord_jacket_m", "Fjord rain jacket - M", "179.95", 14, (("Size", "M"),)),
            _V("fjord_jacket_l", "Fjord rain jacket - L", "179.95", 2, (("Size", "L"),)),
        ),
        _p(
            "prod_trail_boots",
            "Trailhead hiking boots",
            "Leather mid boots, GTX lining.",
            "Outdoor > Footwear",
            _SHIP,
            _V("trail_boots_43", "Trailhead boots - EU 43", "159.00", 0, (("Size", "43"),)),
        ),
        _p(
            "prod_summit_pack",
            "Summit 35 L backpack",
            "Day pack with rain cover.",
            "Outdoor > Packs",
            _SHIP,
            _V("summit_pack_35l", "Summit 35 L backpack", "119.00", 22),
        ),
        _p(
            "prod_glow_headlamp",
            "Glow 400 headlamp",
            "400 lm rechargeable headlamp.",
            "Outdoor > Lighting",
            _SHIP,
            _V("glow_headlamp_400", "Glow 400 headlamp", "39.90", 75, max_per_order=4),
        ),
        _p(
            "prod_down_bag",
            "Nordkap down sleeping bag",
            "-5 °C comfort, 900 g.",
            "Outdoor > Sleeping",
            _SHIP,
            _V("nordkap_bag_regular", "Nordkap sleeping bag - Regular", "249.00", 6),
        ),
    ),
)

GAMES = _Template(
    "BRL",
    (
        _p(
            "prod_nebula_key",
            "Nebula Drift (PC key)",
            "Steam key for the space racer.",
            "Games > PC",
            _DIGITAL,
            _V("nebula_drift_pc", "Nebula Drift - PC key", "89.90", 200),
        ),
        _p(
            "prod_samba_pass",
            "Samba Stars season pass",
            "Season 3 pass code.",
            "Games > DLC",
            _DIGITAL,
            _V("samba_season_pass", "Samba Stars season pass", "49.90", 3),
        ),
        _p(
            "prod_coins_1000",
            "Rio Coins 1,000",
            "In-game currency code.",
            "Games > Currency",
            _DIGITAL,
            _V("rio_coins_1000", "Rio Coins 1,000", "24.90", None, max_per_order=10),
        ),
        _p(
            "prod_coins_5000",
            "Rio Coins 5,000",
            "In-game currency code.",
            "Games > Currency",
            _DIGITAL,
            _V("rio_coins_5000", "Rio Coins 5,000", "109.90", None, max_per_order=5),
        ),
        _p(
            "prod_retro_bundle",
            "Retro arcade bundle",
            "Ten classic titles, console code.",
            "Games > Console",
            _DIGITAL,
            _V("retro_bundle_console", "Retro arcade bundle", "149.00", 0),
        ),
        _p(
            "prod_gift_code",
            "Rio Games gift code R$100",
            "Store credit code.",
            "Gift cards",
            _DIGITAL,
            _V("rio_gift_100", "Gift code R$100", "100.00", None),
        ),
    ),
)

TEMPLATES: dict[str, _Template] = {
    "5732": ELECTRONICS,
    "5977": BEAUTY,
    "4722": TRAVEL,
    "5941": OUTDOOR,
    "5816": GAMES,
}
"""Catalogue per merchant category code; any other MCC gets :data:`ELECTRONICS`."""

# Rough rates per 1 EUR, used only when a merchant's currency differs from its template's
# (test merchants); the demo merchants are priced in their own currencies as written above.
_PER_EUR = {
    "EUR": "1",
    "SGD": "1.45",
    "KRW": "1500",
    "THB": "38",
    "BRL": "6.2",
    "USD": "1.08",
    "IDR": "17500",
    "MYR": "5.0",
    "PHP": "62",
    "JPY": "165",
    "GBP": "0.85",
}
_LOW_STOCK = 3
"""At or below this many units an item shows ``low_stock``."""


def _price(major: str, source: str, target: str) -> int:
    amount = Decimal(major)
    if source != target:
        if source not in _PER_EUR or target not in _PER_EUR:
            raise NotFound(f"no catalogue price for {target}", code="currency_not_supported")
        amount = amount / Decimal(_PER_EUR[source]) * Decimal(_PER_EUR[target])
        # A shop price: whole major units (hundreds where there are no minor units).
        step = Decimal(100) if exponent(target) == 0 else Decimal(1)
        amount = (amount / step).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * step
    return to_minor(amount, target)


def storefront(merchant_id: str) -> str:
    """The merchant's storefront base URL (links, permalinks, images)."""
    return f"https://{merchant_id.replace('_', '-')}.{SHOP_DOMAIN}"


def load_merchant(session: Session, merchant_id: str) -> Merchant:
    merchant = session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound(f"no merchant {merchant_id}", code="merchant_not_found")
    return merchant


def seed_catalogue(session: Session, merchant_id: str, *, at: datetime) -> int:
    """Give ``merchant_id`` its catalogue and a feed if it lacks them; returns items added."""
    merchant = load_merchant(session, merchant_id)
    template = TEMPLATES.get(merchant.mcc, ELECTRONICS)
    currency = merchant.settlement_currency.upper()
    base = storefront(merchant_id)
    if session.scalar(select(Feed.id).where(Feed.merchant_id == merchant_id).limit(1)) is None:
        session.add(
            Feed(
                id=new_id("feed"),
                merchant_id=merchant_id,
                target_country=merchant.country,
                created_at=at,
                updated_at=at,
            )
        )
    have_products = set(
        session.scalars(select(Product.product_id).where(Product.merchant_id == merchant_id))
    )
    have_items = set(session.scalars(select(Item.item_id).where(Item.merchant_id == merchant_id)))
    added = 0
    position = 0
    for prod in template.products:
        url = f"{base}/products/{prod.product_id}"
        if prod.product_id not in have_products:
            session.add(
                Product(
                    id=new_id("prd"),
                    merchant_id=merchant_id,
                    product_id=prod.product_id,
                    position=position,
                    updated_at=at,
                    body={
                        "title": prod.title,
                        "description": {"plain": prod.description},
                        "url": url,
                        "media": [
                            {"type": "image", "url": f"{url}/main.jpg", "alt_text": prod.title}
                        ],
                    },
                )
            )
        for var in prod.variants:
            position += 1
            if var.item_id in have_items:
                continue
            body = {
                "url": f"{url}?variant={var.item_id}",
                "categories": [{"value": prod.category, "taxonomy": "merchant"}],
                "variant_options": [{"name": n, "value": v} for n, v in var.options],
                "media": [
                    {"type": "image", "url": f"{url}/{var.item_id}.jpg", "alt_text": var.title}
                ],
                "seller": {"name": merchant.name},
            }
            session.add(
                Item(
                    id=new_id("itm"),
                    merchant_id=merchant_id,
                    item_id=var.item_id,
                    product_id=prod.product_id,
                    title=var.title,
                    unit_amount=_price(var.price, template.currency, currency),
                    currency=currency,
                    stock=var.stock,
                    max_per_order=var.max_per_order,
                    fulfillment=prod.fulfillment,
                    active=True,
                    body=body,
                    position=position,
                    updated_at=at,
                )
            )
            added += 1
    session.flush()
    return added


def availability(item: Item) -> str:
    """``in_stock``, ``low_stock`` or ``out_of_stock`` (ACP ``availability_status``)."""
    if item.stock is None:
        return "in_stock"
    if item.stock <= 0:
        return "out_of_stock"
    return "low_stock" if item.stock <= _LOW_STOCK else "in_stock"


def items_by_id(session: Session, merchant_id: str, item_ids: Sequence[str]) -> dict[str, Item]:
    """The merchant's items among ``item_ids`` (inactive ones included), by ``item_id``."""
    if not item_ids:
        return {}
    rows = session.scalars(
        select(Item).where(Item.merchant_id == merchant_id, Item.item_id.in_(set(item_ids)))
    )
    return {row.item_id: row for row in rows}


__all__ = [
    "SHOP_DOMAIN",
    "TEMPLATES",
    "availability",
    "items_by_id",
    "load_merchant",
    "seed_catalogue",
    "storefront",
]
