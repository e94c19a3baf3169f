"""Local, offline question answering over news articles.

Pipeline: load → chunk → embed → index → retrieve → read → assistant.
Nothing heavy is imported here; models load on first use.
"""

from qa.config import Config
from qa.schema import Answer, Article, Chunk, Citation, Passage, Reply

__all__ = ["Answer", "Article", "Assistant", "Chunk", "Citation", "Config", "Passage", "Reply"]


def __getattr__(name: str):
    # Assistant pulls in FAISS and friends; import it only when asked for.
    if name == "Assistant":
        from qa.assistant import Assistant

        return Assistant
    raise AttributeError(name)
