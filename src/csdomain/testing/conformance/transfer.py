"""Contract tests: export and import through the SPI's transfer methods.

``list_counters``, ``restore_counter`` and ``restore`` are required: ``csdomain export``
and ``csdomain import`` call them on every backend.
"""

from __future__ import annotations

import orjson
import pytest

from csdomain.errors import ConcurrencyConflict, RuleViolation, ValidationError
from csdomain.store.transfer import export_lines, import_store
from csdomain.testing.conformance.base import KitBase
from csdomain.testing.conformance.specimens import (
    HOSTILE_STRINGS,
    ODD_KEYS,
    SPECIMENS,
    specimen,
)


__all__ = ["TransferChecks"]


class TransferChecks(KitBase):
    """Export, import into a fresh store, export again: byte-identical, or refused whole."""

    def test_export_import_export_is_byte_identical_keeping_versions_and_counters(
        self,
    ) -> None:
        with self.transfer_store() as source, self.transfer_store() as target:
            self._fill_for_transfer(source)
            exported = list(export_lines(source))
            summary = import_store(target, exported)
            assert list(export_lines(target)) == exported
            assert (summary.documents["kit_specimen"], summary.counters) == (
                len([t for t in HOSTILE_STRINGS if len(t) < 1000]) + len(ODD_KEYS),
                4,
            )
            with target.unit_of_work() as uow:
                repo = uow.repo(SPECIMENS)
                assert [repo.get_with_version(f"s{n:06d}")[1] for n in range(4)] == [2, 3, 4, 1]
                assert repo.get("s000003") == specimen(3, note=HOSTILE_STRINGS[3])
                assert uow.next_counter("series:KIT-202601-#") == 13
                assert uow.next_counter("a\x00") == 3
            with pytest.raises(ConcurrencyConflict), target.unit_of_work() as uow:
                uow.repo(SPECIMENS).update(specimen(2), expected_version=3)

    def test_an_export_orders_keys_and_counters_by_code_point(self) -> None:
        with self.transfer_store() as store:
            self._fill_for_transfer(store)
            records = [orjson.loads(line) for line in export_lines(store)]
        keys = [r["key"] for r in records if r.get("kind") == "kit_specimen"]
        counters = [r["counter"] for r in records if "counter" in r]
        assert keys == sorted(keys)
        assert set(ODD_KEYS) <= set(keys)
        assert counters == ["a\x00", "kit", "series:KIT-202601-#", "客"]

    def test_import_into_a_store_that_holds_documents_or_counters_is_refused(self) -> None:
        with self.transfer_store() as source:
            self._fill_for_transfer(source)
            exported = list(export_lines(source))
        with self.transfer_store() as target:
            with target.unit_of_work() as uow:
                uow.repo(SPECIMENS).add(specimen(999))
            before = list(export_lines(target))
            with pytest.raises(RuleViolation) as info:
                import_store(target, exported)
            assert info.value.code == "store_not_empty"
            assert list(export_lines(target)) == before
        with self.transfer_store() as target:
            with target.unit_of_work() as uow:
                uow.next_counter("elsewhere")
            before = list(export_lines(target))
            with pytest.raises(RuleViolation) as info:
                import_store(target, exported)
            assert info.value.code == "store_not_empty"
            assert list(export_lines(target)) == before

    def test_a_bad_line_rolls_the_whole_import_back(self) -> None:
        with self.transfer_store() as source:
            self._fill_for_transfer(source)
            exported = list(export_lines(source))
        broken = orjson.loads(exported[1])
        broken["doc"]["rank"] = "not a number"
        damaged = [*exported[:-2], orjson.dumps(broken) + b"\n", *exported[-2:]]
        with self.transfer_store() as target:
            empty = list(export_lines(target))
            with pytest.raises(ValidationError) as info:
                import_store(target, damaged)
            assert info.value.errors[0][0] == f"line {len(exported) - 1}.doc.rank"
            assert list(export_lines(target)) == empty
            import_store(target, exported, batch_size=3)
            assert list(export_lines(target)) == exported
