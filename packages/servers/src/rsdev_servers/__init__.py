"""rsdev gateways: restream and server-yahoo."""
