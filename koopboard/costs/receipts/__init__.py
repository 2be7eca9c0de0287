"""Receipts (Belege) of a cost: the upload checks, storage and download rules (services)
and the upload form. The routes and the panel belong to the cost page (``books.views``,
``templates/costs/receipts/_receipt.html``)."""
