"""What reading a damaged ``.npz`` can raise, for the loaders' one-line errors.

numpy parses each member's ``.npy`` header with ``ast``; a header that fails that is retried
through ``tokenize`` (for files written by Python 2), which raises ``tokenize.TokenError`` on
an unclosed bracket (found by ``tests/test_fuzz_loaders.py``). A damaged zip raises
``RuntimeError`` (a member flagged encrypted) or ``NotImplementedError`` (a subclass: an
unknown compression).
"""

from __future__ import annotations

import tokenize
import zipfile
import zlib

NPZ_READ_ERRORS = (OSError, ValueError, EOFError, RuntimeError, zipfile.BadZipFile, zlib.error, tokenize.TokenError)

__all__ = ["NPZ_READ_ERRORS"]
