"""Brian2's "unexpected error" banner only for Brian2's errors.

Importing Brian2 replaces `sys.excepthook` with ``brian2.utils.logger.brian_excepthook``,
which prints "Brian 2 encountered an unexpected error. If you think this is a bug in
Brian 2, please report this issue ... <https://github.com/brian-team/brian2/issues>" (and
the paths of its debug logs) for every uncaught exception of the process. An error that
le_brian raises (a ValueError naming a parameter, a FileNotFoundError, ...) is not a bug
of Brian2: `install` wraps the hook so that those get Python's plain traceback, and
errors raised inside Brian2 keep Brian2's message.
"""

import sys
from pathlib import Path

__all__ = ["install", "raised_by_le_brian"]

_PACKAGE = str(Path(__file__).resolve().parent)


def raised_by_le_brian(exc_type, exc_tb):
    """True when the exception's class is le_brian's or its innermost frame is in
    le_brian's code."""
    if getattr(exc_type, "__module__", "").split(".")[0] == "le_brian":
        return True
    last = None
    while exc_tb is not None:
        last, exc_tb = exc_tb, exc_tb.tb_next
    if last is None:
        return False
    return str(Path(last.tb_frame.f_code.co_filename).resolve()).startswith(_PACKAGE)


def install():
    """Wrap the current `sys.excepthook` (Brian2's, once Brian2 is imported); calling
    it again does nothing."""
    previous = sys.excepthook
    if getattr(previous, "_le_brian", False):
        return

    def hook(exc_type, exc_obj, exc_tb):
        if raised_by_le_brian(exc_type, exc_tb):
            return sys.__excepthook__(exc_type, exc_obj, exc_tb)
        return previous(exc_type, exc_obj, exc_tb)

    hook._le_brian = True
    sys.excepthook = hook
