"""Consent in the MDO Portal: who must consent, custody, legal grounds, and their use.

Pure: the engine (``decide`` in :mod:`portal.consent.engine`, tables in ``rules``,
inputs in ``model``), the JSON scenarios of ``portal consent check``
(:mod:`portal.consent.scenario`), the policy's consent side (``access``), the
drawn status (``status``) and the identifier check (``identifiers``).

With the database: consent records and the other tables (``models``), loading
the facts for the policy (``facts``), giving, recording and withdrawing consent
(``service``), the safety exception and the DPO's review (``breakglass``),
anonymous cases (``anonymous``, ``conversion``) and the professionals' pages
(``routes``). The parent view lives in :mod:`portal.parents`.
"""
