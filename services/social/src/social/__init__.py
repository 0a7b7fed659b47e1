"""Microblog's social service: web pages, JSON API and the outbox that feeds RabbitMQ.

The web app is built by :func:`social.app.create_app`; the relay (:mod:`social.relay`) needs
no Flask app and does not import it.
"""
