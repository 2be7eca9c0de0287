"""Recurring costs (rent, licences): the schedule, the drafts beat books, and their pages."""
