#!/usr/bin/env python3
"""po/POTFILES.in is sorted, lists only files that exist, and lists every
source of the desktop app with a translatable string; the translations are
complete (no untranslated or fuzzy message)."""
import pathlib
import re
import subprocess
import sys

root = pathlib.Path(sys.argv[1])
listed = [l.strip() for l in (root / 'po' / 'POTFILES.in').read_text().splitlines()
          if l.strip() and not l.startswith('#')]
errors = []
if listed != sorted(listed):
    errors.append('POTFILES.in is not sorted')
for f in listed:
    if not (root / f).exists():
        errors.append(f'POTFILES.in lists {f}, which does not exist')

pattern = re.compile(r'(\b_\(|\bN_\(|\bC_\(|translatable="yes")')
for f in sorted((root / 'ui' / 'gtk').rglob('*')):
    if f.suffix not in ('.c', '.ui') or not f.is_file():
        continue
    rel = str(f.relative_to(root))
    if pattern.search(f.read_text()) and rel not in listed:
        errors.append(f'{rel} has translatable strings but is not in POTFILES.in')

for lang in (root / 'po' / 'LINGUAS').read_text().split():
    po = root / 'po' / f'{lang}.po'
    out = subprocess.run(['msgfmt', '--statistics', '-o', '/dev/null', str(po)],
                         capture_output=True, text=True)
    stats = out.stderr.strip()
    if out.returncode != 0 or 'untranslated' in stats or 'fuzzy' in stats:
        errors.append(f'{lang}.po is not complete: {stats}')

print('1..1')
if errors:
    for e in errors:
        print('# ' + e)
    print('not ok 1 - POTFILES.in and translations')
    sys.exit(1)
print('ok 1 - POTFILES.in and translations')
