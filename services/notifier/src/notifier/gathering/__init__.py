"""Gathered follow notices: no floods.

A follow notice waits a grace (`NOTIFIER_FOLLOW_GRACE`) before it goes, so an undone follow
mails nobody. Then, by the recipient's mode: `immediately`, one mail per follow; `batched`, the
first after a quiet spell, then everything of a busy spell gathered into one mail per window
(`NOTIFIER_BATCH_WINDOW`); `daily`, one digest at the hour they chose, in their time zone. Quiet
hours hold notices and release them gathered; over the daily cap they move into the next digest.

What waits lives in the notifier's database (:mod:`notifier.ledger.gathering`), not in memory; the
:class:`~notifier.gathering.scheduler.Scheduler` of each replica works on the recipients whose lease
it holds, so a batch is sent by one replica, and a dead replica's recipients pass to another when
its leases run out.
"""
