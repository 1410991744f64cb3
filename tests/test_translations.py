"""The Simplified Chinese catalog covers every string in the source, and Django uses it.

The catalog is regenerated from a copy of the source tree (so the working tree is never
touched), exactly the way an engineer runs ``makemessages``; a string added to the code or a
template without a translation, a fuzzy entry, or a translation that lost a placeholder or
an HTML tag fails here. No database is needed.
"""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parent.parent
# The same folders the project's makemessages command leaves out.
NOT_SOURCE = {".venv", "tests", "var", "docs", "node_modules", "__pycache__"}
CATALOG = Path("locale", "zh_Hans", "LC_MESSAGES", "django.po")

# printf-style placeholders as Python's % operator reads them: %(name)s, %(m)02d, %s, %%.
PRINTF = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
BRACE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")
TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b"}


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def where(self) -> str:
        return f"{' '.join(self.references) or 'line ' + str(self.line)}: {self.msgid!r}"


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) < 2 or not text.startswith('"') or not text.endswith('"'):
        raise ValueError(f"not a PO string: {text}")
    return re.sub(r"\\(.)", lambda m: ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Read a gettext catalog: comments, flags, msgctxt, msgid(_plural), msgstr([n])."""
    entries: list[Entry] = []
    entry: Entry | None = None
    # The keyword that continuation strings add to, and the plural index of a msgstr.
    target: tuple[str, int] | None = None

    def start(number: int) -> Entry:
        nonlocal target
        target = None
        entries.append(Entry(line=number))
        return entries[-1]

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry, target = None, None
            continue
        if line.startswith("#~"):  # obsolete entry: not part of the catalog
            continue
        if line.startswith("#"):
            if entry is None or target is not None:
                entry = start(number)
            if line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            elif line.startswith("#:"):
                entry.references += line[2:].split()
            continue
        if line.startswith('"'):
            if entry is None or target is None:
                raise ValueError(f"{path}:{number}: a string outside an entry")
            keyword, index = target
            if keyword == "msgstr":
                entry.msgstr[index] += _unquote(line)
            else:
                setattr(entry, keyword, getattr(entry, keyword) + _unquote(line))
            continue
        keyword, _, rest = line.partition(" ")
        plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
        new_entry = (
            entry is None
            or (keyword == "msgctxt" and target is not None)
            or (keyword == "msgid" and target is not None and target[0] != "msgctxt")
        )
        if new_entry and keyword in {"msgctxt", "msgid"}:
            entry = start(number)
        if entry is None:
            raise ValueError(f"{path}:{number}: {keyword} outside an entry")
        if plural or keyword == "msgstr":
            target = ("msgstr", int(plural.group(1)) if plural else 0)
            entry.msgstr[target[1]] = _unquote(rest)
        elif keyword in {"msgid", "msgid_plural", "msgctxt"}:
            target = (keyword, 0)
            setattr(entry, keyword, _unquote(rest))
        else:
            raise ValueError(f"{path}:{number}: cannot read {raw!r}")
    return entries


def _placeholders(text: str, *, python_format: bool) -> Counter:
    found = Counter(BRACE.findall(text)) + Counter(TAG.findall(text))
    if python_format:
        found += Counter(p for p in PRINTF.findall(text) if p != "%%")
    return found


def _manage(copy: Path, *command: str) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "callcentre.settings",
        "VAR_DIR": str(copy / "var"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(  # noqa: S603 - the copy's manage.py with the running interpreter
        [sys.executable, "manage.py", *command],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def source_copy(tmp_path_factory) -> Path:
    """A copy of the source tree whose zh_Hans catalog makemessages has just regenerated."""
    copy = tmp_path_factory.mktemp("i18n") / "src"
    copy.mkdir()
    for item in ROOT.iterdir():
        if item.name in NOT_SOURCE or item.name.startswith(".") or item.suffix == ".egg-info":
            continue
        if item.is_dir():
            shutil.copytree(
                item,
                copy / item.name,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"),
            )
        else:
            shutil.copy2(item, copy / item.name)
    assert (copy / CATALOG).is_file(), "the zh_Hans catalog is missing; run makemessages"
    _manage(copy, "makemessages", "-l", "zh_Hans", "--no-obsolete", "--ignore=var")
    return copy


@pytest.fixture(scope="module")
def compiled_locale(source_copy) -> Path:
    """The regenerated catalogs compiled; msgfmt also refuses a broken format string."""
    _manage(source_copy, "compilemessages", "-v1")
    return source_copy / "locale"


@pytest.fixture(scope="module")
def entries(source_copy) -> list[Entry]:
    parsed = parse_po(source_copy / CATALOG)
    assert len(parsed) > 100, "the regenerated catalog looks empty"
    return parsed


def test_the_catalog_has_one_header_and_unique_entries(entries):
    headers = [entry for entry in entries if entry.is_header]
    assert len(headers) == 1
    assert "Plural-Forms: nplurals=1; plural=0;" in headers[0].msgstr[0]
    keys = Counter((entry.msgctxt, entry.msgid) for entry in entries)
    assert [key for key, count in keys.items() if count > 1] == []


def test_every_string_is_translated(entries):
    untranslated = [
        entry.where
        for entry in entries
        if not entry.is_header
        and (not entry.msgstr or any(not text.strip() for text in entry.msgstr.values()))
    ]
    assert untranslated == [], "untranslated in zh_Hans:\n" + "\n".join(untranslated)


def test_no_entry_is_fuzzy(entries):
    fuzzy = [entry.where for entry in entries if "fuzzy" in entry.flags]
    assert fuzzy == [], "fuzzy in zh_Hans (check, then drop the flag):\n" + "\n".join(fuzzy)


def test_plural_entries_have_the_one_chinese_form(entries):
    plurals = [entry for entry in entries if entry.msgid_plural is not None]
    wrong = [entry.where for entry in plurals if sorted(entry.msgstr) != [0]]
    assert wrong == []


def test_translations_keep_placeholders_and_tags(entries):
    problems = []
    for entry in entries:
        if entry.is_header:
            continue
        python_format = "python-format" in entry.flags
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        # Named placeholders must all survive; a plural's singular may leave the count out.
        wanted = Counter()
        for text in sources:
            wanted |= _placeholders(text, python_format=python_format)
        for index, text in entry.msgstr.items():
            got = _placeholders(text, python_format=python_format)
            if got != wanted:
                missing = sorted((wanted - got).elements())
                extra = sorted((got - wanted).elements())
                problems.append(f"{entry.where} [{index}] missing {missing} extra {extra}")
    assert problems == [], "\n".join(problems)


def test_chinese_is_used_and_english_falls_back_to_the_source(compiled_locale, settings):
    settings.LOCALE_PATHS = [compiled_locale]
    with translation.override("zh-hans"):
        assert translation.gettext("Ticket") == "工单"
        assert translation.gettext("Dispatch") == "派单"
        assert translation.gettext("Seat agent") == "坐席员"
        assert translation.gettext("%(m)d min") % {"m": 5} == "5 分钟"
        page = "Page %(number)s of %(total)s · %(count)s ticket"
        assert "工单" in translation.ngettext(page, page + "s", 3)
    with translation.override("en"):
        assert translation.gettext("Ticket") == "Ticket"
        assert translation.gettext("Seat agent") == "Seat agent"


def test_the_default_language_is_simplified_chinese(compiled_locale, settings):
    settings.LOCALE_PATHS = [compiled_locale]
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override(settings.LANGUAGE_CODE):
        assert translation.gettext("Emergency") == "紧急"
        assert translation.gettext("Simplified Chinese") == "简体中文"
