"""How to capture: the Scrapy engine, the WARC-recording middleware, browser capture."""
