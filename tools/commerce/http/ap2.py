"""Placeholder: filled by the ap2 part of the commerce domain."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
