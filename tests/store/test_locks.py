"""A model's action lock: one holder at a time across connections (processes), named with who
and since when; released when the block ends — and when the holding connection goes away."""

from __future__ import annotations

import pytest

from console.errors import ActionInProgress
from console.store.locks import LockHolder
from tests.conftest import T0


def test_one_holder_at_a_time_named_and_released(open_store_at):
    a, b = open_store_at(), open_store_at()
    ana = LockHolder("ana", "rollback", T0)
    with a.model_lock("churn", ana):
        assert b.lock_holder("churn") == ana
        ben = b.model_lock("churn", LockHolder("ben", "killswitch", T0))
        with pytest.raises(ActionInProgress, match="rollback of churn in progress by ana since"):
            ben.__enter__()
        with b.model_lock("fraud", LockHolder("ben", "killswitch", T0)):  # other models: free
            pass
        again = a.model_lock("churn", LockHolder("ana", "traffic", T0))
        with pytest.raises(ActionInProgress):  # the same process cannot take it twice
            again.__enter__()
    assert b.lock_holder("churn") is None
    with b.model_lock("churn", LockHolder("ben", "killswitch", T0)):
        assert a.lock_holder("churn").person == "ben"


def test_a_closed_connection_releases_its_lock(open_store_at):
    a, b = open_store_at(), open_store_at()
    cm = a.model_lock("churn", LockHolder("ana", "rollback", T0))
    cm.__enter__()
    assert b.lock_holder("churn") is not None
    a.close()  # the process died: its connection (or file descriptor) is gone
    assert b.lock_holder("churn") is None
    cm.__exit__(None, None, None)  # releasing a lock that went with its connection: quiet
