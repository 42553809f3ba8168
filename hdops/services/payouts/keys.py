"""The keys of the payout messages: outbox dedupe keys (each message is queued once)
and refs (a sent message is edited in place). Drafting, the weekly run and approval
send or edit the same messages, so each key is spelled here once."""

from __future__ import annotations

SUMMARY_KEY = "payouts:summary:{week}"  # outbox dedupe key of the Monday ops summary
SUMMARY_REF = "payouts:{week}"  # message ref of that summary (edited on approval)
STATEMENT_KEY = "payouts:statement:{id}"  # dedupe key of a contractor's statement DM
STATEMENT_REF = "payout:{id}"  # message ref of that DM (edited when the draft changes)
APPROVED_KEY = "payouts:approved:{id}"
