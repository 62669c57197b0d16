"""Tiny pages in the formats a careers site saves them in, made in the test run: an HTML page, a PDF
written by hand (text in the standard Helvetica font, one type size per line) and a DOCX."""

from __future__ import annotations

import io

DATA_SCIENTIST_HTML = """<!DOCTYPE html>
<html><head><title>Data Scientist Careers | JobsSite</title>
<meta property="og:title" content="Data Scientist Careers">
<meta name="description" content="What a data scientist does and how to become one.">
<link rel="canonical" href="https://jobs.example.org/careers/data-scientist">
</head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/jobs">Browse all openings</a></li></ul></nav>
<main><article>
<h1>Data Scientist</h1>
<p>A data scientist analyses data to help organisations decide. The role mixes statistics with programming.</p>
<h2>Qualifications</h2>
<p>Most data scientists hold a master's degree in statistics, computer science or a related field.</p>
<ul><li>Python or R</li><li>SQL for databases</li></ul>
<h3>Salary</h3>
<p>Data scientist salaries range from 50,000 to 120,000 dollars a year, depending on experience.</p>
<table><tr><th>Level</th><th>Salary</th></tr><tr><td>Junior</td><td>50,000</td></tr></table>
<script>document.write("tracking code")</script>
<p>Shown as text: &lt;img src=x onerror=alert(1)&gt; and &lt;b&gt;not bold&lt;/b&gt;.</p>
</article></main>
<footer>Copyright JobsSite. Privacy policy. Cookie settings.</footer>
</body></html>
"""


def make_pdf(pages: list[list[tuple[float, str]]], info: dict[str, str] | None = None) -> bytes:
    """A PDF of `pages`, each a list of (type size, line of text), with an optional /Info dictionary."""
    objects: list[bytes] = [b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    page_numbers = []
    for lines in pages:
        y, operations = 750.0, []
        for size, text in lines:
            escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            operations.append(f"BT /F1 {size} Tf 72 {y} Td ({escaped}) Tj ET")
            y -= size + 8
        stream = "\n".join(operations).encode("cp1252")
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
        objects.append(b"")  # the page, written once the page tree's number is known
        page_numbers.append(len(objects))
    tree = len(objects) + 1
    for number in page_numbers:
        objects[number - 1] = (
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 1 0 R >> >> "
            b"/Contents %d 0 R >>" % (tree, number - 1)
        )
    kids = b" ".join(b"%d 0 R" % number for number in page_numbers)
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_numbers)))
    objects.append(b"<< /Type /Catalog /Pages %d 0 R >>" % tree)
    root = len(objects)
    trailer_info = b""
    if info:
        entries = b" ".join(b"/%s (%s)" % (key.encode(), value.encode("cp1252")) for key, value in info.items())
        objects.append(b"<< %s >>" % entries)
        trailer_info = b" /Info %d 0 R" % len(objects)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, trailer_info, xref))
    return out.getvalue()


NURSE_PDF_PAGES = [
    [
        (22, "Nurse"),
        (11, "Nurses care for patients in hospitals, clinics and homes, and they work in"),
        (11, "teams with doctors and carers."),
        (16, "Training"),
        (11, "A nursing degree takes three years of full-time study, half of it on hospital"),
        (11, "place-"),
        (11, "ments."),
        (11, "- Anatomy and physiology"),
        (11, "- Pharmacology"),
    ]
]


def nurse_pdf() -> bytes:
    return make_pdf(NURSE_PDF_PAGES, {"Title": "Nursing careers", "Subject": "What nurses do and how they train."})


def make_docx() -> bytes:
    """A Word document with a title, headings, a list, a table and core properties."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Paramedic: the job"
    document.core_properties.identifier = "https://jobs.example.org/careers/paramedic"
    document.core_properties.subject = "What paramedics do."
    document.add_heading("Paramedic", 0)
    document.add_paragraph("Paramedics give emergency care to patients before they reach hospital.")
    document.add_heading("Training", 1)
    document.add_paragraph("A paramedic science degree takes three years.")
    document.add_paragraph("Driving licence", style="List Bullet")
    document.add_paragraph("First aid", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for (row, column), text in {(0, 0): "Band", (0, 1): "Salary", (1, 0): "Band 6", (1, 1): "37,000 pounds"}.items():
        table.cell(row, column).text = text
    document.add_paragraph("# This line starts with a hash mark.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
