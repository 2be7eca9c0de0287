"""Pure domain code: no Flask, no database."""
