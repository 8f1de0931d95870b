"""Yahoo Finance: PricingData schema, sans-I/O codec, stream client, REST poller."""
