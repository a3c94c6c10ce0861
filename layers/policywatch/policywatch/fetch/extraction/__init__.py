"""From a fetched page (HTML or PDF) to the Markdown text that is archived and compared."""
