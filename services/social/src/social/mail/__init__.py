"""A user's mail: the address and its confirmation, the links mailed to it, what they want to be
mailed about, and what became of the mail the notifier sent or did not send.

Social never speaks SMTP: every mail is asked for with an event in the outbox, and the notifier
tells back what became of it (:mod:`social.inbox`). Nothing in this package's `schema` module
needs Flask, so the relay's inbox can share it.
"""
