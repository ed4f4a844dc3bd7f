"""The README's register map is the one rendered from rtl/regs.py (no second copy);
every citation of docs/architecture.md (GICv2) and of docs/architecture-v3.md
(GICv3) in the repository names one of the headings of that document; no file
points outside the repository."""
import pathlib
import re
import subprocess

from vgic.sim.docs import register_map_markdown, splice

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_register_map_is_generated_from_the_table():
    text = README.read_text()
    assert splice(text, register_map_markdown()) == text, "run `make docs` to refresh README.md"


def test_readme_gicv3_register_map_is_generated_from_the_table():
    from vgic.sim.docs import BEGIN_V3, END_V3, register_map_v3_markdown
    text = README.read_text()
    assert splice(text, register_map_v3_markdown(), BEGIN_V3, END_V3) == text, \
        "run `make docs` to refresh README.md"
    table = register_map_v3_markdown()
    assert "| 0x0100 + 8n | ICH_LR<n>_EL2 (64-bit) | 3, 4, 12, 12 + n/8, n%8 | RW |" in table
    assert "| 0x2180 | ICV_PMR_EL1 | 3, 0, 4, 6, 0 | RW | always |" in table     # v3 1.4
    assert "ICH_VTR_EL2 = 0x90b80003" in table


def test_register_map_lists_every_register_once():
    table = register_map_markdown()
    for name in ["GICH_HCR", "GICH_VTR", "GICH_VMCR", "GICH_MISR", "GICH_EISR0", "GICH_EISR1",
                 "GICH_ELRSR0", "GICH_ELRSR1", "GICH_APR", "GICV_CTLR", "GICV_PMR", "GICV_BPR",
                 "GICV_IAR", "GICV_EOIR", "GICV_RPR", "GICV_HPPIR", "GICV_ABPR", "GICV_AIAR",
                 "GICV_AEOIR", "GICV_AHPPIR", "GICV_APR0", "GICV_IIDR", "GICV_DIR"]:
        assert table.count(f"| {name} |") == 1, name
    assert "| 0x3000 | 0x1000 | GICV_DIR | WO |" in table       # arch 1.2: DIR at +0x1000


# -- docs/architecture.md: every citation in the repository names one of its headings --

ROOT = README.parent
ARCH = ROOT / "docs" / "architecture.md"
SCANNED_DIRS = ("rtl", "sim", "tests", "formal", "bench", "docs", "vgic", "examples")
SCANNED_TOP = ("README.md", "Makefile")
SCANNED_SUFFIXES = (".py", ".md", ".sby", ".jsonl")

# `arch 2.9`, `arch 4`, continued by `, 2.6` / `/2.6` / `-2.18` / `and 2.6`
ARCH_CITE = re.compile(r"\barch (\d+(?:\.\d+)?)((?:(?:\s*[,/]\s*|-|\s+and\s+)\d+\.\d+(?![\d.]\d)|-\d+(?![\d.]))*)")
RULE_CITE = re.compile(r"(?<![\w.])R(\d{1,2}[a-z]?)(?!\w)")
# `open point 12` / `quirk 4`, but not the GICv3 forms `v3 open point 12` / `v3 quirk 4`
OPEN_CITE = re.compile(r"(?<!v3 )\bopen points? (\d+)((?:(?:\s*,\s*|\s+and\s+|-)\d+)*)")
QUIRK_CITE = re.compile(r"(?<!v3 )\bquirks? (\d+)((?:(?:\s*,\s*|\s+and\s+|-)\d+)*)")
# The citation forms used before docs/architecture.md existed.
OLD_FORMS = re.compile(r"\bdigest (?:\d|(?:rules? )?R\d)|§\s*4|\bsection 4 #\d")


def _repo_files():
    """Files git knows (tracked, or new and not ignored), as paths relative to ROOT."""
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                         cwd=ROOT, capture_output=True, check=True).stdout.decode()
    return sorted({f for f in out.split("\0") if f and (ROOT / f).is_file()})


def _scanned_files():
    files = []
    for f in _repo_files():
        top = f.split("/", 1)[0]
        if f in SCANNED_TOP or (top in SCANNED_DIRS and f.endswith(SCANNED_SUFFIXES)
                                and not f.startswith("tests/data/")):
            files.append(f)
    return files


def _headings():
    """What a citation may name: section numbers, rule ids, open points, quirks."""
    sections, rules, open_points, quirks = set(), set(), set(), set()
    for line in ARCH.read_text().splitlines():
        if m := re.match(r"## (\d+)\. ", line):
            sections.add(m[1])
        elif m := re.match(r"### (\d+\.\d+) ", line):
            sections.add(m[1])
        elif m := re.match(r"### R(\d+[a-z]?)\. ", line):
            rules.add(m[1])
        elif m := re.match(r"### Open point (\d+): ", line):
            open_points.add(int(m[1]))
        elif m := re.match(r"### Quirk (\d+): ", line):
            quirks.add(int(m[1]))
    return sections, rules, open_points, quirks


