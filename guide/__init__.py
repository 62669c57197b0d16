"""guide: an offline career-guidance chatbot that answers from Markdown guides with citations.

The pipeline runs one way, one subpackage per stage: `ingest` reads the guides and the
collection file and cuts them into sections, sentences and chunks (marking boilerplate);
`index` embeds them into two vector stores written as a generation on disk; `ask` understands a
question, retrieves passages and decides refusals (the refusal gate); `answer` writes the cited
answer (the answerer `answer.backend` names; the default is `extractive`); `serve` runs
replicas, the cluster and the feedback store; `quality` measures answers. `engine` joins the
stages for one question, the app and `cli` render the result (`render`), and `language` holds
what the package knows of the guides' language. Two seams take new implementations with one
module and one registry line each: a vector store (`guide.index.stores.STORES`) and an answerer
(`guide.answer.registry.ANSWERERS`).
"""

__version__ = "0.1.0"
