#!/usr/bin/env python3
"""test_doc_configs.py - every postern.conf shown in the documentation loads exactly as printed.

The blocks are extracted from README.md, HACKING.md, contrib/*/README.md (fenced
blocks) and doc/*.[1-8] (.nf/.fi blocks, roff escapes undone). A postern.conf block
starts with a comment line naming the file ("# postern.conf" or
"# /etc/postern/postern.conf"); each is written to a file byte for byte and read by
postern-smtpd -n, which refuses an unknown key, a bad value or a key of a module
that policy_modules does not name, with file:line, and has no '#' after a value
(legal, but part of the value: never what a reader means). postern-milter -n reads it too
when the block names no file or module that would have to exist on this machine.
Any other block with a line that looks like a Postern key ("smtpd_... = ...") must
say what it is ("# main.cf", "# master.cf"), so that no config reaches a reader
unlabelled and untested.

Exit status: 0 all passed, 1 a failure.
"""

import glob
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRC = os.environ.get("top_srcdir", os.path.join(HERE, "..", ".."))
TOP_BUILD = os.environ.get("top_builddir", os.path.join(HERE, "..", ".."))
SMTPD = os.path.join(TOP_BUILD, "frontend", "postern-smtpd")
MILTER = os.path.join(TOP_BUILD, "milter", "postern-milter")

LABEL_CONF = re.compile(r"^# (\S*/)?postern\.conf$")
LABEL_OTHER = re.compile(r"^# (\S*/)?(main\.cf|master\.cf|sendmail\.mc)$")
LOOKS_LIKE_KEY = re.compile(r"^(smtpd|milter|policy)_[a-z0-9_]+\s*=")
FILE_KEYS = ("accounts_file", "policy_modules", "smtpd_tls_cert_file")


def markdown_blocks(path):
    blocks, cur, lineno = [], None, 0
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if line.startswith("```"):
                if cur is None:
                    cur, lineno = [], i + 1
                else:
                    blocks.append((lineno, "".join(cur)))
                    cur = None
            elif cur is not None:
                cur.append(line)
    return blocks


def roff_text(line):
    """The text a reader sees of one roff line inside .nf (font requests dropped)."""
    if line.startswith(".B ") or line.startswith(".I "):
        line = line[3:]
    for a, b in (("\\-", "-"), ("\\e", "\\"), ("\\(aq", "'"), ("\\(em", "\u2014"), ("\\&", "")):
        line = line.replace(a, b)
    return line


def roff_blocks(path):
    blocks, cur, lineno = [], None, 0
    with open(path) as f:
        for i, line in enumerate(f, 1):
            if line.startswith(".nf"):
                cur, lineno = [], i + 1
            elif line.startswith(".fi") and cur is not None:
                blocks.append((lineno, "".join(cur)))
                cur = None
            elif cur is not None and not re.match(r"^\.(RS|RE|PP|br)\b", line):
                cur.append(roff_text(line))
    return blocks


def main():
    docs = [os.path.join(TOP_SRC, p) for p in ("README.md", "HACKING.md")]
    docs += sorted(glob.glob(os.path.join(TOP_SRC, "contrib", "*", "README.md")))
    pages = sorted(glob.glob(os.path.join(TOP_SRC, "doc", "*.[1-8]")))
    found = []
    for path in docs:
        if os.path.exists(path):
            found += [(path, n, b) for n, b in markdown_blocks(path)]
    for path in pages:
        found += [(path, n, b) for n, b in roff_blocks(path)]

    passed = failed = confs = 0
    with tempfile.TemporaryDirectory(prefix="postern-docconf-") as tmp:
        for path, lineno, text in found:
            where = "%s:%d" % (os.path.relpath(path, TOP_SRC), lineno)
            lines = text.splitlines()
            first = lines[0] if lines else ""
            if LABEL_CONF.match(first):
                confs += 1
                conf = os.path.join(tmp, "block%d.conf" % confs)
                with open(conf, "w") as f:
                    f.write(text)
                # Legal, but never what a reader means (postern.conf(5)): the value
                # would end in the comment, and only a program that opens that file
                # or group would notice.
                for ln in lines:
                    if "=" in ln and not ln.lstrip().startswith("#") and \
                            re.search(r"\s#", ln.split("=", 1)[1]):
                        failed += 1
                        print("FAIL %s: a '#' after a value is part of the value: %s" % (where, ln))
                progs = [SMTPD]
                named = [ln for ln in lines if ln.split("=")[0].strip() in FILE_KEYS
                         and ln.split("=", 1)[1].strip()]
                if not named:
                    progs.append(MILTER)
                for prog in progs:
                    r = subprocess.run([prog, "-n", "-c", conf], capture_output=True, text=True,
                                       stdin=subprocess.DEVNULL, timeout=60)
                    name = os.path.basename(prog)
                    if r.returncode == 0:
                        passed += 1
                        print("ok   %s: %s -n" % (where, name))
                    else:
                        failed += 1
                        print("FAIL %s: %s -n: %s" % (where, name,
                              r.stderr.strip().replace(conf, "block")))
            elif not LABEL_OTHER.match(first) and any(LOOKS_LIKE_KEY.match(ln) for ln in lines):
                failed += 1
                print("FAIL %s: a config block without a '# postern.conf' or '# main.cf' "
                      "first line" % where)
    if confs < 4:
        failed += 1
        print("FAIL only %d postern.conf blocks found" % confs)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
