"""The code examples of the README and docs/, read the way a reader reads them.

A Python block whose first line is a comment naming a file (``# settings.py``,
``# yourproject/celery.py``, ``# tests/test_x.py``) is that file's content, or what is added to
it; any other Python block is a snippet that runs on its own. Shell blocks are commands, one
per line, ``#`` starting a comment.
"""

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w-]*)\n(?P<body>.*?)^(?P=indent)```", re.M | re.S)
FILE_HEADER = re.compile(r"# (?P<path>[\w./-]+\.\w+)\s*(?:\(.*\))?$")


@dataclass(frozen=True)
class Block:
    doc: str  # e.g. "docs/integration.md"
    line: int
    lang: str
    code: str

    @property
    def file(self):
        """The file this block is (part of), from its header comment, or None for a snippet."""
        first = self.code.splitlines()[0] if self.code else ""
        match = FILE_HEADER.match(first)
        return match["path"] if match else None

    @property
    def where(self):
        return f"{self.doc}:{self.line}"


def blocks(doc, lang=None):
    path = ROOT / doc if not isinstance(doc, Path) else doc
    text = path.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        indent = len(match["indent"])
        code = "\n".join(line[indent:] for line in match["body"].splitlines()) + "\n"
        block = Block(
            doc=str(path.relative_to(ROOT)),
            line=text.count("\n", 0, match.start()) + 1,
            lang=match["lang"],
            code=code,
        )
        if lang is None or block.lang == lang:
            found.append(block)
    return found


def all_python_blocks():
    return [block for doc in DOCS for block in blocks(doc, "python")]


def shell_commands(doc):
    """Every command of the shell blocks of ``doc``, comments and blank lines left out."""
    commands = []
    for block in blocks(doc, "sh"):
        text = block.code.replace("\\\n", " ")  # continued lines
        for line in text.splitlines():
            command = " ".join(line.split(" #", 1)[0].split())
            if command and not command.startswith("#"):
                commands.append(command)
    return commands
