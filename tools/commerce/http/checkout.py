"""Placeholder: filled by the checkout part of the commerce domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