def _numbers(first, rest):
    """The numbers of `first` and its continuation; a range a-b names both ends."""
    return [first] + re.findall(r"\d+(?:\.\d+)?", rest)


def _citations():
    """(file, line number, kind, what) for every citation in the scanned files."""
    found = []
    for f in _scanned_files():
        for no, line in enumerate((ROOT / f).read_text(errors="replace").splitlines(), 1):
            for m in ARCH_CITE.finditer(line):
                found += [(f, no, "arch", n) for n in _numbers(m[1], m[2])]
            for m in RULE_CITE.finditer(line):
                found.append((f, no, "rule", m[1]))
            for m in OPEN_CITE.finditer(line):
                found += [(f, no, "open point", int(n)) for n in _numbers(m[1], m[2])]
            for m in QUIRK_CITE.finditer(line):
                found += [(f, no, "quirk", int(n)) for n in _numbers(m[1], m[2])]
    return found


def test_architecture_document_has_the_heading_scheme():
    sections, rules, open_points, quirks = _headings()
    assert {"1", "2", "3", "4", "5"} <= sections
    assert {"1.1", "1.2", "1.3", "1.4"} <= sections
    assert {f"2.{i}" for i in range(1, 20)} <= sections
    assert rules == {str(i) for i in range(1, 17)} | {"6a", "6b"}
    assert open_points == set(range(1, 31))
    assert quirks == set(range(1, 7))


def test_every_citation_resolves_to_a_heading_of_the_architecture_document():
    sections, rules, open_points, quirks = _headings()
    known = {"arch": sections, "rule": rules, "open point": open_points, "quirk": quirks}
    found = _citations()
    kinds = {kind: sum(1 for c in found if c[2] == kind) for kind in known}
    # The repository cites the document hundreds of times: a scan that finds
    # little is broken, not clean.
    assert len(found) > 300, kinds
    assert kinds["arch"] > 100 and kinds["rule"] > 200 and kinds["open point"] > 30 \
        and kinds["quirk"] > 10, kinds
    assert len({c[0] for c in found}) > 30
    unresolved = [f"{f}:{no}: {kind} {what}" for f, no, kind, what in found if what not in known[kind]]
    assert not unresolved, "citations with no heading in docs/architecture.md:\n" + "\n".join(unresolved)


def test_no_citation_uses_the_old_digest_forms():
    """The forms used before docs/architecture.md existed (the word "digest"
    followed by a section or rule, the section-sign form of a section-4 row)
    are gone: sections are `arch 2.9`, rows of the open-point table are
    `open point 12` (docs/architecture.md, "How to cite")."""
    old = [f"{f}:{no}: {line.strip()}"
           for f in _scanned_files()
           for no, line in enumerate((ROOT / f).read_text(errors="replace").splitlines(), 1)
           if OLD_FORMS.search(line)]
    assert not old, "old citation forms (see docs/architecture.md, 'How to cite'):\n" + "\n".join(old)


# -- docs/architecture-v3.md: every GICv3 citation in the repository names one of its headings --

ARCH_V3 = ROOT / "docs" / "architecture-v3.md"

# `v3 2.8`, `v3 4`, continued like the GICv2 form (`, 2.6` / `/2.6` / `-2.6` / `and 2.6`).
# `\b` keeps "GICv3 2" (no word boundary inside "GICv3") out.
V3_SECTION_CITE = re.compile(r"\bv3 (\d+(?:\.\d+)?)((?:(?:\s*[,/]\s*|-|\s+and\s+)\d+\.\d+(?![\d.]\d)|-\d+(?![\d.]))*)")
# `V6`: a capital V and a number, as a word of its own; not `nV4`, `GICv4`, `V4.1`
V3_RULE_CITE = re.compile(r"(?<![\w.])V(\d{1,2})(?!\w|\.\d)")
V3_OPEN_CITE = re.compile(r"v3 open points? (\d+)((?:(?:\s*,\s*|\s+and\s+|-)\d+)*)")
V3_QUIRK_CITE = re.compile(r"v3 quirks? (\d+)((?:(?:\s*,\s*|\s+and\s+|-)\d+)*)")
# `L3`: a rule of legacy operation (section 10), written like a V-rule. Only
# files that mention legacy operation are scanned for it: elsewhere `L4` is a
# board pin (docs/boards.md) or could be a cache level.
LEGACY_RULE_CITE = re.compile(r"(?<![\w.])L(\d{1,2})(?!\w|\.\d)")
LEGACY_FILE = re.compile(r"legacy", re.IGNORECASE)


