"""Pseudonymous payer references: stable, keyed, and free of the ID number."""

import hashlib
import hmac

import pytest

from domain.errors import DomainError
from domain.payer_ref import payer_ref
from domain.vocabulary import IdType

NUMBER = "52010219750314001X"


def test_reference_is_prefixed_truncated_hmac_of_type_and_number():
    expected = hmac.new(b"k", f"resident_id:{NUMBER}".encode(), hashlib.sha256).hexdigest()
    assert payer_ref("k", IdType.RESIDENT_ID, NUMBER) == "p_" + expected[:24]


def test_enum_and_string_id_type_give_the_same_reference():
    assert payer_ref("k", IdType.RESIDENT_ID, NUMBER) == payer_ref("k", "resident_id", NUMBER)


def test_reference_depends_on_key_type_and_number():
    base = payer_ref("k", "resident_id", NUMBER)
    assert payer_ref("other", "resident_id", NUMBER) != base
    assert payer_ref("k", "passport", NUMBER) != base
    assert payer_ref("k", "resident_id", NUMBER[:-1] + "0") != base


def test_reference_reveals_nothing_of_the_number():
    ref = payer_ref("k", "resident_id", NUMBER)
    assert len(ref) == 26
    assert NUMBER[:6] not in ref and NUMBER[-4:] not in ref


def test_unknown_id_type_or_empty_key_is_refused():
    with pytest.raises(DomainError):
        payer_ref("k", "library_card", NUMBER)
    with pytest.raises(ValueError):
        payer_ref("", "resident_id", NUMBER)
