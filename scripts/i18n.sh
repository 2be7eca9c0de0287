#!/usr/bin/env bash
# Re-extract the German UI strings, merge them into the English catalogue, compile.
#
#   scripts/i18n.sh
#
#   1. pybabel extract (map: babel.cfg)  -> koopboard/translations/messages.pot
#   2. pybabel update (init if missing)  -> koopboard/translations/en/LC_MESSAGES/messages.po
#   3. pybabel compile                   -> the .mo files (gitignored)
#   4. lists the entries that still need an English msgstr
#
# Then translate the empty msgstr entries in the .po and run it again (or only
# `pybabel compile -f -d koopboard/translations`). tests/web/test_i18n.py fails while any
# extracted msgid lacks an English translation.
#
# No fuzzy matching: a reworded German string comes back as a new, empty entry rather than
# a silently wrong guess. Entries whose msgid disappeared from the code are dropped.
# Running it twice changes nothing: an unchanged extraction keeps the old .pot (and date).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=.venv/bin
PYBABEL=$BIN/pybabel
PYTHON=$BIN/python
[ -x "$PYBABEL" ] || PYBABEL=pybabel
[ -x "$PYTHON" ] || PYTHON=python3

TRANSLATIONS=koopboard/translations
POT=$TRANSLATIONS/messages.pot
LOCALES=(en)
mkdir -p "$TRANSLATIONS"

# The keywords (tests/web/test_i18n.py reads them from here): Babel's defaults
# (_ gettext ngettext N_ ...) plus Flask-Babel's lazy variants and our alias _l.
new_pot=$(mktemp "$TRANSLATIONS/.messages.pot.XXXXXX")
trap 'rm -f "$new_pot"' EXIT
"$PYBABEL" -q extract -F babel.cfg \
    -k _ -k gettext -k ngettext:1,2 -k lazy_gettext -k _l -k lazy_ngettext:1,2 -k N_ -k Msg \
    --sort-output --no-wrap --add-location=file \
    --project=KoopBoard --copyright-holder=KoopBoard \
    --msgid-bugs-address=koopboard@example.org \
    -o "$new_pot" .

if [ -f "$POT" ] && diff -q <(grep -v '^"POT-Creation-Date:' "$POT") \
                           <(grep -v '^"POT-Creation-Date:' "$new_pot") >/dev/null; then
    rm -f "$new_pot"            # same strings: keep the old file and its date
else
    mv "$new_pot" "$POT"
fi

for locale in "${LOCALES[@]}"; do
    po=$TRANSLATIONS/$locale/LC_MESSAGES/messages.po
    if [ -f "$po" ]; then
        "$PYBABEL" -q update -i "$POT" -d "$TRANSLATIONS" -l "$locale" \
            --no-fuzzy-matching --ignore-obsolete --no-wrap
    else
        "$PYBABEL" -q init -i "$POT" -d "$TRANSLATIONS" -l "$locale" --no-wrap
    fi
done

"$PYBABEL" -q compile -f -d "$TRANSLATIONS"

# What still needs a translator (msgid, then where it is used).
"$PYTHON" - "$TRANSLATIONS" "${LOCALES[@]}" <<'PY'
import sys

from babel.messages.pofile import read_po

base, *locales = sys.argv[1:]
for locale in locales:
    with open(f"{base}/{locale}/LC_MESSAGES/messages.po", "rb") as fh:
        catalog = read_po(fh)
    messages = [m for m in catalog if m.id]
    todo = [m for m in messages
            if m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    print(f"{locale}: {len(messages)} messages, {len(todo)} untranslated or fuzzy")
    for m in todo:
        where = ", ".join(f if n is None else f"{f}:{n}" for f, n in m.locations[:2])
        print(f"    {m.id if isinstance(m.id, str) else m.id[0]!r}  ({where})")
PY
