"""The five-member rule every report shares."""

import pytest
from django.utils import translation

from common.privacy import SMALL_GROUP, is_small_group, masked, shown_count


@pytest.mark.parametrize(("members", "shown"), [(0, 0), (1, None), (4, None), (5, 5), (120, 120)])
def test_groups_of_one_to_four_members_are_hidden(members, shown):
    assert shown_count(members) == shown
    assert is_small_group(members) is (shown is None)


def test_a_hidden_figure_reads_fewer_than_5_members_in_japanese():
    with translation.override("ja"):
        assert str(masked(1234, 3)) == "5名未満"
    assert masked(1234, 5) == 1234
    assert masked(0, 0) == 0


def test_hidden_figures_sort_before_every_number_and_are_falsy():
    assert (
        sorted([3, SMALL_GROUP, -10, 0], key=lambda v: (v is not SMALL_GROUP, v if v is not SMALL_GROUP else 0))[0]
        is SMALL_GROUP
    )
    assert SMALL_GROUP < -10 and not SMALL_GROUP
    assert SMALL_GROUP == SMALL_GROUP and SMALL_GROUP != 0 and SMALL_GROUP != ""
