"""Reading a rendered tracking page back (stdlib HTML parser): the text under each id, the
timeline rows, the progress steps and the ``lang`` attribute."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class _Open:
    tag: str
    attrs: dict[str, str]
    text: list[str] = field(default_factory=list)


class PageReading(HTMLParser):
    VOID = frozenset({"meta", "br", "img", "link", "input"})

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang: str | None = None
        self.by_id: dict[str, str] = {}
        self.scans: list[str] = []  # timeline rows, as shown (newest first)
        self.steps: list[tuple[str, str]] = []  # (text, class) of the progress steps
        self.tags: list[str] = []  # every start tag, in order
        self._open: list[_Open] = []
        self.feed(page)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = values.get("lang")
        if tag not in self.VOID:
            self._open.append(_Open(tag, values))

    def handle_endtag(self, tag: str) -> None:
        element = self._open.pop()
        assert element.tag == tag, f"</{tag}> closes <{element.tag}>"
        text = " ".join(" ".join(element.text).split())
        if "id" in element.attrs:
            self.by_id[element.attrs["id"]] = text
        if tag == "li" and element.attrs.get("class") == "scan":
            self.scans.append(text)
        if tag == "li" and self._open and self._open[-1].attrs.get("class") == "progress":
            self.steps.append((text, element.attrs.get("class", "")))
        if self._open:
            self._open[-1].text.append(text)

    @property
    def unclosed(self) -> list[str]:
        """The tags still open at the end of the page (none in a sound page)."""
        return [element.tag for element in self._open]

    def handle_data(self, data: str) -> None:
        if self._open:
            self._open[-1].text.append(data)
