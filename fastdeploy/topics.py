"""The documentation shipped inside the package (``fastdeploy/docs/*.md``), by topic:
what ``fastdeploy docs [TOPIC]`` lists and prints. Read through ``importlib.resources``,
so it works from a wheel, an editable install or a source checkout alike."""

from __future__ import annotations

import difflib
from importlib import resources

SUFFIX = ".md"


def _folder():
    return resources.files("fastdeploy").joinpath("docs")


def topics() -> dict[str, str]:
    """{topic: title} of every shipped page, sorted by topic; the title is the page's
    first heading."""
    out = {}
    for entry in sorted(_folder().iterdir(), key=lambda e: e.name):
        if entry.is_file() and entry.name.endswith(SUFFIX):
            text = entry.read_text(encoding="utf-8")
            title = next((line.lstrip("#").strip() for line in text.splitlines()
                          if line.startswith("#")), "")
            out[entry.name[:-len(SUFFIX)]] = title
    return out


def read(topic: str) -> str:
    """The markdown of ``topic`` (``summaries``; ``summaries.md`` and
    ``docs/summaries.md`` are taken too).

    Raises:
        LookupError: no such topic; the message names the closest one and the list.
    """
    name = topic.strip().removeprefix("docs/").removesuffix(SUFFIX)
    known = topics()
    if name not in known:
        close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise LookupError(f"no topic {topic!r}{hint}; topics: {', '.join(known)}")
    return _folder().joinpath(name + SUFFIX).read_text(encoding="utf-8")
