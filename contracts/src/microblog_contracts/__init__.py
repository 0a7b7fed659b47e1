"""The events the Microblog services exchange: the only code about events social and the notifier
share.

Every event travels as a CloudEvents 1.0 envelope in structured JSON mode. Social publishes to the
durable topic exchange :data:`EXCHANGE`, the notifier to :data:`NOTIFIER_EXCHANGE`, each with the
event type as routing key.
"""

from microblog_contracts.accounts import (
    EMAIL_CHANGE_REQUESTED,
    EMAIL_CONFIRMATION_REQUESTED,
    PASSWORD_RESET_REQUESTED,
    EmailChangeRequested,
    EmailChangeRequestedData,
    EmailConfirmationRequested,
    EmailConfirmationRequestedData,
    PasswordResetRequested,
    PasswordResetRequestedData,
)
from microblog_contracts.addresses import MailAddress, mail_address
from microblog_contracts.envelope import (
    EXCHANGE,
    MAX_EVENT_BYTES,
    SOURCE,
    DecodeFailure,
    Envelope,
    EventDecodeError,
)
from microblog_contracts.mail import (
    MAIL_ACTIVITY,
    MAIL_BOUNCED,
    NOTIFIER_EXCHANGE,
    NOTIFIER_SOURCE,
    MailActivity,
    MailActivityData,
    MailActivityEntry,
    MailBounced,
    MailBouncedData,
    MailOutcome,
)
from microblog_contracts.profiles import (
    USER_PROFILE_CHANGED,
    MailPreferences,
    MailProfile,
    NoticeMode,
    Preference,
    QuietHours,
    UserProfileChanged,
    UserProfileChangedData,
)
from microblog_contracts.registry import EVENT_TYPES, decode_event
from microblog_contracts.user_followed import (
    USER_FOLLOWED,
    USER_FOLLOWED_V1_SCHEMA,
    USER_FOLLOWED_V2_SCHEMA,
    USER_UNFOLLOWED,
    FollowedUser,
    Follower,
    UserFollowed,
    UserFollowedData,
    UserFollowedV1,
    UserFollowedV1Data,
    UserUnfollowed,
    UserUnfollowedData,
)

__all__ = [
    "EMAIL_CHANGE_REQUESTED",
    "EMAIL_CONFIRMATION_REQUESTED",
    "EVENT_TYPES",
    "EXCHANGE",
    "MAIL_ACTIVITY",
    "MAIL_BOUNCED",
    "MAX_EVENT_BYTES",
    "NOTIFIER_EXCHANGE",
    "NOTIFIER_SOURCE",
    "PASSWORD_RESET_REQUESTED",
    "SOURCE",
    "USER_FOLLOWED",
    "USER_FOLLOWED_V1_SCHEMA",
    "USER_FOLLOWED_V2_SCHEMA",
    "USER_PROFILE_CHANGED",
    "USER_UNFOLLOWED",
    "DecodeFailure",
    "EmailChangeRequested",
    "EmailChangeRequestedData",
    "EmailConfirmationRequested",
    "EmailConfirmationRequestedData",
    "Envelope",
    "EventDecodeError",
    "FollowedUser",
    "Follower",
    "MailActivity",
    "MailActivityData",
    "MailActivityEntry",
    "MailAddress",
    "MailBounced",
    "MailBouncedData",
    "MailOutcome",
    "MailPreferences",
    "MailProfile",
    "NoticeMode",
    "PasswordResetRequested",
    "PasswordResetRequestedData",
    "Preference",
    "QuietHours",
    "UserFollowed",
    "UserFollowedData",
    "UserFollowedV1",
    "UserFollowedV1Data",
    "UserProfileChanged",
    "UserProfileChangedData",
    "UserUnfollowed",
    "UserUnfollowedData",
    "decode_event",
    "mail_address",
]
