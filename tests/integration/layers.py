#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The layout's rules, checked on the tree (docs/architecture.md):

- layers: each library (from Makefile.am's *_SOURCES) includes only the
  libraries below it, as LAYERS declares; a program only what it links;
- one owner a table: only one .c file holds SQL naming a table (a
  PostgreSQL backend, "pg" in its path, may be a second);
- size: no source file over MAX_LINES lines.

Prints each breach and exits 1 if there is one.
"""
import os, re, sys

MAX_LINES = 800

# What each library and program may include, besides itself.
LAYERS = {
    "libcommon": [],
    "libfetch": ["libcommon"],
    "libprobes": ["libcommon", "libfetch"],
    "libparse": ["libcommon"],
    "libenroll": ["libcommon"],
    "libagentconf": ["libcommon", "libprobes", "libparse", "libsyslog"],
    "libagent": ["libcommon", "libprobes", "libparse", "libsyslog", "libenroll", "libagentconf", "libdialtestlogic",
                 "libdialrun", "libfetch"],
    "libalertlogic": ["libcommon"],
    "libdialtestlogic": ["libcommon"],
    "libdialrun": ["libcommon", "libfetch", "libdialtestlogic"],
    "libsearch": ["libcommon"],
    "libstore": ["libcommon", "libalertlogic", "libsearch"],
    "libpgstore": ["libcommon", "libalertlogic", "libsearch", "libstore"],
    "libalerts": ["libcommon", "libalertlogic", "libfetch", "libforward", "libsearch", "libstore", "libpgstore"],
    "libdialtests": ["libcommon", "libdialtestlogic", "libdialrun", "libfetch", "libstore", "libpgstore"],
    "libforward": ["libcommon", "libsearch", "libstore"],
    "libsyslog": ["libcommon"],
    "libcontrol": ["libcommon", "libagentconf", "libalerts", "libstore", "libdialtestlogic", "libdialtests"],
    "libapi": ["libcommon", "libalertlogic", "libalerts", "libdialtestlogic", "libdialtests", "libsearch", "libstore",
               "libpgstore", "libenroll", "libcontrol"],
    "libcollector": ["libcommon", "libalertlogic", "libalerts", "libapi", "libdialtests", "libforward", "libsearch",
                     "libstore", "libsyslog", "libenroll"],
    "vigil_agent": ["libcommon", "libprobes", "libparse", "libagent", "libagentconf", "libsyslog", "libenroll",
                    "libdialtestlogic", "libdialrun"],
    "vigil_collector": ["libcommon", "libalertlogic", "libalerts", "libapi", "libdialtests", "libdialrun", "libforward", "libsearch",
                        "libstore", "libcollector", "libsyslog", "libenroll", "libcontrol"],
    "vigilctl": ["libcommon"],
}


def owners(makefile):
    """file -> the library or program whose *_SOURCES lists it."""
    text = re.sub(r"\\\n", " ", open(makefile).read())
    owner = {}
    for m in re.finditer(r"^(\w+?)(?:_a)?_SOURCES\s*\+?=(.*)$", text, re.M):
        name = m.group(1)
        if name in LAYERS:
            for f in m.group(2).split():
                owner[f] = name
    return owner


def check_layers(owner):
    bad = []
    for f, lib in sorted(owner.items()):
        for n, line in enumerate(open(f), 1):
            m = re.match(r'#include "([a-z]+/[^"]+)"', line)
            if not m:
                continue
            dep = owner.get(m.group(1))
            if dep is None:
                bad.append(f"{f}:{n}: includes {m.group(1)}, which no library lists")
            elif dep != lib and dep not in LAYERS[lib]:
                bad.append(f"{f}:{n}: {lib} includes {m.group(1)} of {dep}, not below it")
    return bad


def check_tables(files):
    text = {f: open(f, errors="replace").read() for f in files if f.endswith(".c")}
    tables = set()
    for t in text.values():
        # A statement of a table named at run time (store/pg.c's partitions: "… IF NOT EXISTS %s") names none.
        tables |= set(re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(?!IF )([A-Za-z_]\w*)", t))
    bad = []
    for tb in sorted(tables):
        pat = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE(?: IF NOT EXISTS)?)\s+(?:\w+\.)?" + tb + r"\b")
        users = sorted(f for f, t in text.items() if pat.search(t))
        for group in ([u for u in users if "pg" in u], [u for u in users if "pg" not in u]):
            if len(group) > 1:
                bad.append(f"table {tb}: SQL in several files: {' '.join(group)}")
    return bad, len(tables)


def check_sizes(files):
    bad = []
    for f in files:
        n = sum(1 for _ in open(f))
        if n > MAX_LINES:
            bad.append(f"{f}: {n} lines (at most {MAX_LINES}: split it by what its parts are)")
    return bad


def main():
    os.chdir(sys.argv[1] if len(sys.argv) > 1 else ".")
    owner = owners("Makefile.am")
    files = sorted(owner)
    missing = [f for f in files if not os.path.exists(f)]
    unlisted = [os.path.join(d, f) for d in {os.path.dirname(f) for f in files} for f in os.listdir(d)
                if f.endswith((".c", ".h")) and os.path.join(d, f) not in owner]
    bad = [f"{f}: listed in Makefile.am, not in the tree" for f in missing]
    bad += [f"{f}: in the tree, in no library's or program's sources" for f in sorted(unlisted)]
    bad += check_layers(owner)
    table_bad, n_tables = check_tables(files)
    bad += table_bad + check_sizes(files)
    for b in bad:
        print("FAIL:", b)
    print(f"{len(files)} files in {len(set(owner.values()))} libraries and programs, {n_tables} tables:"
          f" {len(bad)} breaches")
    return 1 if bad else 0


sys.exit(main())
