"""The upstream RFC 7643/7644 checker, scim2-tester, against the served portal."""

from __future__ import annotations

from scim2_tester import Status, check_server

from tests.scim.conftest import Scim

FAILING = {Status.ERROR, Status.CRITICAL}


def test_scim2_tester_finds_no_error(scim: Scim) -> None:
    results = check_server(scim.client())
    failed = [r for r in results if r.status in FAILING]
    assert not failed, "\n".join(f"{r.title}: {r.reason}" for r in failed)
    succeeded = {(r.resource_type, r.title) for r in results if r.status is Status.SUCCESS}
    # The checker really created, read, changed and deleted both resource types,
    # not only read the discovery endpoints.
    for resource_type in ("User", "Group"):
        for check in ("object_creation", "object_query", "object_replacement",
                      "check_replace_attribute", "object_deletion"):
            assert (resource_type, check) in succeeded, (resource_type, check)
