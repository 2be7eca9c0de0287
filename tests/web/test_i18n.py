"""German by default, English on request, and an English catalogue without gaps.

The catalogue test extracts the strings in-process with the same map (babel.cfg) and the
same keywords (scripts/i18n.sh) as the tooling, so a string someone adds without
translating it fails here with the list of what is missing.

``pytest`` alone works: this module compiles the English .mo when it is missing or older
than the .po (``make test`` / ``make run`` compile it too, via ``make translations``).
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
import warnings
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "koopboard" / "translations"
PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
HINT = "run scripts/i18n.sh and translate the new entries in " + str(PO.relative_to(ROOT))


def compile_if_stale(po: Path = PO, mo: Path = MO) -> None:
    """Write the .mo from the .po when it is missing or older (atomically: safe under xdist)."""
    if not po.exists():
        return
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return
    with po.open("rb") as fh:
        catalog = read_po(fh, locale="en")
    fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog, use_fuzzy=True)  # like `pybabel compile -f`
        os.replace(tmp, mo)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# At collection time, so the catalogue is in place before any test of the session runs.
compile_if_stale()


def read_english() -> Catalog:
    with PO.open("rb") as fh:
        return read_po(fh, locale="en")


def extract_sources() -> Catalog:
    """What `pybabel extract` in scripts/i18n.sh would write to messages.pot."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh, str(ROOT / "babel.cfg"))
    script = (ROOT / "scripts" / "i18n.sh").read_text(encoding="utf-8")
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update(parse_keywords(re.findall(r"-k\s+(\S+)", script)))
    assert "_l" in keywords and "lazy_gettext" in keywords and "N_" in keywords
    catalog = Catalog(locale=None)
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        catalog.add(message, None, [(filename, lineno)], context=context)
    return catalog


def translated(message) -> bool:  # noqa: ANN001
    strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
    return bool(strings) and all(s and s.strip() for s in strings) and not message.fuzzy


def label(message) -> str:  # noqa: ANN001
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
    return f"{msgid!r}  ({where})"


def body(response) -> str:  # noqa: ANN001
    return response.get_data(as_text=True)


def switch_to(client, lang: str, next_path: str = "/anmelden"):  # noqa: ANN001, ANN201
    response = client.post("/sprache", data={"lang": lang, "next": next_path})
    assert response.status_code == 302
    return response


# --- the catalogue --------------------------------------------------------------------------


def test_every_extracted_string_has_an_english_translation() -> None:
    assert PO.exists(), f"{PO} is missing: {HINT}"
    english = read_english()
    sources = extract_sources()
    assert len(sources) > 100, "extraction found suspiciously few strings; check babel.cfg"

    missing = []
    for message in sources:
        if not message.id:
            continue
        entry = english.get(message.id, message.context)
        if entry is None or not translated(entry):
            missing.append(label(message))
    assert not missing, (
        f"{len(missing)} UI string(s) without an English translation ({HINT}):\n  "
        + "\n  ".join(missing)
    )


def test_english_catalogue_is_clean() -> None:
    """No fuzzy or empty entries, and every placeholder survives the translation."""
    english = read_english()
    assert not english.fuzzy, "the .po header is marked fuzzy"
    problems = [label(m) + " is empty or fuzzy" for m in english if m.id and not translated(m)]
    for message, errors in english.check():
        problems += [f"{label(message)}: {error}" for error in errors]
    # %(name)s placeholders: the same set in msgid and msgstr (also for strings Babel did
    # not flag as python-format because they carry none).
    pattern = re.compile(r"%\(\w+\)[sdif]")
    for message in english:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        strings = message.string if isinstance(message.string, (list, tuple)) else [message.string]
        wanted = set(pattern.findall(ids[-1]))
        for string in strings:
            if set(pattern.findall(string or "")) != wanted:
                problems.append(f"{label(message)}: placeholders differ in {string!r}")
    assert not problems, "\n".join(problems)


