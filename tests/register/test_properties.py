"""Properties of the import (hypothesis): all or nothing, and a re-import changes nothing.

Files are drawn from a small world of pupil numbers, names, dates and adults,
good and bad values mixed, so duplicates, clashes, impossible dates and
unknown relations come up often. Every example imports into the same
register, so later examples also update what earlier ones stored.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.harness import Running
from tests.register.helpers import BAKEN, csv_bytes, run_import, snapshot

SETTINGS = settings(database=None, deadline=None, max_examples=60,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# Good values are drawn more often than bad ones, so whole files pass too.
numbers = st.sampled_from(["7001", "7002", "7003", "7004", "7005", "X-1", "", "7 7"])
names = st.sampled_from(["Ada Bos", "Bo Bos", "Cas de Wit", "Zoë Çelik", "  Ada   Bos ", ""])
dates = st.sampled_from(["01-02-2015", "2016-03-04", "29-02-2016", "1-1-2015", "2015-06-07",
                         "29-02-2015", "01-01-2025", "01-01-1990", "morgen"])
groups = st.sampled_from(["", "5a", "groep 8", "3b", "x" * 40])
adults = st.one_of(st.just(None), st.tuples(
    st.sampled_from(["Anna Bos", "Anna Bos", "Anne Bos", "Piet de Wit", ""]),
    st.sampled_from(["anna@example.nl", "ANNA@example.nl", "piet@example.nl", "piet@"]),
    st.sampled_from(["ouder", "ouder", "voogd", "pleegouder", "jeugdbeschermer", "oom"]),
    st.sampled_from(["ja", "nee", ""])))


@st.composite
def rows(draw: st.DrawFn) -> dict[str, str]:
    row = {"leerlingnummer": draw(numbers), "naam": draw(names),
           "geboortedatum": draw(dates), "groep": draw(groups)}
    for index in (1, 2):
        adult = draw(adults)
        if adult is not None:
            row |= dict(zip((f"verzorger{index}_naam", f"verzorger{index}_email",
                             f"verzorger{index}_relatie", f"verzorger{index}_gezag"), adult,
                            strict=True))
    return row


files = st.tuples(st.lists(rows(), max_size=6), st.sampled_from([";", ","]), st.booleans())


@SETTINGS
@given(file=files)
def test_a_file_imports_completely_or_changes_nothing(running_sqlite: Running,
                                                      file: tuple[Any, str, bool]) -> None:
    running = running_sqlite
    pupils, delimiter, bom = file
    data = csv_bytes(pupils, delimiter=delimiter, bom=bom)
    before = snapshot(running)
    plan = run_import(running, "ib", BAKEN, data)
    after = snapshot(running)
    if not plan.ok:
        assert after == before
        return
    event("imported")
    assert len(plan.add) + len(plan.update) + len(plan.unchanged) == len(pupils)
    if not plan.add and not plan.update:
        assert after == before
    again = run_import(running, "ib", BAKEN, data)
    assert again.counts() == {"add": 0, "update": 0, "unchanged": len(pupils), "refused": 0}
    assert snapshot(running) == after


@SETTINGS
@given(file=files, fail_at=st.integers(min_value=1, max_value=40))
def test_a_crash_anywhere_in_an_import_leaves_nothing(running_sqlite: Running,
                                                     file: tuple[Any, str, bool],
                                                     fail_at: int) -> None:
    running = running_sqlite
    pupils, delimiter, bom = file
    vault = running.portal.vault
    real_seal, calls = vault.seal, {"n": 0}

    def seal(*args: Any, **kwargs: Any) -> bytes:
        calls["n"] += 1
        if calls["n"] == fail_at:
            raise OSError("crash")
        return real_seal(*args, **kwargs)

    before = snapshot(running)
    vault.seal = seal
    try:
        run_import(running, "ib", BAKEN, csv_bytes(pupils, delimiter=delimiter, bom=bom))
    except OSError:
        assert snapshot(running) == before
    finally:
        vault.seal = real_seal


@pytest.mark.parametrize("delimiter", [";", ","])
def test_the_two_delimiters_and_a_bom_import_the_same(running_sqlite: Running,
                                                      delimiter: str) -> None:
    row = {"leerlingnummer": "8001", "naam": "Ada Bos", "geboortedatum": "01-02-2015",
           "groep": "5a"}
    first = run_import(running_sqlite, "ib", BAKEN, csv_bytes([row], delimiter=delimiter))
    assert first.add == [2]
    again = run_import(running_sqlite, "ib", BAKEN,
                       csv_bytes([row | {"geboortedatum": "2015-02-01"}],
                                 delimiter="," if delimiter == ";" else ";", bom=True))
    assert again.unchanged == [2]
