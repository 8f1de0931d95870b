"""CNN Fear & Greed: typed values, the pure graphdata parser, the self-scheduling poller."""

from lib_common.ingestors.cnn.model import (
    COMPONENT_NAMES,
    FearGreed,
    FearGreedComponent,
    FearGreedPoint,
    Rating,
    parse_fear_greed,
    parse_rating,
)
from lib_common.ingestors.cnn.poller import (
    BOT_REFUSAL,
    CNN_HEADERS,
    DEFAULT_BASE_URL,
    GRAPHDATA_PATH,
    FearGreedEmitter,
    FearGreedError,
    FearGreedErrorKind,
    FearGreedPoller,
    FearGreedStats,
)
from lib_common.ingestors.cnn.schedule import FearGreedSchedule, ScheduleSettings

__all__ = [
    "BOT_REFUSAL",
    "CNN_HEADERS",
    "COMPONENT_NAMES",
    "DEFAULT_BASE_URL",
    "GRAPHDATA_PATH",
    "FearGreed",
    "FearGreedComponent",
    "FearGreedEmitter",
    "FearGreedError",
    "FearGreedErrorKind",
    "FearGreedPoint",
    "FearGreedPoller",
    "FearGreedSchedule",
    "FearGreedStats",
    "Rating",
    "ScheduleSettings",
    "parse_fear_greed",
    "parse_rating",
]
