#!/bin/sh
# compose's `broker-users`: the broker's users, set from the environment on every `docker compose up`
# (so a password changed in .env takes effect on the next one). Idempotent.
#
#   the operator's    RABBITMQ_DEFAULT_USER / RABBITMQ_DEFAULT_PASS   administrator, the management UI
#   relay             RELAY_AMQP_PASSWORD     publishes social.events, consumes social.mail-activity
#   notifier          NOTIFIER_AMQP_PASSWORD  consumes its queues, republishes to them, tells notifier.events
#
# and `guest` removed (a volume from before kept it). Each service may configure, write and read only
# the exchanges and queues it declares, publishes to and consumes (RabbitMQ's permission regexes;
# `amq.default` is the default exchange, which copies to a queue go through). The notifier's names
# follow NOTIFIER_QUEUE's default (notifier.user-followed): change both together.
set -eu

ctl() { rabbitmqctl --node "rabbit@${RABBITMQ_NODE_HOST:-rabbitmq}" --quiet "$@"; }

ensure_user() {  # NAME PASSWORD TAGS
  if ctl list_users --no-table-headers | cut -f1 | grep -qx "$1"; then
    ctl change_password "$1" "$2"
  else
    ctl add_user "$1" "$2"
  fi
  ctl set_user_tags "$1" $3
}

ctl await_startup
ensure_user "$RABBITMQ_DEFAULT_USER" "$RABBITMQ_DEFAULT_PASS" administrator
ctl set_permissions --vhost / "$RABBITMQ_DEFAULT_USER" '.*' '.*' '.*'

#           user      configure / write / read
ensure_user relay "$RELAY_AMQP_PASSWORD" ""
ctl set_permissions --vhost / relay \
    '^(social\.events|notifier\.events|social\.mail-activity|social\.mail-activity\.dead)$' \
    '^(social\.events|social\.mail-activity|amq\.default)$' \
    '^(notifier\.events|social\.mail-activity)$'

ensure_user notifier "$NOTIFIER_AMQP_PASSWORD" ""
ctl set_permissions --vhost / notifier \
    '^(social\.events|notifier\.events|notifier\.user-followed.*|social\.events\.log)$' \
    '^(notifier\.events|amq\.default|notifier\.user-followed.*|social\.events\.log)$' \
    '^(social\.events|notifier\.user-followed.*|social\.events\.log)$'

if ctl list_users --no-table-headers | cut -f1 | grep -qx guest; then
  ctl delete_user guest
fi
echo "broker users: $RABBITMQ_DEFAULT_USER (administrator), relay, notifier"
