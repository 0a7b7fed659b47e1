"""The events the Microblog services exchange: the only code social and the notifier share.

Every event travels as a CloudEvents 1.0 envelope in structured JSON mode, published to the
durable topic exchange :data:`EXCHANGE` with the event type as routing key.
"""

from microblog_contracts.addresses import MailAddress, mail_address
from microblog_contracts.envelope import (
    EXCHANGE,
    MAX_EVENT_BYTES,
    SOURCE,
    DecodeFailure,
    EventDecodeError,
)
from microblog_contracts.registry import EVENT_TYPES, decode_event
from microblog_contracts.user_followed import (
    USER_FOLLOWED,
    USER_FOLLOWED_V1_SCHEMA,
    FollowedUser,
    Follower,
    UserFollowed,
    UserFollowedData,
)

__all__ = [
    "EVENT_TYPES",
    "EXCHANGE",
    "MAX_EVENT_BYTES",
    "SOURCE",
    "USER_FOLLOWED",
    "USER_FOLLOWED_V1_SCHEMA",
    "DecodeFailure",
    "EventDecodeError",
    "FollowedUser",
    "Follower",
    "MailAddress",
    "UserFollowed",
    "UserFollowedData",
    "decode_event",
    "mail_address",
]
