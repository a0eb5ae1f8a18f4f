"""Field-level encryption and blind indexes for personal data.

Each personal-data field has its own list of Fernet keys (newest first, so
MultiFernet encrypts with the newest and still decrypts with the older ones
until they are rotated out). Exact-match search goes through a keyed
HMAC-SHA256 of the normalised value (a blind index), never the clear text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import unicodedata
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


def _development_key(purpose: str) -> bytes:
    digest = hashlib.sha256(f"loyalty-development-only:{purpose}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


@cache
def fernet_for(key_name: str) -> MultiFernet:
    keys = settings.FIELD_ENCRYPTION_KEYS.get(key_name) or []
    if not keys:
        if not settings.FIELD_KEYS_DEVELOPMENT_DEFAULTS:
            raise ImproperlyConfigured(f"FIELD_KEYS_{key_name.upper()} is not set; personal data cannot be encrypted.")
        keys = [_development_key(f"field:{key_name}").decode()]
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FIELD_KEYS_{key_name.upper()} holds an invalid key.") from exc


@cache
def _blind_index_key() -> bytes:
    key = settings.BLIND_INDEX_KEY
    if not key:
        if not settings.FIELD_KEYS_DEVELOPMENT_DEFAULTS:
            raise ImproperlyConfigured("BLIND_INDEX_KEY is not set; members cannot be searched.")
        return _development_key("blind-index")
    return key.encode()


def reset_key_cache() -> None:
    """Forget cached keys (after settings change in tests or key rotation)."""
    fernet_for.cache_clear()
    _blind_index_key.cache_clear()


def encrypt(key_name: str, value: str) -> str:
    return fernet_for(key_name).encrypt(value.encode()).decode()


def decrypt(key_name: str, token: str) -> str:
    try:
        return fernet_for(key_name).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # Never fall back to showing the ciphertext or an empty value.
        raise DecryptionError(f"cannot decrypt a value of '{key_name}' with the configured keys") from exc


def rotate(key_name: str, token: str) -> str:
    """Re-encrypt a token under the newest key of its field."""
    try:
        return fernet_for(key_name).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError(f"cannot rotate a value of '{key_name}'") from exc


def normalise(value: str) -> str:
    """Canonical form for exact-match search of what people type: NFKC, no spaces
    or hyphens, lower case, katakana for kana (so ヤマダ, ﾔﾏﾀﾞ and やまだ are one).
    The long-vowel mark ー is part of a name and stays."""
    text = unicodedata.normalize("NFKC", value or "")
    text = "".join(ch for ch in text if not ch.isspace() and ch not in "-‐‑‒–—―")
    text = "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)
    return text.lower()


def blind_index(purpose: str, value: str, *, exact: bool = False) -> str:
    """Keyed hash of a value, normalised unless `exact` (for identifiers that are
    already canonical, such as card numbers); the purpose keeps fields apart."""
    message = f"{purpose}\x00{value if exact else normalise(value)}".encode()
    return hmac.new(_blind_index_key(), message, hashlib.sha256).hexdigest()
