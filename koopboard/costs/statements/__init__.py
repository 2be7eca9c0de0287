"""A partner's statement of the year: page, PDF, CSV and XLSX."""
