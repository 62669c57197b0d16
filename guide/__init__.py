"""guide: an offline career-guidance chatbot that answers from Markdown guides with citations."""

__version__ = "0.1.0"
