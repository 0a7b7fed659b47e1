"""`social relay`: publishes outbox events to RabbitMQ, in order, with publisher confirms."""
