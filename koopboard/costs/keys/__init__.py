"""Cost-sharing keys (Verteilungsschlüssel) per budget year."""
