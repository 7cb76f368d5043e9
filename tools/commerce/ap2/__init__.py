"""AP2 v0.2 for Cockpit merchants: verify checkout and payment mandates (SD-JWT chains,
ES256), pay under them through the ``dev.ap2.mandate`` handler, answer with signed receipts.

Public surface (others import only these):

- :func:`issue_checkout_jwt` — sign and store the merchant's checkout (what mandates bind);
- :func:`verify_checkout_mandate`, :func:`verify_payment_mandate` — DOMAIN §10b steps 1–7;
- :func:`sign_receipt`, :func:`checkout_receipt`, :func:`payment_receipt` — signed receipts;
- :func:`merchant_public_keys`, :func:`trust_key` — the key stores;
- :class:`Ap2MandateHandler` (``dev.ap2.mandate``) — the checkout's payment handler;
- :mod:`tools.commerce.ap2.wallet` — the buyer's side (tests, demo, evals).
"""

from __future__ import annotations

from tools.commerce.ap2.errors import Ap2Code, MandateRejected
from tools.commerce.ap2.handler import HANDLER_ID, Ap2MandateHandler
from tools.commerce.ap2.mandates import (
    Challenge,
    CheckoutCheck,
    PaymentCheck,
    verify_checkout_mandate,
    verify_payment_mandate,
)
from tools.commerce.ap2.merchant import issue_checkout_jwt
from tools.commerce.ap2.receipts import checkout_receipt, payment_receipt, sign_receipt
from tools.commerce.ap2.store import merchant_public_keys, trust_key, trusted_keys

__all__ = [
    "HANDLER_ID",
    "Ap2Code",
    "Ap2MandateHandler",
    "Challenge",
    "CheckoutCheck",
    "MandateRejected",
    "PaymentCheck",
    "checkout_receipt",
    "issue_checkout_jwt",
    "merchant_public_keys",
    "payment_receipt",
    "sign_receipt",
    "trust_key",
    "trusted_keys",
    "verify_checkout_mandate",
    "verify_payment_mandate",
]
