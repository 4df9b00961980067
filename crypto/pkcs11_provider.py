"""KEK provider backed by a PKCS#11 token (HSM, or SoftHSM2 in tests).

KEKs never leave the token: each version is a token object of class
``CKO_SECRET_KEY``, type AES, 256 bits, labelled ``f"{key_label}-v{N}"``,
generated inside the token with ``CKA_SENSITIVE=TRUE``, ``CKA_EXTRACTABLE=FALSE``,
``CKA_PRIVATE=TRUE``, ``CKA_MODIFIABLE=FALSE`` and only the ``WRAP``/``UNWRAP``
capabilities.

Mechanism: ``CKM_AES_KEY_WRAP`` (RFC 3394) via ``C_WrapKey``/``C_UnwrapKey``.
It works on SoftHSM2 2.6 (``CKM_AES_KEY_WRAP_PAD``, RFC 5649 there, works too;
``CKM_AES_KEY_WRAP_KWP`` does not exist in SoftHSM2), is implemented by
mainstream HSMs, and produces exactly the bytes of
``cryptography``'s ``aes_key_wrap`` -- the format of the software providers.
``CKM_AES_KEY_WRAP_PAD`` is avoided because vendors disagree on its meaning
(RFC 5649 vs. PKCS#7 padding). To wrap, the DEK is imported as a transient,
extractable session object which is destroyed right after; to unwrap, the DEK
is unwrapped into a transient session object whose value is read and which is
then destroyed.

``python-pkcs11`` is imported lazily, so importing ``crypto`` never needs it.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from crypto.envelope import DEK_SIZE, WRAPPED_DEK_SIZE, WrappedKey, check_dek, check_wrapped
from crypto.errors import CryptoError, DecryptionError, KeyUnavailable

if TYPE_CHECKING:
    from pkcs11 import SecretKey, Session

__all__ = ["Pkcs11Provider"]

_T = TypeVar("_T")
_LABEL_OK = re.compile(r"[A-Za-z0-9._-]{1,64}")


class _SharedSession:
    """One logged-in session per (library, token) and process.

    PKCS#11 login state belongs to the whole process, and python-pkcs11's
    ``Session.close`` logs the process out, so independent sessions per
    provider instance would log each other out.
    """

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.session: Session | None = None


_SHARED: dict[tuple[str, str], _SharedSession] = {}
_SHARED_LOCK = threading.Lock()


def _shared_session(library_path: str, token_label: str) -> _SharedSession:
    with _SHARED_LOCK:
        return _SHARED.setdefault((library_path, token_label), _SharedSession())


class Pkcs11Provider:
    """``KeyProvider`` whose KEKs live, non-extractable, in a PKCS#11 token.

    Caller guarantees: ``library_path`` is a trusted PKCS#11 module,
    ``token_label`` names an initialised token, ``pin`` is the user PIN
    (kept in memory, never logged or put in exceptions/repr), ``key_label``
    matches ``[A-Za-z0-9._-]{1,64}``. ``rotate()`` is an operator action: run it
    from one process at a time (duplicates are detected and make the version
    unusable, ``KeyUnavailable``, rather than being resolved silently).

    Guarantees: all KEK operations run inside the token; KEK objects are
    created sensitive and non-extractable. The first call opens a logged-in
    session (construction does no I/O). Library, token or session failure
    raises ``KeyUnavailable``; the session is reopened on the next call,
    except after a PIN error, which is remembered so a wrong PIN cannot lock
    the token by retries. A token without any ``{key_label}-vN`` key raises
    ``KeyUnavailable`` from ``wrap``/``current_version``; provision version 1
    with ``rotate()``. Thread-safe: all instances for the same library and
    token in a process share one session under one lock, because PKCS#11 login
    is per process (so an instance also works, whatever its PIN, while another
    one holds the login).
    """

    def __init__(
        self, library_path: str, token_label: str, pin: str, key_label: str = "mdo-kek"
    ) -> None:
        if not _LABEL_OK.fullmatch(key_label):
            raise ValueError("key_label must match [A-Za-z0-9._-]{1,64}")
        self._library_path = library_path
        self._token_label = token_label
        self._pin = pin
        self._key_label = key_label
        self._version_re = re.compile(re.escape(key_label) + r"-v([1-9][0-9]{0,17})")
        self._shared = _shared_session(library_path, token_label)
        self._login_failed: str | None = None

    def __repr__(self) -> str:
        return f"Pkcs11Provider(token_label={self._token_label!r}, key_label={self._key_label!r})"

    # -- session handling -------------------------------------------------

    def _open(self) -> Session:
        shared = self._shared
        if self._login_failed is not None:
            raise KeyUnavailable(self._login_failed)
        if shared.session is not None:
            return shared.session
        try:
            import pkcs11
        except ImportError:
            raise KeyUnavailable("python-pkcs11 is not installed") from None
        from pkcs11 import exceptions as exc

        lib = pkcs11.lib(self._library_path)
        try:
            token = lib.get_token(token_label=self._token_label)
        except exc.NoSuchToken:
            raise KeyUnavailable(f"PKCS#11 token {self._token_label!r} not found") from None
        try:
            shared.session = token.open(rw=True, user_pin=self._pin)
        except exc.UserAlreadyLoggedIn:
            # Login is per process; someone else in this process logged in, and a
            # plain session inherits that state. (python-pkcs11 leaks the handle
            # of the failed attempt; this only happens when sharing a token.)
            shared.session = token.open(rw=True)
        except (
            exc.PinIncorrect,
            exc.PinInvalid,
            exc.PinLenRange,
            exc.PinLocked,
            exc.PinExpired,
        ) as err:
            self._login_failed = (
                f"login to PKCS#11 token {self._token_label!r} failed "
                f"({type(err).__name__}); not retrying, fix the PIN and restart"
            )
            raise KeyUnavailable(self._login_failed) from None
        return shared.session

    def _reset(self) -> None:
        session, self._shared.session = self._shared.session, None
        if session is not None:
            # The session is being discarded; a failure to close it changes nothing.
            with contextlib.suppress(Exception):
                session.close()

    def _run(self, op: Callable[[Session], _T]) -> _T:
        try:
            from pkcs11 import exceptions as exc
        except ImportError:
            raise KeyUnavailable("python-pkcs11 is not installed") from None
        with self._shared.lock:
            for attempt in range(2):
                try:
                    return op(self._open())
                except CryptoError:
                    raise
                except (exc.UserNotLoggedIn, exc.SessionHandleInvalid, exc.SessionClosed):
                    # The session went stale (logout, library re-initialised):
                    # reopen once, then give up.
                    self._reset()
                    if attempt:
                        raise KeyUnavailable(
                            f"PKCS#11 token {self._token_label!r} session keeps failing"
                        ) from None
                except (exc.PKCS11Error, OSError) as err:
                    self._reset()
                    raise KeyUnavailable(
                        f"PKCS#11 token {self._token_label!r} unavailable ({type(err).__name__})"
                    ) from err
            raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the token session (the next call reopens it). Contract: idempotent.

        The session, and PKCS#11 login state, is shared by all providers for the
        same library and token in this process; they reopen it transparently.
        """
        with self._shared.lock:
            self._reset()

    # -- key lookup -------------------------------------------------------

    def _label(self, version: int) -> str:
        return f"{self._key_label}-v{version}"

    def _versions(self, session: Session) -> list[int]:
        from pkcs11 import Attribute, ObjectClass

        found: set[int] = set()
        for obj in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY}):
            match = self._version_re.fullmatch(str(obj[Attribute.LABEL]))
            if match:
                found.add(int(match.group(1)))
        return sorted(found)

    def _find(self, session: Session, version: int) -> list[SecretKey]:
        from pkcs11 import Attribute, KeyType, ObjectClass, SecretKey

        attrs: dict[Attribute, Any] = {
            Attribute.CLASS: ObjectClass.SECRET_KEY,
            Attribute.KEY_TYPE: KeyType.AES,
            Attribute.LABEL: self._label(version),
        }
        return [o for o in session.get_objects(attrs) if isinstance(o, SecretKey)]

    def _kek(self, session: Session, version: int) -> SecretKey:
        keys = self._find(session, version)
        if not keys:
            raise KeyUnavailable(f"KEK version {version} is not available in the token")
        if len(keys) > 1:
            raise KeyUnavailable(f"KEK label {self._label(version)!r} is ambiguous in the token")
        return keys[0]

    def _current(self, session: Session) -> int:
        versions = self._versions(session)
        if not versions:
            raise KeyUnavailable(
                f"no {self._key_label}-vN key in token {self._token_label!r}; "
                "provision one with rotate()"
            )
        return versions[-1]

    # -- KeyProvider ------------------------------------------------------

    def current_version(self) -> int:
        """Return the highest KEK version in the token (``KeyUnavailable`` if none)."""
        return self._run(self._current)

    def versions(self) -> list[int]:
        """Return all KEK versions in the token, ascending (may be empty)."""
        return self._run(self._versions)

    def wrap(self, dek: bytes) -> WrappedKey:
        """Wrap a 32-byte DEK inside the token under the current KEK (RFC 3394).

        Contract: ``ValueError`` unless ``dek`` is 32 bytes; ``KeyUnavailable``
        if the token or a KEK is unavailable. The DEK exists in the token only
        as a transient session object for the duration of the call.
        """
        check_dek(dek)

        def op(session: Session) -> WrappedKey:
            from pkcs11 import Attribute, Key, KeyType, Mechanism, ObjectClass
            from pkcs11.types import WrapMixin

            version = self._current(session)
            kek = self._kek(session, version)
            if not isinstance(kek, WrapMixin):
                raise KeyUnavailable(f"{self._label(version)!r} lacks CKA_WRAP")
            dek_obj = session.create_object(
                {
                    Attribute.CLASS: ObjectClass.SECRET_KEY,
                    Attribute.KEY_TYPE: KeyType.AES,
                    Attribute.VALUE: dek,
                    Attribute.TOKEN: False,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: False,
                    Attribute.EXTRACTABLE: True,
                }
            )
            try:
                blob = kek.wrap_key(cast(Key, dek_obj), mechanism=Mechanism.AES_KEY_WRAP)
            finally:
                dek_obj.destroy()
            if len(blob) != WRAPPED_DEK_SIZE:
                raise CryptoError("token returned a wrapped key of unexpected length")
            return WrappedKey(version, bytes(blob))

        return self._run(op)

    def unwrap(self, wrapped: WrappedKey) -> bytes:
        """Unwrap a DEK inside the token and return its 32 bytes.

        Contract: ``KeyUnavailable`` for an unknown/retired version or an
        unreachable token; ``DecryptionError`` if the blob is malformed or
        fails the RFC 3394 integrity check (SoftHSM2 reports that as
        ``CKR_GENERAL_ERROR``, so the token is probed before blaming the blob).
        """
        check_wrapped(wrapped)

        def op(session: Session) -> bytes:
            from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
            from pkcs11 import exceptions as exc
            from pkcs11.types import UnwrapMixin

            kek = self._kek(session, wrapped.kek_version)
            if not isinstance(kek, UnwrapMixin):
                raise KeyUnavailable(f"{self._label(wrapped.kek_version)!r} lacks CKA_UNWRAP")
            try:
                dek_obj = kek.unwrap_key(
                    ObjectClass.SECRET_KEY,
                    KeyType.AES,
                    wrapped.blob,
                    mechanism=Mechanism.AES_KEY_WRAP,
                    store=False,
                    capabilities=MechanismFlag(0),
                    template={Attribute.SENSITIVE: False, Attribute.EXTRACTABLE: True},
                )
            except (
                exc.WrappedKeyInvalid,
                exc.WrappedKeyLenRange,
                exc.EncryptedDataInvalid,
                exc.EncryptedDataLenRange,
                exc.DataInvalid,
                exc.DataLenRange,
            ):
                raise DecryptionError("wrapped key failed its integrity check") from None
            except (exc.GeneralError, exc.FunctionFailed):
                self._kek(session, wrapped.kek_version)  # raises if the token is the problem
                raise DecryptionError("wrapped key failed its integrity check") from None
            try:
                dek = bytes(dek_obj[Attribute.VALUE])
            finally:
                dek_obj.destroy()
            if len(dek) != DEK_SIZE:
                raise DecryptionError("wrapped key has the wrong length")
            return dek

        return self._run(op)

    def rotate(self) -> int:
        """Generate KEK version max+1 inside the token and return it.

        Contract: the new key is a token object, AES-256, sensitive,
        non-extractable, wrap/unwrap only; previous versions are untouched.
        ``CryptoError`` if a concurrent rotation created the same label.
        """

        def op(session: Session) -> int:
            from pkcs11 import Attribute, KeyType, MechanismFlag

            versions = self._versions(session)
            version = versions[-1] + 1 if versions else 1
            session.generate_key(
                KeyType.AES,
                256,
                label=self._label(version),
                id=self._label(version).encode("ascii"),
                store=True,
                capabilities=MechanismFlag.WRAP | MechanismFlag.UNWRAP,
                template={
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.MODIFIABLE: False,
                },
            )
            if len(self._find(session, version)) != 1:
                raise CryptoError(
                    f"concurrent rotation created duplicate {self._label(version)!r}; "
                    "an operator must resolve it"
                )
            return version

        return self._run(op)

    def retire(self, version: int) -> None:
        """Destroy KEK ``version`` in the token.

        Contract: the caller guarantees no stored DEK is wrapped under it.
        ``CryptoError`` for the current version, ``KeyUnavailable`` if unknown.
        """

        def op(session: Session) -> None:
            versions = self._versions(session)
            if version not in versions:
                raise KeyUnavailable(f"KEK version {version} is not available in the token")
            if version == versions[-1]:
                raise CryptoError("refusing to retire the current KEK version; rotate first")
            for key in self._find(session, version):
                key.destroy()

        self._run(op)