def _headings_v3():
    """What a GICv3 citation may name: sections, V-rules, open points, quirks."""
    sections, rules, open_points, quirks = set(), set(), set(), set()
    for line in ARCH_V3.read_text().splitlines():
        if m := re.match(r"## (\d+)\. ", line):
            sections.add(m[1])
        elif m := re.match(r"### (\d+\.\d+) ", line):
            sections.add(m[1])
        elif m := re.match(r"### V(\d+)\. ", line):
            rules.add(m[1])
        elif m := re.match(r"### Open point (\d+): ", line):
            open_points.add(int(m[1]))
        elif m := re.match(r"### Quirk (\d+): ", line):
            quirks.add(int(m[1]))
    return sections, rules, open_points, quirks


def _citations_v3():
    """(file, line number, kind, what) for every GICv3 citation in the scanned files."""
    found = []
    for f in _scanned_files():
        for no, line in enumerate((ROOT / f).read_text(errors="replace").splitlines(), 1):
            for m in V3_SECTION_CITE.finditer(line):
                found += [(f, no, "v3", n) for n in _numbers(m[1], m[2])]
            for m in V3_RULE_CITE.finditer(line):
                found.append((f, no, "V-rule", m[1]))
            for m in V3_OPEN_CITE.finditer(line):
                found += [(f, no, "v3 open point", int(n)) for n in _numbers(m[1], m[2])]
            for m in V3_QUIRK_CITE.finditer(line):
                found += [(f, no, "v3 quirk", int(n)) for n in _numbers(m[1], m[2])]
    return found


def _legacy_rules():
    """The L-rule headings of docs/architecture-v3.md (`### L3. ...`)."""
    return {m[1] for line in ARCH_V3.read_text().splitlines()
            if (m := re.match(r"### L(\d+)\. ", line))}


def _legacy_citations():
    """(file, line number, rule number) for every L-rule citation in the
    scanned files that mention legacy operation."""
    found = []
    for f in _scanned_files():
        text = (ROOT / f).read_text(errors="replace")
        if not LEGACY_FILE.search(text):
            continue
        for no, line in enumerate(text.splitlines(), 1):
            found += [(f, no, m[1]) for m in LEGACY_RULE_CITE.finditer(line)]
    return found


def test_citation_forms_of_the_two_documents_do_not_overlap():
    """A GICv3 citation is never read as a GICv2 one and the other way round;
    words that merely contain "v3" or "V4" are no citations at all."""
    v2 = (ARCH_CITE, RULE_CITE, OPEN_CITE, QUIRK_CITE)
    v3 = (V3_SECTION_CITE, V3_RULE_CITE, V3_OPEN_CITE, V3_QUIRK_CITE)
    for text in ["see v3 2.8", "rule V6 says", "(V19)", "v3 open point 17", "v3 open points 26-28",
                 "v3 quirk 3", "v3 quirks 1 and 2"]:
        assert not any(r.search(text) for r in v2), text
        assert sum(bool(r.search(text)) for r in v3) == 1, text
    for text in ["see arch 2.8", "rule R6a says", "open point 17", "quirk 3"]:
        assert not any(r.search(text) for r in v3), text
        assert sum(bool(r.search(text)) for r in v2) == 1, text
    for text in ["GICv3 2.0 and GICv4.1", "ICH_VTR_EL2.nV4", "GIC V4.1", "VENG0 VBPR1 AP1R0",
                 "x.V3", "vgic-v3", "ARMv8"]:
        assert not any(r.search(text) for r in v2 + v3), text
    assert [m[1] for m in V3_RULE_CITE.finditer("V5, V19 example 2; V20.")] == ["5", "19", "20"]
    # L-rules: no other form reads them, and they read no other form
    for text in ["rule L3 says", "(L1)", "L1-L6", "L5."]:
        assert not any(r.search(text) for r in v2 + v3), text
        assert LEGACY_RULE_CITE.search(text), text
    for text in ["LR3", "ICH_LR3_EL2", "GICH_LR<n>", "VAL1", "L1.5", "x.L2", "LRENP", "L2C"]:
        assert not LEGACY_RULE_CITE.search(text), text
    assert [m[1] for m in LEGACY_RULE_CITE.finditer("L1, L3 and L4; L1-L6.")] == \
        ["1", "3", "4", "1", "6"]


