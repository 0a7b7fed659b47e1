"""Microblog's notifier: consumes `user.followed` events and sends the follower e-mail."""
