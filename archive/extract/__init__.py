"""Text extraction of stored PDFs, around the pure reader ``parsers.pdf.extract``.

- :mod:`archive.extract.limits`: what one document may cost (``Limits``);
- :mod:`archive.extract.pool`: ``extract`` in worker processes held to those
  limits (``ExtractionPool``, ``extract_many``);
- :mod:`archive.extract.cache`: results kept by the file's SHA-256
  (``EXTRACT_CACHE_DIR``);
- :mod:`archive.extract.queue`: the same work on Celery workers
  (``EXTRACT_BROKER_URL``).

``parsers.pdf`` reads one PDF in the calling process; everything here that
runs processes, keeps files or talks to a broker is the archive's.
"""
