"""guide: an offline career-guidance chatbot that answers from Markdown guides with citations.

The pipeline runs one way: `corpus` reads guides, `chunking` and `material` cut them into chunks
and sentences, `index` embeds them (`embedding`) into two vector stores (`stores`) written as a
generation on disk (`storage`); `engine` understands a question (`query`), retrieves
(`retrieval`), refuses or hands it to the answerer `answer.backend` names (`answering`; the
default is `extractive`), and the app and `cli` render the cited answer (`render`).
Two seams take new implementations with one module and one registry line each: a vector store
(`guide.stores.STORES`) and an answerer (`guide.answering.ANSWERERS`).
"""

__version__ = "0.1.0"
