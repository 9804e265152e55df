#!/bin/sh
# test_postfix_milter_unix.sh - test_postfix_milter.py again with Postfix reaching postern-milter over a unix socket (0660, group postfix).
here=$(cd "$(dirname "$0")" && pwd)
POSTERN_IT_TRANSPORT=unix exec "${PYTHON3:-python3}" "$here/test_postfix_milter.py"
