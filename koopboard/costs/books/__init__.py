"""The books: costs booked with four-eyes approval, payments, year closing, balances."""
