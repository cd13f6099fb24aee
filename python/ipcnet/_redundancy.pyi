# SPDX-License-Identifier: MIT
# Type stubs of the private module behind ipcnet.Owner, Answer and Answers.
from typing import Dict

from . import Answer as Answer
from . import Answers as Answers
from . import Owner as Owner

REQUEST_MODES: Dict[str, int]