def test_python_strings_are_extractable() -> None:
    """gettext calls Babel cannot see: the text would silently stay German.

    On Python 3.11 (our minimum) an f-string is one token, so in ``f"{_('Status')}: ..."``
    the ``_('Status')`` is never extracted (3.12+ would extract it: the catalogue would
    depend on the Python version). Such a call fails here unless its msgid happens to be
    in the English catalogue anyway (then only a warning: it stays fragile). Text built
    before translation (``_("a" + b)``, ``_(f"...")``, ``_("..." % x)``) cannot be looked
    up at all and always fails. Translate first, then format."""
    script = (ROOT / "scripts" / "i18n.sh").read_text(encoding="utf-8")
    names = set(DEFAULT_KEYWORDS) | {k.split(":")[0] for k in re.findall(r"-k\s+(\S+)", script)}
    english = read_english()

    def is_gettext(node: ast.AST) -> bool:
        return (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", None) in names
            and bool(node.args)
        )

    problems, fragile = [], []
    for path in sorted((ROOT / "koopboard").rglob("*.py")):
        where = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                for call in filter(is_gettext, ast.walk(node)):
                    arg = call.args[0]
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        entry = english.get(arg.value)
                        text = f"{where}:{call.lineno}: {ast.unparse(call)} inside an f-string"
                        ok = entry is not None and translated(entry)
                        (fragile if ok else problems).append(text)
            elif is_gettext(node) and isinstance(node.args[0], (ast.JoinedStr, ast.BinOp)):
                problems.append(
                    f"{where}:{node.lineno}: {ast.unparse(node)[:80]} builds the text "
                    "before translating it"
                )
    fragile = list(dict.fromkeys(fragile))  # nested f-strings are walked twice
    if fragile:
        warnings.warn(
            "gettext calls inside f-strings (translated only because the same msgid is used "
            "elsewhere; hoist them out):\n  " + "\n  ".join(fragile),
            stacklevel=1,
        )
    problems = list(dict.fromkeys(problems))
    assert not problems, (
        "move these gettext calls out of the f-string / into a literal msgid "
        '(e.g. label = _("Status"); f"{label}: ..."), then run scripts/i18n.sh:\n  '
        + "\n  ".join(problems)
    )


def test_compiled_catalogue_is_current() -> None:
    compile_if_stale()
    assert MO.exists() and MO.stat().st_mtime >= PO.stat().st_mtime


# --- pages ----------------------------------------------------------------------------------


def test_german_is_the_default(client) -> None:  # noqa: ANN001
    page = body(client.get("/anmelden"))
    assert '<html lang="de">' in page
    assert "Anmelden" in page
    assert "Sign in" not in page


def test_switching_to_english_translates_the_login_page(client) -> None:  # noqa: ANN001
    response = switch_to(client, "en", "/anmelden")
    assert response.headers["Location"].endswith("/anmelden")
    page = body(client.get("/anmelden"))
    assert '<html lang="en">' in page
    assert "Sign in" in page
    assert "Forgotten your password?" in page
    assert "Accessibility statement" in page
    assert "Anmelden" not in page
    # ... and back.
    switch_to(client, "de")
    assert '<html lang="de">' in body(client.get("/anmelden"))


def test_unknown_language_keeps_german(client) -> None:  # noqa: ANN001
    switch_to(client, "fr")
    assert '<html lang="de">' in body(client.get("/anmelden"))


def test_signed_in_pages_in_english(  # noqa: ANN001
    client, make_municipality, make_user, login_as, make_cooperation
) -> None:
    user = make_user(municipality=make_municipality(name="Merchweiler"))
    cooperation = make_cooperation(lead=user, title="Gemeinsames Standesamt")
    switch_to(client, "en")
    login_as(user)  # the language survives the fresh session at login

    mine = body(client.get("/kooperationen/"))
    assert '<html lang="en">' in mine
    assert "My cooperations" in mine
    assert "Meine Kooperationen" not in mine
    assert "General administration" in mine  # Handlungsfeld label (N_ in the catalogue)
    assert "Project lead" in mine
    assert "Sign out" in mine

    show = body(client.get(f"/kooperationen/{cooperation.id}"))
    assert "Gemeinsames Standesamt" in show  # user data stays as entered
    for english in (
        "Field of action",
        "General administration",
        "Legal form",
        "Public-law agreement (Zweckvereinbarung)",
        "active",
        "Your role: Project lead",
        "Partner municipalities",
        "History",
    ):
        assert english in show, english
    assert f"{user.name} (Merchweiler): Project lead" in show  # role label, translated
    # Nor in the history: a membership's stored label "Name: Projektleitung" reads in English.
    german_words = ("Handlungsfeld", "allgemeine Verwaltung", "Rechtsform", "Verlauf", "Überblick")
    for german in (*german_words, "Projektleitung"):
        assert german not in show, german


