"""Vietnamese text: one stored form, one folded search key."""

from __future__ import annotations

import unicodedata

import pytest

from gis_service.text import fold_text, normalize_text


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Tiểu học Phan Đình Phùng", "tieu hoc phan dinh phung"),
        ("TRƯỜNG THCS ĐOÀN THỊ ĐIỂM", "truong thcs doan thi diem"),
        ("Thạnh An", "thanh an"),
        ("Bình Khánh", "binh khanh"),
        ("  Cần   Thạnh 2 ", "can thanh 2"),
        ("đường Lê Văn Sỹ", "duong le van sy"),
    ],
)
def test_fold_removes_diacritics_and_case(text: str, folded: str) -> None:
    assert fold_text(text) == folded


def test_fold_is_the_same_for_composed_and_decomposed_input() -> None:
    composed = "Tiểu học Nguyễn Thái Sơn"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert fold_text(composed) == fold_text(decomposed)
    assert normalize_text(decomposed) == composed
