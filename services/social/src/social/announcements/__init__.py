"""Announcements: one mail an operator sends to every confirmed user who has announcements on.

:mod:`~social.announcements.drafts` reads and checks what the operator wrote (the words in
:mod:`~social.announcements.texts`, language variants in :mod:`~social.announcements.variants`,
files in :mod:`~social.announcements.attachments`) before anything is written;
:mod:`~social.announcements.events` builds the contract's events;
:mod:`~social.announcements.recipients` streams the recipients' mail profiles and packs them into
batches; :mod:`~social.announcements.sending` writes the announcement and all its events in one
transaction, and calls one off; :mod:`~social.announcements.progress` counts what the notifier
reported of it, and :mod:`~social.announcements.watching` shows that count until it is over.
`social announce` (:mod:`social.cli.announce`) is the operator's way in.
"""
