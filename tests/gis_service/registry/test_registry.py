"""Registry writes: validation, history, the registry as of a past date."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from gis_service.db import repository
from gis_service.errors import ConflictError, InvalidInputError, NotFoundError
from gis_service.records import SchoolData
from gis_service.registry import schools as registry

NGUYEN_THAI_SON = "osm:node/3638351702"


def _code(session: Session, source_ref: str) -> str:
    code = repository.find_school_code_by_source(session, source_ref)
    assert code is not None
    return code


def test_edit_history_and_registry_as_of(session: Session) -> None:
    code = _code(session, NGUYEN_THAI_SON)
    loaded = repository.get_school(session, code)
    first_change = registry.update_school(
        session,
        code,
        {"first_grade_classes": 6, "ownership": "Công lập", "phone": "028 3930 1234"},
        class_size_cap=35,
        actor="nguyen.van.a",
    )
    session.commit()
    second_change = registry.update_school(
        session, code, {"class_size_cap": 40}, class_size_cap=35, actor="tran.thi.b"
    )
    session.commit()
    assert first_change.data.first_grade_seats == 6 * 35
    assert second_change.data.first_grade_seats == 6 * 40
    assert not second_change.data.class_size_cap_is_default
    assert second_change.version == loaded.version + 2

    history = repository.school_history(session, code)
    assert [(h.version, h.action, h.changed_by) for h in history] == [
        (1, "load", "district-loader"),
        (2, "update", "nguyen.van.a"),
        (3, "update", "tran.thi.b"),
    ]
    assert history[1].before == loaded.data
    assert history[1].after is not None
    assert history[1].after.ownership == "cong_lap"
    assert history[2].before == history[1].after
    assert history[2].after == second_change.data

    def state_at(moment: dt.datetime) -> dict[str, SchoolData]:
        return {s.code: s for s in repository.schools_as_of(session, "770", moment)}

    assert state_at(history[0].changed_at)[code] == loaded.data
    assert state_at(history[1].changed_at)[code].first_grade_classes == 6
    assert state_at(history[1].changed_at)[code].class_size_cap == 35
    assert state_at(history[2].changed_at)[code].class_size_cap == 40
    assert state_at(history[0].changed_at - dt.timedelta(seconds=1)) == {}
    assert len(state_at(history[2].changed_at)) == 27


def test_unchanged_update_writes_no_history(session: Session) -> None:
    code = _code(session, NGUYEN_THAI_SON)
    before = repository.get_school(session, code)
    again = registry.update_school(
        session, code, {"name": before.data.name}, class_size_cap=35, actor="x"
    )
    assert again.version == before.version
    assert len(repository.school_history(session, code)) == 1


def test_close_is_kept_and_cannot_repeat(session: Session) -> None:
    code = _code(session, NGUYEN_THAI_SON)
    closed = registry.close_school(session, code, actor="office")
    assert closed.data.status == "closed"
    with pytest.raises(ConflictError, match="already closed"):
        registry.close_school(session, code, actor="office")
    found, total = repository.list_schools(session, repository.SchoolFilter("770", status="closed"))
    assert (total, found[0].data.code) == (1, code)


def test_invalid_update_changes_nothing(session: Session) -> None:
    code = _code(session, NGUYEN_THAI_SON)
    before = repository.get_school(session, code)
    with pytest.raises(InvalidInputError) as error:
        registry.update_school(
            session,
            code,
            {"first_grade_classes": -2, "level": "đại học"},
            class_size_cap=35,
            actor="x",
        )
    assert {p.pointer for p in error.value.problems} == {"/first_grade_classes", "/level"}
    session.rollback()
    assert repository.get_school(session, code) == before


def test_unknown_school(session: Session) -> None:
    with pytest.raises(NotFoundError):
        registry.update_school(session, "nope", {}, class_size_cap=35, actor="x")
    with pytest.raises(NotFoundError):
        repository.school_history(session, "nope")
