#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Builds the console: build.py SRC OUT.

The sources are ES modules and one style sheet, served as they are (no
bundler, nothing from npm: a release builds with Python alone). Each file is
written to OUT/assets/ under a name with a hash of its content, so that a
browser may cache it for ever; a module's imports are rewritten to the hashed
names of what it imports first, so a change anywhere renames every module
that leads to it. OUT/index.html names the hashed entry points.
"""
import hashlib
import os
import re
import shutil
import sys

IMPORT = re.compile(r"""((?:^|\n)\s*(?:import|export)\b[^'"`;]*?\bfrom\s*|(?:^|\n)\s*import\s*)(["'])(\./[^"']+|\.\./[^"']+)\2""")
REF = re.compile(r"""(<(?:script|link)\b[^>]*?\b(?:src|href)=")([^"]+)(")""")


def hashed(name, data):
    stem, ext = os.path.splitext(os.path.basename(name))
    return "%s.%s%s" % (stem, hashlib.sha256(data).hexdigest()[:12], ext)


class Build:
    def __init__(self, src, out):
        self.src, self.out, self.done, self.stack = src, out, {}, []

    def write(self, rel, data):
        base = os.path.basename(rel)
        for other in self.done:
            if os.path.basename(other) == base:
                sys.exit("build.py: %s and %s: assets share one folder, so names must differ" % (other, rel))
        name = hashed(rel, data)
        with open(os.path.join(self.out, "assets", name), "wb") as f:
            f.write(data)
        self.done[rel] = name
        return name

    def module(self, rel):
        """The hashed name of the module at rel (relative to src), built with what it imports first."""
        if rel in self.done:
            return self.done[rel]
        if rel in self.stack:
            sys.exit("build.py: %s: an import cycle (%s)" % (rel, " -> ".join(self.stack + [rel])))
        self.stack.append(rel)
        with open(os.path.join(self.src, rel), encoding="utf-8") as f:
            text = f.read()

        def rewrite(m):
            target = os.path.normpath(os.path.join(os.path.dirname(rel), m.group(3)))
            if not os.path.isfile(os.path.join(self.src, target)):
                sys.exit("build.py: %s: imports %s, which is not there" % (rel, m.group(3)))
            return m.group(1) + m.group(2) + "./" + self.module(target) + m.group(2)

        text = IMPORT.sub(rewrite, text)
        self.stack.pop()
        return self.write(rel, text.encode("utf-8"))

    def asset(self, rel):
        if rel.endswith(".js"):
            return self.module(rel)
        with open(os.path.join(self.src, rel), "rb") as f:
            return self.write(rel, f.read())

    def page(self):
        with open(os.path.join(self.src, "index.html"), encoding="utf-8") as f:
            html = f.read()

        def ref(m):
            if re.match(r"^[a-z]+:", m.group(2)):
                return m.group(0)
            return m.group(1) + "/assets/" + self.asset(os.path.normpath(m.group(2))) + m.group(3)

        html = REF.sub(ref, html)
        with open(os.path.join(self.out, "index.html"), "w", encoding="utf-8") as f:
            f.write(html)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: build.py SRC OUT")
    src, out = sys.argv[1], sys.argv[2]
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "assets"))
    Build(src, out).page()


main()
