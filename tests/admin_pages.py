"""Reading the admin's pages the way an admin reads them: the rows of a list, a read-only
field's value, the text of a section."""

import html
import re


def text(fragment):
    """``fragment`` as it reads on screen: tags removed, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def listed(page):
    """The rows of a change list: ``[{"pk": int, "<column>": text, ...}]``, in order."""
    match = re.search(r'<table id="result_list">(.*?)</table>', page, re.S)
    if match is None:
        return []
    body = match[1].split("<tbody>", 1)[1]
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        link = re.search(r'href="[^"]*/(\d+)/change/[^"]*"', row)
        cells = {
            name: text(content)
            for name, content in re.findall(
                r'<t[dh] class="field-(\w+)[^"]*"[^>]*>(.*?)</t[dh]>', row, re.S
            )
        }
        rows.append({"pk": int(link[1]) if link else None, **cells})
    return rows


def listed_pks(page):
    return [row["pk"] for row in listed(page)]


def readonly(page, field):
    """The on-screen text of read-only ``field`` on a change page."""
    return text(readonly_html(page, field))


def readonly_html(page, field):
    match = re.search(
        rf'class="form-row[^"]*field-{field}\b.*?<div class="readonly">(.*?)</div>\s*</div>',
        page,
        re.S,
    )
    assert match, f"no read-only field {field}"
    return match[1]


def fieldsets(page):
    """``{heading: (html, collapsed)}`` for each titled section of a change page."""
    sections = {}
    for block in re.findall(r'<fieldset class="module aligned[^"]*".*?</fieldset>', page, re.S):
        heading = re.search(r'class="fieldset-heading">(.*?)</h\d>', block, re.S)
        if heading:
            sections[text(heading[1])] = (block, "<details>" in block)
    return sections
