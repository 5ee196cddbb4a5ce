"""The Scrapy project: spiders fetch, parsers/ parse, pipelines store."""
