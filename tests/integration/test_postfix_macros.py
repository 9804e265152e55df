#!/usr/bin/env python3
"""test_postfix_macros.py - one list of milter macros: what postern-milter asks for
(milter/milter.c, SMFIF_SETSYMLIST with modules), the milter_*_macros lines of
contrib/postfix/main.cf.snippet, the table in contrib/postfix/README.md and the
main.cf example of postern-milter(8) say the same, stage by stage.

Exit status: 0 all passed, 1 a failure.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRC = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))

# The stages in the order of each source's notation.
STAGES = [("SMFIM_CONNECT", "milter_connect_macros", "connect"),
          ("SMFIM_HELO", "milter_helo_macros", "HELO"),
          ("SMFIM_ENVFROM", "milter_mail_macros", "MAIL"),
          ("SMFIM_ENVRCPT", "milter_rcpt_macros", "RCPT"),
          ("SMFIM_EOH", "milter_end_of_header_macros", "end of header"),
          ("SMFIM_EOM", "milter_end_of_data_macros", "end of data")]


def read(rel):
    with open(os.path.join(TOP_SRC, rel)) as f:
        return f.read()


def from_code():
    """The macros pm_macros_all asks for, per stage (string literals and PM_*_MACROS joined)."""
    src = read("milter/milter.c")
    defs = {}
    for m in re.finditer(r'#define (PM_[A-Z]+_MACROS)\s+((?:"[^"]*"\s*\\?\s*)+)', src):
        defs[m.group(1)] = "".join(re.findall(r'"([^"]*)"', m.group(2)))
    table = re.search(r"pm_macros_all\[\] = \{(.*?)\};", src, re.S).group(1)
    out = {}
    for m in re.finditer(r"^\s*\{ (SMFIM_[A-Z]+), (.*?) \},?\s*$", table, re.M):
        value = m.group(2).strip()
        text = defs[value] if value in defs else "".join(re.findall(r'"([^"]*)"', value))
        out[m.group(1)] = text.split()
    return {s[0]: out.get(s[0], []) for s in STAGES}


def from_main_cf(text):
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(milter_[a-z_]+_macros)\s*=\s*(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).split()
    return out


def from_readme():
    out = {}
    for line in read("contrib/postfix/README.md").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in [s[2] for s in STAGES]:
            out[cells[0]] = re.findall(r"`([^`]+)`", cells[1])
    return out


def main():
    failed = 0
    code = from_code()
    snippet = from_main_cf(read("contrib/postfix/main.cf.snippet"))
    readme = from_readme()
    man = from_main_cf(read("doc/postern-milter.8"))
    if not code["SMFIM_ENVFROM"] or "{auth_authen}" not in code["SMFIM_ENVFROM"]:
        print("FAIL: could not read the milter's macro lists from milter/milter.c")
        return 1
    for smfim, key, label in STAGES:
        want = code[smfim]
        for name, got in (("main.cf.snippet", snippet.get(key)), ("README.md", readme.get(label))):
            if got != want:
                failed += 1
                print("FAIL %s %s: %r, the milter asks for %r" % (name, key, got, want))
            else:
                print("ok   %s %s" % (name, key))
        if key in man and man[key] != want:
            failed += 1
            print("FAIL postern-milter.8 %s: %r, the milter asks for %r" % (key, man[key], want))
    print("%d failed" % failed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
