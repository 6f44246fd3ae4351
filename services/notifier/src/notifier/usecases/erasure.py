"""One citizen's contact data erased on request: sealed contacts, waiting messages, delivery records.

Contacts are sealed with a random nonce, so they cannot be looked up: the notifier opens each kept
contact and scheduled message (it alone holds the key) and compares identities. Sent deliveries keep
only the recipient's keyed hash; those of this contact are dropped, as are its daily message counts.
"""

from __future__ import annotations

import re

from servicekit.privacy import contact_identity
from servicekit.sealing import SealingError

from notifier.store import NotifierStore
from notifier.usecases.delivery import Keys


class ContactEraser:
    def __init__(self, store: NotifierStore, keys: Keys) -> None:
        self.store = store
        self.keys = keys

    def _is(self, sealed: str | None, identity: str) -> bool:
        if not sealed:
            return False
        try:
            return contact_identity(self.keys.open(sealed)) == identity
        except SealingError:
            return False

    async def erase(self, identity: str) -> dict[str, int]:
        store = self.store
        contacts = [
            doc["_id"]
            async for doc in store.contacts.find({}, {"contact_sealed": 1})
            if self._is(doc.get("contact_sealed"), identity)
        ]
        scheduled = [
            doc["_id"]
            async for doc in store.scheduled.find({}, {"message.contact_sealed": 1})
            if self._is(doc.get("message", {}).get("contact_sealed"), identity)
        ]
        for key in contacts:
            await store.purge_contact(str(key))
        for key in scheduled:
            await store.unschedule(str(key))
        ref = self.keys.ref_of(identity)
        finished = {"recipient_ref": ref, "status": {"$in": ["sent", "failed", "withheld"]}}
        deliveries = (await store.deliveries.collection.delete_many(finished)).deleted_count
        counts = 0
        for prefix in (ref, f"checklist:{ref}"):
            mine = {"_id": {"$regex": f"^{re.escape(prefix)}:"}}
            counts += (await store.recipient_messages.delete_many(mine)).deleted_count
        return {
            "contacts": len(contacts),
            "scheduled_messages": len(scheduled),
            "deliveries": deliveries,
            "message_counts": counts,
        }
