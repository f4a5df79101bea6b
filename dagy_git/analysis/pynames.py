"""Names fixed by Python and by dagy: the standard library, the builtins, dagy's modules.

The analyser treats these as `external`: a flow may call them freely, and they are never
looked for in the repository.
"""

from __future__ import annotations

import builtins
import sys

__all__ = ["BUILTINS", "DAGY_MODULES", "STDLIB"]

DAGY_MODULES = frozenset({"dagy", "dagy_git", "dagy_git.sdk"})
# Whether a flow is accepted must not depend on which Python runs the hook or CI, so these
# are the union over every supported CPython (3.10-3.13), not the running one's names: the
# running one's plus what only some of the others have (added in 3.11+, removed in 3.11-3.13).
# tests/test_cross_python.py checks that every installed version computes the same sets.
# fmt: off
STDLIB = frozenset(sys.stdlib_module_names) | {
    "__future__", "tomllib", "binhex", "distutils", "imp", "asynchat", "asyncore", "smtpd",
    "aifc", "audioop", "cgi", "cgitb", "chunk", "crypt", "imghdr", "mailcap", "msilib", "nis",
    "nntplib", "ossaudiodev", "pipes", "sndhdr", "spwd", "sunau", "telnetlib", "uu", "xdrlib",
    "lib2to3", "_android_support", "_bootsubprocess", "_colorize", "_crypt", "_interpchannels",
    "_interpqueues", "_interpreters", "_ios_support", "_msi", "_opcode_metadata", "_pydatetime",
    "_pylong", "_pyrepl", "_sha2", "_sha256", "_sha512", "_suggestions", "_sysconfig",
    "_tokenize", "_typing", "_wmi",
}
BUILTINS = frozenset(dir(builtins)) | {
    "aiter", "anext", "EncodingWarning", "BaseExceptionGroup", "ExceptionGroup",
    "PythonFinalizationError", "_IncompleteInputError",
}
# fmt: on
