"""Everything PACER: what the PACER spiders (pacer_district, pacer_appellate,
and their base, docket_spider/spiders/pacer_base.py) are made of.

- ``session``: PACER's login (credentials from the environment only).
- ``fees``: PACER's fee rules in whole cents, the hard ``Budget`` and its ``Decision``.
- ``purchases``: the ledger's downloader middleware and download handler, and
  the spool of answers PACER billed; ``disk``: a full disk, and the reserve.
- ``documents``: a document's label, PACER's date form, a purchase form.
- ``free_first``: ``CourtListenerFirst``, CourtListener's copies before PACER's.
- ``cmecf_appellate``, ``acms_docket`` (with ``acms_sign_in``): the courts of
  appeals' two systems, the parts the appellate spider asks.
"""
