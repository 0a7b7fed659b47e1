"""The transactional outbox: events written in the same transaction as the change they describe,
published to RabbitMQ afterwards by the relay (`social relay`).

:mod:`social.outbox.schema` is the table as the relay and replays read it, without Flask;
:mod:`social.outbox.models` maps the web app's `OutboxEvent` onto it and `record_event` writes it;
:mod:`social.outbox.events` builds the contract events from social's models.
"""
