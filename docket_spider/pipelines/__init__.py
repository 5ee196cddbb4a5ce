"""Item pipelines, one side effect each, in ITEM_PIPELINES order:

1. :class:`~docket_spider.pipelines.files.DocumentFilesPipeline` (Scrapy's
   FilesPipeline): store each document's PDF in FILES_STORE (a folder or
   s3://bucket/prefix/), at most once, under a name that says what it is.
2. :class:`~docket_spider.pipelines.extract.ExtractTextPipeline`: text of each
   new PDF, in worker processes off the reactor thread (archive/extract/).
3. :class:`~docket_spider.pipelines.archive.ArchivePipeline`: rows into the
   SQLite archive via ``archive.load``, or, with ARCHIVE_QUEUE_URL, onto the
   queue of the one archive writer (archive/writer.py).

What they need to know of the archive (is this document stored? extracted by
this version?) they ask ``archive.access``; they never call the spider.
"""
