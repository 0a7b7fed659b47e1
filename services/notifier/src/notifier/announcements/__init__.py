"""Announcements: social's events become rows (:mod:`.intake`), the bulk senders mail them
(:mod:`.sender`) under the shared rate limit and after everything else (:mod:`.pacing`), each
attachment encoded once for every recipient (:mod:`.content`)."""
