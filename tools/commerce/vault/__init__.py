"""Delegated payment (ACP): Cockpit as the PSP vault, and the risk of agent-initiated payments.

Public surface (other parts import only these)::

    delegate, redeem, bind_payment, VaultCard, Delegated   issue and spend tokens (service)
    TokenizedCardHandler, HANDLER_ID                       the ``dev.acp.tokenized.card`` handler
    assess, record_charge, RiskDecision, ModelScorer,      agent-payment risk (risk)
    fraud_model_scorer
    load_or_create_key                                     the vault's HMAC key (cards)

Card numbers and CVCs never leave :mod:`tools.commerce.vault.cards`; only brand, BIN, last four,
funding and expiry are stored (``pay_cards``), with a keyed hash of the number.
"""

from tools.commerce.vault.cards import load_or_create_key
from tools.commerce.vault.handler import HANDLER_ID, TokenizedCardHandler
from tools.commerce.vault.risk import (
    ModelScorer,
    RiskDecision,
    assess,
    fraud_model_scorer,
    record_charge,
)
from tools.commerce.vault.service import Delegated, VaultCard, bind_payment, delegate, redeem

__all__ = [
    "HANDLER_ID",
    "Delegated",
    "ModelScorer",
    "RiskDecision",
    "TokenizedCardHandler",
    "VaultCard",
    "assess",
    "bind_payment",
    "delegate",
    "fraud_model_scorer",
    "load_or_create_key",
    "record_charge",
    "redeem",
]