def test_forms_and_errors_in_english(client, make_municipality, make_user, login_as) -> None:  # noqa: ANN001
    user = make_user(municipality=make_municipality())
    switch_to(client, "en")
    login_as(user)

    form = body(client.get("/kooperationen/neu"))
    assert "Create a new cooperation" in form
    assert "– please choose –" in form
    assert "Special-purpose association (Zweckverband)" in form  # select options translated
    assert "IT, IT security and e-government" in form
    assert "Zweckvereinbarung)" in form and "öffentlich-rechtliche" not in form

    invalid = client.post("/kooperationen/neu", data={"title": ""})
    assert invalid.status_code in (400, 422)
    assert "Please correct the highlighted entries." in body(invalid)
    assert "Please fill in this field." in body(invalid)

    missing = client.get("/kooperationen/999999")
    assert missing.status_code == 404
    assert "This page does not exist" in body(missing)


def test_accessibility_statement_in_english(client) -> None:  # noqa: ANN001
    switch_to(client, "en", "/barrierefreiheit")
    page = body(client.get("/barrierefreiheit"))
    assert "Accessibility statement" in page
    assert "Conciliation procedure" in page
    assert "Erklärung zur Barrierefreiheit" not in page


@pytest.mark.parametrize("lang, expected", [("de", "Anmelden"), ("en", "Sign in")])
def test_login_title_per_language(client, lang: str, expected: str) -> None:  # noqa: ANN001
    switch_to(client, lang)
    assert f"<title>{expected} – KoopBoard</title>" in body(client.get("/anmelden"))


def test_history_names_records_in_english(  # noqa: ANN001
    client, make_municipality, make_user, login_as, make_cooperation
) -> None:
    """The labels the models write in German (a key, a payment, a year closing, a role)
    read in English on the English history page; names stay as entered."""
    from koopboard.domain.catalog import Role

    town = make_municipality(name="Merchweiler", ags="10043113")
    partner = make_municipality(name="Illingen", ags="10043112")
    lead = make_user(municipality=town)
    treasurer = make_user(municipality=town)
    cooperation = make_cooperation(lead, [partner], roles={treasurer: Role.TREASURER})
    base = f"/kooperationen/{cooperation.id}/kosten"
    switch_to(client, "en")
    login_as(treasurer)
    key = client.post(f"{base}/schluessel/2026", data={"kind": "gleich", "version": ""})
    assert key.status_code == 302, body(key)[:2000]
    payment = {
        "paid_on": "15.03.2026",
        "budget_year": "2026",
        "municipality_id": str(partner.id),
        "recipient_id": "",
        "kind": "abschlag",
        "amount": "100,00",
        "note": "",
    }
    assert client.post(f"{base}/zahlungen/neu", data=payment).status_code == 302
    assert client.post(f"{base}/jahresabschluss/2026", data={"version": ""}).status_code == 302

    page = body(client.get(f"/kooperationen/{cooperation.id}/verlauf"))
    assert '<html lang="en">' in page
    for english in ("Cost-sharing key 2026", "Year closing 2026", "Payment of "):
        assert english in page, english
    assert f"gave {treasurer.name} the role Treasury" in page  # a membership, translated
    for german in ("Verteilungsschlüssel 2026", "Jahresabschluss 2026", "Zahlung ", "Kämmerei"):
        assert german not in page, german


def test_tie_break_rule_in_english(  # noqa: ANN001
    client, make_municipality, make_user, login_as, make_cooperation
) -> None:
    """The rounding rule on the key page is translated like every other text."""
    from koopboard.domain.catalog import Role

    town = make_municipality(name="Merchweiler", ags="10043113")
    treasurer = make_user(municipality=town)
    cooperation = make_cooperation(
        make_user(municipality=town), [], roles={treasurer: Role.TREASURER}
    )
    switch_to(client, "en")
    login_as(treasurer)
    page = body(client.get(f"/kooperationen/{cooperation.id}/kosten/schluessel/2026"))
    assert "Leftover cents go one at a time to the partners with the largest remainder" in page
    assert "Übrige Cent" not in page
