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
    | {
        # Country-qualified names, singular and plural ("Singapore dollar", "Thai baht").
        f"{country} {unit}{plural}": code
        for code, country, unit in (
            ("USD", "us", "dollar"), ("USD", "u.s.", "dollar"), ("USD", "american", "dollar"),
            ("SGD", "singapore", "dollar"), ("SGD", "sing", "dollar"),
            ("HKD", "hong kong", "dollar"), ("HKD", "hk", "dollar"),
            ("AUD", "australian", "dollar"), ("AUD", "aussie", "dollar"),
            ("NZD", "new zealand", "dollar"), ("NZD", "kiwi", "dollar"),
            ("CAD", "canadian", "dollar"), ("TWD", "taiwan", "dollar"),
            ("TWD", "new taiwan", "dollar"), ("BND", "brunei", "dollar"),
            ("PHP", "philippine", "peso"), ("MXN", "mexican", "peso"),
            ("CLP", "chilean", "peso"), ("COP", "colombian", "peso"),
            ("ARS", "argentine", "peso"), ("INR", "indian", "rupee"),
            ("PKR", "pakistani", "rupee"), ("GBP", "british", "pound"),
            ("CHF", "swiss", "franc"), ("JPY", "japanese", "yen"), ("KRW", "korean", "won"),
            ("KRW", "south korean", "won"), ("CNY", "chinese", "yuan"),
            ("THB", "thai", "baht"), ("IDR", "indonesian", "rupiah"),
            ("MYR", "malaysian", "ringgit"), ("VND", "vietnamese", "dong"),
            ("BRL", "brazilian", "real"), ("PLN", "polish", "zloty"),
        )
        for plural in ("", "s")
    }
    | {
        "buck": "USD", "greenback": "USD", "greenbacks": "USD", "quids": "GBP",
        "bahts": "THB", "rupiahs": "IDR", "ringgits": "MYR", "yuans": "CNY",
        "chinese renminbi": "CNY", "pesos filipinos": "PHP", "sing dollar": "SGD",
        "pound sterling": "GBP", "swiss franc": "CHF", "franc": "CHF", "riyal": "SAR",
        "riyals": "SAR", "dirham": "AED", "dirhams": "AED", "taka": "BDT", "zlotys": "PLN",
    }
)  # fmt: skip

#: Currencies called "dollar" (a bare ``$`` or "dollars" may mean any of them).
DOLLAR_CURRENCIES: Final = frozenset(
    {"USD", "SGD", "HKD", "AUD", "NZD", "CAD", "TWD", "BND", "FJD", "BSD", "BBD", "BZD",
     "JMD", "TTD", "XCD", "LRD", "NAD", "SBD", "KYD", "BMD", "GYD", "SRD"}
)  # fmt: skip

#: Words that name "a dollar" of unstated country: they mean the dollar currency the
#: context implies (an SGD payment's "20 dollars" is 20 SGD), USD when nothing does.
DOLLAR_WORDS: Final = frozenset({"dollar", "dollars"})

#: Slang that follows whatever currency the context implies ("5 bucks" on a THB payment
#: is 5 THB); USD when the context implies nothing.
GENERIC_MONEY_WORDS: Final = frozenset({"buck", "bucks"})

#: Banknote slang: a sum with no currency of its own ("a tenner").
NOTE_SLANG: Final = MappingProxyType({"fiver": 5, "tenner": 10})

#: Currency names that are also everyday English words ("the disputes I won"): read as a
#: currency only after a number or "the" (``50 won``, ``the won``).
AMBIGUOUS_CURRENCY_WORDS: Final = frozenset({"won", "real", "rand"})


def currency_exponent(code: str) -> int:
    """Digits after the decimal point for ``code`` (from :mod:`cockpit.money`; 2 if unknown)."""
    return money.exponent(code) if money.is_known(code) else 2


#: ISO 3166 alpha-2 -> names, adjectives and demonyms (lower case) that mean that market
#: ("in Indonesia", "Thai customers", "Filipinos"). Written by hand from the markets
#: DOMAIN.md §3.2 names; plural demonyms are listed because phrases match whole words.
MARKETS: Final = MappingProxyType(
    {
        "CN": ("china", "chinese", "mainland china", "prc"),
        "HK": ("hong kong", "hongkong", "hongkonger", "hongkongers", "hong konger",
               "hong kongers"),
        "MO": ("macau", "macao", "macanese"),
        "TW": ("taiwan", "taiwanese"),
        "JP": ("japan", "japanese"),
        "KR": ("korea", "south korea", "korean", "koreans", "south korean", "south koreans"),
        "ID": ("indonesia", "indonesian", "indonesians", "indo"),
        "MY": ("malaysia", "malaysian", "malaysians"),
        "PH": ("philippines", "the philippines", "philippine", "filipino", "filipinos",
               "filipina", "filipinas", "pinoy", "pinoys"),
        "SG": ("singapore", "singaporean", "singaporeans"),
        "TH": ("thailand", "thai", "thais"),
        "VN": ("vietnam", "viet nam", "vietnamese"),
        "IN": ("india", "indian", "indians"),
        "BD": ("bangladesh", "bangladeshi", "bangladeshis"),
        "PK": ("pakistan", "pakistani", "pakistanis"),
        "AU": ("australia", "australian", "australians", "aussie", "aussies"),
        "NZ": ("new zealand", "new zealander", "new zealanders", "kiwis"),
        "BR": ("brazil", "brazilian", "brazilians"),
        "MX": ("mexico", "mexican", "mexicans"),
        "CL": ("chile", "chilean", "chileans"),
        "PE": ("peru", "peruvian", "peruvians"),
        "US": ("united states", "usa", "america", "american", "americans", "the us",
               "the u.s."),
        "CA": ("canada", "canadian", "canadians"),
        "GB": ("united kingdom", "uk", "britain", "great britain", "british", "england",
               "brits"),
        "DE": ("germany", "german", "germans"),
        "FR": ("france", "french"),
        "NL": ("netherlands", "the netherlands", "holland", "dutch"),
        "BE": ("belgium", "belgian", "belgians"),
        "AT": ("austria", "austrian", "austrians"),
        "PL": ("poland", "polish", "poles"),
        "IT": ("italy", "italian", "italians"),
        "ES": ("spain", "spanish", "spaniards"),
        "KW": ("kuwait", "kuwaiti", "kuwaitis"),
        "BH": ("bahrain", "bahraini", "bahrainis"),
        "AE": ("uae", "united arab emirates", "emirates", "emirati", "emiratis"),
        "SA": ("saudi arabia", "saudi", "saudis"),
    }
)  # fmt: skip

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
    "AMBIGUOUS_CURRENCY_WORDS",
    "CURRENCY_CODES",
    "CURRENCY_SYMBOLS",
    "CURRENCY_WORDS",
    "DOLLAR_CURRENCIES",
    "DOLLAR_WORDS",
    "GENERIC_MONEY_WORDS",
    "ID_PREFIXES",
    "MARKETS",
    "MARKET_VARIANTS",
    "NOTE_SLANG",
    "PAYMENT_METHODS",
    "currency_exponent",
]
