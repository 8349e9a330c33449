"""What several tests expect of HoT, stated once."""

PUBLIC_NAMES = (
    "HUMAN_REGISTERED",
    "HUMAN_JOINED",
    "HUMAN_LEFT",
    "HUMAN_ATTENDED",
    "HUMAN_DETAILS_CHANGED",
    "HUMAN_EXTERNAL_ID_SET",
    "HUMAN_FORGOTTEN",
    "EVENT_TYPE_REGISTERED",
    "EVENT_TYPE_VERSION_ADDED",
    "EVENT_TYPE_VERSION_DEPRECATED",
)
"""The public event names, in catalog order."""
