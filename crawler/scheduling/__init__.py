"""Recurring crawls through scrapyd (`timing`, `book`, `scrapyd`, `runner`) and the judgement
of a crawl against its site's usual (`health`)."""