def test_v3_architecture_document_has_the_heading_scheme():
    sections, rules, open_points, quirks = _headings_v3()
    assert {str(i) for i in range(0, 9)} <= sections
    assert {f"1.{i}" for i in range(1, 6)} <= sections
    assert {f"2.{i}" for i in range(1, 10)} <= sections
    assert {"3.1", "3.2", "3.3"} <= sections
    assert rules == {str(i) for i in range(1, 21)}
    assert open_points == set(range(1, 31))
    assert len(quirks) >= 7 and quirks == set(range(1, max(quirks) + 1))


def test_v3_document_has_the_legacy_section():
    """Section 10 (legacy operation) with its subsections and rules L1-L6."""
    sections, _, open_points, _ = _headings_v3()
    assert {"10", "10.1", "10.2", "10.3", "10.4", "10.5", "10.6", "10.7"} <= sections
    assert _legacy_rules() == {str(i) for i in range(1, 7)}
    assert {26, 27, 28, 29} <= open_points


def test_every_legacy_rule_citation_resolves_to_a_heading():
    rules = _legacy_rules()
    found = _legacy_citations()
    # The v3 document alone cites its L-rules a few dozen times.
    assert len(found) > 20, found
    unresolved = [f"{f}:{no}: L{what}" for f, no, what in found if what not in rules]
    assert not unresolved, "L-rule citations with no heading in docs/architecture-v3.md:\n" + \
        "\n".join(unresolved)


def test_every_v3_citation_resolves_to_a_heading_of_the_v3_document():
    sections, rules, open_points, quirks = _headings_v3()
    known = {"v3": sections, "V-rule": rules, "v3 open point": open_points, "v3 quirk": quirks}
    found = _citations_v3()
    kinds = {kind: sum(1 for c in found if c[2] == kind) for kind in known}
    # The v3 document alone cites itself well over a hundred times: a scan
    # that finds little is broken, not clean.
    assert len(found) > 150 and all(kinds[k] > 10 for k in known), kinds
    unresolved = [f"{f}:{no}: {kind} {what}" for f, no, kind, what in found if what not in known[kind]]
    assert not unresolved, "citations with no heading in docs/architecture-v3.md:\n" + "\n".join(unresolved)


def test_v3_document_stands_alone():
    """The GICv3 reference names no other document of the team by path and no
    local directory; the GICv2 document points to it."""
    text = ARCH_V3.read_text()
    team_dirs = ["/".join(("shared", "spec")), "conformance/"]     # the team's folders, by name
    assert not any(d in text for d in team_dirs)
    assert "docs/architecture-v3.md" in ARCH.read_text()


def test_no_file_names_a_path_outside_the_repository():
    """The repository is self-contained: no file points at a directory beside
    the checkout (the shared spec and conformance directories) or at an
    absolute work or home directory of some machine."""
    outside = re.compile(r"\.\./shared|/(?:work|home|root)/")
    hits, scanned = [], 0
    for f in _repo_files():
        if f.startswith("tests/data/") or f.endswith(".gz"):
            continue
        data = (ROOT / f).read_bytes()
        if b"\0" in data[:8192]:
            continue                                    # binary
        scanned += 1
        for no, line in enumerate(data.decode(errors="replace").splitlines(), 1):
            if outside.search(line):
                hits.append(f"{f}:{no}: {line.strip()}")
    assert scanned > 50
    assert not hits, "paths outside the repository:\n" + "\n".join(hits)


# -- `vgic regs --update` never destroys the file it is given --------------------------

def test_regs_update_refreshes_the_generated_block(tmp_path, capsys):
    from vgic.sim.cli import main
    from vgic.sim.docs import BEGIN, END
    f = tmp_path / "doc.md"
    f.write_text(f"# Title\n\n{BEGIN}\nold table\n{END}\n\nafter\n")
    assert main(["regs", "--update", str(f)]) == 0
    text = f.read_text()
    assert text.startswith("# Title\n") and text.endswith("\nafter\n")
    assert "old table" not in text and "| GICH_HCR |" in text


def test_regs_update_of_a_file_without_the_block_leaves_it_unchanged(tmp_path, capsys):
    """Found by trying the CLI: a 26-byte file without the block was emptied
    and a traceback followed. Now: a clear error, exit 2, the file as it was."""
    from vgic.sim.cli import main
    f = tmp_path / "notes.md"
    f.write_text("# my notes, no table here\n")
    assert main(["regs", "--update", str(f)]) == 2
    err = capsys.readouterr().err
    assert "no generated register-map block" in err and "unchanged" in err
    assert "Traceback" not in err
    assert f.read_text() == "# my notes, no table here\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notes.md"]       # no temporary left


def test_regs_update_of_a_missing_file_is_an_error(tmp_path, capsys):
    from vgic.sim.cli import main
    assert main(["regs", "--update", str(tmp_path / "nope.md")]) == 2
    assert "nope.md" in capsys.readouterr().err
