"""Word lists the slot filler matches against: currencies, markets, payment methods.

Currency exponents come from :mod:`cockpit.money` (ISO 4217); markets and
method codes follow DOMAIN.md §3.2. Everything here is plain data plus
tiny lookups, so a partner can read (and extend) what the planner knows.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

from cockpit import money

#: Currencies the planner recognises by their ISO code in text.
CURRENCY_CODES: Final = frozenset(
    {
        "USD", "EUR", "GBP", "JPY", "KRW", "VND", "CLP", "IDR", "CNY", "HKD", "TWD", "SGD",
        "MYR", "THB", "PHP", "INR", "AUD", "NZD", "BRL", "MXN", "PEN", "PKR", "BDT", "PLN",
        "CHF", "SEK", "NOK", "DKK", "CZK", "HUF", "CAD", "ZAR", "TRY", "ILS", "ISK", "KWD",
        "BHD", "OMR", "JOD", "TND", "MOP", "AED", "SAR", "COP", "ARS", "RON", "BGN",
    }
)  # fmt: skip

#: Symbols, longest first when matched (``HK$`` before ``$``).
CURRENCY_SYMBOLS: Final = MappingProxyType(
    {
        "US$": "USD",
        "HK$": "HKD",
        "S$": "SGD",
        "A$": "AUD",
        "NZ$": "NZD",
        "C$": "CAD",
        "R$": "BRL",
        "NT$": "TWD",
        "$": "USD",
        "€": "EUR",
        "£": "GBP",
        "¥": "JPY",
        "₩": "KRW",
        "₹": "INR",
        "₱": "PHP",
        "฿": "THB",
        "₫": "VND",
        "RM": "MYR",
        "Rp": "IDR",
    }
)

#: Currency names (lower case) -> code. Ambiguous names ("peso", "dinar") map to
#: the most common reading; the ISO code is always unambiguous.
CURRENCY_WORDS: Final = MappingProxyType(
    {
        "dollar": "USD", "dollars": "USD", "bucks": "USD", "us dollars": "USD",
        "euro": "EUR", "euros": "EUR",
        "pound": "GBP", "pounds": "GBP", "sterling": "GBP", "quid": "GBP",
        "yen": "JPY", "won": "KRW", "yuan": "CNY", "renminbi": "CNY", "rmb": "CNY",
        "rupiah": "IDR", "rupee": "INR", "rupees": "INR", "baht": "THB",
        "ringgit": "MYR", "peso": "PHP", "pesos": "PHP", "mexican pesos": "MXN",
        "philippine pesos": "PHP", "dong": "VND", "real": "BRL", "reais": "BRL",
        "hong kong dollars": "HKD", "singapore dollars": "SGD", "australian dollars": "AUD",
        "canadian dollars": "CAD", "swiss francs": "CHF", "francs": "CHF", "zloty": "PLN",
        "kuwaiti dinar": "KWD", "kuwaiti dinars": "KWD", "bahraini dinar": "BHD",
        "bahraini dinars": "BHD", "dinar": "KWD", "dinars": "KWD", "rand": "ZAR",
    }
)  # fmt: skip


def currency_exponent(code: str) -> int:
    """Digits after the decimal point for ``code`` (from :mod:`cockpit.money`; 2 if unknown)."""
    return money.exponent(code) if money.is_known(code) else 2


#: ISO 3166 alpha-2 -> names and adjectives (lower case) that mean that market.
MARKETS: Final = MappingProxyType(
    {
        "CN": ("china", "chinese", "mainland china", "prc"),
        "HK": ("hong kong", "hongkong"),
        "MO": ("macau", "macao"),
        "TW": ("taiwan", "taiwanese"),
        "JP": ("japan", "japanese"),
        "KR": ("korea", "south korea", "korean"),
        "ID": ("indonesia", "indonesian"),
        "MY": ("malaysia", "malaysian"),
        "PH": ("philippines", "the philippines", "philippine", "filipino"),
        "SG": ("singapore", "singaporean"),
        "TH": ("thailand", "thai"),
        "VN": ("vietnam", "viet nam", "vietnamese"),
        "IN": ("india", "indian"),
        "BD": ("bangladesh",),
        "PK": ("pakistan",),
        "AU": ("australia", "australian"),
        "NZ": ("new zealand",),
        "BR": ("brazil", "brazilian"),
        "MX": ("mexico", "mexican"),
        "CL": ("chile", "chilean"),
        "PE": ("peru", "peruvian"),
        "US": ("united states", "usa", "america", "american"),
        "CA": ("canada", "canadian"),
        "GB": ("united kingdom", "uk", "britain", "great britain", "british", "england"),
        "DE": ("germany", "german"),
        "FR": ("france", "french"),
        "NL": ("netherlands", "the netherlands", "holland", "dutch"),
        "BE": ("belgium", "belgian"),
        "AT": ("austria", "austrian"),
        "PL": ("poland", "polish"),
        "IT": ("italy", "italian"),
        "ES": ("spain", "spanish"),
        "KW": ("kuwait",),
        "BH": ("bahrain",),
        "AE": ("uae", "united arab emirates", "emirates"),
        "SA": ("saudi arabia", "saudi"),
    }
)

#: Payment method code -> phrases (lower case). Codes follow DOMAIN.md §3.2.
PAYMENT_METHODS: Final = MappingProxyType(
    {
        "CARD": ("card", "cards", "credit card", "credit cards", "debit card", "debit cards",
                 "visa", "mastercard", "amex", "card payments"),
        "APPLEPAY": ("apple pay", "applepay"),
        "GOOGLEPAY": ("google pay", "googlepay", "gpay"),
        "ALIPAY_CN": ("alipay", "alipay cn", "alipay china"),
        "ALIPAY_HK": ("alipay hk", "alipayhk", "alipay hong kong"),
        "GCASH": ("gcash", "g cash"),
        "MAYA": ("maya", "paymaya"),
        "DANA": ("dana",),
        "OVO": ("ovo",),
        "GOPAY_ID": ("gopay", "go pay"),
        "SHOPEEPAY_ID": ("shopeepay", "shopee pay"),
        "QRIS": ("qris",),
        "TNG": ("touch n go", "touch 'n go", "touchngo", "tng", "touch and go"),
        "BOOST": ("boost",),
        "GRABPAY_SG": ("grabpay", "grab pay"),
        "PAYNOW": ("paynow",),
        "TRUEMONEY": ("truemoney", "true money"),
        "RABBIT_LINE_PAY": ("rabbit line pay", "line pay"),
        "PROMPTPAY": ("promptpay", "prompt pay"),
        "KAKAOPAY": ("kakaopay", "kakao pay", "kakao"),
        "NAVERPAY": ("naverpay", "naver pay"),
        "TOSSPAY": ("tosspay", "toss pay", "toss"),
        "PAYPAY": ("paypay", "pay pay"),
        "KONBINI": ("konbini", "convenience store"),
        "JKOPAY": ("jkopay", "jko pay"),
        "ZALOPAY": ("zalopay", "zalo pay"),
        "MOMO": ("momo",),
        "BKASH": ("bkash",),
        "EASYPAISA": ("easypaisa",),
        "UPI": ("upi",),
        "PIX": ("pix",),
        "MERCADOPAGO_BR": ("mercado pago", "mercadopago"),
        "IDEAL": ("ideal",),
        "BANCONTACT": ("bancontact",),
        "BLIK": ("blik",),
        "P24": ("przelewy24", "p24"),
        "EPS": ("eps",),
        "MPAY": ("mpay",),
    }
)  # fmt: skip

#: Methods whose code depends on the market (``GRABPAY_<market>``).
MARKET_VARIANTS: Final = MappingProxyType(
    {
        "ALIPAY_CN": "ALIPAY_",
        "GRABPAY_SG": "GRABPAY_",
        "SHOPEEPAY_ID": "SHOPEEPAY_",
        "GOPAY_ID": "GOPAY_",
        "MERCADOPAGO_BR": "MERCADOPAGO_",
    }
)

#: Conventional id prefixes by field name (``payment_id`` -> ``pay_``) and the
#: word the intent matcher sees in place of an id of that kind.
ID_PREFIXES: Final = MappingProxyType(
    {
        "payment": ("pay_",),
        "dispute": ("dsp_", "dp_"),
        "refund": ("rfd_", "ref_", "re_"),
        "merchant": ("mer_", "mch_"),
        "customer": ("cus_", "cust_"),
        "checkout": ("cs_", "chk_"),
        "session": ("cs_",),
        "order": ("ord_",),
        "approval": ("apr_",),
        "decision": ("dec_",),
    }
)

__all__ = [
    "CURRENCY_CODES",
    "CURRENCY_SYMBOLS",
    "CURRENCY_WORDS",
    "ID_PREFIXES",
    "MARKETS",
    "MARKET_VARIANTS",
    "PAYMENT_METHODS",
    "currency_exponent",
]
