"""The services' garbage-collector settings (decision 0064)."""

from __future__ import annotations

import gc

from shared.api.app import tune_garbage_collector
from shared.settings import ServiceSettings


def test_start_up_objects_are_frozen_and_collections_are_rarer():
    before = gc.get_threshold()
    try:
        tune_garbage_collector(ServiceSettings(environment="test", gc_gen0_threshold=12_345))
        assert gc.get_threshold()[0] == 12_345 and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def test_zero_leaves_the_collector_alone():
    before = gc.get_threshold()
    tune_garbage_collector(ServiceSettings(environment="test", gc_gen0_threshold=0))
    assert gc.get_threshold() == before
