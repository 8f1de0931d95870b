"""The engine: symbol registry, memory guard, dispatcher, upstream modes and manager,
market hours.

The deciding parts are sans-I/O bookkeeping (time and events in, decisions out); the
dispatcher's one `loop.call_soon` and the upstream manager's tasks are the thin I/O
around them; see docs/engine.md.
"""

from lib_common.core.calendar import ALWAYS_OPEN, US_MARKETS, MarketCalendar, trading_predicate
from lib_common.core.clock import SYSTEM_CLOCK, Clock, ManualClock
from lib_common.core.dispatcher import (
    CLOSE_MEMORY_PRESSURE,
    CLOSE_SLOW_CONSUMER,
    DEFAULT_LAG_THRESHOLD,
    Dispatcher,
    DispatcherStats,
    FlushResult,
    FrameBuilder,
    SubscriberLookup,
    default_frame_builder,
)
from lib_common.core.last_values import LastValues
from lib_common.core.market_hours import (
    NEW_YORK,
    NYSE,
    MarketSession,
    NyseCalendar,
    SymbolHours,
    TradingDay,
    any_may_trade,
    is_open,
    next_change,
    next_open,
    session_at,
    symbol_hours,
    symbol_may_trade,
    trades_around_the_clock,
)
from lib_common.core.memory_guard import (
    EvictionReason,
    GuardStats,
    MemoryGuard,
    Priority,
    Victim,
)
from lib_common.core.messages import encode_error_message, encode_json, encode_quote_message
from lib_common.core.registry import RegistryChange, RegistryStats, SymbolRegistry
from lib_common.core.stream_health import StreamHealth, StreamState
from lib_common.core.symbols import (
    KNOWN_INDICATORS,
    MAX_SYMBOL_LENGTH,
    Rejection,
    SymbolError,
    SymbolProblem,
    check_symbols,
    is_indicator,
    normalize_symbol,
)
from lib_common.core.upstream_manager import (
    FEAR_GREED,
    IndicatorSource,
    ManagerSettings,
    PollSource,
    StreamSource,
    UpstreamHealth,
    UpstreamManager,
    UpstreamStats,
    UpstreamStatus,
)
from lib_common.core.upstream_modes import (
    MODE_TABLE,
    ModeEvent,
    Transition,
    UpstreamMode,
    UpstreamModeMachine,
)
from lib_common.timeutil import wall_clock_us  # re-exported

__all__ = [
    "ALWAYS_OPEN",
    "CLOSE_MEMORY_PRESSURE",
    "CLOSE_SLOW_CONSUMER",
    "DEFAULT_LAG_THRESHOLD",
    "FEAR_GREED",
    "KNOWN_INDICATORS",
    "MAX_SYMBOL_LENGTH",
    "MODE_TABLE",
    "NEW_YORK",
    "NYSE",
    "SYSTEM_CLOCK",
    "US_MARKETS",
    "Clock",
    "Dispatcher",
    "DispatcherStats",
    "EvictionReason",
    "FlushResult",
    "FrameBuilder",
    "GuardStats",
    "IndicatorSource",
    "LastValues",
    "ManagerSettings",
    "ManualClock",
    "MarketCalendar",
    "MarketSession",
    "MemoryGuard",
    "ModeEvent",
    "NyseCalendar",
    "PollSource",
    "Priority",
    "RegistryChange",
    "RegistryStats",
    "Rejection",
    "StreamHealth",
    "StreamSource",
    "StreamState",
    "SubscriberLookup",
    "SymbolError",
    "SymbolHours",
    "SymbolProblem",
    "SymbolRegistry",
    "TradingDay",
    "Transition",
    "UpstreamHealth",
    "UpstreamManager",
    "UpstreamMode",
    "UpstreamModeMachine",
    "UpstreamStats",
    "UpstreamStatus",
    "Victim",
    "any_may_trade",
    "check_symbols",
    "default_frame_builder",
    "encode_error_message",
    "encode_json",
    "encode_quote_message",
    "is_indicator",
    "is_open",
    "next_change",
    "next_open",
    "normalize_symbol",
    "session_at",
    "symbol_hours",
    "symbol_may_trade",
    "trades_around_the_clock",
    "trading_predicate",
    "wall_clock_us",
]
