"""Poll budgets: ``users/{uid}/poll_budgets/{open_id}`` holds the status/fetch calls made with
this account's token in the last minute, shared by every instance (TikTok allows 30 a minute per
token). The same collection holds the init budget (``{open_id}.init``, shared/store/scheduled.py)
and the Display API's (``{open_id}.display``, shared/store/analytics.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from shared.store.documents import BudgetDoc, to_firestore
from shared.store.users import USERS

if TYPE_CHECKING:
    from google.cloud import firestore

POLL_BUDGETS = "poll_budgets"


class PollBudgets:
    """The status/fetch budget, for the status store (shared/store/status.py) to inherit."""

    db: firestore.Client

    def take_poll(self, uid: str, open_id: str, now: datetime, limit: int, window: float) -> bool:
        """Spend one status/fetch call of the account's sliding one-minute window, if any is left.

        A transaction keeps the count right across instances; under heavy contention the answer
        is "no budget" (the caller then serves the stored status) rather than an error.
        """
        from google.api_core import exceptions
        from google.cloud import firestore

        ref = self.db.collection(USERS, uid, POLL_BUDGETS).document(open_id)
        horizon = now.timestamp() - window

        @firestore.transactional
        def take(transaction: firestore.Transaction) -> bool:
            data = cast("BudgetDoc | None", ref.get(transaction=transaction).to_dict())
            calls = [t for t in (data["calls"] if data else []) if t > horizon]
            if len(calls) >= limit:
                return False
            calls.append(now.timestamp())
            budget: BudgetDoc = {"calls": calls, "expire_at": now + timedelta(seconds=window * 2)}
            transaction.set(ref, to_firestore(budget))
            return True

        try:
            allowed: bool = take(self.db.transaction())
        except (exceptions.Aborted, exceptions.DeadlineExceeded, ValueError):
            return False
        return allowed
