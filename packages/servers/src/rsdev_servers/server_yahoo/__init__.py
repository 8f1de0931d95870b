"""server-yahoo: a Yahoo-protocol-compatible streaming endpoint."""
